"""ZeroGPU's process model on a CPU machine: the real ``spaces`` package, only its device side stubbed.

Importing this module (first thing, in a fresh process) turns the process into a simulated ZeroGPU
Space; the tests start it as a subprocess. ``spaces``' own ``GPU`` wrapper then runs every call
as on a Space: a worker forked per call (or a reused one), arguments and results through
``ForkingPickler``, the task in a fresh thread, ``gr.Error`` passed back, anything else turned
into "ZeroGPU worker error". Stubbed, because no Space or GPU is here:

- the device API (``SPACES_ZERO_DEVICE_API_URL``): a local HTTP server answering ``/schedule``
  (``idle`` from :data:`REUSE_ENV`: reuse a worker or fork a new one per call), ``/allow``,
  ``/release`` and ``/startup-report``, recording every booking;
- ``spaces.zero.torch`` (CUDA emulation, packing weights, moving them onto the GPU in a worker):
  replaced by no-ops, so the models stay on the CPU in every process. (The emulation itself needs
  a real GPU in the worker; what it would catch, model code run in the main process after
  start-up, is caught here by counting every trunk pass per process.)

A tensor in a worker's result is refused when pickled (on a Space a CUDA tensor there fails in the
main process). Every event is one JSON line in the file named by :data:`LOG_ENV`: ``booking``
(seconds), ``payload`` (pickled bytes, ``to_worker`` or ``from_worker``) and ``model`` (a trunk pass or a text-tower
encode), each with the pid that logged it.

    SIM_LOG=/tmp/log.jsonl python tests/zerogpu_sim.py WEIGHTS PORT   # serve the app simulated
"""
from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

if TYPE_CHECKING:
    import numpy as np

LOG_ENV, REUSE_ENV = "SIM_LOG", "SIM_REUSE_WORKERS"


