"""Compression kernels as ARNIQA applies them: JPEG and JPEG 2000, both through Pillow.

Both truncate the image to uint8 (:func:`._eight_bit.to_uint8`), round-trip it through an
in-memory codestream and return the decoded 8-bit values as float32 in [0, 1].

JPEG 2000 uses ARNIQA's OpenJPEG settings: rate-controlled single layer at the compression ratio,
8 wavelet resolutions, Pillow's defaults otherwise (reversible 5/3 wavelet, no colour transform,
LRCP, no tiles). Deviation: OpenJPEG needs every side to be at least ``2 ** (resolutions - 1)``
px, so images with a side below 128 px (where ARNIQA fails) get the most resolutions that fit.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ._eight_bit import to_uint8

_J2K_RESOLUTIONS = 8


def _round_trip(image: np.ndarray, **save_options: object) -> np.ndarray:
    """Encode the uint8 image with Pillow's ``save_options`` and decode it again, as float32 in [0, 1]."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, **save_options)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.float32) / np.float32(255.0)


def jpeg(image: np.ndarray, quality: float, rng: np.random.Generator) -> np.ndarray:
    """Baseline JPEG at ``quality`` with libjpeg's defaults (4:2:0 chroma subsampling)."""
    return _round_trip(image, format="JPEG", quality=int(quality))


def jpeg2000(image: np.ndarray, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """JPEG 2000 (JP2 container) at compression ``ratio``:1, reversible 5/3 wavelet, no colour transform."""
    resolutions = min(_J2K_RESOLUTIONS, int(np.log2(min(image.shape[:2]))) + 1)
    return _round_trip(image, format="JPEG2000", quality_mode="rates", quality_layers=[float(ratio)],
                       num_resolutions=resolutions, irreversible=False, mct=0)
