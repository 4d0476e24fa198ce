"""Wall time of the fast test tier, ``python -m pytest -q -m "not slow"``, as a contributor runs it.

Runs the command ``--runs`` times in a fresh process from this checkout (pytest.ini's ``-n auto``: one
xdist worker per core, see tests/conftest.py) and once more with ``-n 0`` (one process, for
comparison); reports the median wall time, the tests run and the load average. The whole suite is
what CI runs; its time is in CI's log (``--durations=25``).

    python -m benchmarks.bench_tests [--runs 3] [--update-results]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks.results_file import publish, targets_line

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Fast test tier (`python -m benchmarks.bench_tests`)"
COMMAND = [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider"]
#: Issue 22's target: the fast tier within this many seconds on 2 cores.
TARGET_S = 60.0


def run(extra: list[str]) -> tuple[float, str]:
    """(wall seconds, pytest's summary line) of one run of the fast tier, which must pass."""
    started = time.perf_counter()
    result = subprocess.run([*COMMAND, *extra], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.returncode != 0:
        raise SystemExit(f"the fast tier failed ({result.returncode}): {result.stdout[-3000:]}{result.stderr[-2000:]}")
    return seconds, re.sub(r" in [\d.]+s.*", "", summary)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    args = parser.parse_args()
    walls, summary = [], ""
    for _ in range(args.runs):
        seconds, summary = run([])
        walls.append(seconds)
    one_process, _ = run(["-n", "0"])
    fast = statistics.median(walls)
    report = "\n".join([
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores: `python -m pytest -q -m \"not slow\"` "
        f"from this checkout, {args.runs} runs ({summary}).",
        "",
        "| how | wall seconds |",
        "|---|---:|",
        f"| as configured: one xdist worker per core (median; runs {', '.join(f'{w:.1f}' for w in walls)}) "
        f"| {fast:.1f} |",
        f"| one process (`-n 0`), for comparison | {one_process:.1f} |",
        "",
        targets_line([(f"fast tier <= {TARGET_S:g} s", fast <= TARGET_S)]),
        f"Load average at the end: {os.getloadavg()[0]:.1f}.",
    ])
    publish(SECTION, report + "\n", args.update_results)
    return 0 if fast <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