def log(event: str, **fields) -> None:
    """Append one event to the log file: one O_APPEND write per line, so lines from several processes and
    threads never interleave. No lock: a worker forked while another thread held one would wait for ever."""
    line = json.dumps({"event": event, "pid": os.getpid(), **fields}) + "\n"
    fd = os.open(os.environ[LOG_ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


class DeviceAPI(http.server.BaseHTTPRequestHandler):
    """ZeroGPU's device API as ``spaces`` calls it: every schedule granted at once; without worker reuse,
    a released worker is ended (as the platform reclaims it), so forked workers do not pile up."""

    workers: dict[str, int] = {}

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        url = urlparse(self.path)
        params, body = parse_qs(url.query), b""
        if url.path == "/allow":
            self.workers[params["allowToken"][0]] = int(params["pid"][0])
        if url.path == "/release" and os.environ.get(REUSE_ENV) != "1":
            pid = self.workers.pop(params["allowToken"][0], None)
            if pid is not None:
                threading.Timer(0.5, _end, (pid,)).start()
        if url.path == "/schedule":
            log("booking", seconds=int(params["durationSeconds"][0]), task=params["taskId"][0])
            body = json.dumps({"idle": os.environ.get(REUSE_ENV) == "1", "nvidiaIndex": 0,
                               "nvidiaUUID": "GPU-simulated", "allowToken": uuid.uuid4().hex}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _end(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _device_api() -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DeviceAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def _no_device() -> types.ModuleType:
    """``spaces.zero.torch`` without a GPU: nothing to emulate, pack or move."""
    stub = types.ModuleType("spaces.zero.torch")
    for name in ("enter_mode", "patch", "unpatch", "init", "move"):
        setattr(stub, name, lambda *args, **kwargs: None)
    stub.pack = stub.size = lambda *args, **kwargs: 0
    stub.is_in_bad_fork = lambda: False
    return stub


def _refuse_tensors_in_results() -> None:
    """In a worker (a forked child), pickling any tensor fails, as a CUDA tensor in a result would."""
    import pickle
    from multiprocessing.reduction import ForkingPickler

    import torch

    def refuse(tensor):
        raise pickle.PicklingError(f"a {type(tensor).__name__} in a GPU call's result (CPU data only)")

    for kind in (torch.Tensor, torch.nn.Parameter):
        ForkingPickler.register(kind, refuse)


def _record_payloads(main_pid: int) -> None:
    """Log the pickled size of everything ``spaces`` sends between the processes."""
    from multiprocessing.reduction import ForkingPickler

    import spaces.utils

    put = spaces.utils.SimpleQueue.put

    def measured_put(self, obj):
        if obj is not None and type(obj).__name__ != "GradioQueueEvent":
            direction = "to_worker" if os.getpid() == main_pid else "from_worker"
            try:
                log("payload", direction=direction, bytes=len(ForkingPickler.dumps(obj)))
            except Exception:  # noqa: BLE001 - the real put reports the pickling error
                pass
        return put(self, obj)

    spaces.utils.SimpleQueue.put = measured_put


def _count_model_code() -> None:
    """Log every trunk pass and text-tower encode with the pid that ran it."""
    from qualiclip import QualityScorer

    for name in ("trunk", "encode_pairs"):
        original = getattr(QualityScorer, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            log("model", what=_name)
            return _original(self, *args, **kwargs)

        setattr(QualityScorer, name, counted)


def simulate() -> None:
    """Make this process a simulated ZeroGPU Space (before the app is imported)."""
    os.environ["SPACES_ZERO_GPU"] = "true"
    os.environ["SPACES_ZERO_DEVICE_API_URL"] = _device_api()
    os.environ.setdefault("ZEROGPU_OFFLOAD_DIR", str(Path(os.environ[LOG_ENV]).with_suffix(".offload")))
    sys.modules["spaces.zero.torch"] = _no_device()
    import spaces  # noqa: F401 - ZeroGPU mode: the real decorator and wrappers

    _record_payloads(os.getpid())
    _count_model_code()
    os.register_at_fork(after_in_child=_refuse_tensors_in_results)


def same(one, other) -> bool:
    """Deep equality of callback results: arrays and frames exactly, dataclasses field by field."""
    import dataclasses

    import numpy as np
    import pandas as pd

    if isinstance(one, (tuple, list)):
        return type(one) is type(other) and len(one) == len(other) and all(map(same, one, other))
    if isinstance(one, dict):
        return isinstance(other, dict) and one.keys() == other.keys() and all(same(one[k], other[k]) for k in one)
    if isinstance(one, np.ndarray):
        return isinstance(other, np.ndarray) and one.dtype == other.dtype and np.array_equal(one, other)
    if isinstance(one, str) and isinstance(other, str) and os.path.isfile(one) and os.path.isfile(other):
        return Path(one).read_bytes() == Path(other).read_bytes()  # a download: a fresh folder per request
    if hasattr(one, "savefig"):  # a matplotlib figure: compared as drawn
        return type(one) is type(other) and np.array_equal(_pixels(one), _pixels(other))
    if isinstance(one, pd.DataFrame):
        return isinstance(other, pd.DataFrame) and one.equals(other)
    if dataclasses.is_dataclass(one):
        return type(one) is type(other) and all(same(getattr(one, f.name), getattr(other, f.name))
                                                for f in dataclasses.fields(one))
    return type(one) is type(other) and (one == other or vars(one) == vars(other) if hasattr(one, "__dict__")
                                         else one == other)


def _pixels(figure) -> np.ndarray:
    """A matplotlib figure drawn to RGBA pixels."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def compare_with_in_process(weights: str, photo: str, other_photo: str) -> dict:
    """Every model-running callback on ``photo`` in-process, then through ``gpu_call`` (simulated ZeroGPU);
    which results differ, and what a tensor returned from a GPU call gives."""
    import torch

    from qualiclip.studio.bookings import Bookings
    from qualiclip.studio.callbacks import Callbacks
    from qualiclip.studio.gpu import gpu_call, on_zero_gpu
    from qualiclip.studio.model_slots import load_studio

    studio = load_studio(weights)
    calls = [("score_image", "score", (photo,)),
             ("explain_image", "heatmaps", (photo, "gradcam", -1, 0.5)),
             ("explain_image", "heatmaps", (photo, "attention", 0, 0.3)),
             ("robustness_preview", "preview", (photo, "gaussian_blur", 3)),
             ("analyse_upload", "upload", (photo, "gradcam++", -1, 0.5, "jpeg", 2, "Robustness")),
             ("analyse_upload", "upload", (other_photo, "gradcam", 1, 0.5, "jpeg", 2, "Score")),
             ("score_custom_pairs", "score", (photo, "Sharp photo. / Blurry photo.")),
             ("learn_similarities", "learn", (photo, "gaussian_blur", 0)),
             ("sweep_image", "sweep", (photo, "jpeg", False)),
             ("compare_models", "compare", (photo,)),
             ("batch_score", "batch", ([photo, other_photo],)),
             ("compare_two_photos", "two_photos", (photo, other_photo)),
             ("robustness_report", "robustness_report", ([photo, other_photo], ["jpeg"], 0)),
             ("training_step", "training_step", (photo, 1))]
    reference = Callbacks(studio)
    expected = [getattr(reference, name)(*args) for name, _, args in calls]
    main_model_calls = len([line for line in Path(os.environ[LOG_ENV]).read_text().splitlines()
                            if '"model"' in line]) if Path(os.environ[LOG_ENV]).exists() else 0
    handlers, bookings = Callbacks(studio), Bookings(studio)
    different = []
    for (name, booking, args), wanted in zip(calls, expected):
        got = gpu_call(getattr(handlers, name), getattr(bookings, booking), handlers.analyses)(*args)
        if not same(wanted, got):
            different.append(name)
    try:
        gpu_call(lambda: torch.zeros(1), lambda: 5)()
        refused = ""
    except Exception as err:  # noqa: BLE001 - what spaces makes of it is the point
        refused = f"{getattr(err, 'title', '')}: {err}"
    return {"zero_gpu": on_zero_gpu(), "pid": os.getpid(), "compared": [name for name, _, _ in calls],
            "different": different, "tensor_refused": refused, "reference_model_calls": main_model_calls}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


START_TIMEOUT_S = 240


def events(log: Path, kind: str) -> list[dict]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [entry for entry in map(json.loads, lines) if entry["event"] == kind]


def photo_file(folder: Path, photo: Any, seed: int) -> Path:
    """A photo whose content no earlier call has seen (a coloured corner block)."""
    from PIL import Image

    array = photo.copy()
    array[:8, :8] = [(37 * seed) % 256, (91 * seed) % 256, (53 * seed + 11) % 256]
    path = folder / f"photo_{seed}.png"
    Image.fromarray(array).save(path)
    return path


class SimulatedSpace:
    """``python -m tests.zerogpu_sim`` serving the app on the tiny model; its log read back per test."""

    def __init__(self, weights: Path, log: Path, reuse: bool) -> None:
        self.log, self.port = log, free_port()
        env = {**os.environ, LOG_ENV: str(log), REUSE_ENV: "1" if reuse else "0"}
        self.process = subprocess.Popen([sys.executable, "-m", "tests.zerogpu_sim", str(weights), str(self.port)],
                                        cwd=Path(__file__).resolve().parents[1], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{self.port}/"
        started = time.monotonic()
        while time.monotonic() - started < START_TIMEOUT_S:
            if self.process.poll() is not None:
                raise RuntimeError(f"the simulated Space exited: {self.process.stderr.read()[-3000:]}")
            try:
                urllib.request.urlopen(self.url + "config", timeout=2).close()
                return
            except OSError:
                time.sleep(0.2)
        self.process.kill()
        raise RuntimeError("the simulated Space did not start")

    def counts(self) -> tuple[int, int, int]:
        """(bookings, trunk passes in workers, model calls in the main process) so far."""
        model = events(self.log, "model")
        return (len(events(self.log, "booking")),
                sum(1 for e in model if e["what"] == "trunk" and e["pid"] != self.process.pid),
                sum(1 for e in model if e["pid"] == self.process.pid))

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


if __name__ == "__main__":
    simulate()
    weights, port = sys.argv[1], sys.argv[2]
    os.environ.update(QUALICLIP_STUDIO_WEIGHTS=weights, GRADIO_SERVER_PORT=port, GRADIO_ANALYTICS_ENABLED="False")
    from qualiclip.studio.serve import main

    main()
