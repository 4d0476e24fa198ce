"""The ``score`` sub-command (its options are in :mod:`qualiclip.cli`).

Each result is written (and flushed) as soon as it is computed, so an interrupted or failing run
keeps everything already scored. Unreadable files are reported on stderr, once each, and skipped;
the exit status is 1 if any file failed, 2 if the model or an output cannot be used, 130 after Ctrl-C.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from .errors import Interrupted, QualiCLIPError
from .image_files import failure_line, find_images, score_files
from .model_options import model_from_options
from .prompts import PAIR_COLUMNS
from .scoring import ImageScore
from .csv_files import CsvWriter, check_writable


def _csv_header() -> list[str]:
    return ["path", "score", *PAIR_COLUMNS]


def _row(path: Path, result: ImageScore) -> list[object]:
    return [str(path), round(result.score, 6)] + [round(p, 6) for p in result.pair_probabilities]


def _json_number(value: float) -> float | None:
    """``value``, or None (JSON null) when it is NaN or infinite, which JSON cannot hold."""
    return value if math.isfinite(value) else None


def _record(path: Path, result: ImageScore) -> dict[str, object]:
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
                    tqdm.write(failure_line(scored.path, scored.error), file=err)
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
