"""The command-line options that choose and run a model, shared by every sub-command that scores.

``score``, ``eval`` and ``eval-synthetic`` (and any later command) call :func:`add_model_options`
and :func:`model_from_options`, so the same flags mean the same thing everywhere.
"""
from __future__ import annotations

import argparse

from .model_registry import MODELS, load_model
from .scoring import QualityModel


def add_model_options(parser: argparse.ArgumentParser, max_side: int | None = None) -> None:
    """Add ``--model``, ``--weights``, ``--max-side``, ``--device`` and ``--batch-size``."""
    parser.add_argument("--model", choices=sorted(MODELS), default="qualiclip")
    parser.add_argument("--weights", help="checkpoint file (default: $QUALICLIP_WEIGHTS for qualiclip, "
                                          "then the model's own download or bundled file)")
    parser.add_argument("--max-side", type=int, default=max_side,
                        help="downscale so the longer side is at most this many pixels "
                             f"(default: {max_side or 'native resolution'})")
    parser.add_argument("--device", help="torch device, e.g. cpu or cuda:1 (default: cuda when present)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per forward pass (default: 8)")


def model_from_options(args: argparse.Namespace) -> QualityModel:
    """Load the model that :func:`add_model_options`' flags describe."""
    return load_model(args.model, args.weights, device=args.device, max_side=args.max_side)
