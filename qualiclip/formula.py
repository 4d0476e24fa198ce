"""QualiCLIP's formula and the layout of its prompt features, in one place.

The prompt features are 2P rows, the P antonym pairs interleaved ``[pos0, neg0, pos1, neg1, ...]``
(the official ``prompts_features`` order). Every module that reads or writes that layout uses the
helpers here; :func:`quality_from_features` turns image features into the score.

Implementations differ in the logit multiplier and the precision only, so those are the two
parameters of a :class:`Formula`: the official code multiplies the cosine similarities by the
constant 100 and runs fp16 autocast on CUDA; pyiqa (``qualiclip`` and its QualiCLIP+ variants)
multiplies them by ``exp(logit_scale) / 2`` (the CLIP checkpoint's own learned scale and a
temperature of 2, about 50) and runs in float32.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from .prompts import PromptPair

#: The official code's logit scale (CLIP's trained ``logit_scale.exp()``, rounded).
OFFICIAL_LOGIT_SCALE = 100.0
#: pyiqa's temperature: its logits are ``exp(logit_scale) / PYIQA_TEMPERATURE`` times the cosines.
PYIQA_TEMPERATURE = 2.0
POSITIVE, NEGATIVE = 0, 1


@dataclass(frozen=True)
class Formula:
    """Where a model's logit multiplier comes from, and whether CUDA runs it under fp16 autocast."""

    name: str
    #: None: the checkpoint's stored multiplier (100 in the official format); else
    #: ``exp(CLIP's learned logit_scale) / temperature``.
    temperature: float | None
    fp16_autocast: bool

    def logit_scale(self, stored: float, clip_log_scale: float) -> float:
        """The multiplier of the cosines, from a checkpoint's ``stored`` one or its CLIP's log scale."""
        return stored if self.temperature is None else math.exp(clip_log_scale) / self.temperature


OFFICIAL_FORMULA = Formula("official", temperature=None, fp16_autocast=True)
PYIQA_FORMULA = Formula("pyiqa", temperature=PYIQA_TEMPERATURE, fp16_autocast=False)
#: The formulas by name (``--formula``, ``load_model(formula=...)``).
FORMULAS: dict[str, Formula] = {formula.name: formula for formula in (OFFICIAL_FORMULA, PYIQA_FORMULA)}


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


def scoring_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """float32, or float64 when any of ``tensors`` is (half precision is never kept for the formula)."""
    dtype = torch.float32
    for tensor in tensors:
        dtype = torch.promote_types(dtype, tensor.dtype)
    return dtype


def quality_from_features(
    image_features: torch.Tensor, prompt_features: torch.Tensor, logit_scale: float = OFFICIAL_LOGIT_SCALE
) -> tuple[torch.Tensor, torch.Tensor]:
    """The score: (B, D) normalised image features, (2P, D) prompt features -> (B,), (B, P).

    logits = logit_scale * f @ P.T, viewed per pair as [positive, negative], softmax within each
    pair; the score is the mean positive probability. ``logit_scale`` is 100 for the official
    formula, a :class:`Formula`'s :meth:`~Formula.logit_scale` in general. Differentiable.
    """
    dtype = scoring_dtype(image_features, prompt_features)
    logits = logit_scale * image_features.to(dtype) @ prompt_features.to(dtype).T
    positive = by_pair(logits).softmax(dim=-1)[..., POSITIVE]
    return positive.mean(dim=-1), positive
