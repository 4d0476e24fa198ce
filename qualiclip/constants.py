"""The project's constants that need no torch, each defined here and imported from here only.

``qualiclip --help`` and every ``qualiclip SUBCOMMAND --help`` are built from these without
importing torch (tests/test_cli.py checks it); the modules that compute with them import them from here
(the public ones are also ``qualiclip.NAME``).
"""
from __future__ import annotations

#: open_clip architecture of the official checkpoint: OpenAI's RN50 (QuickGELU text tower).
OFFICIAL_ARCH = "RN50-quickgelu"
#: Small architecture for tests and the bundled offline model.
TINY_ARCH = "qualiclip-tiny"
#: The model's smallest input side in pixels (the image tower downsamples 32 times).
MIN_SIDE = 32
#: The strongest level of every synthetic distortion type (0 is the pristine image).
MAX_LEVEL = 5
#: The official code's logit scale (CLIP's trained ``logit_scale.exp()``, rounded).
OFFICIAL_LOGIT_SCALE = 100.0
#: pyiqa's temperature: its logits are ``exp(logit_scale) / PYIQA_TEMPERATURE`` times the cosines.
PYIQA_TEMPERATURE = 2.0
