"""Brightness kernels: non-linear brighten/darken and a global mean shift.

Every kernel takes ``(image, amount, rng)`` with ``image`` a private float32
HxWx3 RGB array in [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np


def _gamma_on_lightness(image: np.ndarray, gamma: float) -> np.ndarray:
    """Apply ``L -> L ** gamma`` to CIELAB lightness (normalised to [0, 1]), keeping a/b."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab)
    lightness = np.clip(lab[..., 0] / 100.0, 0.0, 1.0)
    lab[..., 0] = 100.0 * np.power(lightness, np.float32(gamma))
    return cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)


def brighten(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Lift mid-tones with the tone curve ``L ** (1 / (1 + amount))``; black and white stay fixed."""
    return _gamma_on_lightness(image, 1.0 / (1.0 + amount))


def darken(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Crush mid-tones with the tone curve ``L ** (1 / (1 - amount))`` (``amount`` < 1)."""
    return _gamma_on_lightness(image, 1.0 / (1.0 - amount))


def mean_shift(image: np.ndarray, shift: float, rng: np.random.Generator) -> np.ndarray:
    """Add the constant ``shift`` to every RGB value (positive brightens, negative darkens)."""
    image += np.float32(shift)
    return image
