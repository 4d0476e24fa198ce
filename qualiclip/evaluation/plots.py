"""Scatter plot of model scores against MOS with the fitted logistic curve (Agg canvas, no display)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .metrics import logistic4
from .mos import MosReport


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
