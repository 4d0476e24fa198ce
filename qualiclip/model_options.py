"""The command-line options that choose and run a model, shared by every sub-command that scores.

``score``, ``eval`` and ``eval-synthetic`` (and any later command) call :func:`add_model_options`
and :func:`model_from_options`, so the same flags mean the same thing everywhere, checked the same way.
"""
from __future__ import annotations

import argparse
from typing import Callable

import torch

from .imaging import MIN_SIDE
from .model_registry import MODELS, load_model
from .scoring import QualityModel


#: The ``argparse`` destinations of :func:`add_model_options`' flags.
MODEL_OPTIONS = ("model", "weights", "max_side", "device", "batch_size")


def at_least(minimum: int, why: str = "") -> Callable[[str], int]:
    """An argparse ``type``: a whole number no smaller than ``minimum`` (``why`` explains the bound)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}{why}, got {value}")
        return value
    return parse


def device_name(text: str) -> str:
    """An argparse ``type``: a device string torch can parse (``cpu``, ``cuda``, ``cuda:1``, ``mps``...)."""
    try:
        torch.device(text)
    except RuntimeError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def add_model_options(parser: argparse.ArgumentParser, max_side: int | None = None) -> None:
    """Add ``--model``, ``--weights``, ``--max-side``, ``--device`` and ``--batch-size``."""
    parser.add_argument("--model", choices=sorted(MODELS), default="qualiclip")
    parser.add_argument("--weights", help="checkpoint file (default: $QUALICLIP_WEIGHTS for qualiclip, "
                                          "then the model's own download or bundled file)")
    parser.add_argument("--max-side", type=at_least(MIN_SIDE, " (the model's smallest side)"), default=max_side,
                        help=f"downscale so the longer side is at most this many pixels, at least {MIN_SIDE} "
                             f"(default: {max_side or 'native resolution'})")
    parser.add_argument("--device", type=device_name, help="torch device, e.g. cpu or cuda:1 (default: cuda when present)")
    parser.add_argument("--batch-size", type=at_least(1), default=8, help="images per forward pass (default: 8)")


def model_from_options(args: argparse.Namespace) -> QualityModel:
    """Load the model that :func:`add_model_options`' flags describe."""
    return load_model(args.model, args.weights, device=args.device, max_side=args.max_side)


def model_options_of(args: argparse.Namespace, **changes: object) -> argparse.Namespace:
    """Only the values of :func:`add_model_options`' flags (with ``changes``): what another process
    needs to load the same model, without the rest of a command line."""
    values = {name: getattr(args, name) for name in MODEL_OPTIONS}
    return argparse.Namespace(**{**values, **changes})
