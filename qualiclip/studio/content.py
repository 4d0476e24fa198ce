"""Text of the app: the header and the Learn tab's explanation of the score."""
from __future__ import annotations

from qualiclip import OFFICIAL_LOGIT_SCALE, PROMPT_PAIRS

from .inputs import LIMITS_TEXT

HEADER = f"""# QualiCLIP Studio
How good does a photo look, without any human ratings? [QualiCLIP](https://arxiv.org/abs/2403.11176)
compares a CLIP image embedding with 7 pairs of opposite prompts and gives a score from 0 (bad) to 1 (good).
{LIMITS_TEXT}"""

_PAIR_PROBABILITY = r"$$p_i = \frac{e^{S\, f\cdot t_i^+}}{e^{S\, f\cdot t_i^+} + e^{S\, f\cdot t_i^-}}$$"
_PROMPT_ROWS = "\n".join(f"| {i} | {pos} | {neg} |" for i, (pos, neg) in enumerate(PROMPT_PAIRS))


def learn_markdown(logit_scale: float) -> str:
    """The Learn tab's explanation, with the logit scale of the model actually loaded."""
    scale = f"{logit_scale:.4g}"
    if logit_scale != OFFICIAL_LOGIT_SCALE:
        scale += f"; this model's own scale, the official QualiCLIP uses {OFFICIAL_LOGIT_SCALE:g}"
    probability = _PAIR_PROBABILITY.replace("S", f"{logit_scale:.4g}")
    return _LEARN.replace("<scale>", scale).replace("<pair probability>", probability)


_LEARN = f"""## How the score is computed
1. The image goes through CLIP's ResNet-50 image encoder **at its own resolution** (QualiCLIP drops the
   fixed-size positional embedding of the attention pool), giving an embedding $f$, scaled to length 1.
2. Seven pairs of opposite prompts were encoded once by CLIP's text encoder, giving unit vectors
   $t_i^+$ (positive) and $t_i^-$ (negative):

| pair | positive $t_i^+$ | negative $t_i^-$ |
|---|---|---|
{_PROMPT_ROWS}

3. For each pair, a softmax over the two cosine similarities (scaled by <scale>) gives the
   probability that the positive prompt fits better:

<pair probability>

4. The score is the mean over the pairs: $q = \\frac{{1}}{{7}}\\sum_{{i=1}}^{{7}} p_i$, a number in [0, 1].

## How QualiCLIP learned it, without human opinions
Only the image encoder is trained; the prompts stay fixed. Two overlapping crops $A$ and $B$ of a pristine
photo are degraded with the same synthetic distortions at increasing levels $1 \\dots L$. Writing $s_T(c)$
for the cosine similarity of crop $c$ with prompt $T$ (positive $p$ or negative $n$), three hinge losses
with margins $m_c$ and $m_r$ shape the similarities:

- **consistency**: same level, same similarity: $L_{{cons}} = \\sum_i \\sum_T \\max(0, |s_T(A_i) - s_T(B_i)| - m_c)$
- **positive ranking**: more degraded, less like the positive prompt:
  $L_{{pos}} = \\sum_{{i<j}} \\sum_c \\max(0, s_p(c_j) - s_p(c_i) + m_r)$
- **negative ranking**: more degraded, more like the negative prompt:
  $L_{{neg}} = \\sum_{{i<j}} \\sum_c \\max(0, s_n(c_i) - s_n(c_j) + m_r)$

The total is their weighted sum. Try it below: pick a distortion and a prompt pair and watch the two
similarities move apart as the level grows (on a well-trained model, the positive line falls and the
negative line rises).
"""
