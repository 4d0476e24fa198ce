"""Conversion between public images (numpy array or torch tensor) and kernel arrays.

Kernels only ever see a private, C-contiguous float32 HxWx3 numpy array, so they
are free to work in place and never touch the caller's image.  torch is used
only if the caller already imported it (a tensor cannot exist otherwise).
"""

from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np

Restore = Callable[[np.ndarray], Any]


def _is_tensor(image: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(image, torch.Tensor)


def to_working_array(image: Any) -> tuple[np.ndarray, Restore]:
    """Return a float32 HxWx3 copy of ``image`` and a function mapping a result back.

    The restore function gives the result the input's container (numpy/torch),
    dtype and, for tensors, device.
    """
    if _is_tensor(image):
        torch = sys.modules["torch"]
        if not image.is_floating_point():
            raise TypeError(f"expected a floating-point tensor, got {image.dtype}")
        array = image.detach().to(device="cpu", dtype=torch.float32).numpy().copy()

        def restore(result: np.ndarray) -> Any:
            return torch.from_numpy(result).to(device=image.device, dtype=image.dtype)

    elif isinstance(image, np.ndarray):
        if not np.issubdtype(image.dtype, np.floating):
            raise TypeError(f"expected a floating-point array, got {image.dtype}")
        array = np.array(image, dtype=np.float32, order="C", copy=True)

        def restore(result: np.ndarray) -> Any:
            return result.astype(image.dtype, copy=False)

    else:
        raise TypeError(f"expected a numpy array or torch tensor, got {type(image).__name__}")
    if array.ndim != 3 or array.shape[2] != 3 or min(array.shape[:2]) < 1:
        raise ValueError(f"expected an HxWx3 image, got shape {tuple(array.shape)}")
    return array, restore
