"""Time every degradation (type x level) on a 1024x768 photo on CPU.

Prints the median milliseconds per call, flags calls over the 500 ms budget
and the total of the 24-type x 5-level table sweep (10 s budget).  With
``--update-results`` it also rewrites its own section of benchmarks/RESULTS.md.

Usage: python -m benchmarks.bench_degradations [--repeats 3] [--update-results]
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time

import cv2
import numpy as np
from skimage import data

from benchmarks.results_file import publish
from qualiclip.degradations import DEGRADATIONS, MAX_LEVEL

CALL_BUDGET_MS = 500.0
SWEEP_BUDGET_S = 10.0
SECTION = "## Degradations (benchmarks/bench_degradations.py)"


def time_all(image: np.ndarray, repeats: int) -> dict[str, list[float]]:
    """Median ms of each (type, level) call over ``repeats`` runs after one warm-up."""
    timings: dict[str, list[float]] = {}
    for name, spec in DEGRADATIONS.items():
        timings[name] = []
        for level in range(1, MAX_LEVEL + 1):
            spec(image, level, np.random.default_rng(0))
            runs = []
            for seed in range(repeats):
                start = time.perf_counter()
                spec(image, level, np.random.default_rng(seed))
                runs.append((time.perf_counter() - start) * 1000.0)
            timings[name].append(statistics.median(runs))
    return timings


def render(timings: dict[str, list[float]], repeats: int) -> str:
    """Markdown report: per-level table, sweep total over the table types, and the max."""
    table_types = [n for n in timings if not n.endswith("_monotone")]
    total_s = sum(sum(timings[n]) for n in table_types) / 1000.0
    all_total_s = sum(sum(row) for row in timings.values()) / 1000.0
    worst_name, worst_row = max(timings.items(), key=lambda item: max(item[1]))
    worst = max(worst_row)
    lines = [
        f"Measured {datetime.date.today().isoformat()}: 1024x768 float32 `skimage.data.astronaut()` (resized), "
        f"median of {repeats} runs per call after a warm-up, default cv2 threads.",
        "",
        "| type | L1 | L2 | L3 | L4 | L5 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in timings.items():
        cells = " | ".join(f"{ms:.1f}" + (" !" if ms > CALL_BUDGET_MS else "") for ms in row)
        lines.append(f"| {name} | {cells} |")
    lines += [
        "",
        f"- Full sweep, {len(table_types)} table types x {MAX_LEVEL} levels: **{total_s:.2f} s** "
        f"(budget {SWEEP_BUDGET_S:.0f} s); with the 2 monotone variants: {all_total_s:.2f} s.",
        f"- Slowest call: **{worst:.1f} ms** ({worst_name}; budget {CALL_BUDGET_MS:.0f} ms). "
        f"Calls over budget are marked `!`.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--update-results", action="store_true", help="rewrite this section of RESULTS.md")
    args = parser.parse_args()
    image = cv2.resize(data.astronaut(), (1024, 768), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    report = render(time_all(image, args.repeats), args.repeats)
    publish(SECTION, report, args.update_results)


if __name__ == "__main__":
    main()
