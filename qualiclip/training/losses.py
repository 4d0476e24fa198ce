"""QualiCLIP's three training losses on prompt similarities.

All functions take ``sims`` of shape (B, 2, L, P, 2): batch, crop (A, B), level (index 0 = least
degraded), prompt pair, prompt kind (0 = positive, 1 = negative); values are cosine similarities
s_T(c) of a crop's image embedding with the prompt features.

Each loss is evaluated *per prompt pair* and averaged over the P pairs (and over the batch); within
a pair the sums run over levels, level pairs i < j, crops and prompt kinds exactly as in the paper:

- L_cons = sum_i sum_T max(0, |s_T(A_i) - s_T(B_i)| - m_c)
- L_pos  = sum_{i<j} sum_c max(0, s_p(c_j) - s_p(c_i) + m_r)
- L_neg  = sum_{i<j} sum_c max(0, s_n(c_i) - s_n(c_j) + m_r)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LossTerms:
    """The weighted total and its three (unweighted) parts."""

    total: torch.Tensor
    consistency: torch.Tensor
    positive: torch.Tensor
    negative: torch.Tensor

    def as_floats(self) -> dict[str, float]:
        return {name: float(getattr(self, name).detach()) for name in ("total", "consistency", "positive", "negative")}


def consistency_loss(sims: torch.Tensor, margin: float) -> torch.Tensor:
    """Crops of the same image at the same level should have similarities within ``margin``."""
    gaps = (sims[:, 0] - sims[:, 1]).abs() - margin  # (B, L, P, 2)
    return gaps.clamp(min=0).sum(dim=(1, 3)).mean()


def _ordered_pair_hinge(values: torch.Tensor, margin: float) -> torch.Tensor:
    """sum_{i<j} max(0, values_j - values_i + margin) for (B, 2, L, P) values, summed over crops.

    Zero when ``values`` decrease with the level by at least ``margin`` per step; averaged over B, P.
    """
    levels = values.shape[2]
    later_minus_earlier = values.unsqueeze(2) - values.unsqueeze(3)  # [..., i, j, p] = v_j - v_i
    upper = torch.ones(levels, levels, dtype=torch.bool, device=values.device).triu(diagonal=1)
    hinge = (later_minus_earlier + margin).clamp(min=0) * upper[:, :, None]
    return hinge.sum(dim=(1, 2, 3)).mean()


def positive_ranking_loss(sims: torch.Tensor, margin: float) -> torch.Tensor:
    """Similarity with the positive prompt must drop as the degradation level rises."""
    return _ordered_pair_hinge(sims[..., 0], margin)


def negative_ranking_loss(sims: torch.Tensor, margin: float) -> torch.Tensor:
    """Similarity with the negative prompt must rise as the degradation level rises."""
    return _ordered_pair_hinge(-sims[..., 1], margin)


def qualiclip_loss(sims: torch.Tensor, *, margin_consistency: float, margin_ranking: float,
                   weight_consistency: float = 1.0, weight_positive: float = 1.0,
                   weight_negative: float = 1.0) -> LossTerms:
    """l_c L_cons + l_p L_pos + l_n L_neg, with the parts kept for logging."""
    if sims.ndim != 5 or sims.shape[1] != 2 or sims.shape[-1] != 2:
        raise ValueError(f"sims must have shape (B, 2, L, P, 2), got {tuple(sims.shape)}")
    cons = consistency_loss(sims, margin_consistency)
    pos = positive_ranking_loss(sims, margin_ranking)
    neg = negative_ranking_loss(sims, margin_ranking)
    total = weight_consistency * cons + weight_positive * pos + weight_negative * neg
    return LossTerms(total=total, consistency=cons, positive=pos, negative=neg)
