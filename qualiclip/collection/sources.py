"""What a collection is made of: the entries a SOURCE lists, and reading one entry as an image.

A SOURCE is a folder (searched recursively), a listing (``.txt``: one entry a line; ``.csv`` or
``.parquet``: the ``path`` column, else the first), or a single image file. Each may be local or any
URI that pyarrow's filesystems open (``s3://``, ``gs://``, ``hdfs://``, ``file://``...). Entries are
local paths (relative ones to the current folder, as ``score`` takes them) or such URIs. Local files
go through :mod:`qualiclip.image_files`, so they are found, checked and decoded exactly as by ``score``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..errors import ImageLoadError, QualiCLIPError
from ..image_files import IMAGE_SUFFIXES, find_images, skipped_notices
from ..imaging import PreparedImage, prepare
from ..csv_files import read_rows

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
    """The entries of ``source`` (see the module docstring); a missing source is a QualiCLIPError.

    Entries of a listing are taken as files: a URI there is not looked up (a listing of a million
    object-store URIs costs no request), a local one is checked as ``score`` checks a named file.
    """
    listing, seen = Listing(), set()
    if is_listing(source):
        for entry in read_listing(source):
            _add_entry(listing, entry, seen)
    elif is_uri(source):
        kind = _remote_kind(source)
        if kind == "missing":
            raise QualiCLIPError(f"{source} does not exist")
        if kind == "folder":
            images, others = _remote_files(source)
            listing.add(images, seen)
            listing.not_images.extend(others)
        else:
            listing.add([source], seen)
    elif not Path(source).exists():
        raise QualiCLIPError(f"{source} does not exist")
    else:
        _add_entry(listing, source, seen)
    return listing


def is_listing(source: str) -> bool:
    return source.lower().endswith(LISTING_SUFFIXES)


def _add_entry(listing: Listing, entry: str, seen: set[str]) -> None:
    """Add one entry: a URI as it is; a local folder replaced by the image files below it."""
    if is_uri(entry):
        listing.add([entry], seen)
        return
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
    """The entries a listing names (blank lines and cells skipped): ``.txt``, ``.csv``, or ``.parquet``
    (a file or a folder of parts, such as a previous ``--out``; only its path column is read)."""
    if source.lower().endswith((".parquet", ".pq")):
        import pyarrow.dataset as ds

        fs, path = filesystem(source)
        try:
            dataset = ds.dataset(path, filesystem=fs, format="parquet")
            column = PATH_COLUMN if PATH_COLUMN in dataset.schema.names else dataset.schema.names[0]
            values = dataset.to_table(columns=[column]).column(column).to_pylist()
        except (OSError, ValueError) as err:
            raise QualiCLIPError(f"cannot read {source}: {err}") from err
    else:
        try:
            text = read_bytes(source, QualiCLIPError).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise QualiCLIPError(f"cannot read {source}: not UTF-8 text ({err.reason})") from err
        if source.lower().endswith(".csv"):
            rows = list(read_rows(io.StringIO(text, newline="")))
            columns = list(rows[0]) if rows else []
            column = PATH_COLUMN if PATH_COLUMN in columns else columns[0] if columns else None
            values = [row.get(column) for row in rows]
        else:
            values = text.splitlines()
    return [str(value).strip() for value in values if value is not None and str(value).strip()]


def _remote_kind(uri: str) -> str:
    """"folder", "file" or "missing"."""
    from pyarrow import fs as pafs

    fs, path = filesystem(uri)
    kind = fs.get_file_info(path).type
    return {pafs.FileType.Directory: "folder", pafs.FileType.NotFound: "missing"}.get(kind, "file")


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
