"""ARNIQA's two 8-bit steps: truncation to uint8 before a codec, and truncation to 1/255 steps after LAB.

Both truncate (floor) rather than round, as ARNIQA does; rounding would shift colours by half a step.
"""

from __future__ import annotations

import numpy as np


def to_uint8(image: np.ndarray) -> np.ndarray:
    """``trunc(255 x)`` as uint8 (u8), the codecs' input; values are clipped to [0, 1] first."""
    return (np.clip(image, 0.0, 1.0) * np.float32(255.0)).astype(np.uint8)


def truncate_8bit(image: np.ndarray) -> np.ndarray:
    """``floor(255 y) / 255`` in float32 (T8): a float image cut down to the 8-bit grid."""
    return np.floor(image * np.float32(255.0)) / np.float32(255.0)
