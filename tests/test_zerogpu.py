"""The app under ZeroGPU's process model, on the CPU: ``tests/zerogpu_sim.py`` runs the real ``spaces``
package (fork per call, pickled arguments and results, the task in a fresh thread) with only its
device side stubbed, and logs every booking, payload and trunk pass with the process that made it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from PIL import Image

from tests.browser import needs_chromium
from tests.zerogpu_sim import LOG_ENV, REUSE_ENV, SimulatedSpace, events, photo_file

ROOT = Path(__file__).resolve().parent.parent
#: ZeroGPU multiplies bookings by 1.5 on current cards; the interactive calls must stay within 30 s after it.
DURATION_FACTOR, QUICK_LIMIT_S = 1.5, 30

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def space(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedSpace]:
    sim = SimulatedSpace(tiny_checkpoint, tmp_path_factory.mktemp("zerogpu") / "log.jsonl", reuse=False)
    yield sim
    sim.close()


def test_api_score_then_heatmaps_runs_the_trunk_once(space: SimulatedSpace, photo: np.ndarray, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    client = Client(space.url, verbose=False)
    path = photo_file(tmp_path, photo, 1)
    before = space.counts()
    score = client.predict(handle_file(str(path)), api_name="/score")[2]
    maps = client.predict(handle_file(str(path)), "gradcam", -1, 0.5, api_name="/heatmaps")
    after = space.counts()
    assert 0 <= score["score"] <= 1 and "Towards good" in maps[2]
    assert after[0] - before[0] == 2  # two GPU calls, in two forked workers
    assert after[1] - before[1] == 1  # one trunk pass: the heatmaps reused the main process's record
    assert after[2] == 0  # no model code in the main process
    payloads = events(space.log, "payload")
    assert payloads and max(p["bytes"] for p in payloads) < 4 << 20  # a 128 px photo: well under 4 MB a call


def test_eight_visitors_at_once_are_all_served(space: SimulatedSpace, tiny_model, photo: np.ndarray,
                                               tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    clients = [Client(space.url, verbose=False) for _ in range(8)]
    paths = [photo_file(tmp_path, photo, 100 + index) for index in range(8)]
    results: list = [None] * 8
    start = threading.Barrier(8)

    def visit(index: int) -> None:
        start.wait()
        try:
            results[index] = clients[index].predict(handle_file(str(paths[index])), api_name="/score")[2]["score"]
        except Exception as err:  # noqa: BLE001 - a refusal is what this test looks for
            results[index] = err

    threads = [threading.Thread(target=visit, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    refused = [r for r in results if not isinstance(r, float)]
    assert not refused, refused
    # The app rounds to 4 decimals (at most 5e-5 off); the worker process may round float32 sums differently
    # from this one (1e-6), so a score on a rounding boundary may round the other way.
    assert results == pytest.approx([tiny_model.score([path])[0].score for path in paths], abs=5e-5 + 1e-6)
    assert space.counts()[2] == 0


def test_a_worker_gr_error_reaches_the_visitor(space: SimulatedSpace, photo: np.ndarray, tmp_path: Path) -> None:
    """Pairs that do not parse: the worker raises the app's gr.Error, and its text, not "ZeroGPU worker
    error", reaches the client. An unusable image is refused in the main process, before any booking."""
    from gradio_client import Client, handle_file

    client = Client(space.url, verbose=False)
    path = photo_file(tmp_path, photo, 7)
    before = space.counts()[0]
    with pytest.raises(Exception) as raised:
        client.predict(handle_file(str(path)), "no separator on this line", api_name="/custom_pairs")
    assert "is not one pair" in str(raised.value) and "ZeroGPU worker error" not in str(raised.value)
    assert space.counts()[0] == before + 1
    thin = tmp_path / "thin.png"
    Image.new("RGB", (16, 200)).save(thin)
    with pytest.raises(Exception, match="at least 32 px"):
        client.predict(handle_file(str(thin)), api_name="/score")
    assert space.counts()[0] == before + 1


@needs_chromium
def test_a_browser_upload_is_one_gpu_call_with_one_trunk_pass(space: SimulatedSpace, photo: np.ndarray,
                                                               tmp_path: Path, chromium) -> None:
    path = photo_file(tmp_path, photo, 3)
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.set_default_timeout(120_000)
        page.goto(space.url)
        before = space.counts()
        page.locator("#input-image input[type=file]").set_input_files(str(path))
        page.locator("#score-gauge .qc-gauge").wait_for()
        page.locator("#good-caption", has_text="Towards good").wait_for()
        time.sleep(1)  # any further event the upload might trigger would have started by now
        after = space.counts()
    finally:
        page.close()
    assert after[0] - before[0] == 1  # score, both maps (and no hidden-tab preview): one GPU call
    assert after[1] - before[1] == 1
    assert after[2] == 0
    bookings = events(space.log, "booking")[before[0]:after[0]]
    assert all(b["seconds"] * DURATION_FACTOR <= QUICK_LIMIT_S for b in bookings)


EQUALITY_SCRIPT = """
import sys, json
sys.path.insert(0, {root!r})
from tests.browser import needs_chromium
from tests.zerogpu_sim import simulate
simulate()
from tests.browser import needs_chromium
from tests.zerogpu_sim import compare_with_in_process
print(json.dumps(compare_with_in_process({weights!r}, {photo!r}, {other!r})))
"""


@pytest.mark.parametrize("reuse", [False, True], ids=["fork-per-call", "reused-worker"])
def test_every_callback_gives_the_in_process_result(tiny_checkpoint: Path, photo: np.ndarray, tmp_path: Path,
                                                    reuse: bool) -> None:
    path, other = photo_file(tmp_path, photo, 11), photo_file(tmp_path, photo[::-1].copy(), 12)
    log = tmp_path / "log.jsonl"
    script = EQUALITY_SCRIPT.format(root=str(ROOT), weights=str(tiny_checkpoint), photo=str(path), other=str(other))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env={**os.environ, LOG_ENV: str(log), REUSE_ENV: "1" if reuse else "0"})
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["zero_gpu"] is True
    assert report["different"] == [], report
    assert len(report["compared"]) >= 9
    assert report["tensor_refused"] and "ZeroGPU worker error" in report["tensor_refused"]
    main_pid = report["pid"]
    in_main = [e for e in events(log, "model") if e["pid"] == main_pid]
    assert len(in_main) == report["reference_model_calls"] > 0  # only the in-process reference ran model code there
    bookings = events(log, "booking")
    assert len(bookings) >= len(report["compared"])
    assert all(5 <= b["seconds"] <= 60 for b in bookings)
