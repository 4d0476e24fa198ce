"""Scores across degradation levels: one batched forward per distortion type.

All levels of a type have the image's size, so they are stacked and scored by a single
``score_batch`` call; an every-type sweep scores the pristine image (level 0) only once.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from qualiclip import QualityModel
from qualiclip.degradations import ALL_LEVELS, DEGRADATIONS, GROUP_LABELS, GROUPS, apply_degradation, degraded_series
from qualiclip.imaging import to_chw

from .analysis import Analysis

#: Seed of the stochastic distortions (noise, jitter...): preview, sweep and Learn plot agree.
SEED = 0
#: A score may rise by this much between levels (numerical noise) and still count as falling.
MONOTONE_TOLERANCE = 1e-3
#: Columns of a :func:`sweep` table.
SWEEP_COLUMNS = ["label", *(f"L{level}" for level in ALL_LEVELS), "monotone", "type"]

Scores = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def degradation_choices() -> list[tuple[str, str]]:
    """Dropdown choices ``(label, name)`` in group order, the label naming the group."""
    return [(f"{GROUP_LABELS[group]} › {DEGRADATIONS[name].label}", name)
            for group, names in GROUPS.items() for name in names]


def type_label(name: str) -> str:
    """Human label of a distortion type, e.g. 'Gaussian blur'."""
    return DEGRADATIONS[name].label


def degrade(image: np.ndarray, name: str, level: int) -> np.ndarray:
    """``image`` (float HxWx3 in [0, 1]) with distortion ``name`` at ``level``, seeded by :data:`SEED`."""
    return apply_degradation(image, name, int(level), SEED)


def score_levels(model: QualityModel, image: np.ndarray, name: str, levels: Sequence[int] = ALL_LEVELS) -> Scores:
    """Scores, pair probabilities and similarities of ``image`` at each level, in one forward pass."""
    batch = np.stack(degraded_series(image, name, levels, SEED))
    return model.score_batch(to_chw(batch))


def preview(model: QualityModel, analysis: Analysis, name: str, level: int) -> tuple[np.ndarray, float, float]:
    """The analysed image at ``level`` of ``name``, the original's score and the degraded image's score.

    The image is degraded once; the original's score is the analysis's, so this costs one forward
    pass (none at level 0, whose image is the original).
    """
    degraded = degrade(analysis.image.array(), name, level)
    if level == 0:
        return degraded, analysis.score, analysis.score
    scores, _, _ = model.score_batch(to_chw(degraded)[None])
    return degraded, analysis.score, float(scores[0])


def falls_monotonically(scores: Sequence[float], tolerance: float = MONOTONE_TOLERANCE) -> bool:
    """True when no level scores higher than the one before it (beyond ``tolerance``)."""
    return all(later <= earlier + tolerance for earlier, later in zip(scores, scores[1:]))


def sweep(model: QualityModel, image: np.ndarray, names: Iterable[str],
          on_type: Callable[[int, str], None] = lambda index, name: None) -> pd.DataFrame:
    """One row per type: ``label``, ``L0``..``L5`` scores, ``monotone`` (score falls) and ``type`` (name).

    ``on_type(index, name)`` is called before each type is scored (progress reporting).
    """
    rows, pristine = [], None
    for index, name in enumerate(names):
        on_type(index, name)
        levels = ALL_LEVELS if pristine is None else ALL_LEVELS[1:]
        scores = score_levels(model, image, name, levels)[0].tolist()
        if pristine is None:
            pristine, scores = scores[0], scores[1:]
        series = [pristine, *scores]
        rows.append({"type": name, "label": type_label(name),
                     **{f"L{level}": round(s, 4) for level, s in zip(ALL_LEVELS, series)},
                     "monotone": falls_monotonically(series)})
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)


def sweep_lines(table: pd.DataFrame) -> pd.DataFrame:
    """Long form of a :func:`sweep` table for a line plot: ``level``, ``score``, ``type`` (label).

    Levels are strings ('0'..'5') so the plot's axis shows whole levels only.
    """
    long = table.melt(id_vars=["label"], value_vars=[f"L{level}" for level in ALL_LEVELS],
                      var_name="level", value_name="score")
    long["level"] = long["level"].str[1:]
    return long.rename(columns={"label": "type"}).sort_values(["type", "level"], ignore_index=True)
