"""The app's on/off environment variables (MCP, the ONNX Runtime switch, the examples computed ahead): each is
on unless set to 0, false, no or off, read in one place so that every switch understands the same words."""
from __future__ import annotations

import os

#: Values (any case, spaces around ignored) that turn a switch off.
OFF = ("0", "false", "no", "off")


def switched_on(variable: str) -> bool:
    """True unless ``$variable`` is one of :data:`OFF` (unset: on)."""
    return os.environ.get(variable, "1").strip().lower() not in OFF
