"""Scores across degradation levels: one batched forward per distortion type and model.

All levels of a type have the image's size, so they are stacked and scored by a single
``score_batch`` call; a sweep degrades each type once for every model and scores the pristine
image (level 0) only once per model.
"""
from __future__ import annotations

import functools
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from qualiclip import QualityScorer
from qualiclip.scoring import BatchScores
from qualiclip.degradations import ALL_LEVELS, DEGRADATIONS, GROUP_LABELS, GROUPS, apply_degradation, degraded_series
from qualiclip.evaluation.metrics import falls_monotonically, srcc
from qualiclip.imaging import to_chw

from .analysis import Analysis
from .formatting import Column

#: Seed of the stochastic distortions (noise, jitter...): preview, sweep and Learn plot agree.
SEED = 0
LEVEL_COLUMNS = [f"L{level}" for level in ALL_LEVELS]
#: Columns of a :func:`sweep` table: what a visitor compares first (type, model, Spearman, monotone), then the
#: scores; with their widths on the page.
SWEEP_TABLE = [Column("type", "270px"), Column("model", "160px"), Column("spearman", "90px"),
               Column("monotone", "90px"), *(Column(name, "70px") for name in LEVEL_COLUMNS)]
SWEEP_COLUMNS = [column.name for column in SWEEP_TABLE]
#: Decimals of the scores a sweep table shows (its Spearman and monotone flag are of those values).
SWEEP_DECIMALS = 4


def degradation_choices() -> list[tuple[str, str]]:
    """Dropdown choices ``(label, name)`` in group order, the label naming the group."""
    return [(f"{GROUP_LABELS[group]} › {DEGRADATIONS[name].label}", name)
            for group, names in GROUPS.items() for name in names]


def type_label(name: str) -> str:
    """Human label of a distortion type, e.g. 'Gaussian blur'."""
    return DEGRADATIONS[name].label


#: Side (px) of the random picture :func:`unchanged_levels` degrades (JPEG 2000 needs at least 128).
_PROBE_SIDE = 128
#: A level leaves the image unchanged when no value moves by this much: half an 8-bit step, so the
#: picture is identical once stored in 8 bits (motion blur's length-1 kernel is 1 - 2e-16, not 1).
UNCHANGED_TOLERANCE = 0.5 / 255


@functools.lru_cache(maxsize=None)
def unchanged_levels(name: str) -> frozenset[int]:
    """Levels of ``name`` (1..5) whose output equals the input (within :data:`UNCHANGED_TOLERANCE`), found by
    degrading a random picture.

    ARNIQA's table makes level 1 of Gaussian blur (sigma 0.1: a delta kernel), motion blur (length 1)
    and mean shift (offset 0) the original itself; measured here rather than listed a second time.
    """
    probe = np.random.default_rng(SEED).random((_PROBE_SIDE, _PROBE_SIDE, 3)).astype(np.float32)
    return frozenset(level for level in ALL_LEVELS[1:]
                     if np.abs(degrade(probe, name, level) - probe).max() < UNCHANGED_TOLERANCE)


def parameter_text(name: str, level: int) -> str:
    """The registry's parameter of ``name`` at ``level`` (1..5) in words, e.g. 'sigma 2 px' or 'quality 7'."""
    spec = DEGRADATIONS[name]
    value = f"{spec.parameters[int(level) - 1]:g}"
    if "(px)" in spec.parameter:
        return spec.parameter.replace("(px)", f"{value} px", 1)
    cut = min((i for i in (spec.parameter.find(" ("), spec.parameter.find(",")) if i >= 0), default=len(spec.parameter))
    return f"{spec.parameter[:cut]} {value}{spec.parameter[cut:]}"


def level_text(name: str, level: int) -> str:
    """What ``level`` of ``name`` is: 'level 0 (the original)', 'level 4 (sigma 2 px)', or that it changes nothing."""
    level = int(level)
    if level == 0:
        return "level 0 (the original)"
    if level in unchanged_levels(name):
        return f"level {level} ({parameter_text(name, level)}: leaves the image unchanged)"
    return f"level {level} ({parameter_text(name, level)})"


def level_key(name: str) -> str:
    """One line naming ``name``'s parameter and its value at each level (the slider's key)."""
    spec = DEGRADATIONS[name]
    values = ", ".join(f"{level}: {spec.parameters[level - 1]:g}" + (" (no change)" if level in unchanged_levels(name)
                                                                    else "") for level in ALL_LEVELS[1:])
    return f"**{spec.label}**, {spec.parameter} by level: {values}. Level 0 is the original."


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


def sweep(models: Mapping[str, QualityScorer], image: np.ndarray, names: Iterable[str],
          on_type: Callable[[int, str], None] = lambda index, name: None) -> pd.DataFrame:
    """One row per model and type, in :data:`SWEEP_COLUMNS` order: ``type`` (its label), ``model`` (its
    name in ``models``), ``spearman`` (Spearman of level and score), ``monotone`` (score falls) and the
    ``L0``..``L5`` scores.

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
            rows.append({"type": type_label(name), "model": model_name,
                         "spearman": round(srcc(ALL_LEVELS, series), SWEEP_DECIMALS),
                         "monotone": falls_monotonically(series),
                         **{f"L{level}": score for level, score in zip(ALL_LEVELS, series)}})
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)


#: Line styles telling the models apart within a panel (colours tell the types apart).
_MODEL_STYLES = ("-", "--", ":", "-.")
_PANEL_SIZE = (4.6, 2.9)  # inches per panel


def sweep_figure(table: pd.DataFrame) -> Figure:
    """A :func:`sweep` table as small multiples: one panel per distortion group, score vs level.

    Within a panel each type has its own colour and each model its own line style; every panel's
    y axis is the score's whole range [0, 1], so panels compare at a glance.
    """
    shown = set(table["type"])
    groups = [group for group in GROUPS if any(DEGRADATIONS[name].label in shown for name in GROUPS[group])]
    models = list(dict.fromkeys(table["model"]))
    columns = 1 if len(groups) == 1 else 2
    rows = -(-len(groups) // columns)
    figure = Figure(figsize=(_PANEL_SIZE[0] * columns, _PANEL_SIZE[1] * rows + 0.4), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, group in zip(axes, groups):
        types = [name for name in GROUPS[group] if DEGRADATIONS[name].label in shown]
        for colour, name in enumerate(types):
            for style, model in enumerate(models):
                row = table[(table["type"] == DEGRADATIONS[name].label) & (table["model"] == model)]
                if row.empty:
                    continue
                label = DEGRADATIONS[name].label + (f" · {model}" if len(models) > 1 else "")
                axis.plot(ALL_LEVELS, row[LEVEL_COLUMNS].iloc[0].tolist(), marker="o", markersize=3,
                          color=f"C{colour}", linestyle=_MODEL_STYLES[style % len(_MODEL_STYLES)], label=label)
        axis.set(ylim=(0, 1), xticks=list(ALL_LEVELS), xlabel="level", ylabel="score",
                 title=GROUP_LABELS[group] if len(groups) > 1 else type_label(types[0]))
        axis.grid(alpha=0.3)
        axis.legend(fontsize="x-small", loc="lower left")
    for axis in axes[len(groups):]:
        axis.set_visible(False)
    return figure
