"""Spatial kernels: jitter, non-eccentricity patches, pixelation, quantisation, colour blocks.

Every kernel takes ``(image, amount, rng)`` with ``image`` a private float32
HxWx3 array in [0, 1].  Patch and block sizes scale with the image's shorter
side (so the look is resolution independent) and are capped to the image, so
any size works.  Random positions are drawn as one ``(count, k)`` uniform
matrix: for a fixed seed the first ``n`` draws are identical whatever
``count`` is, so a higher level adds patches on top of the lower level's.
"""

from __future__ import annotations

import cv2
import numpy as np

_JITTER_PIXELS = 3.0  # displacement std (px) at amount 1
_PATCH_FRACTION = 1 / 24  # non-eccentricity patch side / shorter image side
_BLOCK_FRACTION = 1 / 12  # colour block side / shorter image side
_PIXELATE_GAIN = 16.0  # pixel-block side = 1 + gain * amount
_QUANTILE_SAMPLES = 1 << 16  # values used to estimate quantisation thresholds


def _square_side(shape: tuple[int, ...], fraction: float) -> int:
    return max(1, min(int(round(min(shape[:2]) * fraction)), *shape[:2]))


def _top_left(uniform: np.ndarray, side: int, shape: tuple[int, ...]) -> np.ndarray:
    """Map uniform ``(n, 2)`` draws to top-left corners of in-bounds ``side`` squares."""
    room = np.array([shape[0] - side + 1, shape[1] - side + 1])
    return np.minimum((uniform * room).astype(int), room - 1)


def jitter(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Take every pixel from a randomly displaced neighbour (Gaussian, std ``3 * amount`` px)."""
    height, width = image.shape[:2]
    displacement = rng.standard_normal((2, height, width), dtype=np.float32)
    displacement *= np.float32(_JITTER_PIXELS * amount)
    map_x = displacement[0] + np.arange(width, dtype=np.float32)[None, :]
    map_y = displacement[1] + np.arange(height, dtype=np.float32)[:, None]
    return cv2.remap(image, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)


def non_eccentricity(image: np.ndarray, count: float, rng: np.random.Generator) -> np.ndarray:
    """Copy ``count`` random square patches (side = shorter side / 24) to nearby spots.

    Each patch moves 0.5-1.5 patch sides in a random direction (clamped to the
    image); sources are read from the pristine image.
    """
    side = _square_side(image.shape, _PATCH_FRACTION)
    draws = rng.random((int(count), 4))
    sources = _top_left(draws[:, :2], side, image.shape)
    angle, distance = 2 * np.pi * draws[:, 2], side * (0.5 + draws[:, 3])
    offsets = np.rint(np.stack([np.sin(angle), np.cos(angle)], axis=1) * distance[:, None]).astype(int)
    targets = np.clip(sources + offsets, 0, [image.shape[0] - side, image.shape[1] - side])
    pristine = image.copy()
    for (sy, sx), (ty, tx) in zip(sources, targets):
        image[ty:ty + side, tx:tx + side] = pristine[sy:sy + side, sx:sx + side]
    return image


def pixelate(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Area-downscale by ``1 + 16 * amount`` then nearest-upscale back (blocky pixels)."""
    height, width = image.shape[:2]
    factor = 1.0 + _PIXELATE_GAIN * amount
    small = (max(1, int(round(width / factor))), max(1, int(round(height / factor))))
    reduced = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
    return cv2.resize(reduced, (width, height), interpolation=cv2.INTER_NEAREST)


def quantization(image: np.ndarray, levels: float, rng: np.random.Generator) -> np.ndarray:
    """Per-channel quantisation to ``levels`` values with multi-level thresholds.

    Thresholds are the channel's quantiles (equal-population bins, adaptive like
    multi-level Otsu but O(n)); each bin is replaced by its mean value.
    """
    count = int(levels)
    cut_points = np.linspace(0.0, 1.0, count + 1)[1:-1]
    for channel in range(3):
        values = image[..., channel].ravel()
        sample = values[:: max(1, values.size // _QUANTILE_SAMPLES)]
        bins = np.searchsorted(np.quantile(sample, cut_points), values, side="right")
        sums = np.bincount(bins, weights=values, minlength=count)
        means = sums / np.maximum(np.bincount(bins, minlength=count), 1)
        image[..., channel] = means.astype(np.float32)[bins].reshape(image.shape[:2])
    return image


def color_block(image: np.ndarray, count: float, rng: np.random.Generator) -> np.ndarray:
    """Paste ``count`` uniformly coloured squares (side = shorter side / 12) at random spots."""
    side = _square_side(image.shape, _BLOCK_FRACTION)
    draws = rng.random((int(count), 5))
    corners = _top_left(draws[:, :2], side, image.shape)
    for (y, x), colour in zip(corners, draws[:, 2:].astype(np.float32)):
        image[y:y + side, x:x + side] = colour
    return image
