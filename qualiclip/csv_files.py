"""CSV files the project writes, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets, and file names, paths and error messages come from users. Every
text cell that starts with one of them, or with the quote itself, is written with a leading ``'``
(the usual escape); :func:`unescape_cell` undoes it exactly, so names read back as written. Numbers
are never escaped: pass them as numbers (a Spearman of -0.8 stays -0.8), not as formatted text.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Iterator, TextIO, TypeVar

from .errors import QualiCLIPError

#: Starts of a cell that a spreadsheet evaluates.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
Cell = TypeVar("Cell")


def escape_cell(value: Cell) -> Cell | str:
    """``value`` with a leading ``'`` if it is text starting a formula (or the quote); anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS + (ESCAPE,)):
        return ESCAPE + value
    return value


def unescape_cell(text: str) -> str:
    """The text that :func:`escape_cell` was given."""
    return text[len(ESCAPE):] if text.startswith(ESCAPE) else text


class CsvWriter:
    """``csv.writer`` with every cell escaped, and every row flushed (an interrupted job keeps its rows)."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([escape_cell(cell) for cell in row])
        self._handle.flush()


def read_rows(handle: TextIO) -> Iterator[dict[str, str]]:
    """The rows of a CSV that :class:`CsvWriter` wrote, as header -> cell, every cell unescaped."""
    reader = csv.reader(handle)
    header = [unescape_cell(cell) for cell in next(reader, [])]
    for row in reader:
        yield dict(zip(header, map(unescape_cell, row)))


def check_writable(path: str | Path) -> None:
    """Fail now if ``path`` cannot be written, before any long work; leaves no new file behind.

    The file (and its missing folders) is opened for appending, as the real write will: a folder
    in the way, a missing permission or a read-only disk raise here as a :class:`QualiCLIPError`.
    A FIFO or device is refused without opening it (opening a FIFO waits for a reader).
    """
    path = Path(path)
    existed = path.exists()
    if existed and not path.is_file():
        raise QualiCLIPError(f"cannot write {path}: not a regular file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a"):
            pass
    except OSError as err:
        raise QualiCLIPError(f"cannot write {path}: {err.strerror or err}") from err
    if not existed:
        path.unlink()
