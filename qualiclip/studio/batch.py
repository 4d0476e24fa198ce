"""Score many files into one table (thumbnail, name, score, pair probabilities, error) and a CSV.

Files are scored with :func:`qualiclip.image_files.score_files` (same-sized files share a
forward pass); a file that cannot be read becomes a row with its error instead of failing the batch.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd
from PIL import Image

from qualiclip import QualiCLIPError, QualityScorer
from qualiclip.image_files import score_files
from qualiclip.imaging import decode
from qualiclip.prompts import PromptPair

from . import exports
from .public_errors import without_paths
from .formatting import Column, pair_column_specs, pair_columns, quality_label

#: Most files one batch request accepts (bounds the time a single request can take).
MAX_BATCH_FILES = 200
#: Most pixels (sum over the files, read from their headers) one batch request accepts.
MAX_BATCH_PIXELS = 1_000_000_000
THUMBNAIL_SIDE = 64
CSV_NAME = "qualiclip_scores.csv"


def table_columns(pairs: Sequence[PromptPair]) -> list[Column]:
    """The results table's columns, in order, with their widths and datatypes on the page."""
    return [Column("thumbnail", "72px", "markdown"), Column("file", "160px"), Column("score", "80px", "number"),
            Column("label", "100px"), Column("error", "220px"), *pair_column_specs(pairs, datatype="number")]


def columns(pairs: Sequence[PromptPair]) -> list[str]:
    """The results table's column names, in order."""
    return [column.name for column in table_columns(pairs)]


#: How the results table can be ordered: (label, sort column, ascending).
ORDERS = {"Best score first": ("score", False), "Worst score first": ("score", True), "File name": ("file", True)}


def sorted_table(table: pd.DataFrame | None, order: str | None) -> pd.DataFrame | None:
    """``table`` in ``order`` (a key of :data:`ORDERS`; files that could not be scored last), or as it is."""
    if table is None or order not in ORDERS or table.empty:
        return table
    column, ascending = ORDERS[order]
    key = (lambda values: values.str.lower()) if column == "file" else None
    return table.sort_values(column, ascending=ascending, na_position="last", kind="stable", key=key,
                             ignore_index=True)


def total_pixels(paths: Sequence[Path]) -> int:
    """Sum of width x height of the readable images among ``paths`` (headers only, nothing decoded)."""
    total = 0
    for path in paths:
        try:
            with Image.open(path) as image:
                total += image.width * image.height
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            continue  # unreadable files become error rows; they cost nothing to score
    return total


def thumbnail_markdown(path: Path) -> str:
    """A small inline JPEG of ``path`` as Markdown (the table's first column); '' if unreadable."""
    try:
        image = decode(path, max_side=THUMBNAIL_SIDE).image  # decoded at reduced size where possible
    except QualiCLIPError:
        return ""
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return f"![{path.name}](data:image/jpeg;base64,{base64.b64encode(buffer.getvalue()).decode()})"


def score_table(model: QualityScorer, paths: Sequence[Path],
                on_file: Callable[[int], None] = lambda done: None) -> pd.DataFrame:
    """One row per file in input order; ``on_file(done)`` is called after each file (progress)."""
    rows = []
    for done, (path, result, error) in enumerate(score_files(model, list(paths)), start=1):
        rows.append({
            "thumbnail": thumbnail_markdown(path) if result else "",
            "file": path.name,
            "score": None if result is None else round(result.score, 4),
            "label": "" if result is None else quality_label(result.score),
            **pair_columns(model.prompt_pairs, result.pair_probabilities if result else None),
            "error": without_paths(error or "", path),  # no server-side temp paths
        })
        on_file(done)
    return pd.DataFrame(rows, columns=columns(model.prompt_pairs))


def write_csv(table: pd.DataFrame) -> Path:
    """The table without thumbnails as a CSV file (escaped for spreadsheets, see :func:`exports.write_csv`)."""
    return exports.write_csv(table.drop(columns=["thumbnail"]), CSV_NAME)
