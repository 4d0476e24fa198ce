"""Gradient-free quality map native to QualiCLIP: score every location token of the attention pool.

``attnpool(features, all_tokens=True)`` returns, besides the pooled embedding (token 0, the one
the score uses), one output token per stride-32 location, already projected into the embedding
space by the pool's ``c_proj``. Normalised and put through the official formula, each gives a
local score in [0, 1]. One trunk pass plus a slightly larger pool: about the cost of one score,
and a cross-check for the Grad-CAM maps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from qualiclip import QualityScorer, quality_from_features
from qualiclip.architecture import NativeResolutionAttentionPool
from qualiclip.imaging import ImageInput, PreparedImage

from .render import upsample
from .targets import check_pair
from .towers import pool_input


@dataclass(frozen=True)
class AttentionQualityMap:
    """Per-location QualiCLIP scores of one image and the score of its pooled token."""

    #: Score of the pooled token: the model's score of the image.
    score: float
    #: Positive probability of each pair for the pooled token.
    pair_probabilities: tuple[float, ...]
    #: (h, w) float32 in [0, 1]: local score of each stride-32 cell (one pair's probability if ``pair``).
    local_scores: np.ndarray
    #: (H, W) float32 in [0, 1]: ``local_scores`` upsampled to the scored image's size.
    values: np.ndarray


def attention_quality_map(model: QualityScorer, image: ImageInput | PreparedImage, pair: int | None = None,
                          trunk: torch.Tensor | None = None) -> AttentionQualityMap:
    """Dense quality map of ``image`` (after ``model.prepare``, so at the size actually scored).

    ``trunk``: :meth:`QualityScorer.trunk` of the prepared image, when the caller already has it.
    """
    check_pair(model, pair)
    pool = getattr(model.clip.visual, "attnpool", None)
    if not isinstance(pool, NativeResolutionAttentionPool):
        raise TypeError("the attention quality map needs a ResNet image tower with QualiCLIP's attention pool")
    tensor = model.prepare(image).pixels
    features = pool_input(model, tensor, trunk)
    with torch.inference_mode(), model.autocast():
        tokens = pool(features, all_tokens=True)[:, 0]  # (1 + h*w, D)
        scores, pair_probabilities = quality_from_features(
            F.normalize(tokens.float(), dim=-1), model.prompt_features, model.logit_scale)
    local = scores if pair is None else pair_probabilities[:, pair]
    grid = local[1:].reshape(features.shape[-2:]).cpu().numpy().astype(np.float32)
    return AttentionQualityMap(
        score=float(scores[0]),
        pair_probabilities=tuple(pair_probabilities[0].tolist()),
        local_scores=grid,
        values=upsample(grid, tuple(tensor.shape[-2:])),
    )
