"""PNG plots of a training run: loss terms per step and held-out synthetic evaluation.

Uses matplotlib's object API with the Agg canvas, so no global backend is switched and no
display is needed.
"""
from __future__ import annotations

import csv
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

LOSS_TERMS = ("total", "consistency", "positive", "negative")


def read_columns(path: Path) -> dict[str, list[float]]:
    """A numeric CSV as column name -> values (empty dict if the file does not exist)."""
    if not path.is_file():
        return {}
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else {})}


def plot_training(log_csv: Path, eval_csv: Path, out_png: Path, smooth: int = 20) -> Path:
    """Loss terms (moving average over ``smooth`` steps) and, if present, evaluation curves."""
    losses, evals = read_columns(log_csv), read_columns(eval_csv)
    figure = Figure(figsize=(11, 4), layout="constrained")
    FigureCanvasAgg(figure)
    loss_axes, eval_axes = figure.subplots(1, 2)
    for term in LOSS_TERMS:
        if term in losses:
            loss_axes.plot(losses["step"], _moving_average(losses[term], smooth), label=term)
    loss_axes.set(xlabel="step", ylabel=f"loss (moving average, {smooth} steps)", title="Training losses")
    loss_axes.legend()
    if evals:
        eval_axes.plot(evals["step"], evals["spearman"], marker="o", label="Spearman(level, score)")
        eval_axes.plot(evals["step"], evals["pairwise_accuracy"], marker="o", label="pairwise accuracy")
        eval_axes.axhline(0.0, color="grey", linewidth=0.5)
        eval_axes.legend()
    eval_axes.set(xlabel="step", title="Held-out synthetic evaluation (mean over types)", ylim=(-1.05, 1.05))
    out_png.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_png, dpi=100)
    return out_png


def _moving_average(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for index, value in enumerate(values):
        total += value - (values[index - window] if index >= window else 0.0)
        out.append(total / min(index + 1, window))
    return out
