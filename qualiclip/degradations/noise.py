"""Noise kernels as ARNIQA applies them: white noise (RGB and YCbCr), impulse and multiplicative noise.

Every kernel takes ``(image, amount, rng)``; all randomness comes from ``rng``. Gaussian fields
are drawn channel-first, ``(3, H, W)``, in ARNIQA's order.
"""

from __future__ import annotations

import numpy as np


def _gaussian(rng: np.random.Generator, shape: tuple[int, ...], variance: float) -> np.ndarray:
    """An HxWx3 field of N(0, ``variance``), drawn as (3, H, W) like ARNIQA's ``torch.randn(3, H, W)``."""
    field = rng.standard_normal((3, *shape[:2]), dtype=np.float32) * np.float32(np.sqrt(variance))
    return field.transpose(1, 2, 0)


def white_noise(image: np.ndarray, variance: float, rng: np.random.Generator) -> np.ndarray:
    """Add i.i.d. Gaussian noise of ``variance`` to every RGB value."""
    image += _gaussian(rng, image.shape, variance)
    return image


def white_noise_ycbcr(image: np.ndarray, variance: float, rng: np.random.Generator) -> np.ndarray:
    """Add Gaussian noise of ``variance`` to Y, Cb and Cr (ARNIQA's conversion constants), back to RGB.

    The +0.5 offsets of Cb and Cr cancel on the way back and are left out.
    """
    noise = _gaussian(rng, image.shape, variance)
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    cb = 0.564 * (blue - luma) + noise[..., 1]
    cr = 0.713 * (red - luma) + noise[..., 2]
    luma += noise[..., 0]
    return np.stack([luma + 1.403 * cr, luma - 0.714 * cr - 0.344 * cb, luma + 1.773 * cb], axis=-1)


def impulse_noise(image: np.ndarray, density: float, rng: np.random.Generator) -> np.ndarray:
    """Salt and pepper: ``int(3 d H W)`` random (channel, row, column) values, repeats allowed.

    The first half (rounded down) are set to 1, then the rest to 0, so a repeat can turn salt into pepper.
    ARNIQA's own indexing fails on torch >= 2.9; this is what it does on its torch 2.1.
    """
    height, width = image.shape[:2]
    count = int(3 * density * height * width)
    channels = rng.integers(0, 3, count)
    rows, cols = rng.integers(0, height, count), rng.integers(0, width, count)
    salt = count // 2
    image[rows[:salt], cols[:salt], channels[:salt]] = 1.0
    image[rows[salt:], cols[salt:], channels[salt:]] = 0.0
    return image


def multiplicative_noise(image: np.ndarray, variance: float, rng: np.random.Generator) -> np.ndarray:
    """Speckle: add ``x n`` with Gaussian ``n`` of ``variance`` to every value ``x``."""
    image += image * _gaussian(rng, image.shape, variance)
    return image
