"""Wall time of the test tiers as a contributor runs them: the fast tier, and the whole suite against a baseline.

The fast tier, ``python -m pytest -q -m "not slow"``, runs ``--runs`` times in a fresh process from this
checkout (pytest.ini's ``-n auto``: one xdist worker per core, see tests/conftest.py) and once more with
``-n 0`` (one process, for comparison). With ``--baseline DIR`` (another checkout of the project, e.g. the
code before a change: ``git worktree add /tmp/base COMMIT``) the whole suite, ``python -m pytest -q`` (what
CI runs), runs ``--full-runs`` times in each checkout, interleaved so that both see the same machine. Reports
median wall times, the tests run and the load average.

    python -m benchmarks.bench_tests [--runs 3] [--baseline DIR [--full-runs 1]] [--update-results]
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
SECTION = "## Test tiers (`python -m benchmarks.bench_tests`)"
FAST = ["-m", "not slow"]
#: Issue 22's target: the fast tier within this many seconds on 2 cores, with at least this many tests.
TARGET_S, TARGET_TESTS = 60.0, 400
#: Issue 26's target: the whole suite in at most this fraction of the baseline's wall time.
TARGET_FULL_RATIO = 0.5


def run(checkout: Path, extra: list[str], must_pass: bool = True) -> tuple[float, str]:
    """(wall seconds, pytest's summary line) of one ``pytest -q`` run in ``checkout``."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=checkout, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if must_pass and result.returncode != 0:
        raise SystemExit(f"the tests failed in {checkout} ({result.returncode}): {result.stdout[-3000:]}"
                         f"{result.stderr[-2000:]}")
    return seconds, re.sub(r" in [\d.]+s.*", "", summary).strip("= ")


def passed(summary: str) -> int:
    found = re.search(r"(\d+) passed", summary)
    return int(found.group(1)) if found else 0


def full_suite(baseline: Path, runs: int) -> tuple[list[str], list[tuple[str, bool]]]:
    """The whole suite here and in ``baseline``, interleaved: table rows and targets."""
    times: dict[str, list[float]] = {"this checkout": [], f"baseline `{baseline.name}`": []}
    summaries: dict[str, str] = {}
    for _ in range(runs):
        for label, checkout in zip(times, (ROOT, baseline)):
            seconds, summaries[label] = run(checkout, [], must_pass=checkout == ROOT)
            times[label].append(seconds)
    mine, theirs = (statistics.median(values) for values in times.values())
    rows = [f"| whole suite, {label} ({summaries[label]}; runs {', '.join(f'{s:.0f}' for s in values)}) "
            f"| {statistics.median(values):.0f} |" for label, values in times.items()]
    rows.append(f"| ratio, this checkout / baseline | {mine / theirs:.2f} |")
    return rows, [(f"whole suite <= {TARGET_FULL_RATIO:g}x the baseline's", mine <= TARGET_FULL_RATIO * theirs)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fast-tier runs")
    parser.add_argument("--baseline", type=Path, help="another checkout: time the whole suite there and here")
    parser.add_argument("--full-runs", type=int, default=1, help="whole-suite runs in each checkout")
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    args = parser.parse_args()
    walls, summary = [], ""
    for _ in range(args.runs):
        seconds, summary = run(ROOT, FAST)
        walls.append(seconds)
    one_process, _ = run(ROOT, [*FAST, "-n", "0"])
    fast = statistics.median(walls)
    rows = [f"| fast tier, one xdist worker per core (median; runs {', '.join(f'{w:.1f}' for w in walls)}) "
            f"| {fast:.1f} |", f"| fast tier, one process (`-n 0`), for comparison | {one_process:.1f} |"]
    checks = [(f"fast tier <= {TARGET_S:g} s", fast <= TARGET_S),
              (f"fast tier >= {TARGET_TESTS} tests", passed(summary) >= TARGET_TESTS)]
    if args.baseline:
        full_rows, full_checks = full_suite(args.baseline.resolve(), args.full_runs)
        rows, checks = rows + full_rows, checks + full_checks
    report = "\n".join([
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores from this checkout: the fast tier "
        f"(`python -m pytest -q -m \"not slow\"`, {args.runs} runs: {summary})"
        + (", and the whole suite (`python -m pytest -q`) here and in the baseline, interleaved." if args.baseline
           else "."),
        "",
        "| how | wall seconds |",
        "|---|---:|",
        *rows,
        "",
        targets_line(checks),
        f"Load average at the end: {os.getloadavg()[0]:.1f}.",
    ])
    publish(SECTION, report + "\n", args.update_results)
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
