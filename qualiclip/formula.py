"""QualiCLIP's formula and the layout of its prompt features, in one place.

The prompt features are 2P rows, the P antonym pairs interleaved ``[pos0, neg0, pos1, neg1, ...]``
(the official ``prompts_features`` order). Every module that reads or writes that layout uses the
helpers here; :func:`quality_from_features` turns image features into the score.
"""
from __future__ import annotations

from typing import Sequence

import torch

from .prompts import PromptPair

#: The official code's logit scale (CLIP's trained ``logit_scale.exp()``, rounded).
OFFICIAL_LOGIT_SCALE = 100.0
POSITIVE, NEGATIVE = 0, 1


def interleave_pairs(pairs: Sequence[PromptPair]) -> list[str]:
    """Pairs as the rows of the prompt features: ``[pos0, neg0, pos1, neg1, ...]``."""
    return [text for pair in pairs for text in pair]


def prompt_count(pairs: int) -> int:
    """Rows of the prompt features for ``pairs`` antonym pairs."""
    return 2 * pairs


def prompt_row(pair: int, side: int) -> int:
    """Row of pair ``pair``'s positive (``side`` 0) or negative (``side`` 1) prompt."""
    return 2 * pair + side


def by_pair(values: torch.Tensor) -> torch.Tensor:
    """(..., 2P) values, one per prompt -> (..., P, 2) ``[positive, negative]`` per pair."""
    return values.unflatten(-1, (-1, 2))


def pair_gaps(similarities: torch.Tensor) -> torch.Tensor:
    """(..., 2P) similarities -> (..., P) positive-minus-negative gap of each pair."""
    pairs = by_pair(similarities)
    return pairs[..., POSITIVE] - pairs[..., NEGATIVE]


def quality_from_features(
    image_features: torch.Tensor, prompt_features: torch.Tensor, logit_scale: float = OFFICIAL_LOGIT_SCALE
) -> tuple[torch.Tensor, torch.Tensor]:
    """Official formula: (B, D) normalised image features, (2P, D) prompt features -> (B,), (B, P).

    logits = scale * f @ P.T, viewed per pair as [positive, negative], softmax within each pair;
    the score is the mean positive probability.
    """
    logits = logit_scale * image_features.float() @ prompt_features.float().T
    positive = by_pair(logits).softmax(dim=-1)[..., POSITIVE]
    return positive.mean(dim=-1), positive
