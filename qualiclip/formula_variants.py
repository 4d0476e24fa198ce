"""Deprecated (one release, see CHANGELOG.md): :mod:`qualiclip.formulas` (the formula's variants) and
:mod:`qualiclip.constants` (its constants)."""
from __future__ import annotations

from .lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {}, deprecated={
    **{name: f"qualiclip.formulas:{name}" for name in ("FORMULAS", "OFFICIAL_FORMULA", "PYIQA_FORMULA", "Formula")},
    **{name: f"qualiclip.constants:{name}" for name in ("OFFICIAL_LOGIT_SCALE", "PYIQA_TEMPERATURE")},
})
