"""Spatial kernels as ARNIQA applies them: jitter, non-eccentricity patches, pixelation, quantisation,
colour blocks.

Every kernel takes ``(image, amount, rng)`` with ``image`` a private float32 HxWx3 array in [0, 1].
Patch and block sizes are ARNIQA's fixed pixel sizes (16 px patches moved by up to 8 px, 32 px
blocks), chosen for 224 px crops; they do not scale with the image. Random positions are drawn as
one ``(count, k)`` uniform matrix in ARNIQA's per-patch order, so for a fixed seed a higher level
adds patches on top of the lower level's.

Deviations only where ARNIQA fails or indexes out of range: on images with a side below 48 px
(patches) or 32 px (blocks) positions are clamped so that everything stays inside the image,
pixelation never goes below 1 px, and a jitter crop that would run past the padded image (one
margin more than twice the other, tiny images only) is clamped to its last row/column.
"""

from __future__ import annotations

import math

import numpy as np

_JITTER_PASSES = 5
_PATCH, _PATCH_MARGIN, _PATCH_MOVE = 16, 16, 16  # side, distance from the border, range of the move
_BLOCK = 32


def _lerp(start: np.ndarray, end: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``start + weight * (end - start)``, computed in ``end``'s buffer (the callers' temporaries)."""
    end -= start
    end *= weight
    end += start
    return end


def _bilinear_or_zero(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, pad_rows: int,
                      pad_cols: int) -> np.ndarray:
    """Bilinear samples at (``rows``, ``cols``) of ``image`` edge-padded by ``pad_rows`` and ``pad_cols``.

    Coordinates are in the padded image; one below 0 or at or past its last row/column gives 0.
    """
    padded = np.pad(image, ((pad_rows, pad_rows), (pad_cols, pad_cols), (0, 0)), mode="edge")
    padded_height, padded_width = padded.shape[:2]
    inside = (rows >= 0) & (rows < padded_height - 1) & (cols >= 0) & (cols < padded_width - 1)
    top, left = np.floor(rows), np.floor(cols)
    down, right = (rows - top)[..., None], (cols - left)[..., None]
    top_left = np.where(inside, top.astype(np.intp) * padded_width + left.astype(np.intp), 0)
    flat = padded.reshape(-1, 3)
    corners = [np.take(flat, top_left + offset, axis=0) for offset in (0, 1, padded_width, padded_width + 1)]
    upper, lower = _lerp(corners[0], corners[1], right), _lerp(corners[2], corners[3], right)
    return _lerp(upper, lower, down) * inside[..., None]


def jitter(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """ARNIQA's jitter: five passes, each moving every pixel by its own Gaussian offset (std ``amount`` px).

    Each pass edge-pads the image by the ceiling of the largest column offset (columns) and row
    offset (rows), samples it bilinearly (0 outside) and crops it back with the two margins swapped,
    which shifts the image by their difference when they differ (ARNIQA's quirk).
    """
    height, width = image.shape[:2]
    for _ in range(_JITTER_PASSES):
        offsets = np.float32(amount) * rng.standard_normal((2, height, width), dtype=np.float32)
        pad_cols, pad_rows = (math.ceil(abs(float(o.max()))) for o in offsets)
        kept_rows = np.minimum(np.arange(pad_cols, pad_cols + height), height + 2 * pad_rows - 1)
        kept_cols = np.minimum(np.arange(pad_rows, pad_rows + width), width + 2 * pad_cols - 1)
        field = offsets[:, np.clip(kept_rows - pad_rows, 0, height - 1)[:, None],
                        np.clip(kept_cols - pad_cols, 0, width - 1)[None, :]]
        image = _bilinear_or_zero(image, kept_rows.astype(np.float32)[:, None] - field[1],
                                  kept_cols.astype(np.float32)[None, :] - field[0], pad_rows, pad_cols)
    return image


def _clamped(position: int, size: int, extent: int) -> int:
    """``position`` moved into 0..size - extent (a no-op for ARNIQA's positions when size >= 48)."""
    return min(max(position, 0), max(size - extent, 0))


def non_eccentricity(image: np.ndarray, count: float, rng: np.random.Generator) -> np.ndarray:
    """Copy ``count`` 16 x 16 patches, each to a spot at most 8 px away, in place and in sequence.

    Each patch is copied row by row from the top, each row read from the current image, so a
    patch moved down smears over itself, and later patches see earlier ones (ARNIQA's behaviour).
    """
    height, width = image.shape[:2]
    for u_col, u_row, u_move_col, u_move_row in rng.random((int(count), 4)):
        col = round(u_col * (width - 3 * _PATCH_MARGIN)) + _PATCH_MARGIN
        row = round(u_row * (height - 3 * _PATCH_MARGIN)) + _PATCH_MARGIN
        to_col = _clamped(round((u_move_col - 0.5) * _PATCH_MOVE + col), width, _PATCH)
        to_row = _clamped(round((u_move_row - 0.5) * _PATCH_MOVE + row), height, _PATCH)
        col, row = _clamped(col, width, _PATCH), _clamped(row, height, _PATCH)
        for line in range(min(_PATCH, height)):
            image[to_row + line, to_col:to_col + _PATCH] = image[row + line, col:col + _PATCH]
    return image


def nearest_indices(size_in: int, size_out: int) -> np.ndarray:
    """PyTorch's legacy nearest resampling: ``min(floor(i * (in / out)), in - 1)`` with a float32 ratio."""
    ratio = np.float32(size_in) / np.float32(size_out)
    return np.minimum(np.floor(np.arange(size_out, dtype=np.float32) * ratio).astype(np.intp), size_in - 1)


def pixelate(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Nearest-downscale by ``z = 0.95 - amount ** 0.6`` and nearest-upscale back (ARNIQA's sizes)."""
    height, width = image.shape[:2]
    scale = 0.95 - amount**0.6
    small_height, small_width = max(1, int(height * scale)), max(1, int(width * scale))
    rows = nearest_indices(small_height, height)
    cols = nearest_indices(small_width, width)
    return image[nearest_indices(height, small_height)[rows]][:, nearest_indices(width, small_width)[cols]]


def quantization(image: np.ndarray, levels: float, rng: np.random.Generator) -> np.ndarray:
    """Uniform 8-bit thresholds ``int(255 k / N)``, then a min-max stretch of the bucket index (ARNIQA's op).

    Each value's index is the number of thresholds 0, t1 .. t(N-1) strictly below ``255 x``; the
    indices of the whole image are stretched to [0, 1] (left as they are if they are all equal).
    """
    count = int(levels)
    thresholds = np.array([0] + [int(255 * k / count) for k in range(1, count)], dtype=np.float32)
    index = np.searchsorted(thresholds, image * np.float32(255.0), side="left").astype(np.float32)
    low, high = index.min(), index.max()
    return (index - low) / (high - low) if high > low else index


def color_block(image: np.ndarray, count: float, rng: np.random.Generator) -> np.ndarray:
    """Paste ``count`` uniformly coloured 32 x 32 squares at random spots, later ones on top."""
    height, width = image.shape[:2]
    for red, green, blue, u_row, u_col in rng.random((int(count), 5)):
        row = math.floor(u_row * max(height - _BLOCK, 0))
        col = math.floor(u_col * max(width - _BLOCK, 0))
        image[row:row + _BLOCK, col:col + _BLOCK] = (red, green, blue)
    return image
