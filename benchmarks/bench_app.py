"""App latency as a user meets it: upload to score, to heatmaps, to a robustness preview; and start-up.

Starts ``python app.py`` (this checkout's, or ``--root`` another's) in a subprocess on RN50-sized
random weights in the official format and calls it through gradio_client with a 768x512 photo (no
downscale). Each trial uses a new photo (one pixel changed, so no cache can know it) and uploads it
again for every call, as the app's own page and API users do:

- ``/score`` then ``/heatmaps`` (Grad-CAM, all pairs): the time until both have answered;
- ``/score`` then ``/robustness`` at a new level: the time of the ``/robustness`` call.

The same two sequences are also timed in-process on the app's own handlers (``qualiclip.studio.callbacks``,
no HTTP): the app's work without the framework's round trips (gradio_client alone polls for
results every 50 ms). A ``/score`` of a photo already analysed measures one round trip; one forward
plus the round trips each sequence needs is its floor on this machine, whatever the app does.

Both are reported as a ratio to one bare ``model.score([photo])`` of the same photo (decode and one
forward) timed in this process just before the trial's calls (while the server idles), so load from
other processes hits both alike; the median of the per-trial ratios is reported, as measured and less
the round trips each sequence needs (issue 20's measure: what the app adds, not the framework).
Start-up: ``python app.py`` offline as in production (the bundled offline model, official weights
unavailable) until its first ``/score`` is answered, each run with an empty ONNX cache folder (so on a
CPU the model's export runs in the background meanwhile: the worst case); with ``--baseline`` the same
for another checkout, the two interleaved run by run, so that start-up is compared on one machine at one time.

With ``--baseline`` the baseline checkout's ``app.py`` also serves the same weights, and each trial's
``/score`` then ``/heatmaps`` is timed on both servers, one after the other (which goes first alternates),
with the same new photo: the ratio of the two, trial by trial, is the app's speed-up on one machine at
one time, whatever else loads it; and the same sequence on each checkout's own handlers, no HTTP
(``benchmarks/app_handlers.py``, one worker process per checkout, asked in turn). On a CPU this
checkout's app switches its models to ONNX Runtime (``qualiclip.studio.model_slots``); the bench
exports the model into its own cache folder first, so the served app (and the in-process handlers)
run on ONNX Runtime from the first trial, as an app whose export is cached does. The bare forward
stays the torch ``model.score``.

    python -m benchmarks.bench_app [--trials 5] [--root OTHER_CHECKOUT] [--baseline CHECKOUT] [--update-results]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch
from gradio_client import Client, handle_file
from PIL import Image

from benchmarks.app_process import start_app, stop
from benchmarks.results_file import publish, targets_line
from qualiclip import load_model
from qualiclip.onnx.backend import CACHE_ENV, SessionScorer
from qualiclip.onnx.background import export_for
from qualiclip.studio import EXAMPLES_DIR
from qualiclip.studio.model_slots import OFFICIAL, onnx_switch_wanted
from qualiclip.tiny import make_random_checkpoint
from tests.app_server import free_port

ROOT = Path(__file__).resolve().parents[1]

SECTION = "## App latency and start-up (benchmarks/bench_app.py)"
#: The targets: ratios to one bare forward less round trips, seconds to the first request served (set
#: on a machine whose forward was 4.8x faster than this one's), and start-up against a baseline checkout.
TARGET_SCORE_AND_MAPS, TARGET_ROBUSTNESS, TARGET_START_S, TARGET_START_VS_BASELINE = 1.3, 1.2, 10.0, 1.1
#: /score then /heatmaps against the baseline checkout's, on a CPU (issue 29: ONNX Runtime in the app).
TARGET_SCORE_AND_MAPS_VS_BASELINE = 0.8
SIZE = (768, 512)
#: Longest wait for the in-process app's switch to ONNX Runtime (its export is cached by then).
SWITCH_WAIT_S = 120


def photo_variant(base: np.ndarray, trial: int, folder: Path) -> Path:
    """The base photo with a corner block coloured from ``trial``: new content (JPEG keeps a whole
    16x16 block's change, where it could swallow one pixel's), same look and size."""
    array = base.copy()
    array[:16, :16] = [(37 * trial) % 256, (91 * trial) % 256, (53 * trial + 11) % 256]
    path = folder / f"photo_{trial}.jpg"
    Image.fromarray(array).save(path, quality=95)
    return path


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def in_process(weights: Path, photos: list[Path], model, trials: int) -> tuple[float, float]:
    """Median ratios to a bare forward of the two sequences run on the app's handlers, no HTTP."""
    from qualiclip.studio.callbacks import Callbacks
    from qualiclip.studio.model_slots import load_studio

    handlers = Callbacks(load_studio(weights))
    wait_for_switch(handlers.model)
    handlers.score_image(photos[-1])
    handlers.explain_image(photos[-1], "gradcam", -1, 0.5)
    maps, preview = [], []
    for trial in range(trials):
        copy = photos[2 * trial].with_name(f"again_{trial}.jpg")  # a fresh handler cache needs new content
        copy.write_bytes(photos[2 * trial].read_bytes() + b"\0")
        forward = timed(lambda: model.score([photos[2 * trial]]))
        maps.append(timed(lambda: (handlers.score_image(str(copy)),
                                   handlers.explain_image(str(copy), "gradcam", -1, 0.5))) / forward)
        other = photos[2 * trial + 1].with_name(f"again_{trial}_b.jpg")
        other.write_bytes(photos[2 * trial + 1].read_bytes() + b"\0")
        forward = timed(lambda: model.score([photos[2 * trial + 1]]))
        handlers.score_image(str(other))
        preview.append(timed(lambda: handlers.robustness_preview(str(other), "gaussian_blur", 1 + trial % 5))
                       / forward)
    return statistics.median(maps), statistics.median(preview)


