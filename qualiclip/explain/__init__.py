"""Why this score? Heatmaps of what pulls an image towards QualiCLIP's "good" and "bad" prompts.

Two families, one entry point (:func:`explain`):

* Grad-CAM, Grad-CAM++ and EigenCAM from pytorch-grad-cam, with QualiCLIP targets (prompt
  similarity or the score itself); for ResNet towers gradients only flow through the attention
  pool, so both maps cost well under two plain scores;
* :func:`attention_quality_map`, gradient-free: the attention pool's per-location tokens scored
  with the official formula, a dense quality map at stride 32.

Example::

    from qualiclip import load_model
    from qualiclip.explain import explain
    result = explain(load_model(), "photo.jpg", method="gradcam")
    result.negative.overlay      # HxWx3 uint8: what lowers the score
    result.negative.empty        # True: nothing lowers it ("no evidence for this prompt")
"""
from qualiclip.lazy import lazy_exports

from .attention_map import AttentionQualityMap, attention_quality_map
from .render import NO_EVIDENCE, blend, render_pair
from .results import Heatmap, QualityExplanation
from .targets import TARGET_KINDS, PromptSimilarity, ScoreTarget, good_and_bad_targets

#: Names whose modules import pytorch-grad-cam (about a second): loaded on first use, so that an
#: app can start without it.
_LAZY = {"METHODS": "core", "explain": "core", "CAM_METHODS": "gradcam", "PROMPT_AGNOSTIC": "gradcam",
         "cam_maps": "gradcam"}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


__all__ = [
    "CAM_METHODS",
    "METHODS",
    "NO_EVIDENCE",
    "PROMPT_AGNOSTIC",
    "TARGET_KINDS",
    "AttentionQualityMap",
    "Heatmap",
    "PromptSimilarity",
    "QualityExplanation",
    "ScoreTarget",
    "attention_quality_map",
    "blend",
    "cam_maps",
    "explain",
    "good_and_bad_targets",
    "render_pair",
]
