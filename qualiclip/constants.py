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
#: The image tower's precision (``load_model(precision=...)``, ``--precision``): "fp32", the default (fp16
#: autocast on CUDA where the formula has it), or "bf16", opt-in bfloat16 autocast on any device (faster
#: only where the CPU has bf16 instructions; its speed and error are in docs/onnx.md). The formula stays float32.
PRECISIONS = ("fp32", "bf16")
#: What runs the image tower (``load_model(backend=...)``, ``--backend``): "torch", the default, or
#: "onnxruntime", the CPU-only ONNX Runtime backend of :mod:`qualiclip.onnx.backend`.
BACKENDS = ("torch", "onnxruntime")
#: The ONNX opset of ``qualiclip export-onnx`` (:mod:`qualiclip.onnx.export`); ONNX Runtime 1.12 and later run it.
ONNX_OPSET = 17
