"""Heatmaps for the Score tab on top of :mod:`qualiclip.explain`: method names, captions and cheap re-blending.

The maps are computed once per request and kept in the session's ``gr.State`` as plain arrays
(:class:`Maps`), so moving the opacity slider only re-blends them and never runs the model again.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import qualiclip.explain
from qualiclip.explain import NO_EVIDENCE, Heatmap, blend
from qualiclip import QualityScorer

from .analysis import Analysis
from .views import for_display

#: Methods offered in the UI: (label, ``explain`` method name).
METHOD_CHOICES = (("Grad-CAM", "gradcam"), ("Grad-CAM++", "gradcam++"),
                  ("Attention map (gradient-free)", "attention"))
ALL_PAIRS = -1
#: The maps the Compare tab shows for every model: Grad-CAM of its score, at this opacity.
COMPARE_METHOD, COMPARE_OPACITY = "gradcam", 0.5


@dataclass(frozen=True)
class Maps:
    """The scored picture and both maps' values, enough to re-blend at any opacity."""

    picture: np.ndarray
    positive: Heatmap
    negative: Heatmap

    def overlays(self, opacity: float) -> tuple[np.ndarray, np.ndarray]:
        """Both overlays at ``opacity`` (clipped to [0, 1]), sized for display; an empty map shows the picture."""
        opacity = min(max(float(opacity), 0.0), 1.0)
        pictures = (self.picture if heat.empty else blend(self.picture, heat.values, opacity)
                    for heat in (self.positive, self.negative))
        return tuple(for_display(picture) for picture in pictures)  # type: ignore[return-value]


def compute_maps(model: QualityScorer, analysis: Analysis, method: str, pair: int) -> Maps:
    """Run :func:`qualiclip.explain.explain` from the analysis's trunk (thread-safe) for one pair or all.

    (``qualiclip.explain.explain`` is looked up here, at the first heatmap, so the app starts without importing
    pytorch-grad-cam.)
    """
    result = qualiclip.explain.explain(model, analysis.image, method=method, pair=None if pair == ALL_PAIRS else int(pair),
                     trunk=analysis.trunk)
    return Maps(result.image, result.positive, result.negative)


def caption(heat: Heatmap, towards: str) -> str:
    """Markdown under a map: what it shows, or plainly that there is no evidence."""
    if heat.empty:
        return f"**Towards {towards}** ({heat.label}): **{NO_EVIDENCE}**. The image shows no such region."
    return f"**Towards {towards}** ({heat.label}): the warmer the colour, the stronger the evidence."


def gallery_items(model: str, maps: Maps, opacity: float = COMPARE_OPACITY) -> list[tuple[np.ndarray, str]]:
    """A model's two overlays with short plain-text captions, for a gallery that puts several models side by side."""
    return [(overlay, f"{model}: towards {towards} ({heat.label})" + (f"; {NO_EVIDENCE}" if heat.empty else ""))
            for overlay, heat, towards in zip(maps.overlays(opacity), (maps.positive, maps.negative), ("good", "bad"))]
