"""Noise kernels: additive white noise (RGB and YCbCr), impulse and multiplicative noise.

Every kernel takes ``(image, amount, rng)``; all randomness comes from ``rng``.
For a fixed seed the underlying random field is the same at every level and
only its scale (or the corrupted fraction) changes, so severity is nested.
"""

from __future__ import annotations

import cv2
import numpy as np


def _gaussian(rng: np.random.Generator, shape: tuple[int, ...], variance: float) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(variance))


def white_noise(image: np.ndarray, variance: float, rng: np.random.Generator) -> np.ndarray:
    """Add i.i.d. Gaussian noise of ``variance`` to every RGB value."""
    image += _gaussian(rng, image.shape, variance)
    return image


def white_noise_ycbcr(image: np.ndarray, variance: float, rng: np.random.Generator) -> np.ndarray:
    """Add Gaussian noise of ``variance`` to all three YCbCr channels (luma and chroma noise)."""
    ycrcb = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    ycrcb += _gaussian(rng, ycrcb.shape, variance)
    return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB)


def impulse_noise(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Salt and pepper: a fraction ``amount`` of the RGB values set to 0 or 1 (half each)."""
    draw = rng.random(image.shape, dtype=np.float32)
    image[draw < amount] = 1.0
    image[draw < amount / 2] = 0.0
    return image


def multiplicative_noise(image: np.ndarray, variance: float, rng: np.random.Generator) -> np.ndarray:
    """Speckle: multiply every value by ``1 + n`` with Gaussian ``n`` of ``variance``."""
    image *= 1.0 + _gaussian(rng, image.shape, variance)
    return image
