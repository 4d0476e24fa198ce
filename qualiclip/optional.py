"""Optional dependencies (the pip extras of ``pyproject.toml``): imported only where they are needed,
with one clear error naming the extra when one is missing, so the library and ``qualiclip score``
run on the base install alone."""
from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

#: The distribution's name in ``pyproject.toml``.
DISTRIBUTION = "qualiclip-studio"


def import_optional(module: str, extra: str) -> ModuleType:
    """``importlib.import_module(module)``, or a :class:`MissingDependencyError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        package = (err.name or "?").partition(".")[0]
        raise MissingDependencyError(
            f"{module} needs the package {package!r}, which is not installed: "
            f"pip install '{DISTRIBUTION}[{extra}]' (or pip install -r requirements.txt in a checkout)"
        ) from err
