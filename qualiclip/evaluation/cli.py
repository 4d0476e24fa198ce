"""Sub-commands ``eval-synthetic`` (known distortion levels) and ``eval`` (against a MOS table).

    python -m qualiclip eval-synthetic --weights W FOLDER [--csv OUT] [--types T ...]
    python -m qualiclip eval --weights W --images DIR --mos CSV [--image-col C --mos-col C] [--out scores.csv]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ..errors import QualiCLIPError
from ..files import find_images
from ..model_options import add_model_options, model_from_options
from ..optional import import_optional
from ..tables import check_writable
from .mos import correlate, read_mos_table, score_mos_dataset
from .synthetic import format_table, score_synthetic, summarize, write_summary_csv


def add_eval_parsers(commands: argparse._SubParsersAction) -> None:
    """Register ``eval-synthetic`` and ``eval``."""
    synthetic = commands.add_parser("eval-synthetic", help="Spearman/ranking accuracy over distortion levels 0..5")
    synthetic.add_argument("folder", help="folder of pristine held-out images")
    synthetic.add_argument("--csv", help="write the per-type table here")
    synthetic.add_argument("--types", nargs="+", help="distortion types (default: every monotone type)")
    synthetic.add_argument("--seed", type=int, default=0)
    add_model_options(synthetic)
    synthetic.set_defaults(handler=run_eval_synthetic)

    mos = commands.add_parser("eval", help="SRCC/PLCC against a MOS table (KonIQ, CLIVE, SPAQ layouts)")
    mos.add_argument("--images", required=True, help="folder holding the dataset's images")
    mos.add_argument("--mos", required=True, help="MOS table: CSV, or CLIVE's AllMOS_release.mat")
    mos.add_argument("--image-col", help="image column (default: auto-detected)")
    mos.add_argument("--mos-col", help="MOS column (default: auto-detected)")
    mos.add_argument("--out", default="scores.csv", help="scores CSV, appended to and resumed (default scores.csv)")
    mos.add_argument("--plot", help="scatter plot PNG (default: next to --out)")
    add_model_options(mos)
    mos.set_defaults(handler=run_eval_mos)


def run_eval_synthetic(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """The ``eval-synthetic`` sub-command; returns the exit status (Ctrl-C: see :func:`qualiclip.cli.main`)."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        if args.csv:
            check_writable(args.csv)
        found = find_images([args.folder])
        for line in found.notices():
            print(line, file=err)
        if not found.images:
            raise ValueError(f"no images in {args.folder}")
        model = model_from_options(args)
        images = {str(p.relative_to(args.folder)): model.prepare(p) for p in found.images}
        records = score_synthetic(model, images, args.types, seed=args.seed, progress=True)
    except (QualiCLIPError, ValueError, KeyError) as error:
        print(f"error: {error}", file=err)
        return 2
    summaries = summarize(records)
    print(f"model: {model.description}", file=err)
    print(format_table(summaries), file=out)
    if args.csv:
        write_summary_csv(args.csv, summaries)
    return 0


def run_eval_mos(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """The ``eval`` sub-command; returns the exit status (Ctrl-C: see :func:`qualiclip.cli.main`)."""
    out, err = out or sys.stdout, err or sys.stderr
    plot = Path(args.plot or Path(args.out).with_suffix(".png"))
    try:
        table = read_mos_table(args.mos, args.image_col, args.mos_col)
        check_writable(args.out)
        check_writable(plot)
        plots = import_optional("qualiclip.evaluation.plots", "train")
        model = model_from_options(args)
        print(f"model: {model.description}", file=err)
        rows = score_mos_dataset(model, table, args.images, args.out, batch_size=args.batch_size)
        report = correlate(rows)
    except (QualiCLIPError, ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=err)
        return 2
    mos, scores = zip(*rows.values())
    plots.plot_mos_scatter(scores, mos, report, plot, title=Path(args.mos).stem)
    print(f"images {report.count}  SRCC {report.srcc:.4f}  PLCC {report.plcc:.4f}  "
          f"PLCC (logistic) {report.plcc_logistic:.4f}", file=out)
    print(f"scores: {args.out}  plot: {plot}", file=err)
    return 0
