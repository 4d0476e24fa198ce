"""Evaluation against human opinion scores (MOS): read a dataset's table, score resumably, correlate.

Tables: CSV with an image column and a MOS column, auto-detected for the published layouts

- KonIQ-10k ``koniq10k_scores_and_distributions.csv``: ``image_name``, ``MOS`` (``MOS_zscore`` too);
- LIVE in the Wild (CLIVE) as CSV: ``image``, ``mos``; or its ``AllMOS_release.mat`` next to
  ``AllImages_release.mat`` (pass the MOS file);
- SPAQ ``MOS and Image attribute scores.xlsx`` saved as CSV: ``Image name``, ``MOS``.

Scores are appended to the output CSV as they are computed; a rerun skips images already there.
The output is written with :mod:`qualiclip.csv_files` (names that look like formulas are escaped) and
read back through it, so a rerun finds every name as it is in the MOS table.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from ..errors import Interrupted
from ..image_files import score_files
from ..csv_files import CsvWriter, read_rows
from .metrics import plcc, plcc_logistic, srcc

IMAGE_COLUMNS = ("image_name", "image", "image name", "img_name", "filename", "file_name", "file", "name", "path")
MOS_COLUMNS = ("mos", "dmos", "mos_zscore", "score", "mean_opinion_score")
CLIVE_IMAGES_MAT = "AllImages_release.mat"
OUTPUT_COLUMNS = ("image", "mos", "score")


@dataclass(frozen=True)
class MosReport:
    """Correlations of model scores with MOS over ``count`` images."""

    count: int
    srcc: float
    plcc: float
    plcc_logistic: float
    logistic_params: tuple[float, ...] | None


def pick_column(header: Sequence[str], candidates: Sequence[str], given: str | None, what: str) -> str:
    """``given`` if present, else the first candidate found (case-insensitive)."""
    if given is not None:
        if given not in header:
            raise ValueError(f"column {given!r} not in the table; columns: {', '.join(header)}")
        return given
    lowered = {name.strip().lower(): name for name in header}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    raise ValueError(f"cannot find the {what} column among {', '.join(header)}; name it with --{what}-col")


def read_mos_table(path: str | Path, image_col: str | None = None, mos_col: str | None = None
                   ) -> list[tuple[str, float]]:
    """(image name, MOS) rows from a CSV table or CLIVE's ``AllMOS_release.mat``."""
    path = Path(path)
    if path.suffix.lower() == ".mat":
        return _read_clive_mat(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        image_key = pick_column(header, IMAGE_COLUMNS, image_col, "image")
        mos_key = pick_column(header, MOS_COLUMNS, mos_col, "mos")
        return [(row[image_key].strip(), float(row[mos_key])) for row in reader if row[image_key].strip()]


def _read_clive_mat(mos_path: Path) -> list[tuple[str, float]]:
    from scipy.io import loadmat

    names_path = mos_path.with_name(CLIVE_IMAGES_MAT)
    if not names_path.is_file():
        raise FileNotFoundError(f"{names_path} (the image names of {mos_path.name}) is missing")
    mos = np.ravel(next(v for k, v in loadmat(mos_path).items() if not k.startswith("__")))
    names = np.ravel(next(v for k, v in loadmat(names_path).items() if not k.startswith("__")))
    return [(str(np.ravel(name)[0]), float(value)) for name, value in zip(names, mos)]


def locate_images(root: str | Path, names: Sequence[str]) -> dict[str, Path]:
    """Map each name to ``root/name`` or, failing that, a unique file of that base name below root."""
    root = Path(root)
    by_basename: dict[str, Path] | None = None
    found = {}
    for name in names:
        direct = root / name
        if direct.is_file():
            found[name] = direct
            continue
        if by_basename is None:
            by_basename = {p.name: p for p in sorted(root.rglob("*")) if p.is_file()}
        if Path(name).name in by_basename:
            found[name] = by_basename[Path(name).name]
    return found


def read_done(out_csv: Path) -> dict[str, tuple[float, float]]:
    """Images already scored in ``out_csv``: name (as in the MOS table) -> (mos, score)."""
    if not out_csv.is_file():
        return {}
    with out_csv.open(newline="") as handle:
        try:
            return {row["image"]: (float(row["mos"]), float(row["score"])) for row in read_rows(handle)}
        except (KeyError, ValueError) as err:
            raise ValueError(f"{out_csv} is not a scores table of this command ({err!r}); "
                             "give another --out or remove it") from err


def score_mos_dataset(model, table: Sequence[tuple[str, float]], images_dir: str | Path, out_csv: str | Path,
                      batch_size: int = 8, progress: bool = True) -> dict[str, tuple[float, float]]:
    """Score the table's images not yet in ``out_csv``, appending rows as they come; return all rows.

    ``model`` is a :class:`~qualiclip.scoring.QualityScorer` (``prepare`` + ``score``); unreadable or
    missing images are reported and left out. Ctrl-C raises :class:`~qualiclip.errors.Interrupted`
    saying how many were scored; their rows stay in ``out_csv`` for the next run.
    """
    out_csv = Path(out_csv)
    done = read_done(out_csv)
    mos = dict(table)
    todo = [name for name in mos if name not in done]
    located = locate_images(images_dir, todo)
    for name in todo:
        if name not in located:
            tqdm.write(f"missing image: {name}")
    names_by_path = {path: name for name, path in located.items()}
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    scored = 0
    with out_csv.open("a", newline="") as handle:
        writer = CsvWriter(handle)
        if handle.tell() == 0:
            writer.writerow(OUTPUT_COLUMNS)
        results = score_files(model, list(names_by_path), batch_size)
        try:
            for path, result, error in tqdm(results, total=len(names_by_path), unit="img", disable=not progress):
                name = names_by_path[path]
                if result is None:
                    tqdm.write(f"skipped {name}: {error}")
                    continue
                writer.writerow([name, mos[name], round(result.score, 6)])
                done[name] = (mos[name], result.score)
                scored += 1
        except KeyboardInterrupt as stop:
            raise Interrupted(f"{scored} of {len(names_by_path)} images scored; {out_csv} keeps them "
                              "and a rerun goes on from there") from stop
    return done


def correlate(rows: dict[str, tuple[float, float]]) -> MosReport:
    """SRCC, PLCC and PLCC after the 4-parameter logistic fit of score -> MOS."""
    mos, scores = zip(*rows.values()) if rows else ((), ())
    if len(rows) < 3:
        raise ValueError(f"need at least 3 scored images to correlate, got {len(rows)}")
    fitted, params = plcc_logistic(scores, mos)
    return MosReport(len(rows), srcc(scores, mos), plcc(scores, mos), fitted,
                     None if params is None else tuple(float(p) for p in params))
