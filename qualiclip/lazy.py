"""Lazy module attributes (PEP 562): a package names what it exports, and each name's module is
imported on first use. So importing a package for one light module (the command line's parsers,
the model registry) does not import torch through the package's ``__init__``. Old names kept for one
release (listed in CHANGELOG.md) resolve the same way, with a ``DeprecationWarning`` naming the new one."""
from __future__ import annotations

import importlib
import warnings
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str], deprecated: Mapping[str, str] | None = None
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose public ``name`` lives in submodule
    ``exports[name]`` (relative, e.g. ``"scoring"``, or ``""`` for the package itself); an attribute is
    kept once it is imported. ``deprecated`` maps an old name to ``"module:new_name"`` (absolute): it
    resolves to that object with a ``DeprecationWarning``, every time."""
    namespace = importlib.import_module(package).__dict__
    deprecated = deprecated or {}

    def __getattr__(name: str) -> Any:
        if name in deprecated:
            module, _, new = deprecated[name].partition(":")
            warnings.warn(f"{package}.{name} is deprecated; use {module}.{new} (the old name goes in the next "
                          "release)", DeprecationWarning, stacklevel=2)
            return getattr(importlib.import_module(module), new)
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{exports[name]}", package), name)
        namespace[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
