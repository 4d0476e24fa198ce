"""ARNIQA's linear filtering: its Gaussian kernel and per-channel correlation with a replicated border.

Every kernel that blurs or sharpens goes through these two functions, so kernel construction and
border handling are defined once.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

_EPS = np.finfo(np.float64).eps


def gaussian_kernel(sigma: float, size: int | None = None) -> np.ndarray:
    """``size`` x ``size`` Gaussian of ``sigma`` (default size ``2 * ceil(2 * sigma) + 1``), summing to 1.

    Weights below eps times the peak are set to 0 (MATLAB's fspecial), which turns sigma 0.1 into a delta.
    Built in float64, returned as float32.
    """
    size = size or 2 * math.ceil(2 * sigma) + 1
    offsets = np.arange(size) - (size - 1) / 2
    weights = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * sigma**2))
    weights[weights < _EPS * weights.max()] = 0.0
    return (weights / weights.sum()).astype(np.float32)


def correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Same-size correlation of each channel of float32 ``image`` (HxW or HxWxC) with ``kernel``.

    The border is edge-replicated; the odd-sized ``kernel`` is centred on each pixel.
    """
    return cv2.filter2D(np.ascontiguousarray(image), -1, kernel.astype(np.float32),
                        borderType=cv2.BORDER_REPLICATE)
