"""How long the Learn tab's "train N steps" takes on the CPU: :func:`qualiclip.training.live_demo.train_steps`
(crops, degradation, a deep copy, N steps, both measurements) for the bundled offline model and for the
official model's architecture (a random ResNet-50: the same cost), at the paper's 224 px crops.

    python -m benchmarks.bench_live_training [--steps 1 5] [--repeats 3] [--update-results]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.results_file import publish
from qualiclip import load_model
from qualiclip.studio.live_training import APP_MAX_STEPS
from qualiclip.studio.main_image import EXAMPLES
from qualiclip.tiny import make_random_checkpoint
from qualiclip.training.live_demo import train_steps

SECTION = "## Watch it learn: train N steps on the CPU (benchmarks/bench_live_training.py)"


def seconds(model, steps: int, repeats: int) -> float:
    """Median seconds of ``train_steps(model, an example, steps)`` over ``repeats`` (one warm-up run first)."""
    train_steps(model, EXAMPLES[3], 0)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        train_steps(model, EXAMPLES[3], steps)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    args = parser.parse_args()
    random_rn50 = make_random_checkpoint(Path(tempfile.mkdtemp(prefix="qualiclip_live_")) / "rn50.pth",
                                         arch="RN50-quickgelu")
    models = {"bundled offline model": load_model("qualiclip-offline", device="cpu"),
              "official architecture (random RN50)": load_model(weights=random_rn50, device="cpu")}
    rows = {name: [seconds(model, steps, args.repeats) for steps in args.steps] for name, model in models.items()}
    per_step = {name: (times[-1] - times[0]) / (args.steps[-1] - args.steps[0]) for name, times in rows.items()}
    lines = [f"`python -m benchmarks.bench_live_training --steps {' '.join(map(str, args.steps))} --repeats "
             f"{args.repeats}`: {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, load average "
             f"{os.getloadavg()[0]:.1f} at the end; medians; an example photo, 224 px crops at levels 1-5.", "",
             "| model | " + " | ".join(f"{steps} step{'s' * (steps != 1)}" for steps in args.steps)
             + f" | per step | {APP_MAX_STEPS} steps (the app's most), estimated |",
             "|---|" + "---|" * (len(args.steps) + 2)]
    for name, times in rows.items():
        estimate = times[0] + (APP_MAX_STEPS - args.steps[0]) * per_step[name]
        lines.append(f"| {name} | " + " | ".join(f"{t:.1f} s" for t in times)
                     + f" | {per_step[name]:.2f} s | {estimate:.0f} s |")
    publish(SECTION, "\n".join(lines), args.update_results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
