"""The resumable file of a synthetic evaluation: one CSV row per (model, image, distortion, level) score.

Rows are appended (and flushed) as each series is scored, through :mod:`qualiclip.csv_files`, so an
interrupted run keeps them, names that look like formulas are escaped, and a rerun reads every
name back as it was and skips the levels already there.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..csv_files import CsvWriter, read_rows
from .synthetic import LevelKey, LevelScore

COLUMNS = ("model", "image", "distortion", "level", "score")
#: Appends one model's newly scored records.
AppendScores = Callable[[str, Sequence[LevelScore]], None]


def read_level_scores(path: str | Path) -> dict[str, dict[LevelKey, float]]:
    """The scores already in ``path``, per model: (image, distortion, level) -> score; empty if no file."""
    path = Path(path)
    if not path.is_file():
        return {}
    scores: dict[str, dict[LevelKey, float]] = {}
    with path.open(newline="") as handle:
        try:
            for row in read_rows(handle):
                key = (row["image"], row["distortion"], int(row["level"]))
                scores.setdefault(row["model"], {})[key] = float(row["score"])
        except (KeyError, ValueError) as err:
            raise ValueError(f"{path} is not a level-score table of eval-synthetic ({err!r}); "
                             "give another --scores or remove it") from err
    return scores


@contextlib.contextmanager
def appending_level_scores(path: str | Path) -> Iterator[AppendScores]:
    """Open ``path`` for appending (header first when it is new) and yield ``append(model, records)``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as handle:
        writer = CsvWriter(handle)
        if handle.tell() == 0:
            writer.writerow(COLUMNS)

        def append(model: str, records: Sequence[LevelScore]) -> None:
            for record in records:
                writer.writerow([model, record.image, record.distortion, record.level, record.score])

        yield append
