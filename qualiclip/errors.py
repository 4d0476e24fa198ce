"""Exceptions with messages meant for people: the CLI and the app show them as they are."""
from __future__ import annotations

from typing import Sequence

#: How many items :func:`listed` names before it only counts the rest.
LISTED_ITEMS = 8
#: Exit status of a command line stopped by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


class QualiCLIPError(Exception):
    """Base class of every error this package raises on purpose."""


class ImageLoadError(QualiCLIPError):
    """An input is not a usable image (corrupt, not an image, too small or too large)."""


class CheckpointError(QualiCLIPError):
    """A checkpoint does not match the official QualiCLIP format or the model architecture."""


class WeightsUnavailableError(QualiCLIPError):
    """Weights could not be found locally nor downloaded (offline, 404, ...)."""


class WeightsHashError(WeightsUnavailableError):
    """A downloaded weights file does not have the SHA-256 its publisher states (it is not kept)."""


class MissingDependencyError(QualiCLIPError, ImportError):
    """An optional package (a pip extra, e.g. matplotlib for plots) is needed but not installed."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a long job; the message says how far it got (e.g. "3 of 10 images scored").

    A ``KeyboardInterrupt``, so code that handles Ctrl-C still does; the CLI prints the message.
    """


def listed(items: Sequence[str], limit: int = LISTED_ITEMS) -> str:
    """The first ``limit`` items, comma-separated, then how many more there are: short enough for one line."""
    shown = ", ".join(items[:limit])
    more = len(items) - limit
    return shown + (f" (+{more} more)" if more > 0 else "")
