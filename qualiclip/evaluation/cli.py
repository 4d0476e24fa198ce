"""Sub-commands ``eval-synthetic`` (known distortion levels) and ``eval`` (against a MOS table).

    python -m qualiclip eval-synthetic FOLDER [--model M ...] [--weights-for NAME=PATH ...] [--csv OUT]
        [--scores LEVELS.csv] [--plot PNG] [--types T ...]
    python -m qualiclip eval --weights W --images DIR --mos CSV [--image-col C --mos-col C] [--out scores.csv]

The parsers only (no torch, for ``--help``); the commands run in :mod:`.commands`.
"""
from __future__ import annotations

import argparse

from ..model_options import add_model_options


def add_eval_parsers(commands: argparse._SubParsersAction) -> None:
    """Register ``eval-synthetic`` and ``eval``."""
    synthetic = commands.add_parser("eval-synthetic", help="Spearman/ranking accuracy over distortion levels 0..5")
    synthetic.add_argument("folder", help="folder of pristine held-out images")
    synthetic.add_argument("--csv", help="write the per-type table here (with several models: all of them, "
                                         "a model column first)")
    synthetic.add_argument("--scores", help="every (model, image, type, level) score, appended as it comes; "
                                            "a rerun skips the rows already there")
    synthetic.add_argument("--plot", help="PNG of each model's mean score (+-1 std) against the level, per type")
    synthetic.add_argument("--types", nargs="+", help="distortion types (default: every monotone type)")
    synthetic.add_argument("--seed", type=int, default=0, help="seed of the random distortion parameters (default: 0)")
    add_model_options(synthetic, several=True)
    synthetic.set_defaults(handler="qualiclip.evaluation.commands:run_eval_synthetic")

    mos = commands.add_parser("eval", help="SRCC/PLCC against a MOS table (KonIQ, CLIVE, SPAQ layouts)")
    mos.add_argument("--images", required=True, help="folder holding the dataset's images")
    mos.add_argument("--mos", required=True, help="MOS table: CSV, or CLIVE's AllMOS_release.mat")
    mos.add_argument("--image-col", help="image column (default: auto-detected)")
    mos.add_argument("--mos-col", help="MOS column (default: auto-detected)")
    mos.add_argument("--out", default="scores.csv", help="scores CSV, appended to and resumed (default scores.csv)")
    mos.add_argument("--plot", help="scatter plot PNG (default: next to --out)")
    add_model_options(mos)
    mos.set_defaults(handler="qualiclip.evaluation.commands:run_eval_mos")
