"""Load check of the running app: concurrent gradio_client requests mixing scores and heatmaps.

Serves the app (``studio.layout.build_demo``) on a free localhost port in this process, warms it
up, then submits N requests at once (half ``/score``, half ``/heatmaps``, over the example images) and reports per-request
latency from submission to result, queueing included (the app serves 2 requests at a time).
Exits non-zero if any request fails.

    python benchmarks/load_check.py [--requests 20] [--random-arch RN50-quickgelu | --weights PATH]
                                    [--update-results]

Without --weights or --random-arch the app picks its model as in production. ``--random-arch``
writes a randomly initialised checkpoint of that architecture: timings match a trained model's.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import Future
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402

from benchmarks.results_file import replace_section  # noqa: E402
from qualiclip.tiny import make_random_checkpoint  # noqa: E402
from studio.background_server import running_app  # noqa: E402
from studio.model_slots import load_studio  # noqa: E402

SECTION = "## App load check (benchmarks/load_check.py)"
EXAMPLES = sorted((ROOT / "examples").glob("*.jpg"))


def request(client: Client, index: int) -> Future:
    """Request ``index``: even ones score, odd ones ask for Grad-CAM heatmaps, cycling the examples."""
    image = handle_file(str(EXAMPLES[index % len(EXAMPLES)]))
    if index % 2 == 0:
        return client.submit(image, api_name="/score")
    return client.submit(image, "gradcam", -1, 0.5, api_name="/heatmaps")


def alone(client: Client) -> tuple[float, float]:
    """Latency of one score and one heatmaps request with nothing else running (after a warm-up)."""
    times = []
    for index in (0, 1, 0, 1):
        started = time.perf_counter()
        request(client, index).result()
        times.append(time.perf_counter() - started)
    return times[2], times[3]


def run(client: Client, count: int) -> tuple[list[float], list[float], list[str]]:
    """Fire ``count`` requests at once; (latencies of scores, of heatmaps, errors)."""
    finished: dict[int, float] = {}
    jobs = []
    for index in range(count):
        submitted, job = time.perf_counter(), request(client, index)
        job.add_done_callback(lambda _, index=index: finished.setdefault(index, time.perf_counter()))
        jobs.append((index, submitted, job))
    latencies: tuple[list[float], list[float]] = ([], [])
    errors = []
    for index, submitted, job in jobs:
        try:
            job.result(timeout=600)
        except Exception as err:  # report every failure, whatever it is
            errors.append(f"request {index}: {type(err).__name__}: {err}")
        else:
            latencies[index % 2].append(finished.setdefault(index, time.perf_counter()) - submitted)
    return latencies[0], latencies[1], errors


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    models = parser.add_mutually_exclusive_group()
    models.add_argument("--weights", help="checkpoint the app starts on (as $QUALICLIP_STUDIO_WEIGHTS)")
    models.add_argument("--random-arch", help="start on a random checkpoint of this open_clip architecture")
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    args = parser.parse_args()
    weights = args.weights
    if args.random_arch:
        weights = make_random_checkpoint(Path(tempfile.mkdtemp()) / "random.pth", arch=args.random_arch)
    studio = load_studio(weights)
    model = studio.primary
    with running_app(studio) as url:
        client = Client(url, verbose=False)
        single = alone(client)
        scores, heatmaps, errors = run(client, args.requests)
    for error in errors:
        print(error, file=sys.stderr)
    everything = scores + heatmaps
    lines = [
        f"Measured {date.today().isoformat()}: {args.requests} requests submitted at once through gradio_client "
        f"({len(scores)} `/score`, {len(heatmaps)} `/heatmaps` Grad-CAM), example images up to 640x480, "
        f"model `{args.random_arch or model.name}` (max_side {model.max_side}), {torch.get_num_threads()} torch "
        "threads, app concurrency limit 2. Latency = submission to result, queueing included.",
        "",
        "| requests | n | median (s) | p95 (s) | max (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, values in (("score", scores), ("heatmaps", heatmaps), ("all", everything)):
        if values:
            lines.append(f"| {name} | {len(values)} | {statistics.median(values):.2f} | "
                         f"{percentile(values, 95):.2f} | {max(values):.2f} |")
    lines += ["", f"Errors: **{len(errors)}** of {args.requests}. One request alone: score {single[0]:.2f} s, "
              f"heatmaps {single[1]:.2f} s; the load was sharing the machine's 2 cores with other work "
              f"(load average {os.getloadavg()[0]:.1f} at the end)."]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.update_results:
        replace_section(SECTION, f"{SECTION}\n\n{report}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
