"""``python -m qualiclip score-dataset SOURCE --out OUT.parquet [--engine local|ray] ...``: the options
(no torch, for ``--help``); :mod:`.commands` runs it, the work is in :mod:`.run` and the engines."""
from __future__ import annotations

import argparse

from ..model_options import add_model_options, at_least

ENGINES = ("local", "ray")
#: Options that only the ray engine uses (destination, flag).
RAY_OPTIONS = (("address", "--address"), ("workers", "--workers"), ("gpus_per_worker", "--gpus-per-worker"),
               ("cpus_per_worker", "--cpus-per-worker"))


def _amount(text: str) -> float:
    """An argparse ``type``: a non-negative number (Ray accepts fractions of a GPU or CPU)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
    return value


def add_score_dataset_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``score-dataset`` sub-command."""
    parser = commands.add_parser(
        "score-dataset", help="score a whole collection into Parquet, resumably, in-process or on a Ray cluster",
        description="Score every image a folder or listing names into a Parquet dataset folder; rerun to resume.")
    parser.add_argument("source", help="folder (searched recursively), or a .txt/.csv/.parquet listing of paths "
                                       "or URIs (s3://, gs://, ...), local or a URI itself")
    parser.add_argument("--out", required=True, help="Parquet dataset folder (local or URI); paths with a row "
                                                     "there are skipped, so the same --out resumes")
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="local: this process (small jobs); ray: a Ray Data pipeline (default: local)")
    parser.add_argument("--address", help="ray: cluster address, e.g. 10.0.0.1:6379 "
                                           "(default: $RAY_ADDRESS, else a new local cluster)")
    parser.add_argument("--workers", type=at_least(1), help="ray: scoring actors, one model each (default: 1)")
    parser.add_argument("--gpus-per-worker", type=_amount, help="ray: GPUs per scoring actor, e.g. 1 or 0.5 "
                                                                "(default: 0, CPU)")
    parser.add_argument("--cpus-per-worker", type=_amount, help="ray: CPUs reserved per scoring actor; decoding "
                                                                "uses the rest (default: 1)")
    add_model_options(parser)
    parser.set_defaults(handler="qualiclip.collection.commands:run_score_dataset")
    return parser
