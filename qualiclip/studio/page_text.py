"""The page's prose: the header, the limits, the examples' labels and the Learn tab's explanation of the score.
(How numbers are shown, gauges and labels, is :mod:`qualiclip.studio.formatting`.)"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from qualiclip import MODELS, QualityScorer
from qualiclip.constants import OFFICIAL_ARCH, OFFICIAL_LOGIT_SCALE
from qualiclip.degradations import DEGRADATIONS
from qualiclip.model_registry import ModelSpec
from qualiclip.training.sample_photos import HOLDOUT, LICENCES

from .inputs import LIMITS_TEXT
from .model_slots import OFFLINE, Studio

HEADER = """# QualiCLIP Studio
How good does a photo look to a model trained without any human ratings? Drop a photo: a score from 0 (bad)
to 1 (good), and maps of what pulls it up or down. [QualiCLIP paper](https://arxiv.org/abs/2403.11176)"""
#: The input limits, for the accordion under the examples (not the header: a visitor's first read).
LIMITS_MARKDOWN = LIMITS_TEXT

#: What each example photo shows, by the first part of its file name.
_SUBJECTS = {"astronaut": "Astronaut", "chelsea": "Cat", "coffee": "Coffee cup", "rocket": "Rocket launch"}


def primary_spec(studio: Studio) -> ModelSpec | None:
    """The registry entry of the app's model, or None for a custom checkpoint."""
    key = next((slot.key for slot in studio.slots if slot.model is studio.primary), None)
    return MODELS.get(key) if key is not None else None


def example_label(path: str | Path, offline_model: bool) -> str:
    """An example's caption from its file name, e.g. 'Cat, white noise level 5'; with ``offline_model``,
    photos the bundled model was trained on say so (they score high partly because it saw them)."""
    stem = Path(path).stem
    subject, _, rest = stem.partition("_")
    label = _SUBJECTS.get(subject, subject.replace("_", " ").capitalize())
    if rest:
        name, _, level = rest.rpartition("_")
        label += f", {DEGRADATIONS[name].label[0].lower()}{DEGRADATIONS[name].label[1:]} level {level}"
    if offline_model and subject in LICENCES and subject not in HOLDOUT:
        label += " (in the offline model's training set)"
    return label


def example_labels(paths: Sequence[str | Path], studio: Studio) -> list[str]:
    """:func:`example_label` of each path, marking training photos when the bundled offline model is loaded."""
    spec = primary_spec(studio)
    offline_model = spec is not None and spec.name == OFFLINE
    return [example_label(path, offline_model) for path in paths]


_PAIR_PROBABILITY = r"$$p_i = \frac{e^{S\, f\cdot t_i^+}}{e^{S\, f\cdot t_i^+} + e^{S\, f\cdot t_i^-}}$$"


def learn_markdown(model: QualityScorer, spec: ModelSpec | None) -> str:
    """The Learn tab's explanation of the model actually loaded: its encoder, its prompts, its logit scale."""
    logit_scale = model.logit_scale
    scale = f"{logit_scale:.4g}"
    if logit_scale != OFFICIAL_LOGIT_SCALE:
        scale += f"; this model's own scale, the official QualiCLIP uses {OFFICIAL_LOGIT_SCALE:g}"
    probability = _PAIR_PROBABILITY.replace("S", f"{logit_scale:.4g}")
    parameters = sum(p.numel() for p in model.clip.visual.parameters()) / 1e6
    if model.arch == OFFICIAL_ARCH:
        encoder = f"CLIP's ResNet-50 image encoder ({parameters:.0f} M parameters)"
    else:
        encoder = (f"this model's own image encoder (architecture `{model.arch}`, {parameters:.1f} M parameters; "
                   "not CLIP's ResNet-50)")
    if spec is not None and spec.no_custom_prompts is not None:
        prompts = (f"The {len(model.prompt_pairs)} pairs below only name this model's prompt directions $t_i^+$ "
                   f"(positive) and $t_i^-$ (negative). {spec.no_custom_prompts}")
    else:
        prompts = (f"{len(model.prompt_pairs)} pairs of opposite prompts were encoded once by the model's text "
                   "encoder, giving unit vectors $t_i^+$ (positive) and $t_i^-$ (negative).")
    title = spec.title if spec is not None else model.name
    rows = "\n".join(f"| {i} | {pos} | {neg} |" for i, (pos, neg) in enumerate(model.prompt_pairs))
    return (_LEARN.replace("<title>", title).replace("<encoder>", encoder).replace("<prompts>", prompts)
            .replace("<rows>", rows).replace("<count>", str(len(model.prompt_pairs)))
            .replace("<scale>", scale).replace("<pair probability>", probability))


#: The Learn tab's "watch it learn" section, above its controls.
TRAINING_MARKDOWN = """## Watch it learn on your photo
Press the button to run a few training steps of QualiCLIP on the image on the left: the two crops below are
cut from it and degraded at levels 1-5 by one distortion, exactly as in training, and the image encoder of a
**throw-away copy** of the model takes a few optimisation steps of the three losses above. The tables show
each crop's similarity with the positive and the negative prompts (mean over the pairs) and the losses,
before and after; the plot, every loss at every step. The model that scores your photos never changes.
Measured on 2 CPU cores: about 4 s a step with the official ResNet-50 (5 steps: 23 s), 0.25 s with the
bundled offline model; on a GPU, a fraction of a second.
"""

_LEARN = """## How the score is computed
The model loaded here: **<title>**.
1. The image goes through <encoder> **at its own resolution** (QualiCLIP drops the fixed-size positional
   embedding of the attention pool), giving an embedding $f$, scaled to length 1.
2. <prompts>

| pair | positive $t_i^+$ | negative $t_i^-$ |
|---|---|---|
<rows>

3. For each pair, a softmax over the two cosine similarities (scaled by <scale>) gives the
   probability that the positive prompt fits better:

<pair probability>

4. The score is the mean over the pairs: $q = \\frac{1}{<count>}\\sum_{i=1}^{<count>} p_i$, a number in [0, 1].

## How QualiCLIP learned it, without human opinions
Only the image encoder is trained; the prompts stay fixed. Two overlapping crops $A$ and $B$ of a pristine
photo are degraded with the same synthetic distortions at increasing levels $1 \\dots L$. Writing $s_T(c)$
for the cosine similarity of crop $c$ with prompt $T$ (positive $p$ or negative $n$), three hinge losses
with margins $m_c$ and $m_r$ shape the similarities:

- **consistency**: same level, same similarity: $L_{cons} = \\sum_i \\sum_T \\max(0, |s_T(A_i) - s_T(B_i)| - m_c)$
- **positive ranking**: more degraded, less like the positive prompt:
  $L_{pos} = \\sum_{i<j} \\sum_c \\max(0, s_p(c_j) - s_p(c_i) + m_r)$
- **negative ranking**: more degraded, more like the negative prompt:
  $L_{neg} = \\sum_{i<j} \\sum_c \\max(0, s_n(c_i) - s_n(c_j) + m_r)$

The total is their weighted sum. Try it below: pick a distortion and a prompt pair and watch the two
similarities move apart as the level grows (on a well-trained model, the positive line falls and the
negative line rises).
"""
