"""Heatmaps for the Score tab on top of :mod:`qualiclip.explain`: method names, captions and cheap re-blending.

The maps are computed once per request and kept in the session's ``gr.State`` as plain arrays
(:class:`Maps`), so moving the opacity slider only re-blends them and never runs the model again.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

import qualiclip.explain
from qualiclip.explain import NO_EVIDENCE, Heatmap, blend
from qualiclip import QualityScorer

from .analysis import Analysis
from .formatting import for_display

#: Methods offered in the UI: (label, ``explain`` method name).
METHOD_CHOICES = (("Grad-CAM", "gradcam"), ("Grad-CAM++", "gradcam++"),
                  ("Attention map (gradient-free)", "attention"))
ALL_PAIRS = -1
#: The maps the Compare tab shows for every model: Grad-CAM of its score, at this opacity.
COMPARE_METHOD, COMPARE_OPACITY = "gradcam", 0.5
#: The colormap the maps are drawn with (and their colour key shows).
MAP_COLORMAP = cv2.COLORMAP_JET
#: A gradient map (Grad-CAM, Grad-CAM++) whose raw peak is below this shows no evidence. Both maps share
#: one relative scale, so when the score is saturated (a uniform grey image scores about 0.006) the
#: vanishing gradients (peaks near 1e-5) would otherwise be stretched into a full-strength picture;
#: natural photos, noisy ones included, peak above 3e-4 on the bundled model.
FAINT_PEAK = 1e-4
#: Sentence under the maps saying how their colours are scaled.
SCALE_NOTE = ("Grad-CAM and Grad-CAM++: both maps share one scale relative to this image (the hottest colour is "
              "the strongest evidence in either map), so they compare with each other, not across images. "
              "Attention map: each region's own score, 0 to 1.")


@dataclass(frozen=True)
class Maps:
    """The scored picture and both maps' values, enough to re-blend at any opacity."""

    picture: np.ndarray
    positive: Heatmap
    negative: Heatmap

    def overlays(self, opacity: float) -> tuple[np.ndarray, np.ndarray]:
        """Both overlays at ``opacity`` (clipped to [0, 1]), sized for display; an empty map shows the picture."""
        opacity = min(max(float(opacity), 0.0), 1.0)
        pictures = (self.picture if heat.empty else blend(self.picture, heat.values, opacity, MAP_COLORMAP)
                    for heat in (self.positive, self.negative))
        return tuple(for_display(picture) for picture in pictures)  # type: ignore[return-value]


def compute_maps(model: QualityScorer, analysis: Analysis, method: str, pair: int) -> Maps:
    """Run :func:`qualiclip.explain.explain` from the analysis's trunk (thread-safe) for one pair or all.

    (``qualiclip.explain.explain`` is looked up here, at the first heatmap, so the app starts without importing
    pytorch-grad-cam.)
    """
    result = qualiclip.explain.explain(model, analysis.image, method=method, pair=None if pair == ALL_PAIRS else int(pair),
                                       colormap=MAP_COLORMAP, trunk=analysis.trunk)
    if method == "attention":  # absolute local scores, not gradients
        return Maps(result.image, result.positive, result.negative)
    return Maps(result.image, *(without_faint(heat, result.image) for heat in (result.positive, result.negative)))


def without_faint(heat: Heatmap, picture: np.ndarray) -> Heatmap:
    """``heat`` reported as empty when its raw peak is below :data:`FAINT_PEAK` (see there)."""
    if heat.empty or heat.raw_peak >= FAINT_PEAK:
        return heat
    return dataclasses.replace(heat, values=np.zeros_like(heat.values), overlay=picture.copy(), empty=True,
                               message=NO_EVIDENCE)


def colour_scale_html(stops: int = 11) -> str:
    """The maps' colour key: the colormap they are drawn with, from weak to strong evidence, and :data:`SCALE_NOTE`."""
    ramp = cv2.applyColorMap(np.linspace(0, 255, stops).astype(np.uint8)[:, None], MAP_COLORMAP)[:, 0, ::-1]
    colours = ", ".join(f"rgb({r},{g},{b})" for r, g, b in ramp)
    return ('<div class="qc-scale" id="map-scale"><span>weak</span>'
            f'<div class="qc-scale-bar" style="background:linear-gradient(to right, {colours})"></div>'
            f'<span>strong evidence</span></div><div class="qc-caption">{SCALE_NOTE}</div>')


def caption(heat: Heatmap, towards: str) -> str:
    """Markdown under a map: what it shows, or plainly that there is no evidence."""
    if heat.empty:
        return f"**Towards {towards}** ({heat.label}): **{NO_EVIDENCE}**. The image shows no such region."
    return f"**Towards {towards}** ({heat.label}): the warmer the colour, the stronger the evidence."


def gallery_items(model: str, maps: Maps, opacity: float = COMPARE_OPACITY) -> list[tuple[np.ndarray, str]]:
    """A model's two overlays with short plain-text captions, for a gallery that puts several models side by side."""
    return [(overlay, f"{model}: towards {towards} ({heat.label})" + (f"; {NO_EVIDENCE}" if heat.empty else ""))
            for overlay, heat, towards in zip(maps.overlays(opacity), (maps.positive, maps.negative), ("good", "bad"))]
