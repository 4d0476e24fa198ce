"""GPU placement for Hugging Face Spaces, ZeroGPU included; nothing changes elsewhere.

On ZeroGPU, CUDA exists only inside functions decorated with ``spaces.GPU`` (a GPU is attached for
the call), and models must be placed on ``cuda`` at start-up. :func:`on_gpu` decorates every
model-running callback; the ``spaces`` package makes that a no-op outside ZeroGPU, and without it
installed the callback is returned as it is. ``spaces`` is imported before anything touches CUDA,
as ZeroGPU requires.
"""
from __future__ import annotations

import os
from typing import Callable, TypeVar

try:
    import spaces
except ImportError:  # not on a Hugging Face Space: plain CPU/CUDA
    spaces = None

Handler = TypeVar("Handler", bound=Callable)
#: Seconds of GPU a callback may hold per call on ZeroGPU (the longest is an every-type sweep).
GPU_DURATION_S = 60


def on_zero_gpu() -> bool:
    """True on a ZeroGPU Space (the ``spaces`` package is there and the Space runs on ZeroGPU)."""
    return spaces is not None and os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "t", "true")


def on_gpu(handler: Handler) -> Handler:
    """``handler`` wrapped with ``spaces.GPU`` where the ``spaces`` package is installed."""
    if spaces is None:
        return handler
    return spaces.GPU(duration=GPU_DURATION_S)(handler)
