"""Scores across degradation levels: one batched forward per distortion type and model.

All levels of a type have the image's size, so they are stacked and scored by a single
``score_batch`` call; a sweep degrades each type once for every model and scores the pristine
image (level 0) only once per model.
"""
from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from qualiclip import QualityScorer
from qualiclip.scoring import BatchScores
from qualiclip.degradations import ALL_LEVELS, DEGRADATIONS, GROUP_LABELS, GROUPS, apply_degradation, degraded_series
from qualiclip.evaluation.metrics import srcc
from qualiclip.imaging import to_chw

from .analysis import Analysis

#: Seed of the stochastic distortions (noise, jitter...): preview, sweep and Learn plot agree.
SEED = 0
#: A score may rise by this much between levels (numerical noise) and still count as falling.
MONOTONE_TOLERANCE = 1e-3
#: Columns of a :func:`sweep` table.
SWEEP_COLUMNS = ["model", "label", *(f"L{level}" for level in ALL_LEVELS), "spearman", "monotone", "type"]
#: Decimals of the scores a sweep table shows (its Spearman and monotone flag are of those values).
SWEEP_DECIMALS = 4


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


def level_batch(image: np.ndarray, name: str, levels: Sequence[int] = ALL_LEVELS) -> torch.Tensor:
    """``image`` at each of ``levels`` of ``name`` (seeded by :data:`SEED`), as one (L, 3, H, W) batch."""
    return to_chw(np.stack(degraded_series(image, name, levels, SEED)))


def score_levels(model: QualityScorer, image: np.ndarray, name: str, levels: Sequence[int] = ALL_LEVELS) -> BatchScores:
    """Scores, pair probabilities and similarities of ``image`` at each level, in one forward pass."""
    return model.score_batch(level_batch(image, name, levels))


def preview(model: QualityScorer, analysis: Analysis, name: str, level: int) -> tuple[np.ndarray, float, float]:
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


def sweep(models: Mapping[str, QualityScorer], image: np.ndarray, names: Iterable[str],
          on_type: Callable[[int, str], None] = lambda index, name: None) -> pd.DataFrame:
    """One row per model and type: ``model`` (its name in ``models``), ``label``, ``L0``..``L5`` scores,
    ``spearman`` (Spearman of level and score), ``monotone`` (score falls) and ``type`` (name).

    Every model scores the same degraded images: each type is degraded once. ``on_type(index, name)``
    is called before each type is scored (progress reporting).
    """
    rows, pristine = [], {}
    for index, name in enumerate(names):
        on_type(index, name)
        batch = level_batch(image, name, ALL_LEVELS[1:] if pristine else ALL_LEVELS)
        for model_name, model in models.items():
            scores = model.score_batch(batch)[0].tolist()
            if model_name not in pristine:
                pristine[model_name], scores = scores[0], scores[1:]
            series = [round(score, SWEEP_DECIMALS) for score in (pristine[model_name], *scores)]
            rows.append({"model": model_name, "type": name, "label": type_label(name),
                         **{f"L{level}": score for level, score in zip(ALL_LEVELS, series)},
                         "spearman": round(srcc(ALL_LEVELS, series), SWEEP_DECIMALS),
                         "monotone": falls_monotonically(series)})
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)


def sweep_lines(table: pd.DataFrame) -> pd.DataFrame:
    """Long form of a :func:`sweep` table for a line plot: ``type`` (label), ``level``, ``score``, ``model``
    and ``series`` (one line per model and type).

    Levels are strings ('0'..'5') so the plot's axis shows whole levels only.
    """
    long = table.melt(id_vars=["model", "label"], value_vars=[f"L{level}" for level in ALL_LEVELS],
                      var_name="level", value_name="score")
    long["level"] = long["level"].str[1:]
    long["series"] = long["model"] + " · " + long["label"]
    long = long.rename(columns={"label": "type"})[["type", "level", "score", "model", "series"]]
    return long.sort_values(["series", "level"], ignore_index=True)
