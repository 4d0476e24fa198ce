"""App latency as a user meets it: upload to score, to heatmaps, to a robustness preview; and start-up.

Starts ``python app.py`` (this checkout's, or ``--root`` another's) in a subprocess on RN50-sized
random weights in the official format and calls it through gradio_client with a 768x512 photo (no
downscale). Each trial uses a new photo (one pixel changed, so no cache can know it) and uploads it
again for every call, as the app's own page and API users do:

- ``/score`` then ``/heatmaps`` (Grad-CAM, all pairs): the time until both have answered;
- ``/score`` then ``/robustness`` at a new level: the time of the ``/robustness`` call.

Both are reported as a ratio to one bare ``model.score([photo])`` of the same photo (decode and one
forward) timed in this process just before the trial's calls (while the server idles), so load from
other processes hits both alike; the median of the per-trial ratios is reported. Start-up:
``python app.py`` offline as in production (the bundled
offline model, official weights unavailable) until its first ``/score`` is answered.

    python -m benchmarks.bench_app [--trials 5] [--root OTHER_CHECKOUT] [--update-results]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

import numpy as np

import torch
from gradio_client import Client, handle_file
from PIL import Image

from benchmarks.results_file import replace_section
from qualiclip import load_model
from qualiclip.tiny import make_random_checkpoint

ROOT = Path(__file__).resolve().parents[1]

SECTION = "## App latency and start-up (benchmarks/bench_app.py)"
WEIGHTS_ENV = "QUALICLIP_STUDIO_WEIGHTS"
#: The issue's targets: ratios to one bare forward, and seconds to the first request served.
TARGET_SCORE_AND_MAPS, TARGET_ROBUSTNESS, TARGET_START_S = 1.3, 1.2, 10.0
SIZE = (768, 512)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(root: Path, port: int, weights: Path | None) -> tuple[subprocess.Popen, float]:
    """``python app.py`` in ``root``; returns the process and the seconds until it answered HTTP."""
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop(WEIGHTS_ENV, None)
    if weights is not None:
        env[WEIGHTS_ENV] = str(weights)
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "app.py"], cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    while time.perf_counter() - started < 300:
        if server.poll() is not None:
            raise RuntimeError(f"app.py in {root} exited with {server.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=2).close()
            return server, time.perf_counter() - started
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("app.py did not start within 300 s")


def photo_variant(base: np.ndarray, trial: int, folder: Path) -> Path:
    """The base photo with one pixel set from ``trial``: new content, same look and size."""
    array = base.copy()
    array[0, 0] = [trial % 256, (trial // 256) % 256, 7]
    path = folder / f"photo_{trial}.jpg"
    Image.fromarray(array).save(path, quality=95)
    return path


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def startup(root: Path, photo: Path) -> tuple[float, float]:
    """(seconds until HTTP answers, seconds until the first /score is answered), offline, production models."""
    port = free_port()
    started = time.perf_counter()
    server, http = start_app(root, port, None)
    try:
        Client(f"http://127.0.0.1:{port}/", verbose=False).predict(handle_file(str(photo)), api_name="/score")
        return http, time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose app.py to measure")
    parser.add_argument("--arch", default="RN50-quickgelu")
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qualiclip_bench_app_"))
    weights = make_random_checkpoint(work / "random.pth", arch=args.arch)
    examples = sorted((ROOT / "examples").glob("*.jpg"))
    base = np.asarray(Image.open(examples[0]).convert("RGB").resize(SIZE, Image.Resampling.BICUBIC))
    port = free_port()
    server, _ = start_app(args.root, port, weights)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        warm = photo_variant(base, 10_000, work)
        client.predict(handle_file(str(warm)), api_name="/score")
        client.predict(handle_file(str(warm)), "gradcam", -1, 0.5, api_name="/heatmaps")
        client.predict(handle_file(str(warm)), "gaussian_blur", 2, api_name="/robustness")
        model = load_model(weights=weights, max_side=768)  # the bare forward, timed next to each trial
        model.score([warm])
        forwards, score_and_maps, robustness = [], [], []
        for trial in range(args.trials):
            photo = photo_variant(base, 2 * trial, work)
            forwards.append(timed(lambda: model.score([photo])))
            score_and_maps.append(timed(lambda: (
                client.predict(handle_file(str(photo)), api_name="/score"),
                client.predict(handle_file(str(photo)), "gradcam", -1, 0.5, api_name="/heatmaps"))))
            photo = photo_variant(base, 2 * trial + 1, work)
            forwards.append(timed(lambda: model.score([photo])))
            client.predict(handle_file(str(photo)), api_name="/score")
            level = 1 + trial % 5
            robustness.append(timed(lambda: client.predict(handle_file(str(photo)), "gaussian_blur", level,
                                                           api_name="/robustness")))
    finally:
        server.terminate()
        server.wait(timeout=60)
    http_s, first_score_s = startup(args.root, examples[0])
    forward = statistics.median(forwards)
    ratios = (statistics.median(s / f for s, f in zip(score_and_maps, forwards[0::2])),
              statistics.median(r / f for r, f in zip(robustness, forwards[1::2])))
    checks = [
        (f"/score + /heatmaps <= {TARGET_SCORE_AND_MAPS}x", ratios[0] <= TARGET_SCORE_AND_MAPS),
        (f"/robustness after /score <= {TARGET_ROBUSTNESS}x", ratios[1] <= TARGET_ROBUSTNESS),
        (f"start to first request served <= {TARGET_START_S:g} s", first_score_s <= TARGET_START_S),
    ]
    checkout = "this checkout" if args.root == ROOT else f"`{args.root.name}`"
    lines = [
        f"Measured {date.today().isoformat()} ({checkout}) on {os.cpu_count()} cores, {torch.get_num_threads()} "
        f"torch threads: `python app.py` on random `{args.arch}` weights, CPU, a {SIZE[0]}x{SIZE[1]} photo "
        f"uploaded again for every call through gradio_client, a new photo each trial; medians of "
        f"{args.trials} trials.",
        "",
        "| what | seconds | x one bare forward |",
        "|---|---:|---:|",
        f"| one bare `model.score([photo])` (in-process) | {forward:.2f} | 1.00 |",
        f"| `/score` then `/heatmaps` (Grad-CAM, all pairs) | {statistics.median(score_and_maps):.2f} | "
        f"{ratios[0]:.2f} |",
        f"| `/robustness` at a new level after `/score` | {statistics.median(robustness):.2f} | {ratios[1]:.2f} |",
        f"| start (offline, bundled model) to HTTP up | {http_s:.1f} | |",
        f"| start (offline, bundled model) to first `/score` answered | {first_score_s:.1f} | |",
        "",
        "Targets: " + "; ".join(f"{text}: **{'met' if ok else 'MISSED'}**" for text, ok in checks) + ".",
        f"Load average at the end: {os.getloadavg()[0]:.1f}.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.update_results:
        replace_section(SECTION, f"{SECTION}\n\n{report}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
