"""Files a visitor downloads (tables as CSV, plots as PNG), one fresh folder per request, removed after an hour.

Every CSV goes through :func:`write_csv`, so cells from uploads (file names, error messages) are
escaped for spreadsheets the way every CSV of the project is (:func:`qualiclip.csv_files.escape_cell`).
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from qualiclip.csv_files import escape_cell

#: Where downloads are written, one folder per request; folders older than an hour are removed.
EXPORT_ROOT = Path(tempfile.gettempdir()) / "qualiclip_exports"
EXPORT_MAX_AGE_S = 3600
#: Resolution of exported plots.
PNG_DPI = 150


def request_folder(root: Path = EXPORT_ROOT, max_age_s: float = EXPORT_MAX_AGE_S) -> Path:
    """A fresh folder for one request's files below ``root``, after removing those older than ``max_age_s``."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        if time.time() - old.stat().st_mtime > max_age_s:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=root))


def write_csv(table: pd.DataFrame, name: str, folder: Path | None = None) -> Path:
    """``table`` as ``name`` (a CSV file) in ``folder`` (default: a fresh request folder), every cell escaped."""
    path = (folder or request_folder()) / name
    table.map(escape_cell).rename(columns=escape_cell).to_csv(path, index=False)
    return path


def write_png(figure: Figure, name: str, folder: Path | None = None) -> Path:
    """``figure`` as ``name`` (a PNG file) in ``folder`` (default: a fresh request folder)."""
    path = (folder or request_folder()) / name
    figure.savefig(path, format="png", dpi=PNG_DPI)
    return path
