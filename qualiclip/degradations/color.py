"""Colour kernels as ARNIQA applies them: colour diffusion, colour shift and two saturation changes.

Every kernel takes ``(image, amount, rng)`` with ``image`` a private float32 HxWx3 RGB array in
[0, 1]. LAB work goes through :mod:`._lab`, including ARNIQA's channel swap.
"""

from __future__ import annotations

import numpy as np

from ._eight_bit import truncate_8bit
from ._filters import correlate, gaussian_kernel
from ._lab import lab_of_swapped, swapped_from_lab

_EDGE_SIGMA, _EDGE_SIZE = 4.0, 17  # blur of the colour-shift edge map
_HSV_EPS = 1e-8  # kornia's guard in S = (max - min) / (max + eps)


def color_diffusion(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Blur LAB a and b with a Gaussian of sigma ``1.5 A + 2`` and multiply them by ``A`` (ARNIQA's op).

    The multiplication makes higher levels both bleed and over-saturate colours; the result is
    truncated to 8-bit steps, as ARNIQA's is.
    """
    lab = lab_of_swapped(image)
    kernel = gaussian_kernel(1.5 * amount + 2)
    lab[..., 1:] = np.float32(amount) * correlate(lab[..., 1:], kernel)
    return truncate_8bit(swapped_from_lab(lab))


def _edge_weights(image: np.ndarray) -> np.ndarray:
    """ARNIQA's per-pixel colour-shift weight: blurred, min-max normalised gradient magnitude of luma.

    Includes its broken percentile clip: per row, the entry at the ascending rank of column 0's
    value is set to 0, then the entry at the rank of column 0 in ``1 - e`` is set to 1.
    """
    luma = 0.299 * image[..., 0] + 0.587 * image[..., 1] + 0.114 * image[..., 2]
    padded = np.pad(luma, 1, mode="edge")
    grad_x = (padded[1:-1, 2:] - padded[1:-1, :-2]) / 2
    grad_y = (padded[2:, 1:-1] - padded[:-2, 1:-1]) / 2
    edges = correlate(np.sqrt(grad_x**2 + grad_y**2), gaussian_kernel(_EDGE_SIGMA, _EDGE_SIZE))
    low, high = edges.min(), edges.max()
    if high > low:
        edges = (edges - low) / (high - low)
    rows = np.arange(edges.shape[0])
    low_rank = (edges < edges[:, :1]).sum(axis=1)
    inverted = 1 - edges
    high_rank = (inverted < inverted[:, :1]).sum(axis=1)
    edges[rows, low_rank] = 0.0
    edges[rows, high_rank] = 1.0
    return edges


def _shifted_indices(size: int, shift: int, pad: int) -> np.ndarray:
    """Source index of each position after ARNIQA's edge-pad by ``pad``, roll by ``shift`` and crop.

    ARNIQA pads by one offset and rolls by the other, so whatever rolls past the padding wraps
    around from the far side.
    """
    return np.clip((np.arange(size) - shift + pad) % (size + 2 * pad) - pad, 0, size - 1)


def color_shift(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Mis-registered green: shift G by whole pixels down and right, blended in where there are edges.

    The shift ``(down, right)`` is ``A a / |a|`` rounded half to even, ``a`` two uniform draws from
    ``rng``, so its length is about ``A`` and it never points up or left. R and B are unchanged.
    """
    height, width = image.shape[:2]
    weights = _edge_weights(image)
    direction = rng.random(2)
    down, right = (int(v) for v in np.round(amount * direction / np.linalg.norm(direction)))
    green = image[..., 1]
    shifted = green[np.ix_(_shifted_indices(height, down, right), _shifted_indices(width, right, down))]
    image[..., 1] = weights * shifted + (1 - weights) * green
    return image


def saturation_hsv(image: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    """Scale HSV saturation by ``factor`` (kornia's HSV), in closed form.

    Every channel moves along the line to the value ``v = max(R, G, B)``:
    ``c' = v - k (v - c) v / (v + 1e-8)``. 0 gives grey at ``v``; the table's -0.4 pushes
    channels beyond ``v`` (clipped later).
    """
    value = image.max(axis=2, keepdims=True)
    return value - np.float32(factor) * (value - image) * value / (value + np.float32(_HSV_EPS))


def saturation_lab(image: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    """Multiply LAB a and b by ``factor`` (with ARNIQA's swap), truncated to 8-bit steps.

    Factor 1 (level 1) is not a no-op: the float32 round trip and the truncation lower about half
    of the values by 1/255.
    """
    lab = lab_of_swapped(image)
    lab[..., 1:] *= np.float32(factor)
    return truncate_8bit(swapped_from_lab(lab))
