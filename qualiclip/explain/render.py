"""Turn raw low-resolution maps into displayable heatmaps: shared scale, empty detection, overlay.

Scaling rule: the "good" and "bad" maps of one explanation share one scale (the larger of their
peaks), so their brightness is comparable, and a map whose peak is below ``EMPTY_FRACTION`` of
that scale (or numerically zero) is reported as *empty* instead of being stretched into a
colourful picture of noise. Maps that are already probabilities pass ``scale=1``.
"""
from __future__ import annotations

import cv2
import numpy as np

from .results import Heatmap

#: A map is empty when its peak is below this fraction of the shared scale.
EMPTY_FRACTION = 1e-3
#: ...or when the shared scale itself is below this (both maps numerically zero).
EMPTY_ABSOLUTE = 1e-12
NO_EVIDENCE = "no evidence for this prompt"


def upsample(grid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) map -> (H, W) float32, bilinear, each stride-32 cell stretched over its image area."""
    height, width = size
    grid = np.ascontiguousarray(grid, dtype=np.float32)
    resized = cv2.resize(grid, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(resized, 0.0, 1.0)


def blend(image: np.ndarray, values: np.ndarray, alpha: float = 0.5,
          colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """Colormap ``values`` (H, W in [0, 1]) over ``image`` (H, W, 3 uint8 RGB) -> uint8 RGB.

    Each pixel's colour weight is ``alpha * value``: weak evidence stays nearly transparent, so
    the overlay does not paint the whole picture in the colormap's "zero" colour.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    colours = cv2.cvtColor(cv2.applyColorMap(np.uint8(np.rint(values * 255)), colormap), cv2.COLOR_BGR2RGB)
    weight = (alpha * values)[..., None]
    mixed = (1.0 - weight) * image.astype(np.float32) + weight * colours.astype(np.float32)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def render_pair(raw_good: np.ndarray, raw_bad: np.ndarray, image: np.ndarray, labels: tuple[str, str], *,
                alpha: float = 0.5, colormap: int = cv2.COLORMAP_JET,
                scale: float | None = None) -> tuple[Heatmap, Heatmap]:
    """Two raw (h, w) maps >= 0 -> two full-resolution :class:`Heatmap` on a shared scale.

    ``scale`` None means the larger peak of the two; pass 1.0 for maps already in [0, 1].
    """
    peaks = (float(raw_good.max()), float(raw_bad.max()))
    shared = max(peaks) if scale is None else scale
    return tuple(  # type: ignore[return-value]
        _heatmap(raw, peak, shared, image, label, alpha, colormap)
        for raw, peak, label in zip((raw_good, raw_bad), peaks, labels)
    )


def _heatmap(raw: np.ndarray, peak: float, shared: float, image: np.ndarray, label: str,
             alpha: float, colormap: int) -> Heatmap:
    if not np.isfinite(peak):
        raise FloatingPointError(f"the map for {label!r} contains NaN or infinite values")
    size = image.shape[:2]
    if shared < EMPTY_ABSOLUTE or peak < EMPTY_FRACTION * shared:
        return Heatmap(values=np.zeros(size, np.float32), overlay=image.copy(), empty=True,
                       message=NO_EVIDENCE, label=label, raw_peak=peak)
    values = upsample(raw / shared, size)
    return Heatmap(values=values, overlay=blend(image, values, alpha, colormap), empty=False,
                   message="", label=label, raw_peak=peak)

