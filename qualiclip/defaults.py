"""Deprecated (one release, see CHANGELOG.md): the constants live in :mod:`qualiclip.constants`."""
from __future__ import annotations

from .lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {}, deprecated={
    name: f"qualiclip.constants:{name}" for name in ("OFFICIAL_ARCH", "TINY_ARCH", "MIN_SIDE", "MAX_LEVEL")})
