"""Colour kernels: colour diffusion, colour shift and two saturation changes.

Every kernel takes ``(image, amount, rng)`` with ``image`` a private float32
HxWx3 RGB array in [0, 1].  OpenCV's float conversions give CIELAB with L in
[0, 100] and HSV with H in degrees.
"""

from __future__ import annotations

import cv2
import numpy as np


def color_diffusion(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Bleed colours across edges: Gaussian blur (``sigma`` px) of the LAB a/b channels only."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab)
    chroma = np.ascontiguousarray(lab[..., 1:])
    lab[..., 1:] = cv2.GaussianBlur(chroma, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT_101)
    return cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)


def color_shift(image: np.ndarray, offset: float, rng: np.random.Generator) -> np.ndarray:
    """Mis-registered green channel: translate G by ``offset`` px in a random direction."""
    angle = rng.uniform(0.0, 2 * np.pi)
    shift = np.float32([[1, 0, offset * np.cos(angle)], [0, 1, offset * np.sin(angle)]])
    height, width = image.shape[:2]
    green = np.ascontiguousarray(image[..., 1])
    image[..., 1] = cv2.warpAffine(green, shift, (width, height), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REFLECT_101)
    return image


def saturation_hsv(image: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    """Scale HSV saturation by ``factor``.

    A negative factor (level 5 of the table) is read as "through grey and beyond":
    saturation is scaled by ``|factor|`` and the hue is turned to its complement,
    which is further from the original than the fully grey level 4.
    """
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    if factor < 0:
        hsv[..., 0] = (hsv[..., 0] + 180.0) % 360.0
    hsv[..., 1] *= abs(factor)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def saturation_lab(image: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    """Over-saturate: multiply LAB chroma (a, b) by ``factor``; out-of-gamut colours clip."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab)
    lab[..., 1:] *= factor
    return cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
