"""Names and numbers the command-line parsers need, in a module that imports nothing heavy.

``qualiclip --help`` and every ``qualiclip SUBCOMMAND --help`` are built from these without
importing torch (tests/test_cli.py checks it); the modules that compute with them import them from here.
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
