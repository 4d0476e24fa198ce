"""CIELAB conversions as ARNIQA does them (kornia's formulas, float32), with ARNIQA's channel swap.

ARNIQA reverses the channel order before converting to LAB and restores it afterwards, so the
conversion reads blue as red: ``lab_of_swapped`` / ``swapped_from_lab`` reproduce that quirk, which
changes the result of every edit made in LAB (colour diffusion, LAB saturation, brighten, sharpen).
"""

from __future__ import annotations

import numpy as np

_TO_XYZ = ((0.412453, 0.357580, 0.180423), (0.212671, 0.715160, 0.072169), (0.019334, 0.119193, 0.950227))
_FROM_XYZ = ((3.2404813432005266, -1.5371515162713185, -0.4985363261688878),
             (-0.9692549499965682, 1.8759900014898907, 0.0415559265582928),
             (0.0556466391351772, -0.2040413383665112, 1.0573110696453443))
_WHITE = (0.95047, 1.0, 1.08883)
_F_THRESHOLD = 0.008856  # of the normalised XYZ value
_F_INVERSE_THRESHOLD = 0.2068966  # of f


def _mix(rows: tuple[tuple[float, float, float], ...], image: np.ndarray) -> list[np.ndarray]:
    """Three channels, each a weighted sum of the three channels of ``image`` (one per row)."""
    return [w0 * image[..., 0] + w1 * image[..., 1] + w2 * image[..., 2] for w0, w1, w2 in rows]


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (HxWx3 float32) to LAB: L in [0, 100], D65 white."""
    linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    t = [channel / white for channel, white in zip(_mix(_TO_XYZ, linear), _WHITE)]
    fx, fy, fz = (np.where(c > _F_THRESHOLD, np.maximum(c, _F_THRESHOLD) ** (1 / 3), 7.787 * c + 4 / 29) for c in t)
    return np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """LAB to sRGB, clamped to [0, 1] (kornia's inverse, including its clamp of f(Z) at 0)."""
    fy = (lab[..., 0] + 16.0) / 116.0
    f = (lab[..., 1] / 500.0 + fy, fy, np.maximum(fy - lab[..., 2] / 200.0, 0.0))
    xyz = np.stack([np.where(c > _F_INVERSE_THRESHOLD, c**3, (c - 4 / 29) / 7.787) * white
                    for c, white in zip(f, _WHITE)], axis=-1)
    linear = np.stack(_mix(_FROM_XYZ, xyz), axis=-1)
    encoded = np.where(linear > 0.0031308, 1.055 * np.maximum(linear, 0.0031308) ** (1 / 2.4) - 0.055,
                       12.92 * linear)
    return np.clip(encoded, 0.0, 1.0)


def lab_of_swapped(image: np.ndarray) -> np.ndarray:
    """LAB of ``image`` with its channels reversed (ARNIQA's swap: blue is converted as red)."""
    return rgb_to_lab(image[..., ::-1])


def swapped_from_lab(lab: np.ndarray) -> np.ndarray:
    """Inverse of :func:`lab_of_swapped`: back to RGB, then the channel order restored."""
    return np.ascontiguousarray(lab_to_rgb(lab)[..., ::-1])
