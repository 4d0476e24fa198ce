"""Choose a checkpoint's logit scale so its scores spread over (0, 1) without saturating.

The official constant 100 suits the official model, whose positive/negative similarity gaps are a
few hundredths. A small model trained here ranks well but its gaps reach ~0.4, and 100 x 0.4 = 40
saturates the softmax to exactly 1.0 in float32, so different images tie and the ranking is lost.

Calibration looks at the per-pair gaps g = s_pos - s_neg of held-out (pristine and degraded)
images and picks scale = ``target_logit`` / quantile(|g|, ``quantile``): e.g. 95% of pair logits
then lie within +-4 (probabilities 0.018..0.982). The scale is also capped so that the largest
gap maps to at most ``max_logit`` (12: probability 1 - 6e-6, far from float32 saturation at ~17),
which rules out saturation ties on the calibration set. Only the scale changes; the ranking of
images within one prompt pair never does.
"""
from __future__ import annotations

import torch

from ..formula import pair_gaps

MAX_LOGIT = 12.0


def calibrate_logit_scale(similarities: torch.Tensor, quantile: float = 0.95, target_logit: float = 4.0,
                          max_logit: float = MAX_LOGIT) -> float:
    """The logit scale for which ``quantile`` of |gap| maps to ``target_logit`` (capped, see module doc)."""
    gaps = pair_gaps(similarities.double()).abs().flatten()
    spread = float(torch.quantile(gaps, quantile))
    if spread <= 0.0:
        raise ValueError("all prompt-pair gaps are zero: the model does not separate the prompts")
    return min(target_logit / spread, max_logit / float(gaps.max()))
