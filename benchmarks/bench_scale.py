"""Scaling out: a collection scored by ``score``, ``score-dataset --engine local`` and ``--engine ray``;
training steps on one process and on two (``torchrun``, gloo on CPU).

Every measurement is a real command in its own process, timed from start to exit; ``score-dataset``
also reports its own scoring phase (after listing the collection and, for ray, starting the cluster).
The RN50 has random weights: speed does not depend on their values. The machine may be shared, so
the 1-minute load average is recorded before and after each command.

    python -m benchmarks.bench_scale score [--images 200] [--side 320] [--only 0 1 2] [--update-results]
    python -m benchmarks.bench_scale train [--update-results]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from PIL import Image
from skimage import data

from benchmarks.results_file import publish, targets_line
from qualiclip.constants import OFFICIAL_ARCH
from qualiclip.tiny import make_random_checkpoint

ROOT = Path(__file__).resolve().parents[1]

SCORE_SECTION = "## Collection scoring: score vs score-dataset (benchmarks/bench_scale.py score)"
#: The issue's bound on Ray's overhead: its images/s end to end at least this share of ``score``'s.
TARGET_RAY_SHARE = 0.85
TRAIN_SECTION = "## Training on several processes (benchmarks/bench_scale.py train)"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "cat", "immunohistochemistry")


def load() -> float:
    return os.getloadavg()[0]


def timed(argv: list[str]) -> tuple[float, str, float, float]:
    """Run a command; (seconds, stderr, load before, load after). A failing command stops the benchmark."""
    before, started = load(), time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return seconds, result.stderr, before, load()


def make_photos(folder: Path, count: int, side: int) -> None:
    """``count`` JPEG photos, longer side ``side`` (landscape and portrait), from scikit-image's photographs."""
    for index in range(count):
        photo = Image.fromarray(getattr(data, PHOTOS[index % len(PHOTOS)])())
        size = (side, side * 3 // 4) if index % 2 == 0 else (side * 3 // 4, side)
        photo = photo.rotate(index * 7 % 360).resize(size, Image.Resampling.LANCZOS)
        photo.save(folder / f"photo{index:04d}.jpg", quality=90)


SCORE_COMMANDS = ("`score` (one process, 2 threads)", "`score-dataset --engine local`",
                  "`score-dataset --engine ray --workers 2` (new local cluster)")


def bench_score(args: argparse.Namespace) -> str:
    """Time the commands chosen by ``--only`` (default: all), keep them in ``--cache``, report every cached one."""
    cache = json.loads(args.cache.read_text()) if args.cache.is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        make_photos(folder, args.images, args.side)
        weights = make_random_checkpoint(Path(tmp) / "rn50.pth", arch=OFFICIAL_ARCH)
        common = ["--weights", str(weights), "--batch-size", str(args.batch_size)]
        commands = dict(zip(SCORE_COMMANDS, (
            ["score", str(folder), "--csv", str(Path(tmp) / "scores.csv")],
            ["score-dataset", str(folder), "--out", str(Path(tmp) / "local.parquet")],
            ["score-dataset", str(folder), "--out", str(Path(tmp) / "ray.parquet"), "--engine", "ray",
             "--workers", "2"])))
        for index in args.only or range(len(SCORE_COMMANDS)):
            name = SCORE_COMMANDS[index]
            seconds, err, before, after = timed([sys.executable, "-m", "qualiclip", *commands[name], *common])
            phase = re.search(r"([\d.]+) images/s over ([\d.]+) s", err)
            cache[f"{name} @{args.side}"] = {"name": name, "seconds": seconds,
                                             "phase": float(phase.group(1)) if phase else None,
                                             "load": [before, after], "images": args.images, "side": args.side}
            args.cache.write_text(json.dumps(cache, indent=1))
            print(name, cache[f"{name} @{args.side}"], file=sys.stderr)
    rows = sorted(cache.values(), key=lambda row: (row["side"], SCORE_COMMANDS.index(row["name"])))
    lines = [f"{date.today()}, CPU ({os.cpu_count()} cores; the 1-minute load average before and after each run "
             f"shows what else shared them). {args.images} JPEG photos (landscape and portrait; the longer "
             f"side as given), RN50 (`{OFFICIAL_ARCH}`, random weights), native resolution, "
             f"`--batch-size {args.batch_size}`. One run each, one after the other.", "",
             "| longer side | command | end to end | images/s end to end | scoring phase (images/s) "
             "| vs `score` end to end | load avg before/after |",
             "|---|---|---|---|---|---|---|"]
    checks = []
    for row in rows:
        rate = row["images"] / row["seconds"]
        same_side = [r for r in rows if r["side"] == row["side"] and r["name"] == SCORE_COMMANDS[0]]
        share = rate / (same_side[0]["images"] / same_side[0]["seconds"]) if same_side else None
        lines.append(f"| {row['side']} px | {row['name']} | {row['seconds']:.1f} s | {rate:.2f} | "
                     f"{row['phase'] or '-'} | {f'{share:.2f}x' if share else '-'} | "
                     f"{row['load'][0]:.2f} / {row['load'][1]:.2f} |")
        if share is not None and row["name"] == SCORE_COMMANDS[2]:
            checks.append((f"ray within {1 - TARGET_RAY_SHARE:.0%} of `score` at {row['side']} px",
                           share >= TARGET_RAY_SHARE))
    lines += ["", targets_line(checks), "",
              "End to end includes Python start-up and model loading (and, for ray, starting the local "
              "cluster and loading the model once on the driver to check it); the scoring phase is what "
              "`score-dataset` reports itself (for ray it includes starting the cluster and the actors). With "
              "one CPU per actor and no GPU, Ray Data fuses decoding into the scoring actors "
              "(`MapBatches(decode_batch)->MapBatches(Scorer)`), and each actor runs torch with one thread. "
              "Ray's costs are mostly fixed (starting the cluster; each actor importing torch and loading the "
              "model), so its share shrinks as the work per image grows: compare the small and the full-size "
              "photos.", ""]
    return "\n".join(lines)


def step_seconds(log: Path) -> float:
    """Mean seconds per step after the first (which includes warm-up)."""
    seconds = [float(row["seconds"]) for row in csv.DictReader(log.open())]
    return (seconds[-1] - seconds[0]) / (len(seconds) - 1)


def bench_train(args: argparse.Namespace) -> str:
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        photos.mkdir()
        make_photos(photos, 6, 320)
        rn50 = make_random_checkpoint(Path(tmp) / "rn50.pth", arch=OFFICIAL_ARCH)
        setups = {  # name: (steps, flags)
            "RN50 fine-tuning, 224 px crops, batch 2, 2 levels":
                (4, ["--init", str(rn50), "--crop-size", "224", "--batch-size", "2", "--num-levels", "2"]),
            "tiny from scratch, 96 px crops, batch 8, 5 levels":
                (10, ["--init", "tiny", "--crop-size", "96", "--batch-size", "8"]),
        }
        variants = ((1, "2 threads", [sys.executable], []), (1, "1 thread", [sys.executable], ["--threads", "1"]),
                    (2, "1 thread each", torchrun, []))
        for setup, (steps, extra) in setups.items():
            for processes, threads, launcher, thread_flags in variants:
                out = Path(tmp) / f"run{len(rows)}"
                argv = [*launcher, "-m", "qualiclip", "train", str(photos), "--holdout", str(photos), "--out",
                        str(out), "--steps", str(steps), "--workers", "0", "--eval-every", "0",
                        "--checkpoint-every", str(steps), "--eval-types", "jpeg", "--eval-max-side", "96", *extra,
                        *thread_flags]
                seconds, _, before, after = timed(argv)
                rows.append((setup, processes, threads, step_seconds(out / "log.csv"), seconds, before, after))
                print(rows[-1], file=sys.stderr)
    lines = [f"{date.today()}, CPU ({os.cpu_count()} cores; the 1-minute load average before and after each run "
             f"shows what else shared them), gloo. The same global batch on 1 process (torch's default 2 "
             f"threads, and `--threads 1`) and "
             f"on 2 processes (`torchrun --nproc_per_node 2`, which gives each 1 thread); seconds per step "
             f"averaged after the first; end to end includes start-up and the final evaluation.",
             "", "| setup | processes | torch threads | s / step | vs 1 process, 2 threads | end to end "
             "| load avg before/after |", "|---|---|---|---|---|---|---|"]
    for setup, processes, threads, per_step, seconds, before, after in rows:
        single = next(r[3] for r in rows if r[0] == setup and r[1] == 1)
        lines.append(f"| {setup} | {processes} | {threads} | {per_step:.2f} | {single / per_step:.2f}x | "
                     f"{seconds:.0f} s | {before:.2f} / {after:.2f} |")
    lines += ["", "The work per step is the same in every row and two cores are the limit, so on this machine "
              "two processes mostly show what DDP costs (the gradient all-reduce, the global BatchNorm "
              "statistics, twice the memory); a real speed-up needs more cores, machines or GPUs. On a shared, "
              "oversubscribed CPU one process with two threads loses much of its time to threads waiting for "
              "each other (see `--threads` in the training config), which is why the 1-thread rows matter.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("score", "train"))
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--side", type=int, default=320)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--only", type=int, nargs="+", choices=range(len(SCORE_COMMANDS)),
                        help="score: time only these commands (0 score, 1 local, 2 ray); others come from --cache")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench_scale_score.json",
                        help="score: where timings are kept between runs (each run stays under a few minutes)")
    parser.add_argument("--update-results", action="store_true", help="rewrite this section of RESULTS.md")
    args = parser.parse_args()
    text = bench_score(args) if args.what == "score" else bench_train(args)
    publish(SCORE_SECTION if args.what == "score" else TRAIN_SECTION, text, args.update_results)


if __name__ == "__main__":
    main()
