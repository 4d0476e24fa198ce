"""Two photos side by side ("which of my two shots is better?"): both scores, the difference in words, both maps.

Plain values in and out: the callers pass each photo's :class:`~qualiclip.studio.analysis.Analysis`
(one forward pass each, cached like every upload) and get back what the tab shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qualiclip import QualityScorer

from .analysis import Analysis
from .explanations import ALL_PAIRS, COMPARE_METHOD, compute_maps, gallery_items
from .formatting import quality_label

#: The two photos' names in every text of the tab.
NAMES = ("Photo A", "Photo B")
#: Scores are shown with three decimals; a smaller difference is stated as none.
SHOWN_DECIMALS = 3


@dataclass(frozen=True)
class TwoPhotos:
    """What the tab shows: both scores, the verdict sentence and both photos' "good"/"bad" maps (captioned)."""

    scores: tuple[float, float]
    verdict: str
    maps: list[tuple[np.ndarray, str]]


def better(first: float, second: float) -> str | None:
    """The name of the photo that scores higher to :data:`SHOWN_DECIMALS` decimals; None when both score the same."""
    difference = round(first - second, SHOWN_DECIMALS)
    return None if difference == 0 else NAMES[0] if difference > 0 else NAMES[1]


def verdict(first: float, second: float) -> str:
    """The difference of two scores stated plainly, e.g. 'Photo A scores higher: 0.712 vs 0.590 (+0.122).'"""
    if better(first, second) is None:
        return (f"**Both photos score the same** to {SHOWN_DECIMALS} decimals ({first:.3f}, "
                f"{quality_label(first)}): this model sees no difference in quality.")
    (winner, high), (_, low) = sorted(zip(NAMES, (first, second)), key=lambda item: -item[1])
    bands = (f"both {quality_label(high)}" if quality_label(high) == quality_label(low)
             else f"{quality_label(high)} vs {quality_label(low)}")
    return (f"**{winner} looks better to this model**: {high:.3f} vs {low:.3f}, {round(high - low, SHOWN_DECIMALS):.3f} higher "
            f"({bands}). The score ranks images; the gap is not a human opinion difference.")


def result(first: float, second: float) -> dict[str, Any]:
    """Both scores as data: each photo's score and band, A's minus B's, the better one (None when the
    :func:`verdict` says they score the same) and the verdict in words."""
    return {"photo_a": {"score": first, "label": quality_label(first)},
            "photo_b": {"score": second, "label": quality_label(second)},
            "difference": first - second, "better": better(first, second), "verdict": verdict(first, second)}


def compare_two(model: QualityScorer, first: Analysis, second: Analysis) -> TwoPhotos:
    """Both photos' scores, the verdict and each photo's Grad-CAM maps of its score (towards good, towards bad)."""
    maps = []
    for name, analysis in zip(NAMES, (first, second)):
        maps += gallery_items(name, compute_maps(model, analysis, COMPARE_METHOD, ALL_PAIRS))
    return TwoPhotos((first.score, second.score), verdict(first.score, second.score), maps)
