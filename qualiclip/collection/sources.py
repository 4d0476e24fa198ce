"""What a collection is made of: the entries a SOURCE lists, and reading one entry as an image.

A SOURCE is a folder (searched recursively), a listing (``.txt``: one entry a line; ``.csv`` or
``.parquet``: the ``path`` column, else the first), or a single image file. Each may be local or any
URI that pyarrow's filesystems open (``s3://``, ``gs://``, ``hdfs://``, ``file://``...). Entries are
local paths (relative ones to the current folder, as ``score`` takes them) or such URIs. Local files
go through :mod:`qualiclip.files`, so they are found, checked and decoded exactly as by ``score``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..errors import ImageLoadError, QualiCLIPError
from ..files import IMAGE_SUFFIXES, find_images, skipped_notices
from ..imaging import PreparedImage, prepare
from ..tables import read_rows

if TYPE_CHECKING:
    import pyarrow.fs

LISTING_SUFFIXES = (".txt", ".csv", ".parquet", ".pq")
#: The column a CSV or Parquet listing is read from when it has one (else its first column).
PATH_COLUMN = "path"


def is_uri(entry: str) -> bool:
    """True for ``scheme://...`` entries (read through pyarrow), False for local paths."""
    return "://" in entry


def filesystem(location: str) -> tuple[pyarrow.fs.FileSystem, str]:
    """The pyarrow filesystem of a URI or local path, and the path inside it."""
    from pyarrow import fs

    if is_uri(location):
        return fs.FileSystem.from_uri(location)
    return fs.LocalFileSystem(), str(Path(location).absolute())


@dataclass
class Listing:
    """What a SOURCE holds: the entries to score, and what was passed over."""

    #: Entries in order, each once.
    entries: list[str] = field(default_factory=list)
    #: Local entries that are not regular files (FIFOs, devices, broken links): never opened.
    not_regular: list[str] = field(default_factory=list)
    #: Files in searched folders whose suffix no image format uses.
    not_images: list[str] = field(default_factory=list)
    duplicates: int = 0

    def add(self, entries: Iterable[str], seen: set[str], not_regular: bool = False) -> None:
        """Append entries not seen before (to ``not_regular`` when they are not regular files)."""
        for entry in entries:
            if entry in seen:
                self.duplicates += 1
                continue
            seen.add(entry)
            (self.not_regular if not_regular else self.entries).append(entry)

    def notices(self) -> list[str]:
        """Lines for stderr: what was skipped and why (the not-regular files also get error rows)."""
        lines = skipped_notices(self.not_regular, self.not_images)
        if self.duplicates:
            lines.append(f"{self.duplicates} entries listed more than once are scored once")
        return lines


def list_source(source: str) -> Listing:
    """The entries of ``source`` (see the module docstring); a missing source is a QualiCLIPError."""
    listing, seen = Listing(), set()
    if is_listing(source):
        for entry in read_listing(source):
            _add_entry(listing, entry, seen)
    else:
        _add_entry(listing, source, seen, must_exist=True)
    return listing


def is_listing(source: str) -> bool:
    return source.lower().endswith(LISTING_SUFFIXES)


def _add_entry(listing: Listing, entry: str, seen: set[str], must_exist: bool = False) -> None:
    """Add one entry: a folder is replaced by the image files below it; a file is kept as it is."""
    if is_uri(entry):
        if _is_remote_folder(entry):
            images, others = _remote_files(entry)
            listing.add(images, seen)
            listing.not_images.extend(others)
            return
        if must_exist and not _remote_exists(entry):
            raise QualiCLIPError(f"{entry} does not exist")
        listing.add([entry], seen)
        return
    if must_exist and not Path(entry).exists():
        raise QualiCLIPError(f"{entry} does not exist")
    found = find_images([entry])
    listing.add(map(str, found.images), seen)
    listing.add(map(str, found.not_regular), seen, not_regular=True)
    listing.not_images.extend(map(str, found.not_images))


def read_bytes(source: str, error: type[QualiCLIPError]) -> bytes:
    """The whole content of a local path or URI (pyarrow's filesystems); a failure is ``error`` naming it."""
    fs, path = filesystem(source)
    try:
        with fs.open_input_stream(path) as handle:
            return handle.read()
    except (OSError, ValueError) as err:
        raise error(f"cannot read {source}: {err}") from err


def read_listing(source: str) -> list[str]:
    """The entries a ``.txt``, ``.csv`` or ``.parquet`` listing names (blank lines and cells skipped)."""
    data = read_bytes(source, QualiCLIPError)
    suffix = source.lower().rsplit(".", 1)[-1]
    if suffix in ("parquet", "pq"):
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        column = PATH_COLUMN if PATH_COLUMN in table.column_names else table.column_names[0]
        values = table.column(column).to_pylist()
    elif suffix == "csv":
        rows = list(read_rows(io.StringIO(data.decode("utf-8-sig"), newline="")))
        columns = list(rows[0]) if rows else []
        column = PATH_COLUMN if PATH_COLUMN in columns else columns[0] if columns else None
        values = [row.get(column) for row in rows]
    else:
        values = data.decode("utf-8-sig").splitlines()
    return [str(value).strip() for value in values if value is not None and str(value).strip()]


def _is_remote_folder(uri: str) -> bool:
    from pyarrow import fs as pafs

    fs, path = filesystem(uri)
    return fs.get_file_info(path).type == pafs.FileType.Directory


def _remote_exists(uri: str) -> bool:
    from pyarrow import fs as pafs

    fs, path = filesystem(uri)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def _remote_files(uri: str) -> tuple[list[str], list[str]]:
    """URIs of the image files (by suffix, as for local folders) and of the other files below a remote folder."""
    from pyarrow import fs as pafs

    fs, root = filesystem(uri)
    base, root = uri.rstrip("/"), root.rstrip("/")
    prefix = base[: len(base) - len(root)] if base.endswith(root) else uri.split("://", 1)[0] + "://"
    files = sorted(info.path for info in fs.get_file_info(pafs.FileSelector(root, recursive=True))
                   if info.type == pafs.FileType.File)
    images = [prefix + path for path in files if Path(path).suffix.lower() in IMAGE_SUFFIXES]
    return images, [prefix + path for path in files if Path(path).suffix.lower() not in IMAGE_SUFFIXES]


def prepare_entry(entry: str, max_side: int | None) -> PreparedImage | QualiCLIPError:
    """Read and prepare one entry for scoring, or return why it cannot be used (never raises it).

    Local paths are prepared as ``score`` prepares them; URIs are read whole through pyarrow and
    decoded from memory, their errors naming the URI.
    """
    try:
        if not is_uri(entry):
            return prepare(Path(entry), max_side)
        return prepare(read_bytes(entry, ImageLoadError), max_side, name=entry)
    except QualiCLIPError as error:
        return error
