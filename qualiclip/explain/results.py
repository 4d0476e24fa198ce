"""Result types of the explanation module: plain numpy data that a UI or a report can show as is."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Heatmap:
    """One evidence map at the size of the image actually scored (after the model's ``max_side``)."""

    #: (H, W) float32 in [0, 1]; all zeros when ``empty``.
    values: np.ndarray
    #: (H, W, 3) uint8 RGB: the colormap blended over the scored image, the image itself when ``empty``.
    overlay: np.ndarray
    #: True when the method found no evidence at all for this target (nothing to show).
    empty: bool
    #: Human-readable remark, e.g. "no evidence for this prompt"; "" when there is nothing to say.
    message: str
    #: What the map shows, e.g. 'lowers the score'.
    label: str
    #: Largest raw value before scaling to [0, 1], in the method's own units (relative strength).
    raw_peak: float


@dataclass(frozen=True)
class QualityExplanation:
    """Why an image got its score: what pulls it towards "good" and what pulls it towards "bad"."""

    #: The model's QualiCLIP score of the scored image (same value as ``QualityScorer.score``).
    score: float
    #: Method name, see ``qualiclip.explain.METHODS``.
    method: str
    #: Target kind, see ``qualiclip.explain.TARGET_KINDS`` (ignored by prompt-agnostic methods).
    target: str
    #: Index of the antonym pair explained, or None for all pairs together.
    pair: int | None
    positive: Heatmap
    negative: Heatmap
    #: (H, W, 3) uint8 RGB: the image actually scored, which every map matches pixel for pixel.
    image: np.ndarray
    #: Remark about the method as a whole ("" if none), e.g. that it ignores the prompts.
    note: str = ""
