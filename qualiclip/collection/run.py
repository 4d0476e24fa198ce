"""One run over a collection: what is left to score, and committing an engine's rows as they come.

Engine-independent: :mod:`.local_engine` and :mod:`.ray_engine` both yield Arrow tables of rows,
and :meth:`CollectionRun.write` stores them, so both engines resume, count and stop alike.
"""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Callable, Generator, Iterable

from ..image_files import ScoredFile
from .rows import rows_table
from .sources import list_source
from .store import COMMIT_ROWS, COMMIT_SECONDS, ResultStore

if TYPE_CHECKING:
    import pyarrow as pa

NOT_REGULAR = "not a regular file"
RowsCallback = Callable[["pa.Table"], None]


class CollectionRun:
    """The entries of ``source`` that ``out`` has no row for yet, and the counts of this run."""

    def __init__(self, source: str, out: str) -> None:
        self.listing = list_source(source)
        self.store = ResultStore(out)
        self.store.open()
        done = self.store.done_paths()
        #: Entries to score, in listed order.
        self.todo = [entry for entry in self.listing.entries if entry not in done]
        #: Entries never opened (not regular files) that still need their error row.
        self.unusable = [entry for entry in self.listing.not_regular if entry not in done]
        #: Entries with a row from an earlier run.
        self.done = len(self.listing.entries) + len(self.listing.not_regular) - len(self.todo) - len(self.unusable)
        self.scored = 0
        self.failed = 0

    @property
    def total(self) -> int:
        """Rows this run is to write."""
        return len(self.todo) + len(self.unusable)

    def write(self, tables: Iterable[pa.Table], on_rows: RowsCallback | None = None,
              commit_rows: int = COMMIT_ROWS, commit_seconds: float = COMMIT_SECONDS) -> None:
        """Commit the unusable entries' error rows, then every table of rows ``tables`` yields.

        Rows are committed in parts as they accumulate; whatever happens (Ctrl-C, a failing engine)
        the rows received so far are committed before the exception goes on. ``on_rows`` sees each
        table once it is counted.
        """
        unusable = ([rows_table([ScoredFile(entry, None, NOT_REGULAR) for entry in self.unusable])]
                    if self.unusable else [])
        try:
            with self.store.writer(commit_rows, commit_seconds) as writer:
                for table in itertools.chain(unusable, tables):
                    writer.add(table)
                    failed = table.num_rows - table.column("error").null_count
                    self.failed += failed
                    self.scored += table.num_rows - failed
                    if on_rows:
                        on_rows(table)
        finally:
            if isinstance(tables, Generator):  # stop the engine now (Ray's pipeline), not when collected
                tables.close()
