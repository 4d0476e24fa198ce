"""Blur kernels as ARNIQA applies them: Gaussian, lens ("disk") and motion blur.

Every kernel takes ``(image, amount, rng)`` with ``image`` a private float32 HxWx3 array in
[0, 1] and filters it with :func:`._filters.correlate` (edge-replicated border). Sizes are in
pixels of the image itself, as ARNIQA's are on its 224 px crops.
"""

from __future__ import annotations

import math

import numpy as np

from ._filters import correlate, gaussian_kernel

#: ARNIQA's lens-blur weights per radius: cell (a, b) = (max, min of |dx|, |dy|) -> weight; every
#: other cell of the (2R+1)^2 square weighs 1. This faulty port of MATLAB's disk filter has
#: negative weights and weights above 1 (values as ARNIQA computes them, to 6 decimals).
LENS_WEIGHTS: dict[int, dict[tuple[int, int], float]] = {
    1: {(1, 0): 0.456611, (1, 1): 0.078787},
    2: {(1, 1): 1.438281, (2, 0): 0.478967, (2, 1): -0.023866, (2, 2): 0.0},
    4: {(3, 2): 1.554176, (3, 3): 0.208019, (4, 0): 0.489559, (4, 1): 0.361469, (4, 2): -1.312325,
        (4, 3): 0.0, (4, 4): 0.0},
    6: {(4, 4): 4.944528, (5, 2): 1.803903, (5, 3): 0.685421, (5, 4): -0.327710, (6, 0): 0.493048,
        (6, 1): 0.408827, (6, 2): -4.524268, (5, 5): 0.0, (6, 3): 0.0, (6, 4): 0.0, (6, 5): 0.0, (6, 6): 0.0},
    8: {(6, 5): 5.483361, (6, 6): 0.048761, (7, 3): 1.829189, (7, 4): 0.420168, (7, 5): -1.711987,
        (8, 0): 0.494789, (8, 1): 0.431918, (8, 2): 0.240224, (8, 3): -8.320300, (7, 6): 0.0, (7, 7): 0.0,
        (8, 4): 0.0, (8, 5): 0.0, (8, 6): 0.0, (8, 7): 0.0, (8, 8): 0.0},
}
_EPS = 2.2204e-16  # MATLAB's eps as ARNIQA's motion kernel writes it


def gaussian_blur(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur with ARNIQA's kernel (cut at 2 sigma; sigma 0.1 is the identity)."""
    return correlate(image, gaussian_kernel(sigma))


def lens_kernel(radius: int) -> np.ndarray:
    """ARNIQA's (2R+1)^2 lens kernel for ``radius`` R, normalised to sum 1 (see :data:`LENS_WEIGHTS`)."""
    offsets = np.abs(np.arange(-radius, radius + 1))
    major, minor = np.maximum.outer(offsets, offsets), np.minimum.outer(offsets, offsets)
    kernel = np.ones(major.shape)
    for (a, b), weight in LENS_WEIGHTS[radius].items():
        kernel[(major == a) & (minor == b)] = weight
    return kernel / kernel.sum()


def lens_blur(image: np.ndarray, radius: float, rng: np.random.Generator) -> np.ndarray:
    """Out-of-focus blur with ARNIQA's lens kernel; its negative weights can leave [0, 1] (clipped later)."""
    return correlate(image, lens_kernel(int(radius)))


def motion_kernel(length: int, angle: int) -> np.ndarray:
    """MATLAB's ``fspecial('motion', length, angle)`` as ARNIQA ports it (angle in integer degrees).

    Line of width 1 and ``length`` px through the centre, anti-aliased at its ends; length 1 is a
    delta. E.g. length 4 at 0 degrees is [.125, .25, .25, .25, .125].
    """
    phi = (angle % 180) * math.pi / 180
    cos, sin = math.cos(phi), math.sin(phi)
    sign = 1 if cos >= 0 else -1
    half = (length - 1) / 2
    last_x = math.trunc(half * cos + sign - length * _EPS)
    last_y = math.trunc(half * sin + 1 - length * _EPS)
    x = np.arange(0, last_x + sign, sign, dtype=np.float64)[None, :]
    y = np.arange(0, last_y + 1, dtype=np.float64)[:, None]
    distance = y * cos - x * sin
    radius = np.sqrt(x**2 + y**2)
    end = (radius >= half) & (np.abs(distance) <= 1)
    along = half - np.abs((x + distance * sin) / cos)
    distance = np.where(end, np.sqrt(distance**2 + along**2), distance)
    weights = np.maximum(0.0, 1 + _EPS - np.abs(distance))
    rows, cols = weights.shape
    kernel = np.zeros((2 * rows - 1, 2 * cols - 1))
    kernel[:rows, :cols] = weights[::-1, ::-1]
    kernel[rows - 1:, cols - 1:] = weights
    kernel /= kernel.sum() + _EPS * length**2
    return kernel[::-1] if cos > 0 else kernel


def motion_blur(image: np.ndarray, length: float, rng: np.random.Generator) -> np.ndarray:
    """Camera-shake blur of ``length`` px at a random integer angle 0..180 degrees (one ``rng`` draw)."""
    return correlate(image, motion_kernel(int(length), int(rng.integers(0, 181))))
