"""Blur kernels: Gaussian, lens (disk) and motion blur.

Every kernel takes ``(image, amount, rng)`` with ``image`` a private float32
HxWx3 array in [0, 1]; sizes are in pixels of the image itself.
"""

from __future__ import annotations

import cv2
import numpy as np

_BORDER = cv2.BORDER_REFLECT_101


def gaussian_blur(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Isotropic Gaussian blur with standard deviation ``sigma``."""
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, borderType=_BORDER)


def lens_blur(image: np.ndarray, radius: float, rng: np.random.Generator) -> np.ndarray:
    """Out-of-focus blur: mean over a disk of ``radius`` pixels."""
    size = 2 * int(round(radius)) + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)).astype(np.float32)
    return cv2.filter2D(image, -1, disk / disk.sum(), borderType=_BORDER)


def _line_kernel(length: float, angle: float) -> np.ndarray:
    """Normalised kernel of a ``length``-pixel segment through the centre at ``angle``.

    The segment is sampled densely and splatted bilinearly, so any angle and
    non-integer length give a smooth kernel; length 1 is the identity.
    """
    half = (length - 1) / 2
    centre = int(np.ceil(half)) + 1
    t = np.linspace(-half, half, max(2, int(np.ceil(8 * length))))
    x, y = centre + t * np.cos(angle), centre + t * np.sin(angle)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    kernel = np.zeros((2 * centre + 1, 2 * centre + 1), dtype=np.float64)
    for dy, dx, weight in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)),
                           (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(kernel, (y0 + dy, x0 + dx), weight)
    return (kernel / kernel.sum()).astype(np.float32)


def motion_blur(image: np.ndarray, length: float, rng: np.random.Generator) -> np.ndarray:
    """Linear camera-shake blur of ``length`` pixels in a random direction (from ``rng``)."""
    angle = rng.uniform(0.0, np.pi)
    return cv2.filter2D(image, -1, _line_kernel(length, angle), borderType=_BORDER)
