"""QualiCLIP's formula and the layout of its prompt features, in one place.

The prompt features are 2P rows, the P antonym pairs interleaved ``[pos0, neg0, pos1, neg1, ...]``
(the official ``prompts_features`` order). Every module that reads or writes that layout uses the
helpers here; :func:`quality_from_features` turns image features into the score.

Implementations differ in the logit multiplier and the precision only, so those are the two
parameters of a :class:`~qualiclip.formulas.Formula` (defined without torch, so that the
command line lists them at once): the official code multiplies the cosine similarities by the
constant 100 and runs fp16 autocast on CUDA; pyiqa (``qualiclip`` and its QualiCLIP+ variants)
multiplies them by ``exp(logit_scale) / 2`` (the CLIP checkpoint's own learned scale and a
temperature of 2, about 50) and runs in float32.
"""
from __future__ import annotations

from typing import Sequence

import torch

from .constants import OFFICIAL_LOGIT_SCALE
from .lazy import lazy_exports
from .prompts import PromptPair

#: Old import paths kept for one release (see CHANGELOG.md): the formula's variants live in
#: :mod:`qualiclip.formulas`, the constants in :mod:`qualiclip.constants`.
__getattr__, _ = lazy_exports(__name__, {}, deprecated={
    **{name: f"qualiclip.formulas:{name}" for name in ("FORMULAS", "OFFICIAL_FORMULA", "PYIQA_FORMULA", "Formula")},
    "PYIQA_TEMPERATURE": "qualiclip.constants:PYIQA_TEMPERATURE",
})

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
    formula, a :class:`Formula`'s :meth:`~Formula.multiplier` in general. Differentiable.
    """
    dtype = scoring_dtype(image_features, prompt_features)
    logits = logit_scale * image_features.to(dtype) @ prompt_features.to(dtype).T
    positive = by_pair(logits).softmax(dim=-1)[..., POSITIVE]
    return positive.mean(dim=-1), positive