def wait_for_switch(model: object) -> None:
    """Until ``model`` runs on ONNX Runtime, if it is switching (its export is cached: about a second)."""
    deadline = time.monotonic() + SWITCH_WAIT_S
    while isinstance(model, SessionScorer) and model.session is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the app's model did not switch to ONNX Runtime within {SWITCH_WAIT_S} s")
        time.sleep(0.05)


def score_then_maps(client: Client, photo: Path) -> float:
    """Seconds for ``/score`` then ``/heatmaps`` (Grad-CAM, all pairs) of ``photo``, uploaded for each call."""
    return timed(lambda: (client.predict(handle_file(str(photo)), api_name="/score"),
                          client.predict(handle_file(str(photo)), "gradcam", -1, 0.5, api_name="/heatmaps")))


def warm_up(client: Client, photo: Path) -> None:
    """One call of each endpoint the trials time."""
    client.predict(handle_file(str(photo)), api_name="/score")
    client.predict(handle_file(str(photo)), "gradcam", -1, 0.5, api_name="/heatmaps")
    client.predict(handle_file(str(photo)), "gaussian_blur", 2, api_name="/robustness")


class HandlerWorker:
    """``benchmarks/app_handlers.py`` for one checkout: times its handlers' score then heatmaps of a photo."""

    def __init__(self, checkout: Path, weights: Path) -> None:
        self.process = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "app_handlers.py"), str(weights)],
                                        cwd=checkout, env={**os.environ, "PYTHONPATH": str(checkout)},
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the handlers of {checkout} did not load (exit code {self.process.wait()})")

    def score_then_maps(self, photo: Path) -> float:
        self.process.stdin.write(f"{photo}\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def handlers_against_baseline(baseline: Path, weights: Path, photos: list[Path]) -> tuple[list[float], list[float]]:
    """Seconds of this checkout's and ``baseline``'s handlers for each photo's score then heatmaps, no HTTP,
    asked in turn (which goes first alternates); the first photo warms both up and is not counted."""
    workers = [HandlerWorker(ROOT, weights), HandlerWorker(baseline, weights)]
    try:
        times: tuple[list[float], list[float]] = ([], [])
        for index, photo in enumerate(photos):
            for which in ((0, 1) if index % 2 else (1, 0)):
                seconds = workers[which].score_then_maps(photo)
                if index:
                    times[which].append(seconds)
        return times
    finally:
        for worker in workers:
            worker.close()


def startup(root: Path, photo: Path, cache: Path) -> tuple[float, float]:
    """(seconds until HTTP answers, seconds until the first /score is answered), offline, production models,
    ONNX exports going to ``cache`` (pass an empty folder)."""
    port = free_port()
    started = time.perf_counter()
    server, http = start_app(root, port, None, {CACHE_ENV: str(cache)})
    try:
        Client(f"http://127.0.0.1:{port}/", verbose=False).predict(handle_file(str(photo)), api_name="/score")
        return http, time.perf_counter() - started
    finally:
        stop(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose app.py to measure")
    parser.add_argument("--arch", default="RN50-quickgelu")
    parser.add_argument("--baseline", type=Path, help="another checkout whose start-up and /score then /heatmaps to "
                        "compare (e.g. the code before a change: git worktree add /tmp/base COMMIT)")
    parser.add_argument("--start-runs", type=int, default=3, help="start-ups of each checkout (median)")
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    args = parser.parse_args()
    load_at_start = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="qualiclip_bench_app_"))
    weights = make_random_checkpoint(work / "random.pth", arch=args.arch)
    examples = sorted(EXAMPLES_DIR.glob("*.jpg"))
    base = np.asarray(Image.open(examples[0]).convert("RGB").resize(SIZE, Image.Resampling.BICUBIC))
    photos = [photo_variant(base, index, work) for index in range(2 * args.trials + 1)]
    assert len({path.read_bytes() for path in photos}) == len(photos), "every trial needs a photo no cache knows"
    model = load_model(weights=weights, max_side=768)  # the bare forward, timed next to each trial
    os.environ[CACHE_ENV] = str(work / "onnx")  # this run's exports, for the served app and the in-process one
    if onnx_switch_wanted():
        export_for(model, OFFICIAL, weights)  # what the app finds cached, as after its first start
    port = free_port()
    server, _ = start_app(args.root, port, weights)
    base_port = free_port()
    base_server = start_app(args.baseline, base_port, weights)[0] if args.baseline else None
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        base_client = Client(f"http://127.0.0.1:{base_port}/", verbose=False) if base_server else None
        warm = photos[-1]
        for each in filter(None, (client, base_client)):
            warm_up(each, warm)
        model.score([warm])
        forwards, score_and_maps, robustness, cached, baseline_maps = [], [], [], [], []
        for trial in range(args.trials):
            photo = photos[2 * trial]
            forwards.append(timed(lambda: model.score([photo])))
            if base_client and trial % 2:
                baseline_maps.append(score_then_maps(base_client, photo))
            score_and_maps.append(score_then_maps(client, photo))
            if base_client and not trial % 2:
                baseline_maps.append(score_then_maps(base_client, photo))
            photo = photos[2 * trial + 1]
            forwards.append(timed(lambda: model.score([photo])))
            client.predict(handle_file(str(photo)), api_name="/score")
            level = 1 + trial % 5
            robustness.append(timed(lambda: client.predict(handle_file(str(photo)), "gaussian_blur", level,
                                                           api_name="/robustness")))
            cached.append(timed(lambda: client.predict(handle_file(str(photo)), api_name="/score")))
    finally:
        for each in filter(None, (server, base_server)):
            stop(each)
    handlers_only = in_process(weights, photos, model, args.trials) if args.root == ROOT else None
    fresh = [photo_variant(base, 100 + index, work) for index in range(args.trials + 1)]
    handlers_vs = (handlers_against_baseline(args.baseline, weights, fresh)
                   if args.baseline and args.root == ROOT else None)
    starts, baseline_starts = [], []
    for run in range(args.start_runs):
        starts.append(startup(args.root, examples[0], work / f"start-{run}"))
        if args.baseline:
            baseline_starts.append(startup(args.baseline, examples[0], work / f"start-{run}-baseline")[1])
    http_s = statistics.median(http for http, _ in starts)
    first_score_s = statistics.median(first for _, first in starts)
    forward = statistics.median(forwards)
    trip = statistics.median(cached)  # what the framework costs a call that does no model work
    round_trip = trip / forward
    ratios = (statistics.median(s / f for s, f in zip(score_and_maps, forwards[0::2])),
              statistics.median(r / f for r, f in zip(robustness, forwards[1::2])))
    less_trips = (statistics.median((s - 2 * trip) / f for s, f in zip(score_and_maps, forwards[0::2])),
                  statistics.median((r - trip) / f for r, f in zip(robustness, forwards[1::2])))
    checks = [
        (f"/score + /heatmaps less round trips <= {TARGET_SCORE_AND_MAPS}x", less_trips[0] <= TARGET_SCORE_AND_MAPS),
        (f"/robustness after /score less its round trip <= {TARGET_ROBUSTNESS}x", less_trips[1] <= TARGET_ROBUSTNESS),
        (f"start to first request served <= {TARGET_START_S:g} s", first_score_s <= TARGET_START_S),
    ]
    if baseline_starts:
        baseline_s = statistics.median(baseline_starts)
        checks.append((f"start-up within {TARGET_START_VS_BASELINE:g}x the baseline's",
                       first_score_s <= TARGET_START_VS_BASELINE * baseline_s))
    versus_baseline = statistics.median(s / b for s, b in zip(score_and_maps, baseline_maps)) if baseline_maps else None
    if versus_baseline is not None:
        checks.append((f"/score + /heatmaps <= {TARGET_SCORE_AND_MAPS_VS_BASELINE}x the baseline's",
                       versus_baseline <= TARGET_SCORE_AND_MAPS_VS_BASELINE))
    handlers_ratio = statistics.median(o / b for o, b in zip(*handlers_vs)) if handlers_vs else None
    if handlers_ratio is not None:
        checks.append((f"handlers' score + heatmaps <= {TARGET_SCORE_AND_MAPS_VS_BASELINE}x the baseline's",
                       handlers_ratio <= TARGET_SCORE_AND_MAPS_VS_BASELINE))
    checkout = "this checkout" if args.root == ROOT else f"`{args.root.name}`"
    lines = [
        f"Measured {date.today().isoformat()} ({checkout}) on {os.cpu_count()} cores, {torch.get_num_threads()} "
        f"torch threads: `python app.py` on random `{args.arch}` weights, CPU, a {SIZE[0]}x{SIZE[1]} photo "
        f"uploaded again for every call through gradio_client, a new photo each trial; medians of "
        f"{args.trials} trials; start-up: median of {args.start_runs} runs"
        + (f", interleaved with the baseline `{args.baseline.name}`." if args.baseline else "."),
        "",
        "| what | seconds | x one bare forward |",
        "|---|---:|---:|",
        f"| one bare `model.score([photo])` (in-process) | {forward:.2f} | 1.00 |",
        f"| `/score` then `/heatmaps` (Grad-CAM, all pairs) | {statistics.median(score_and_maps):.2f} | "
        f"{ratios[0]:.2f} |",
        f"| the same, less its two round trips | | {less_trips[0]:.2f} |",
        *([f"| the same on the baseline `{args.baseline.name}`'s app, same photos, interleaved | "
           f"{statistics.median(baseline_maps):.2f} | |",
           f"| this app's `/score` then `/heatmaps` against the baseline's (median of the trials' ratios) | | "
           f"{versus_baseline:.2f} |"] if versus_baseline is not None else []),
        f"| `/robustness` at a new level after `/score` | {statistics.median(robustness):.2f} | {ratios[1]:.2f} |",
        f"| the same, less its round trip | | {less_trips[1]:.2f} |",
        f"| `/score` of a photo already analysed (the framework's round trip: upload, queue, reply) | "
        f"{statistics.median(cached):.2f} | {round_trip:.2f} |",
        *([f"| in-process handlers: score then heatmaps (no HTTP) | | {handlers_only[0]:.2f} |",
           f"| in-process handlers: robustness preview after the score (no HTTP) | | {handlers_only[1]:.2f} |"]
          if handlers_only else []),
        *([f"| handlers (no HTTP): score then heatmaps, this checkout, in turn with the baseline's | "
           f"{statistics.median(handlers_vs[0]):.2f} | |",
           f"| the same, baseline `{args.baseline.name}`'s handlers | {statistics.median(handlers_vs[1]):.2f} | |",
           f"| this checkout's handlers against the baseline's (median of the trials' ratios) | | "
           f"{handlers_ratio:.2f} |"] if handlers_vs else []),
        f"| floor for `/score` then `/heatmaps`: one forward and two such round trips | | {1 + 2 * round_trip:.2f} |",
        f"| floor for `/robustness`: one forward and one such round trip | | {1 + round_trip:.2f} |",
        f"| start (offline, bundled model, ONNX cache empty) to HTTP up | {http_s:.1f} | |",
        f"| start (offline, bundled model, ONNX cache empty) to first `/score` answered | {first_score_s:.1f} | |",
        *([f"| the same, baseline `{args.baseline.name}` (runs {', '.join(f'{s:.1f}' for s in baseline_starts)}) | "
           f"{statistics.median(baseline_starts):.1f} | |"] if baseline_starts else []),
        "",
        targets_line(checks),
        f"Load average at the start {load_at_start:.1f}, at the end {os.getloadavg()[0]:.1f}; app on "
        + ("ONNX Runtime (export cached before the trials)." if onnx_switch_wanted() else "torch."),
    ]
    publish(SECTION, "\n".join(lines) + "\n", args.update_results)
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
