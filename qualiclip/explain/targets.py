"""Grad-CAM targets for QualiCLIP: callables on one L2-normalised image embedding (D,).

pytorch-grad-cam calls ``target(output)`` for every sample of the batch and backpropagates the
sum, so a target is any callable returning a scalar tensor. Two kinds, each as a good/bad couple:

* ``"similarity"``: cosine similarity with the positive prompts vs. with the negative prompts
  (one antonym pair, or the mean over all pairs);
* ``"score"``: the QualiCLIP score itself (or one pair's positive probability) vs. 1 minus it.
  This is what the score responds to; with Grad-CAM its two maps are the positive and negative
  parts of one signed map, so the "bad" map is empty when nothing lowers the score.
"""
from __future__ import annotations

from typing import Protocol, Sequence

import torch

from qualiclip import QualityScorer, quality_from_features
from qualiclip.formula import NEGATIVE, POSITIVE, prompt_row

TARGET_KINDS = ("score", "similarity")


class Target(Protocol):
    """What pytorch-grad-cam needs (a callable on one sample's output) plus a display label."""

    label: str

    def __call__(self, embedding: torch.Tensor) -> torch.Tensor: ...


class PromptSimilarity:
    """Mean cosine similarity of the embedding with some rows of the prompt features."""

    def __init__(self, prompt_features: torch.Tensor, rows: Sequence[int], label: str) -> None:
        self.prompts = prompt_features[list(rows)]
        self.label = label

    def __call__(self, embedding: torch.Tensor) -> torch.Tensor:
        return (embedding.float() @ self.prompts.T).mean()


class ScoreTarget:
    """The QualiCLIP score (or one pair's positive probability), or 1 minus it when ``towards_bad``."""

    def __init__(self, model: QualityScorer, pair: int | None, towards_bad: bool, label: str) -> None:
        self.prompt_features = model.prompt_features
        self.logit_scale = model.logit_scale
        self.pair = pair
        self.towards_bad = towards_bad
        self.label = label

    def __call__(self, embedding: torch.Tensor) -> torch.Tensor:
        score, pair_probabilities = quality_from_features(embedding[None], self.prompt_features, self.logit_scale)
        value = score[0] if self.pair is None else pair_probabilities[0, self.pair]
        return 1.0 - value if self.towards_bad else value


def good_and_bad_targets(model: QualityScorer, kind: str = "score",
                         pair: int | None = None) -> tuple[Target, Target]:
    """The (towards "good", towards "bad") targets of ``kind`` for one pair or all pairs."""
    check_pair(model, pair)
    if kind == "score":
        what = "the score" if pair is None else f'P("{model.prompt_pairs[pair][0]}")'
        return (ScoreTarget(model, pair, False, f"raises {what}"),
                ScoreTarget(model, pair, True, f"lowers {what}"))
    if kind == "similarity":
        pairs = range(len(model.prompt_pairs)) if pair is None else [pair]
        return tuple(  # type: ignore[return-value]
            PromptSimilarity(model.prompt_features, [prompt_row(p, side) for p in pairs],
                             _similarity_label(model, pair, side))
            for side in (POSITIVE, NEGATIVE)
        )
    raise ValueError(f"unknown target kind {kind!r}; choose from {', '.join(TARGET_KINDS)}")


def check_pair(model: QualityScorer, pair: int | None) -> None:
    """Reject a pair index the model does not have."""
    if pair is not None and not 0 <= pair < len(model.prompt_pairs):
        raise ValueError(f"pair must be None or 0..{len(model.prompt_pairs) - 1}, got {pair}")


def _similarity_label(model: QualityScorer, pair: int | None, side: int) -> str:
    if pair is None:
        return f"similar to the {('positive', 'negative')[side]} prompts"
    return f'similar to "{model.prompt_pairs[pair][side]}"'
