"""Score many files into one table (thumbnail, name, score, pair probabilities, error) and a CSV.

Files are scored with :func:`qualiclip.files.score_files` (same-sized files share a
forward pass); a file that cannot be read becomes a row with its error instead of failing the batch.
"""
from __future__ import annotations

import base64
import io
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from qualiclip import QualiCLIPError, QualityModel
from qualiclip.files import score_files
from qualiclip.imaging import open_image
from qualiclip.prompts import PromptPair

from .views import pair_columns, pair_names, quality_label

#: Most files one batch request accepts (bounds the time a single request can take).
MAX_BATCH_FILES = 200
THUMBNAIL_SIDE = 64
CSV_NAME = "qualiclip_scores.csv"


def columns(pairs: Sequence[PromptPair]) -> list[str]:
    """The results table's columns, in order."""
    return ["thumbnail", "file", "score", "label", "error", *pair_names(pairs)]


def thumbnail_markdown(path: Path) -> str:
    """A small inline JPEG of ``path`` as Markdown (the table's first column); '' if unreadable."""
    try:
        image = open_image(path)
    except QualiCLIPError:
        return ""
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return f"![{path.name}](data:image/jpeg;base64,{base64.b64encode(buffer.getvalue()).decode()})"


def score_table(model: QualityModel, paths: Sequence[Path],
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
            "error": (error or "").replace(str(path), path.name),  # no server-side temp paths
        })
        on_file(done)
    return pd.DataFrame(rows, columns=columns(model.prompt_pairs))


def write_csv(table: pd.DataFrame) -> Path:
    """The table without thumbnails as a CSV file in a fresh temporary folder (one per request)."""
    from qualiclip.tables import escape_cell  # file names and errors come from uploads: no formulas

    path = Path(tempfile.mkdtemp(prefix="qualiclip_batch_")) / CSV_NAME
    table.drop(columns=["thumbnail"]).map(escape_cell).rename(columns=escape_cell).to_csv(path, index=False)
    return path
