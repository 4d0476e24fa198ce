"""Evaluation plots on an Agg canvas (no display): scores against MOS, and scores against distortion level."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..degradations import DEGRADATIONS
from .metrics import logistic4
from .mos import MosReport
from .synthetic import LevelScore, level_spreads

#: Panels per row of :func:`level_curves_figure`.
PANELS_PER_ROW = 4


def plot_mos_scatter(scores: Sequence[float], mos: Sequence[float], report: MosReport, out_png: str | Path,
                     title: str = "") -> Path:
    """Scores (x) vs MOS (y), the logistic fit, and SRCC/PLCC in the legend."""
    figure = Figure(figsize=(5.5, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.scatter(scores, mos, s=8, alpha=0.6, label=f"{report.count} images")
    if report.logistic_params is not None:
        x = np.linspace(min(scores), max(scores), 200)
        axes.plot(x, logistic4(x, *report.logistic_params), color="tab:red",
                  label=f"logistic fit (PLCC {report.plcc_logistic:.3f})")
    axes.set(xlabel="predicted quality score", ylabel="MOS",
             title=title or f"SRCC {report.srcc:.3f}, PLCC {report.plcc:.3f}")
    axes.legend()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_png, dpi=100)
    return Path(out_png)


def level_curves_figure(records: Mapping[str, Sequence[LevelScore]]) -> Figure:
    """The paper's comparison: per distortion type, each model's mean score against the level, +-1 sd band.

    ``records`` maps a model's name to its synthetic records; the mean and standard deviation are
    over the images at each level (:func:`~qualiclip.evaluation.synthetic.level_spreads`). One panel
    per type (its label as title), a shared legend.
    """
    spreads = {model: level_spreads(table) for model, table in records.items()}
    types = list(dict.fromkeys(spread.distortion for table in spreads.values() for spread in table))
    columns = min(PANELS_PER_ROW, len(types))
    rows = math.ceil(len(types) / columns)
    figure = Figure(figsize=(max(3.2 * columns, 5.0), max(2.6 * rows + 0.6, 3.8)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    for panel, kind in zip(axes, types):
        for colour, (model, table) in enumerate(spreads.items()):
            shown = [spread for spread in table if spread.distortion == kind]
            levels = [spread.level for spread in shown]
            mean, sd = np.array([spread.mean for spread in shown]), np.array([spread.sd for spread in shown])
            panel.plot(levels, mean, marker="o", markersize=3, color=f"C{colour}", label=model)
            panel.fill_between(levels, mean - sd, mean + sd, color=f"C{colour}", alpha=0.2)
        panel.set_title(DEGRADATIONS[kind].label if kind in DEGRADATIONS else kind, fontsize=9)
        panel.tick_params(labelbottom=True)  # every panel shows its levels, also above an empty cell
    for panel in axes[len(types):]:
        panel.set_visible(False)
    figure.supxlabel("distortion level (0 = original)")
    figure.supylabel("mean score (+-1 sd over images)")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper center", ncols=len(records))
    return figure


def plot_level_curves(records: Mapping[str, Sequence[LevelScore]], out_png: str | Path) -> Path:
    """:func:`level_curves_figure` written to ``out_png``."""
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    level_curves_figure(records).savefig(out_png, dpi=100)
    return Path(out_png)
