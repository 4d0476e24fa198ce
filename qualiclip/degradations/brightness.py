"""Brightness kernels as ARNIQA applies them: brighten, darken and a global mean shift.

Every kernel takes ``(image, amount, rng)`` with ``image`` a private float32 HxWx3 RGB array in
[0, 1]. Brighten and darken use ARNIQA's tone curve :func:`parabola`.
"""

from __future__ import annotations

import numpy as np

from ._lab import lab_of_swapped, swapped_from_lab


def parabola(values: np.ndarray, middle: float) -> np.ndarray:
    """ARNIQA's tone curve P_c: the parabola through (0, 0), (0.5, ``middle``) and (1, 1), clipped to [0, 1]."""
    curve = (2 - 4 * middle) * values**2 + (4 * middle - 1) * values
    return np.clip(curve, 0.0, 1.0)


def brighten(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """ARNIQA's brighten: two parts P_c on each RGB channel, one part P_c on LAB lightness (c = 0.5 + A/2)."""
    middle = 0.5 + amount / 2
    lab = lab_of_swapped(image)
    lab[..., 0] = 100.0 * parabola(lab[..., 0] / 100.0, middle)
    return (2 * parabola(image, middle) + swapped_from_lab(lab)) / 3


def darken(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """ARNIQA's darken: P_c on each RGB channel with c = 0.5 - A/2 (it computes LAB but never uses it)."""
    return parabola(image, 0.5 - amount / 2)


def mean_shift(image: np.ndarray, shift: float, rng: np.random.Generator) -> np.ndarray:
    """Add the constant ``shift`` to every RGB value (positive brightens, negative darkens)."""
    image += np.float32(shift)
    return image
