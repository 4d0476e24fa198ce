"""Exceptions with messages meant for people: the CLI and the app show them as they are."""
from __future__ import annotations


class QualiCLIPError(Exception):
    """Base class of every error this package raises on purpose."""


class ImageLoadError(QualiCLIPError):
    """An input is not a usable image (corrupt, not an image, too small or too large)."""


class CheckpointError(QualiCLIPError):
    """A checkpoint does not match the official QualiCLIP format or the model architecture."""


class WeightsUnavailableError(QualiCLIPError):
    """Weights could not be found locally nor downloaded (offline, 404, ...)."""
