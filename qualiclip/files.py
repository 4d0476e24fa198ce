"""Deprecated (one release, see CHANGELOG.md): :mod:`qualiclip.image_files`."""
from __future__ import annotations

from .lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {}, deprecated={name: f"qualiclip.image_files:{name}" for name in (
    "IMAGE_SUFFIXES", "FoundFiles", "skipped_notices", "find_images", "images_below", "FileSource", "ScoredFile",
    "failure_line", "score_prepared", "score_files")})
