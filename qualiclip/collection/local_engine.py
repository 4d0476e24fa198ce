"""The in-process engine: the collection scored batch by batch in this process (small jobs, no Ray)."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Iterator, Sequence

from ..image_files import score_files
from ..scoring import QualityScorer
from .rows import rows_table
from .sources import prepare_entry

if TYPE_CHECKING:
    import pyarrow as pa


def score_locally(model: QualityScorer, entries: Sequence[str], batch_size: int) -> Iterator[pa.Table]:
    """Rows for ``entries``, one table per ``batch_size`` entries, in order (see :func:`score_files`)."""
    outcomes = score_files(model, entries, batch_size, load=partial(prepare_entry, max_side=model.max_side))
    batch = []
    for scored in outcomes:
        batch.append(scored)
        if len(batch) == batch_size:
            yield rows_table(batch)
            batch = []
    if batch:
        yield rows_table(batch)
