"""Sharpness and contrast kernels as ARNIQA applies them: high sharpen, linear and non-linear contrast.

Every kernel takes ``(image, amount, rng)`` with ``image`` a private float32 HxWx3 RGB array in [0, 1].
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

from ._filters import correlate, gaussian_kernel
from ._lab import lab_of_swapped, swapped_from_lab

_SHARPEN_SIGMA, _SHARPEN_SIZE = 6.0, 13  # ARNIQA's blur in the unsharp mask (sigma 6 on a 13 x 13 grid)
_SPLINE_X = (0.0, 0.3, 0.5, 0.7, 1.0)


def high_sharpen(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Unsharp mask on LAB lightness only (with ARNIQA's swap): L <- (1 + A) L - A G(6) * L, L not clamped."""
    kernel = -amount * gaussian_kernel(_SHARPEN_SIGMA, _SHARPEN_SIZE).astype(np.float64)
    kernel[_SHARPEN_SIZE // 2, _SHARPEN_SIZE // 2] += 1 + amount
    lab = lab_of_swapped(image)
    lab[..., 0] = correlate(lab[..., 0], kernel)
    return swapped_from_lab(lab)


def contrast_curve(change: float) -> CubicSpline:
    """ARNIQA's tone curve: the not-a-knot cubic spline through (0, 0), (.3, .25 - a/4), (.5, .5),
    (.7, .75 + a/4), (1, 1). ``a`` = 0 already raises contrast; ``a`` = -0.2 is the identity."""
    return CubicSpline(_SPLINE_X, (0.0, 0.25 - change / 4, 0.5, 0.75 + change / 4, 1.0), bc_type="not-a-knot")


def linear_contrast(image: np.ndarray, change: float, rng: np.random.Generator) -> np.ndarray:
    """Map every value through :func:`contrast_curve` (in float64), clamped to [0, 1]."""
    return np.clip(contrast_curve(change)(image.astype(np.float64)), 0.0, 1.0)


def nonlinear_contrast(image: np.ndarray, half_range: float, rng: np.random.Generator) -> np.ndarray:
    """ARNIQA's "non-linear" contrast is linear: squeeze [0, 1] onto [0.5 - o, 0.5 + o] (slope 2o).

    ARNIQA also clips the result to that range, which the squeeze already guarantees.
    """
    return 0.5 + np.float32(2 * half_range) * (np.clip(image, 0.0, 1.0) - 0.5)
