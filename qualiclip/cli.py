"""Command line: ``qualiclip score PATH... [--model M] [--csv OUT] [--json]`` and the other sub-commands.

``qualiclip`` is the installed console script; ``python -m qualiclip`` is the same from a checkout.

Only the parsers are built here, from modules that import no torch, so ``qualiclip --help`` and
``qualiclip SUBCOMMAND --help`` answer at once; each sub-command's handler is named as
``"module:function"`` and its module imported only when that sub-command runs.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, Sequence

from . import __version__
from .collection.cli import add_score_dataset_parser
from .errors import EXIT_INTERRUPTED
from .evaluation.cli import add_eval_parsers
from .model_options import add_model_options
from .onnx.cli import add_export_onnx_parser
from .training.cli import add_train_parser

DESCRIPTION = ("Opinion-unaware image quality scores with QualiCLIP: score images, score a whole collection, "
               "train, and evaluate. Run 'qualiclip COMMAND --help' for a command's options.")
SCORE_DESCRIPTION = ("Score image files and folders (searched recursively), one line per image as it is computed. "
                     "Files that cannot be scored are reported once each on stderr and skipped; the exit status is "
                     "1 if any file failed, 2 if the model or an output cannot be used, 130 after Ctrl-C.")


def add_score_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``score`` sub-command (run by :func:`qualiclip.commands.run_score`)."""
    score = commands.add_parser("score", help="score image files or folders", description=SCORE_DESCRIPTION)
    score.add_argument("paths", nargs="+", metavar="PATH", help="image files and/or folders (searched recursively)")
    score.add_argument("--csv", metavar="OUT", help="also write the results to this CSV file as they are computed "
                                                    "(path, score and each pair's probability)")
    score.add_argument("--json", action="store_true", help="print the results as one JSON list instead of lines")
    add_model_options(score)
    score.set_defaults(handler="qualiclip.commands:run_score")
    return score


def build_parser(prog: str = "qualiclip") -> argparse.ArgumentParser:
    """Every sub-command's parser; ``prog`` is how the usage lines name the command."""
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_score_parser(commands)
    add_score_dataset_parser(commands)
    add_train_parser(commands)
    add_eval_parsers(commands)
    add_export_onnx_parser(commands)
    return parser


def handler(name: str) -> Callable[[argparse.Namespace], int]:
    """The function a ``"module:function"`` handler name refers to (its module imported now)."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def main(argv: Sequence[str] | None = None, prog: str = "qualiclip") -> int:
    """Run one sub-command; Ctrl-C ends any of them with one line on stderr and status 130."""
    args = build_parser(prog).parse_args(argv)
    try:
        return handler(args.handler)(args)
    except KeyboardInterrupt as stop:
        print(f"interrupted; {stop}" if str(stop) else "interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
