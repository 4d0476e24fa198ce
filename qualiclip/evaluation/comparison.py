"""Several models on the same synthetic series, as the paper compares QualiCLIP with CLIP-IQA.

Every model scores the same degraded images (same images, types and seed, hence the same random
draws). With a level-score file (:mod:`.level_scores`) each model's known scores are skipped and
its new ones appended as they come, so an interrupted comparison goes on where it stopped.
"""
from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ..errors import Interrupted
from ..imaging import PreparedImage
from ..csv_files import CsvWriter
from .level_scores import appending_level_scores, read_level_scores
from .synthetic import SUMMARY_COLUMNS, LevelScore, Scorer, TypeSummary, score_synthetic, summary_cells


#: Receives a model's name and the records of one series as soon as they are scored.
SeriesCallback = Callable[[str, Sequence[LevelScore]], None]


def score_models(models: Mapping[str, Scorer], images: Mapping[str, PreparedImage],
                 types: Sequence[str] | None = None, seed: int = 0, scores_csv: str | Path | None = None,
                 progress: bool = False, on_series: SeriesCallback | None = None) -> dict[str, list[LevelScore]]:
    """Each model's records (:func:`score_synthetic`), keyed like ``models``, resumed from ``scores_csv`` if given.

    ``on_series(model, records)`` follows each newly scored series (after ``scores_csv`` keeps it),
    e.g. to report progress. Ctrl-C raises :class:`~qualiclip.errors.Interrupted` saying how far it
    got (and, with ``scores_csv``, that the file keeps the scores).
    """
    known = read_level_scores(scores_csv) if scores_csv else {}
    several = len(models) > 1
    records: dict[str, list[LevelScore]] = {}
    with appending_level_scores(scores_csv) if scores_csv else contextlib.nullcontext() as append:
        for index, (name, model) in enumerate(models.items()):
            try:
                records[name] = score_synthetic(model, images, types, seed, progress, done=known.get(name),
                                                on_series=functools.partial(_series_done, name, append, on_series),
                                                desc=name if several else None)
            except Interrupted as stop:
                where = f" by {name} (model {index + 1} of {len(models)})" if several else ""
                kept = f"; {scores_csv} keeps them and a rerun goes on from there" if scores_csv else ""
                raise Interrupted(f"{stop}{where}{kept}") from stop
    return records


def _series_done(model: str, append: SeriesCallback | None, on_series: SeriesCallback | None,
                 records: Sequence[LevelScore]) -> None:
    """Hand a newly scored series to the scores file, then to the caller's callback."""
    for callback in (append, on_series):
        if callback is not None:
            callback(model, records)


def format_comparison(summaries: Mapping[str, Sequence[TypeSummary]]) -> str:
    """The combined table: one line per type (overall last), Spearman and pairwise accuracy per model."""
    rows = [s.distortion for s in next(iter(summaries.values()))]
    by_model = {name: {s.distortion: s for s in table} for name, table in summaries.items()}
    first = max([len(row) for row in rows] + [10])
    width = max([len(name) for name in summaries] + [17])
    lines = [f"{'':<{first}}" + "".join(f"  {name:<{width}}" for name in summaries),
             f"{'distortion':<{first}}" + "".join(f"  {'spearman  pair_acc':<{width}}" for _ in summaries)]
    for row in rows:
        cells = (by_model[name].get(row) for name in summaries)
        lines.append(f"{row:<{first}}" + "".join(
            f"  {'':<{width}}" if s is None else f"  {f'{s.spearman:8.3f}  {s.pairwise_accuracy:8.3f}':<{width}}"
            for s in cells))
    return "\n".join(line.rstrip() for line in lines)


def write_comparison_csv(path: str | Path, summaries: Mapping[str, Sequence[TypeSummary]]) -> Path:
    """Every model's per-type results in one CSV, a ``model`` column first (escaped like every CSV here)."""
    with Path(path).open("w", newline="") as handle:
        writer = CsvWriter(handle)
        writer.writerow(["model", *SUMMARY_COLUMNS])
        for name, table in summaries.items():
            for summary in table:
                writer.writerow([name, *summary_cells(summary)])
    return Path(path)
