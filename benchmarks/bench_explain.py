"""Time the explanations against one plain score, at 1024x768 on CPU, official RN50 architecture.

Weights are random (the architecture, not the values, sets the cost). Reports the median of
``--repeats`` interleaved runs after one warm-up, for: plain scoring (``model.score_batch``),
both Grad-CAM maps through :func:`qualiclip.explain.explain` (fast pool-only path, rendering included),
the gradient-free attention map, and, for reference, the same two Grad-CAM maps through the whole tower.
Budgets: both Grad-CAM maps within 2x a score, the attention map within 1.2x.
Prints a Markdown section; ``--update-results`` also rewrites it in benchmarks/RESULTS.md.

Usage: python -m benchmarks.bench_explain [--repeats 5] [--no-full-tower] [--update-results]
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from skimage import data

from benchmarks.results_file import publish
from qualiclip.explain import attention_quality_map, cam_maps, explain, good_and_bad_targets
from qualiclip import QualityScorer, load_model
from qualiclip.constants import OFFICIAL_ARCH
from qualiclip.tiny import make_random_checkpoint

SECTION = "## Explainability speed (benchmarks/bench_explain.py)"
SIZE = (1024, 768)  # width, height
BUDGETS = {"Grad-CAM, both maps (explain)": 2.0, "Grad-CAM++, both maps (explain)": 2.0,
           "attention map (attention_quality_map)": 1.2}


def elapsed_ms(call: Callable[[], object]) -> float:
    """Wall time of one call in ms."""
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000.0


def measure(model: QualityScorer, image: np.ndarray, repeats: int, full_tower: bool) -> dict[str, list[float]]:
    """All run times (ms) of each timed call, plain scoring first.

    Calls are interleaved (one round of every call per repeat) so that load from other processes
    on a shared machine hits all of them alike and the ratios stay meaningful.
    """
    tensor = model.prepare(image).tensor()
    calls: dict[str, Callable[[], object]] = {
        "plain score (score_batch)": lambda: model.score_batch(tensor[None]),
        "Grad-CAM, both maps (explain)": lambda: explain(model, image, method="gradcam"),
        "Grad-CAM++, both maps (explain)": lambda: explain(model, image, method="gradcam++"),
        "attention map (attention_quality_map)": lambda: attention_quality_map(model, image),
        "attention maps (explain)": lambda: explain(model, image, method="attention"),
    }
    if full_tower:
        targets = good_and_bad_targets(model)
        calls["reference: Grad-CAM maps through the whole tower"] = (
            lambda: cam_maps(model, tensor, "gradcam", targets, fast=False))
    for call in calls.values():  # warm-up
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            times[name].append(elapsed_ms(call))
    return times


def section(times: dict[str, list[float]], repeats: int) -> str:
    """The Markdown section for RESULTS.md: medians (the budgets' measure) and minima (least disturbed)."""
    base = times["plain score (score_batch)"]
    rows = []
    for name, ms in times.items():
        ratio = statistics.median(ms) / statistics.median(base)
        budget = BUDGETS.get(name)
        verdict = "" if budget is None else f"<= {budget}x " + ("ok" if ratio <= budget else "**over**")
        rows.append(f"| {name} | {statistics.median(ms):.0f} | {ratio:.2f}x | {min(ms):.0f} | "
                    f"{min(ms) / min(base):.2f}x | {verdict} |")
    return "\n".join([
        f"Measured {datetime.date.today().isoformat()}: {SIZE[0]}x{SIZE[1]} "
        "`skimage.data.astronaut()` (resized), "
        f"official `{OFFICIAL_ARCH}` architecture with random weights, CPU, torch threads = "
        f"{torch.get_num_threads()}, median of {repeats} interleaved runs after a warm-up; load average "
        f"{os.getloadavg()[1]:.1f} over the last 5 minutes (other processes share the cores: compare ratios).",
        "",
        "| call | median ms | median vs. plain score | min ms | min vs. plain score | budget (median) |",
        "|---|---:|---:|---:|---:|---|",
        *rows,
    ]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-full-tower", action="store_true", help="skip the slow whole-tower reference")
    parser.add_argument("--update-results", action="store_true", help="rewrite this section of RESULTS.md")
    args = parser.parse_args()
    image = cv2.resize(data.astronaut(), SIZE, interpolation=cv2.INTER_AREA)
    with tempfile.TemporaryDirectory() as tmp:
        weights = make_random_checkpoint(Path(tmp) / "rn50-random.pth", arch=OFFICIAL_ARCH)
        model = load_model(weights=weights, device="cpu")
    text = section(measure(model, image, args.repeats, not args.no_full_tower), args.repeats)
    publish(SECTION, text, args.update_results)


if __name__ == "__main__":
    main()
