"""The app under ZeroGPU's process model, simulated on the CPU: GPU calls, trunk passes, bookings, refusals, bytes.

Serves the app through ``tests/zerogpu_sim.py`` (the real ``spaces`` package's fork-per-call
wrappers, only the device API and the CUDA side stubbed; a new worker forked for every call) on
random RN50 weights, then:

- uploads photos in a real browser (Chromium), Robustness tab hidden, and counts the GPU calls
  (bookings), the trunk passes (in any process) and the outputs that never showed (refusals);
- calls ``/score`` then ``/heatmaps`` through gradio_client on new photos: trunk passes, and the
  pickled bytes crossing the process boundary per call;
- sends 8 visitors' ``/score`` at once: how many are refused;
- reports the largest upload-path booking, recorded and at the production cap on a GPU
  (:data:`~qualiclip.studio.model_slots.GPU_MAX_SIDE`), times ZeroGPU's 1.5;
- measures the bytes a cold worker moves onto the GPU for four models on one checkpoint (the
  QualiCLIP+ slots) without and with shared towers.

Nothing here runs on a GPU: cold and warm latency, real quotas and the scheduler need a real Space.

    python -m benchmarks.bench_zerogpu [--uploads 3] [--update-results]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.results_file import publish, targets_line
from qualiclip import load_model
from qualiclip.studio import EXAMPLES_DIR
from qualiclip.studio.bookings import Bookings
from qualiclip.studio.model_slots import GPU_MAX_SIDE, SharedTowers, load_studio
from qualiclip.tiny import make_random_checkpoint
from tests.zerogpu_sim import SimulatedSpace, events, photo_file

SECTION = "## ZeroGPU, simulated on the CPU (benchmarks/bench_zerogpu.py)"
DURATION_FACTOR = 1.5
CHROMIUM = "/usr/bin/chromium"
SIZE = (768, 512)
VISITORS = 8


def resident_bytes(models) -> int:
    """Bytes of the models' parameters, buffers and prompt features, each storage counted once (as
    ``spaces`` packs them for the workers)."""
    storages = {}
    for model in models:
        for tensor in (*model.module.parameters(), *model.module.buffers(), model.prompt_features):
            storage = tensor.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
    return sum(storages.values())


def towers(weights: Path) -> tuple[int, int]:
    """Bytes moved to the GPU for four models on one checkpoint: each its own CLIP, then shared."""
    alone = [load_model(weights=weights) for _ in range(4)]
    pool = SharedTowers()
    shared = [pool.adopt(load_model(weights=weights)) for _ in range(4)]
    return resident_bytes(alone), resident_bytes(shared)


def browser_uploads(space: SimulatedSpace, photos: list[Path]) -> tuple[list[int], list[int], int]:
    """Per upload: GPU calls and trunk passes; and how many uploads lacked an output."""
    from playwright.sync_api import sync_playwright

    calls, passes, missing = [], [], 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(120_000)
        for photo in photos:
            page.goto(space.url)
            before = space.counts()
            page.locator("#input-image input[type=file]").set_input_files(str(photo))
            try:
                page.locator("#score-gauge .qc-gauge").wait_for()
                page.locator("#good-caption", has_text="Towards good").wait_for()
                page.locator("#bad-caption", has_text="Towards bad").wait_for()
            except Exception:  # noqa: BLE001 - an output that never shows is what is counted
                missing += 1
            time.sleep(1.5)
            after = space.counts()
            calls.append(after[0] - before[0])
            passes.append(after[1] - before[1])
        browser.close()
    return calls, passes, missing


def api_pairs(space: SimulatedSpace, photos: list[Path]) -> tuple[list[int], dict[str, int]]:
    """Trunk passes per ``/score`` then ``/heatmaps``; the largest payload each way."""
    from gradio_client import Client, handle_file

    client, passes = Client(space.url, verbose=False), []
    for photo in photos:
        before = space.counts()
        client.predict(handle_file(str(photo)), api_name="/score")
        client.predict(handle_file(str(photo)), "gradcam", -1, 0.5, api_name="/heatmaps")
        passes.append(space.counts()[1] - before[1])
    payloads = events(space.log, "payload")
    return passes, {direction: max(p["bytes"] for p in payloads if p["direction"] == direction)
                    for direction in ("to_worker", "from_worker")}


def visitors(space: SimulatedSpace, photos: list[Path]) -> int:
    """How many of ``photos``' ``/score`` calls, sent at once, are refused."""
    from gradio_client import Client, handle_file

    clients = [Client(space.url, verbose=False) for _ in photos]
    refused, start, lock = [0], threading.Barrier(len(photos)), threading.Lock()

    def visit(client, photo) -> None:
        start.wait()
        try:
            client.predict(handle_file(str(photo)), api_name="/score")
        except Exception:  # noqa: BLE001 - a refusal is what is counted
            with lock:
                refused[0] += 1

    threads = [threading.Thread(target=visit, args=pair) for pair in zip(clients, photos)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return refused[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=3)
    parser.add_argument("--arch", default="RN50-quickgelu")
    parser.add_argument("--update-results", action="store_true", help=f"rewrite '{SECTION}' in RESULTS.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qualiclip_bench_zerogpu_"))
    weights = make_random_checkpoint(work / "random.pth", arch=args.arch)
    base = np.asarray(Image.open(sorted(EXAMPLES_DIR.glob("*.jpg"))[0]).convert("RGB").resize(SIZE))
    photos = [photo_file(work, base, seed) for seed in range(args.uploads * 2 + VISITORS)]
    before_towers, after_towers = towers(weights)
    bookings = Bookings(load_studio(weights))
    bookings.max_side = GPU_MAX_SIDE  # on ZeroGPU the models run on cuda, capped at GPU_MAX_SIDE
    huge = work / "huge.png"
    Image.new("RGB", (8000, 6000)).save(huge)
    worst = max(booking(huge, "gradcam", -1, 0.5, "jpeg", 3, True)
                for booking in (bookings.upload, bookings.score, bookings.heatmaps, bookings.preview))
    space = SimulatedSpace(weights, work / "log.jsonl", reuse=False)
    try:
        calls, passes, missing = browser_uploads(space, photos[:args.uploads])
        upload_bookings = [b["seconds"] for b in events(space.log, "booking")]
        api_passes, payload = api_pairs(space, photos[args.uploads:2 * args.uploads])
        refused = visitors(space, photos[2 * args.uploads:])
        in_main = space.counts()[2]
    finally:
        space.close()
    checks = [
        ("GPU calls per browser upload = 1", set(calls) == {1}),
        ("trunk passes for API /score then /heatmaps = 1", set(api_passes) == {1}),
        ("largest upload-path booking x1.5 <= 30 s", worst * DURATION_FACTOR <= 30),
        (f"{VISITORS} visitors at once: 0 refused", refused == 0),
        ("events of one upload refused: 0", missing == 0),
    ]
    mb = 1 << 20
    lines = [
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end), "
        f"CPU only: `tests/zerogpu_sim.py` (real `spaces` 0.51.3 wrappers, a worker forked per call, device API "
        f"and CUDA side stubbed) serving the app on random `{args.arch}` weights, {SIZE[0]}x{SIZE[1]} photos, "
        f"{args.uploads} browser uploads (Chromium, Robustness tab hidden) and {args.uploads} API pairs.",
        "",
        "| what | measured | target |",
        "|---|---:|---:|",
        f"| GPU calls per browser upload (score + both maps) | {', '.join(map(str, calls))} | 1 |",
        f"| trunk passes per browser upload (all processes) | {', '.join(map(str, passes))} | 1 |",
        f"| trunk passes, API `/score` then `/heatmaps` | {', '.join(map(str, api_passes))} | 1 |",
        f"| largest upload-path booking, recorded here (x1.5) | {max(upload_bookings)} s "
        f"({max(upload_bookings) * DURATION_FACTOR:g} s) | <= 30 s |",
        f"| largest upload-path booking, any image at the GPU cap {GPU_MAX_SIDE} px (x1.5) | {worst} s "
        f"({worst * DURATION_FACTOR:g} s) | <= 30 s |",
        f"| {VISITORS} visitors' `/score` at once, refused | {refused} of {VISITORS} | 0 |",
        f"| uploads with an output missing (an event refused) | {missing} of {len(calls)} | 0 |",
        f"| model code run in the main process after start-up | {in_main} calls | 0 |",
        f"| largest payload main -> worker / worker -> main (pickled) | {payload['to_worker'] / mb:.1f} MB / "
        f"{payload['from_worker'] / mb:.1f} MB | bounded |",
        f"| bytes a cold worker moves to the GPU, four models on one checkpoint: own CLIP each / shared | "
        f"{before_towers / mb:.0f} MB / {after_towers / mb:.0f} MB | shared |",
        "",
        "GPU figures (cold and warm latency, fp16 payloads, real queueing and quotas): not measured, no GPU "
        "or Space here.",
        "",
        targets_line(checks),
    ]
    publish(SECTION, "\n".join(lines) + "\n", args.update_results)
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
