"""Synthetic evaluation: does the score fall as a known distortion gets stronger?

For every held-out image and distortion type, levels 0 (pristine) .. 5 are scored. Per type we
report the Spearman correlation between level and score (computed per image over its 6 levels,
then averaged over images; a constant score counts as 0, i.e. no ranking information) and the
pairwise ranking accuracy over all level pairs of the same image (ties count 1/2). "overall" is
the mean over types. Stochastic types replay one random stream at every level, so levels differ
only in severity; the stream of a series follows ``seed`` and the positions of its image and type
in the run, so a run resumed from known scores (``done``) must list the same images and types.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping, Protocol, Sequence

import numpy as np
import torch
from tqdm import tqdm

from ..degradations import ALL_LEVELS, degradation_names, degraded_series
from ..errors import Interrupted
from ..formula import quality_from_features
from ..imaging import PreparedImage, to_chw
from ..scoring import ImageScore
from ..csv_files import CsvWriter
from .metrics import pairwise_accuracy, srcc


class Scorer(Protocol):
    """What evaluation needs from a model (``QualityScorer`` satisfies it)."""

    def score(self, images: Sequence[torch.Tensor], batch_size: int = 8) -> list[ImageScore]: ...


@dataclass(frozen=True)
class LevelScore:
    """One scored image of a synthetic series."""

    image: str
    distortion: str
    level: int
    score: float
    similarities: tuple[float, ...]


@dataclass(frozen=True)
class TypeSummary:
    """Per-type (or overall) result."""

    distortion: str
    spearman: float
    pairwise_accuracy: float
    images: int


#: A level of a series: (image, distortion, level).
LevelKey = tuple[str, str, int]


def level_series(image: PreparedImage, name: str, seed: int | Sequence[int],
                 levels: Sequence[int] = ALL_LEVELS) -> list[torch.Tensor]:
    """The image at ``levels`` of ``name`` as (3, H, W) tensors, one random stream replayed."""
    return [to_chw(level) for level in degraded_series(image.array(), name, levels, seed)]


def score_synthetic(model: Scorer, images: Mapping[str, PreparedImage], types: Sequence[str] | None = None,
                    seed: int = 0, progress: bool = False, done: Mapping[LevelKey, float] | None = None,
                    on_series: Callable[[list[LevelScore]], None] | None = None,
                    desc: str | None = None) -> list[LevelScore]:
    """Score every image at every level of every type (default: the monotone types).

    ``done``: scores already known (e.g. read back from a file); those levels are not scored again
    and are returned without similarities. ``on_series`` receives each series' newly scored records
    as soon as they exist (to save them). ``desc`` labels the progress bar. Ctrl-C raises
    :class:`~qualiclip.errors.Interrupted` saying how many series were scored.
    """
    types = tuple(types or degradation_names(monotone_only=True))
    done = done or {}
    jobs = [(i, name, j, kind) for i, name in enumerate(images) for j, kind in enumerate(types)]
    records: list[LevelScore] = []
    try:
        for i, name, j, kind in tqdm(jobs, unit="series", desc=desc, disable=not progress):
            todo = [level for level in ALL_LEVELS if (name, kind, level) not in done]
            new: list[LevelScore] = []
            if todo:
                series = level_series(images[name], kind, (seed, i, j), todo)
                results = model.score(series, batch_size=len(ALL_LEVELS))
                new = [LevelScore(name, kind, level, r.score, r.similarities) for level, r in zip(todo, results)]
                if on_series is not None:
                    on_series(new)
            scored = {record.level: record for record in new}
            records += [scored.get(level) or LevelScore(name, kind, level, done[name, kind, level], ())
                        for level in ALL_LEVELS]
    except KeyboardInterrupt as stop:
        raise Interrupted(f"{len(records) // len(ALL_LEVELS)} of {len(jobs)} series scored") from stop
    return records


def rescore(records: Sequence[LevelScore], logit_scale: float) -> list[LevelScore]:
    """Recompute scores from stored similarities with another logit scale (no forward pass).

    The similarities already are image features projected on the prompt features, so the
    official formula applies with identity "prompt features".
    """
    sims = torch.tensor([r.similarities for r in records], dtype=torch.float32)
    scores, _ = quality_from_features(sims, torch.eye(sims.shape[1]), logit_scale)
    return [replace(r, score=float(s)) for r, s in zip(records, scores)]


def series_by_type(records: Iterable[LevelScore]) -> dict[str, dict[str, list[LevelScore]]]:
    """Records grouped per type, then per image, in first-seen order: each inner list is one series."""
    grouped: dict[str, dict[str, list[LevelScore]]] = {}
    for record in records:
        grouped.setdefault(record.distortion, {}).setdefault(record.image, []).append(record)
    return grouped


@dataclass(frozen=True)
class LevelSpread:
    """The scores of one type at one level over the images: their mean and (population) standard deviation."""

    distortion: str
    level: int
    mean: float
    sd: float
    images: int


def level_spreads(records: Iterable[LevelScore]) -> list[LevelSpread]:
    """Per type (first-seen order) and level (ascending), the mean and sd of the scores over the images.

    What the paper's headline figure draws (:func:`qualiclip.evaluation.plots.level_curves_figure`).
    """
    spreads = []
    for kind, per_image in series_by_type(records).items():
        by_level: dict[int, list[float]] = {}
        for series in per_image.values():
            for record in series:
                by_level.setdefault(record.level, []).append(record.score)
        spreads += [LevelSpread(kind, level, float(np.mean(scores)), float(np.std(scores)), len(scores))
                    for level, scores in sorted(by_level.items())]
    return spreads


def summarize(records: Iterable[LevelScore]) -> list[TypeSummary]:
    """Per-type summaries in first-seen order, followed by the "overall" mean over types."""
    summaries = []
    for kind, per_image in series_by_type(records).items():
        rhos, accuracies = [], []
        for series in per_image.values():
            levels, scores = [r.level for r in series], [r.score for r in series]
            rho = srcc(levels, scores)
            rhos.append(0.0 if math.isnan(rho) else rho)
            accuracies.append(pairwise_accuracy(levels, scores))
        summaries.append(TypeSummary(kind, float(np.mean(rhos)), float(np.mean(accuracies)), len(per_image)))
    if summaries:
        summaries.append(TypeSummary("overall", float(np.mean([s.spearman for s in summaries])),
                                     float(np.mean([s.pairwise_accuracy for s in summaries])),
                                     summaries[0].images))
    return summaries


def format_table(summaries: Sequence[TypeSummary]) -> str:
    """A plain-text table (one line per type, overall last)."""
    width = max([len(s.distortion) for s in summaries] + [10])
    lines = [f"{'distortion':<{width}}  spearman  pair_acc  images"]
    lines += [f"{s.distortion:<{width}}  {s.spearman:8.3f}  {s.pairwise_accuracy:8.3f}  {s.images:6d}"
              for s in summaries]
    return "\n".join(lines)


#: Columns of a per-type results table (:func:`summary_cells`).
SUMMARY_COLUMNS = ("distortion", "spearman", "pairwise_accuracy", "images")


def summary_cells(summary: TypeSummary) -> list[object]:
    """One :data:`SUMMARY_COLUMNS` row: numbers stay numbers (rounded to 4 decimals)."""
    return [summary.distortion, round(summary.spearman, 4), round(summary.pairwise_accuracy, 4), summary.images]


def write_summary_csv(path: str | Path, summaries: Sequence[TypeSummary]) -> Path:
    """Per-type results as CSV (overall last); numbers stay numbers, names are escaped (:mod:`qualiclip.csv_files`)."""
    with Path(path).open("w", newline="") as handle:
        writer = CsvWriter(handle)
        writer.writerow(SUMMARY_COLUMNS)
        for s in summaries:
            writer.writerow(summary_cells(s))
    return Path(path)
