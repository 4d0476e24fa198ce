"""Compression kernels: JPEG (OpenCV/libjpeg) and JPEG 2000 (Pillow/OpenJPEG).

Both round-trip the image through an 8-bit in-memory codestream.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

_MAX_J2K_RESOLUTIONS = 6  # OpenJPEG's default number of wavelet resolutions


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: float, rng: np.random.Generator) -> np.ndarray:
    """Baseline JPEG at ``quality`` (0-100, lower is worse) with 4:2:0 chroma subsampling."""
    bgr = cv2.cvtColor(_to_uint8(image), cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def jpeg2000(image: np.ndarray, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Lossy JPEG 2000 (9/7 wavelet, colour transform) at compression ``ratio``:1.

    The number of wavelet resolutions is reduced for small images, which
    OpenJPEG would otherwise reject.
    """
    smallest = min(image.shape[:2])
    resolutions = max(1, min(_MAX_J2K_RESOLUTIONS, int(np.log2(smallest)) + 1))
    buffer = io.BytesIO()
    Image.fromarray(_to_uint8(image)).save(
        buffer, format="JPEG2000", quality_mode="rates", quality_layers=[float(ratio)],
        num_resolutions=resolutions, irreversible=True, mct=1,
    )
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.float32) / 255.0
