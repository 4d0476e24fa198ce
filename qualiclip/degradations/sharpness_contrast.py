"""Sharpness and contrast kernels: over-sharpening, linear and non-linear contrast.

Every kernel takes ``(image, amount, rng)`` with ``image`` a private float32
HxWx3 RGB array in [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np

_UNSHARP_SIGMA = 1.0  # pixels; radius of the detail band that sharpening boosts


def high_sharpen(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Unsharp mask: ``image + amount * (image - blur(image))``; large amounts give halos."""
    blurred = cv2.GaussianBlur(image, (0, 0), sigmaX=_UNSHARP_SIGMA, borderType=cv2.BORDER_REFLECT_101)
    return cv2.addWeighted(image, 1.0 + amount, blurred, -amount, 0.0)


def linear_contrast(image: np.ndarray, change: float, rng: np.random.Generator) -> np.ndarray:
    """Scale deviations from the image mean by ``1 + change`` (negative change flattens)."""
    mean = np.float32(image.mean())
    return (image - mean) * np.float32(1.0 + change) + mean


def nonlinear_contrast(image: np.ndarray, steepness: float, rng: np.random.Generator) -> np.ndarray:
    """Symmetric power S-curve about mid-grey with exponent ``0.5 / steepness``.

    ``out = 0.5 + 0.5 * sign(d) * (1 - (1 - |d|) ** k)`` with ``d = 2x - 1``:
    smaller parameters give larger ``k``, pushing values towards black and white
    (k = 1.25 at level 1, 10 at level 5).
    """
    exponent = np.float32(0.5 / steepness)
    deviation = 2.0 * image - 1.0
    curved = 1.0 - np.power(1.0 - np.abs(deviation), exponent)
    return 0.5 + 0.5 * np.sign(deviation) * curved
