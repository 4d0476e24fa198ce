"""Command line: ``qualiclip score PATH... [--weights W] [--model M] [--csv OUT] [--json]``.

``qualiclip`` is the installed console script; ``python -m qualiclip`` is the same from a checkout.

Directories are expanded recursively. Each result is written (and flushed) as soon as it is
computed, so an interrupted or failing run keeps everything already scored. Unreadable files are
reported on stderr and skipped; the exit status is 1 if any file failed, 2 if the model or an
output cannot be used, 130 after Ctrl-C.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path
from typing import Sequence, TextIO

from tqdm import tqdm

from .collection.cli import add_score_dataset_parser
from .errors import EXIT_INTERRUPTED, Interrupted, QualiCLIPError
from .evaluation.cli import add_eval_parsers
from .files import find_images, score_files
from .model_options import add_model_options, model_from_options
from .prompts import PAIR_COLUMNS
from .scoring import QualityScore
from .tables import CsvWriter, check_writable
from .training.cli import add_train_parser


def _csv_header() -> list[str]:
    return ["path", "score", *PAIR_COLUMNS]


def _row(path: Path, result: QualityScore) -> list[object]:
    return [str(path), round(result.score, 6)] + [round(p, 6) for p in result.pair_probabilities]


def _json_number(value: float) -> float | None:
    """``value``, or None (JSON null) when it is NaN or infinite, which JSON cannot hold."""
    return value if math.isfinite(value) else None


def _record(path: Path, result: QualityScore) -> dict[str, object]:
    return {"path": str(path), "score": _json_number(result.score),
            "pair_probabilities": [_json_number(p) for p in result.pair_probabilities]}


def run_score(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """The ``score`` sub-command; returns the process exit status (streams default to stdout/stderr)."""
    out, err = out or sys.stdout, err or sys.stderr
    found = find_images(args.paths)
    for line in found.notices():
        print(line, file=err)
    if not found.images:
        print("no image files found", file=err)
        return 1
    try:
        if args.csv:
            check_writable(args.csv)
        model = model_from_options(args)
    except QualiCLIPError as error:
        print(f"error: {error}", file=err)
        return 2
    print(f"model: {model.description}", file=err)
    total = len(found.images) + len(found.not_regular)
    records: list[dict[str, object]] = []
    failed = len(found.not_regular)
    with contextlib.ExitStack() as stack:
        writer = CsvWriter(stack.enter_context(open(args.csv, "w", newline=""))) if args.csv else None
        if writer:
            writer.writerow(_csv_header())
        progress = stack.enter_context(tqdm(score_files(model, found.images, args.batch_size),
                                            total=len(found.images), unit="img", file=err))
        try:
            for scored in progress:
                if scored.result is None:
                    failed += 1
                    tqdm.write(f"skipped {scored.path}: {scored.error}", file=err)
                    continue
                if scored.frames > 1:
                    tqdm.write(f"notice: {scored.path} has {scored.frames} frames; the score is of the first",
                               file=err)
                if writer:
                    writer.writerow(_row(scored.path, scored.result))
                records.append(_record(scored.path, scored.result))
                if not args.json:
                    tqdm.write(f"{scored.result.score:.4f}  {scored.path}", file=out)
        except KeyboardInterrupt as stop:
            kept = f"; {args.csv} keeps them" if args.csv else ""
            raise Interrupted(f"{len(records)} of {total} files scored{kept}") from stop
        finally:
            if args.json:
                json.dump(records, out, indent=2, allow_nan=False)
                out.write("\n")
    print(f"scored {len(records)} of {total} files; {failed} failed", file=err)
    return 1 if failed else 0


def build_parser(prog: str = "qualiclip") -> argparse.ArgumentParser:
    """Every sub-command's parser; ``prog`` is how the usage lines name the command."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score image files or folders")
    score.add_argument("paths", nargs="+", help="image files and/or directories (searched recursively)")
    score.add_argument("--csv", help="write results to this CSV file as they are computed")
    score.add_argument("--json", action="store_true", help="print results as JSON instead of lines")
    add_model_options(score)
    score.set_defaults(handler=run_score)
    add_score_dataset_parser(commands)
    add_train_parser(commands)
    add_eval_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "qualiclip") -> int:
    """Run one sub-command; Ctrl-C ends any of them with one line on stderr and status 130."""
    args = build_parser(prog).parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt as stop:
        print(f"interrupted; {stop}" if str(stop) else "interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
