"""The entry point: :func:`explain` answers "why this score?" with a "good" and a "bad" heatmap."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from qualiclip import QualityScorer, quality_from_features
from qualiclip.imaging import ImageInput, PreparedImage, to_uint8_rgb

from .attention_map import attention_quality_map
from .gradcam import CAM_METHODS, GRADIENT_LINEAR, PROMPT_AGNOSTIC, cam_maps
from .render import render_pair
from .results import QualityExplanation
from .targets import TARGET_KINDS, good_and_bad_targets

#: Every method :func:`explain` accepts: the pytorch-grad-cam ones and the native attention map.
METHODS = (*CAM_METHODS, "attention")


def explain(model: QualityScorer, image: ImageInput | PreparedImage, method: str = "gradcam", target: str = "score",
            pair: int | None = None, alpha: float = 0.5, colormap: int = cv2.COLORMAP_JET,
            trunk: torch.Tensor | None = None) -> QualityExplanation:
    """Explain ``model``'s score of ``image`` with two maps: what pulls it towards good / bad.

    ``method``: ``"gradcam"``, ``"gradcam++"``, ``"eigencam"`` (pytorch-grad-cam, at ``layer4``'s
    last bottleneck or a ViT's last block) or ``"attention"`` (local scores of the attention pool's
    location tokens: positive map = local score, negative map = 1 - local score, absolute values).
    ``target`` (CAM methods): ``"score"`` or ``"similarity"``, see :mod:`qualiclip.explain.targets`;
    ``pair``: one antonym pair's index, or None for all pairs. The image is prepared as for
    scoring (``model.max_side`` applies; a :class:`PreparedImage` is used as it is), and every map
    matches that scored image. ``trunk``: :meth:`QualityScorer.trunk` of that prepared image, when
    the caller already computed it (e.g. to score it): the maps then cost no trunk pass.

    Thread-safe without a lock: each call hooks a private frozen copy of the tower's modules,
    and the scoring model is left exactly as it was.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if target not in TARGET_KINDS:
        raise ValueError(f"unknown target kind {target!r}; choose from {', '.join(TARGET_KINDS)}")
    prepared = model.prepare(image)
    picture = to_uint8_rgb(prepared.pixels)
    style = dict(alpha=alpha, colormap=colormap)
    if method == "attention":
        dense = attention_quality_map(model, prepared, pair, trunk)
        positive, negative = render_pair(dense.local_scores, 1.0 - dense.local_scores, picture,
                                         ("locally judged good", "locally judged bad"), scale=1.0, **style)
        note = "gradient-free: each stride-32 cell's own QualiCLIP score; the target kind does not apply"
        return QualityExplanation(dense.score, method, target, pair, positive, negative, picture, note)
    good, bad = good_and_bad_targets(model, target, pair)
    if method in PROMPT_AGNOSTIC:  # one map serves both: the method ignores the targets
        maps, embeddings = cam_maps(model, prepared.pixels, method, (good,), trunk=trunk)
        raw_good = raw_bad = maps[0]
    elif method in GRADIENT_LINEAR and target == "score":  # d(1 - score) = -d(score): one signed map, both signs
        maps, embeddings = cam_maps(model, prepared.pixels, method, (good,), trunk=trunk, signed=True)
        raw_good, raw_bad = np.maximum(maps[0], 0.0), np.maximum(-maps[0], 0.0)
    else:
        maps, embeddings = cam_maps(model, prepared.pixels, method, (good, bad), trunk=trunk)
        raw_good, raw_bad = maps[0], maps[1]
    score, _ = quality_from_features(embeddings[:1], model.prompt_features, model.logit_scale)
    positive, negative = render_pair(raw_good, raw_bad, picture, (good.label, bad.label), **style)
    note = "prompt-agnostic: both maps show the features' main component" if method in PROMPT_AGNOSTIC else ""
    return QualityExplanation(float(score[0]), method, target, pair, positive, negative, picture, note)
