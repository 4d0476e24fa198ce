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
#: The image tower's precision (``load_model(precision=...)``, ``--precision``): "fp32", the default (fp16
#: autocast on CUDA where the formula has it), or "bf16", opt-in bfloat16 autocast on any device (faster
#: only where the CPU has bf16 instructions; its speed and error are in docs/onnx.md). The formula stays float32.
PRECISIONS = ("fp32", "bf16")
#: What runs the image tower (``load_model(backend=...)``, ``--backend``): "torch", the default, or
#: "onnxruntime", the CPU-only ONNX Runtime backend of :mod:`qualiclip.onnx_backend`.
BACKENDS = ("torch", "onnxruntime")
#: The ONNX opset of ``qualiclip export-onnx`` (:mod:`qualiclip.onnx_export`); ONNX Runtime 1.12 and later run it.
ONNX_OPSET = 17
