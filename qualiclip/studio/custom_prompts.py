"""Prompt pairs of one's own, scored from an upload's analysis: no second pass of the image tower.

The image features come from the cached trunk (:mod:`qualiclip.studio.analysis`), the pairs' features from the
model's text tower and the score from :func:`qualiclip.formula.quality_from_features`, so the result
is the one ``load_model(..., prompt_pairs=pairs)`` gives. A model whose text tower cannot do this
says why in its :class:`~qualiclip.model_registry.ModelSpec` (``no_custom_prompts``).
"""
from __future__ import annotations

from typing import Sequence

from qualiclip import MODELS, QualityScorer, quality_from_features
from qualiclip.prompts import PromptPair

from .analysis import Analysis
from .model_slots import Studio

#: What separates a pair's positive prompt from its negative one on a line.
SEPARATOR = "/"
#: Bounds on what a request may ask the text tower to encode (a public Space).
MAX_PAIRS, MAX_PROMPT_CHARS = 16, 200
EXAMPLE = f"Sharp photo. {SEPARATOR} Blurry photo."


def format_pairs(pairs: Sequence[PromptPair]) -> str:
    """Pairs as the text box shows them: one ``positive / negative`` line each."""
    return "\n".join(f"{positive} {SEPARATOR} {negative}" for positive, negative in pairs)


def parse_pairs(text: str) -> tuple[PromptPair, ...]:
    """The pairs of :func:`format_pairs`' text (blank lines skipped); a ``ValueError`` says what is wrong."""
    pairs: list[PromptPair] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(SEPARATOR)]
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"Line {number} is not one pair 'positive {SEPARATOR} negative' "
                             f"(e.g. '{EXAMPLE}').")
        if max(map(len, parts)) > MAX_PROMPT_CHARS:
            raise ValueError(f"Line {number}: a prompt may have at most {MAX_PROMPT_CHARS} characters.")
        pairs.append((parts[0], parts[1]))
    if not pairs:
        raise ValueError(f"Write one pair per line, e.g. '{EXAMPLE}'.")
    if len(pairs) > MAX_PAIRS:
        raise ValueError(f"{len(pairs)} pairs given; at most {MAX_PAIRS}.")
    return tuple(pairs)


def refusal(studio: Studio) -> str | None:
    """Why the app's model cannot score prompt pairs of one's own (its ModelSpec's reason), or None."""
    key = next((slot.key for slot in studio.slots if slot.model is studio.primary), None)
    spec = MODELS.get(key) if key is not None else None
    if spec is None or spec.no_custom_prompts is None:
        return None
    return f"{spec.title} cannot score prompt pairs of your own. {spec.no_custom_prompts}"


def score_pairs(model: QualityScorer, analysis: Analysis, pairs: Sequence[PromptPair]) -> tuple[float, list[float]]:
    """The analysed image's score with ``pairs`` instead of the model's own, and P(positive) per pair."""
    features = model.image_features(analysis.trunk)
    scores, probabilities = quality_from_features(features, model.encode_pairs(pairs), model.logit_scale)
    return float(scores[0]), probabilities[0].tolist()
