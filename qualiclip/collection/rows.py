"""The rows a collection run writes: one per entry, as an Arrow table with one fixed schema.

Columns: ``path`` (the entry as listed), ``score``, one ``p_...`` probability per prompt pair (as
``score --csv``), ``width`` and ``height`` of the image before any ``--max-side`` downscale, and
``error``: null for a scored image; for an unusable one the reason, with every number null.
Scores are written as computed (float64 of the model's float32), not rounded.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ..image_files import ScoredFile
from ..prompts import PAIR_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

COLUMNS: tuple[str, ...] = ("path", "score", *PAIR_COLUMNS, "width", "height", "error")


def schema() -> pa.Schema:
    """The Arrow schema of the rows (every column but ``path`` nullable)."""
    import pyarrow as pa

    return pa.schema([pa.field("path", pa.string(), nullable=False), pa.field("score", pa.float64()),
                      *[pa.field(name, pa.float64()) for name in PAIR_COLUMNS],
                      pa.field("width", pa.int32()), pa.field("height", pa.int32()), pa.field("error", pa.string())])


def row(scored: ScoredFile) -> dict[str, object]:
    """One file's outcome as a row."""
    result, size = scored.result, scored.original_size
    probabilities = result.pair_probabilities if result else [None] * len(PAIR_COLUMNS)
    return {"path": str(scored.path), "score": result.score if result else None,
            **dict(zip(PAIR_COLUMNS, probabilities)),
            "width": size[0] if size else None, "height": size[1] if size else None, "error": scored.error}


def rows_table(outcomes: Sequence[ScoredFile]) -> pa.Table:
    """Outcomes as a table of rows in the schema above."""
    import pyarrow as pa

    return pa.Table.from_pylist([row(scored) for scored in outcomes], schema=schema())
