"""Start-up of the command line: ``qualiclip --help``, ``qualiclip score --help`` and a one-image
``qualiclip score`` with the bundled model, in this checkout and in a baseline checkout.

Each command runs as a fresh ``python -m qualiclip`` process (what a user waits for), ``--runs`` times,
the two checkouts interleaved run by run so that drift of this shared machine hits both alike; the
median and the fastest wall time are reported. A baseline is any other checkout of the project, e.g.
``git archive 73ea17c | tar -x -C /tmp/qc-before`` for the code before the torch-free parsers.

    python -m benchmarks.bench_cli [--baseline DIR] [--runs 5] [--update-results]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.results_file import publish, targets_line

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## CLI start-up (`python -m benchmarks.bench_cli`)"
EXAMPLE = "qualiclip/studio/examples/coffee.jpg"
COMMANDS = {
    "qualiclip --help": ["--help"],
    "qualiclip score --help": ["score", "--help"],
    "qualiclip score 1 image (qualiclip-offline, CPU)": ["score", EXAMPLE, "--model", "qualiclip-offline",
                                                         "--device", "cpu"],
}
#: The target of issue 22: ``--help`` answers within this many seconds here.
HELP_TARGET_S = 1.0


def run_once(checkout: Path, args: list[str]) -> float:
    """Seconds for one ``python -m qualiclip ARGS`` process run in ``checkout`` (which must succeed)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qualiclip", *args], cwd=checkout, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(checkouts: dict[str, Path], runs: int) -> dict[tuple[str, str], list[float]]:
    """(command, checkout label) -> wall times, the checkouts interleaved within every run."""
    times: dict[tuple[str, str], list[float]] = {}
    for command, args in COMMANDS.items():
        for label, checkout in checkouts.items():  # one warm-up each: file cache, .pyc files
            run_once(checkout, args)
        for _ in range(runs):
            for label, checkout in checkouts.items():
                times.setdefault((command, label), []).append(run_once(checkout, args))
    return times


def report(times: dict[tuple[str, str], list[float]], labels: list[str], runs: int) -> str:
    lines = [f"Fresh `python -m qualiclip` processes, {runs} runs each after one warm-up, checkouts interleaved; "
             f"median (fastest) wall seconds. Machine: {os.cpu_count()} cores, load average "
             f"{os.getloadavg()[0]:.1f} at the end (each run keeps a core busy); compare the columns of one run "
             "rather than absolute values across runs.", "",
             "| command | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for command in COMMANDS:
        cells = [f"{statistics.median(times[command, label]):.2f} ({min(times[command, label]):.2f})"
                 for label in labels]
        lines.append(f"| {command} | " + " | ".join(cells) + " |")
    now = labels[-1]
    helps = [statistics.median(times[command, now]) for command in COMMANDS if command.endswith("--help")]
    lines += ["", targets_line([(f"`--help` (median) within {HELP_TARGET_S:.0f} s in {now}",
                                 max(helps) <= HELP_TARGET_S)]),
              "That `--help` imports no torch is a test (tests/test_cli.py), not a timing."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to time beside this one")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command and checkout (default: 5)")
    parser.add_argument("--update-results", action="store_true", help="rewrite this benchmark's RESULTS.md section")
    args = parser.parse_args()
    checkouts = {f"baseline ({args.baseline.name})": args.baseline.resolve()} if args.baseline else {}
    checkouts["this checkout"] = ROOT
    times = measure(checkouts, args.runs)
    publish(SECTION, report(times, list(checkouts), args.runs), args.update_results)


if __name__ == "__main__":
    main()
