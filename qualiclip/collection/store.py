"""Where a collection run's rows go: a Parquet dataset folder that is also the record of what is done.

Rows are committed in parts (``part-<run>-<n>.parquet``), each written under a hidden temporary
name and then moved into place, so a part is either complete or absent: a run killed at any moment
leaves only whole parts (and perhaps a hidden temporary file, removed by the next run). Every path
with a row in a part is done, error rows included, so a rerun with the same folder scores only the
rest and no path ever gets two rows. One run at a time per folder. ``pandas.read_parquet(folder)``
or ``pyarrow.dataset`` reads the parts as one table (they skip hidden files).
"""
from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from ..errors import QualiCLIPError
from .rows import schema
from .sources import filesystem

if TYPE_CHECKING:
    import pyarrow as pa

PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"
TEMPORARY_PREFIX = ".writing-"
#: A part is committed once this many rows are waiting, or when the oldest waited this long.
COMMIT_ROWS = 1000
COMMIT_SECONDS = 30.0


class ResultStore:
    """The output folder (local path or URI) of a collection run."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.fs, self.root = filesystem(location)

    def open(self) -> None:
        """Create the folder if needed and remove temporary files a killed run left; fail now if unusable."""
        from pyarrow import fs as pafs

        try:
            info = self.fs.get_file_info(self.root)
            if info.type not in (pafs.FileType.NotFound, pafs.FileType.Directory):
                raise QualiCLIPError(f"cannot write {self.location}: it is a file, not a folder of Parquet parts")
            self.fs.create_dir(self.root, recursive=True)
            for leftover in self._files(TEMPORARY_PREFIX, ""):
                self.fs.delete_file(leftover)
        except OSError as err:
            raise QualiCLIPError(f"cannot write {self.location}: {err}") from err

    def _files(self, prefix: str, suffix: str) -> list[str]:
        from pyarrow import fs as pafs

        infos = self.fs.get_file_info(pafs.FileSelector(self.root, allow_not_found=True))
        return sorted(info.path for info in infos if info.type == pafs.FileType.File
                      and info.base_name.startswith(prefix) and info.base_name.endswith(suffix))

    def parts(self) -> list[str]:
        """The committed parts, sorted."""
        return self._files(PART_PREFIX, PART_SUFFIX)

    def read(self) -> pa.Table:
        """Every committed row, as one table."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = [pq.read_table(part, filesystem=self.fs, schema=schema()) for part in self.parts()]
        return pa.concat_tables(tables) if tables else schema().empty_table()

    def done_paths(self) -> set[str]:
        """Paths that already have a row."""
        import pyarrow.parquet as pq

        return {path for part in self.parts()
                for path in pq.read_table(part, filesystem=self.fs, columns=["path"]).column("path").to_pylist()}

    def writer(self, commit_rows: int = COMMIT_ROWS, commit_seconds: float = COMMIT_SECONDS) -> PartWriter:
        return PartWriter(self, commit_rows, commit_seconds)

    def commit(self, table: pa.Table, name: str) -> None:
        """Write ``table`` as the part ``name``: complete, or not at all."""
        import pyarrow.parquet as pq

        temporary, final = f"{self.root}/{TEMPORARY_PREFIX}{name}", f"{self.root}/{name}"
        with self.fs.open_output_stream(temporary) as handle:
            pq.write_table(table, handle)
        self.fs.move(temporary, final)


class PartWriter:
    """Collects rows and commits them as parts; leaving the ``with`` block (even by Ctrl-C) commits the rest."""

    def __init__(self, store: ResultStore, commit_rows: int, commit_seconds: float) -> None:
        self.store, self.commit_rows, self.commit_seconds = store, commit_rows, commit_seconds
        self.run = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self.waiting: list[pa.Table] = []
        self.waiting_rows, self.waiting_since, self.committed_parts, self.committed_rows = 0, 0.0, 0, 0

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flush()

    def add(self, table: pa.Table) -> None:
        """Queue rows; commit a part when enough rows or time have accumulated."""
        if not self.waiting:
            self.waiting_since = time.monotonic()
        self.waiting.append(table)
        self.waiting_rows += table.num_rows
        if self.waiting_rows >= self.commit_rows or time.monotonic() - self.waiting_since >= self.commit_seconds:
            self.flush()

    def flush(self) -> None:
        """Commit every queued row as one part."""
        import pyarrow as pa

        if not self.waiting_rows:
            return
        name = f"{PART_PREFIX}{self.run}-{self.committed_parts:06d}{PART_SUFFIX}"
        self.store.commit(pa.concat_tables(self.waiting), name)
        self.committed_parts += 1
        self.committed_rows += self.waiting_rows
        self.waiting, self.waiting_rows = [], 0
