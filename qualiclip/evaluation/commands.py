"""The ``eval-synthetic`` and ``eval`` sub-commands (their options are in :mod:`.cli`)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ..errors import QualiCLIPError
from ..image_files import find_images
from ..imaging import prepare
from ..model_options import model_from_options, models_from_options
from ..optional import import_optional
from ..csv_files import check_writable
from .comparison import format_comparison, score_models, write_comparison_csv
from .mos import correlate, read_mos_table, score_mos_dataset
from .synthetic import format_table, summarize, write_summary_csv


def run_eval_synthetic(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """The ``eval-synthetic`` sub-command; returns the exit status (Ctrl-C: see :func:`qualiclip.cli.main`)."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        for output in (args.csv, args.scores, args.plot):
            if output:
                check_writable(output)
        found = find_images([args.folder])
        for line in found.notices():
            print(line, file=err)
        if not found.images:
            raise ValueError(f"no images in {args.folder}")
        models = models_from_options(args)
        for name, model in models.items():
            print(f"model: {model.description}" if name == model.name else f"model {name}: {model.description}",
                  file=err)
        images = {str(p.relative_to(args.folder)): prepare(p, args.max_side) for p in found.images}
        records = score_models(models, images, args.types, args.seed, args.scores, progress=True)
    except (QualiCLIPError, ValueError, KeyError) as error:
        print(f"error: {error}", file=err)
        return 2
    summaries = {name: summarize(table) for name, table in records.items()}
    if len(summaries) == 1:
        [table] = summaries.values()
        print(format_table(table), file=out)
        if args.csv:
            write_summary_csv(args.csv, table)
    else:
        for name, table in summaries.items():
            print(f"{name}\n{format_table(table)}\n", file=out)
        print(f"combined\n{format_comparison(summaries)}", file=out)
        if args.csv:
            write_comparison_csv(args.csv, summaries)
    if args.plot:
        import_optional("qualiclip.evaluation.plots", "train").plot_level_curves(records, args.plot)
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
