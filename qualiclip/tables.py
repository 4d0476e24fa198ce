"""Deprecated (one release, see CHANGELOG.md): :mod:`qualiclip.csv_files`."""
from __future__ import annotations

from .lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {}, deprecated={name: f"qualiclip.csv_files:{name}" for name in (
    "FORMULA_STARTS", "ESCAPE", "escape_cell", "unescape_cell", "CsvWriter", "read_rows", "check_writable")})
