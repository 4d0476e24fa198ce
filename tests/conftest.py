"""Shared fixtures (a tiny random QualiCLIP checkpoint built offline, once per session; one app server,
one browser, one fresh interpreter for import checks) and how the tiers run: both on every core through
pytest-xdist, the fast tier (``-m "not slow"``) test by test, the full suite file by file. torch, open_clip
and the app are imported inside the fixtures, so xdist's controller process, which runs no test, starts
in a second instead of importing them too."""
from __future__ import annotations

import ast
import functools
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np
import pytest

if TYPE_CHECKING:
    from qualiclip import QualityScorer
    from qualiclip.studio.model_slots import Studio
    from tests.fresh_imports import FreshImports


#: Fixtures started once per worker: the files that use them run on one worker, so they start once.
SHARED_SERVERS = ("app_url", "app_client", "chromium")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for pytest.ini's ``-n auto``: one per core, for either tier."""
    return os.cpu_count() or 1


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In the fast tier, a test file marked slow as a whole (a module-level ``pytestmark`` naming
    ``pytest.mark.slow``) is not even imported: every xdist worker would import its Ray, Playwright or
    torch.distributed only to deselect all of it."""
    if config.getoption("markexpr") != "not slow" or not collection_path.name.startswith("test_") \
            or collection_path.suffix != ".py":
        return None
    for node in ast.parse(collection_path.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(target, "id", "") for target in node.targets] == ["pytestmark"]:
            return True if "pytest.mark.slow" in ast.unparse(node.value) else None
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Outside the fast tier, each test file runs whole on one worker (pytest.ini's ``--dist loadgroup``):
    its module fixtures (a Ray cluster, a zygote, a ZeroGPU simulation) start once, and the files that use
    the app server or the browser share one worker, so those start once too. The fast tier is spread test
    by test."""
    if config.getoption("markexpr") == "not slow":
        return
    shared = {item.path for item in items if set(SHARED_SERVERS) & set(getattr(item, "fixturenames", ()))}
    for item in items:
        item.add_marker(pytest.mark.xdist_group("app-server-and-browser" if item.path in shared else item.path.name))


def pytest_configure(config: pytest.Config) -> None:
    """An xdist worker gets its share of the cores for torch's threads (threads beyond the cores spin)."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(workers)))


@pytest.fixture(scope="session", autouse=True)
def app_models_on_torch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The app's models stay on torch in tests (``QUALICLIP_STUDIO_ONNX=0``), so every app test sees one
    backend throughout; tests of the ONNX Runtime switch turn it on. Any export goes to a temporary
    cache folder (yielded), never the user's."""
    from qualiclip.onnx.backend import CACHE_ENV
    from qualiclip.studio.model_slots import ONNX_ENV

    cache = tmp_path_factory.mktemp("onnx-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ONNX_ENV, "0")
        patch.setenv(CACHE_ENV, str(cache))
        yield cache


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """One torch thread for a module of many small ops: on 2 shared cores, threads mostly wait."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _default_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="session")
def popen_with_ctrl_c() -> Callable[..., subprocess.Popen]:
    """``subprocess.Popen`` whose child takes SIGINT as a terminal's Ctrl-C. A test run started in
    the background (``cmd &``, nohup) hands SIGINT on as ignored, and Python keeps an inherited
    ignored SIGINT ignored, so without this the child would never see the test's Ctrl-C."""
    return functools.partial(subprocess.Popen, preexec_fn=_default_ctrl_c)


@pytest.fixture(scope="session")
def fresh_imports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshImports]:
    """One fresh interpreter for every import-isolation check of the session (see tests/fresh_imports.py)."""
    from tests.fresh_imports import FreshImports

    runner = FreshImports(tmp_path_factory.mktemp("fresh-imports"))
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qualiclip.tiny import make_random_checkpoint

    return make_random_checkpoint(tmp_path_factory.mktemp("weights") / "tiny.pth", seed=0)


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint: Path) -> QualityScorer:
    from qualiclip import load_model

    return load_model(weights=tiny_checkpoint)


@pytest.fixture(scope="session")
def tiny_studio(tiny_checkpoint: Path) -> Studio:
    """The app's models as the app loads them when given one checkpoint: here the tiny random one."""
    from qualiclip.studio.model_slots import load_studio

    return load_studio(tiny_checkpoint)


@pytest.fixture(scope="session")
def served_studio(tiny_studio: Studio) -> Studio:
    """The tiny studio as a public Space offline meets it: one more model, the official one, unavailable."""
    from qualiclip.studio.model_slots import ModelSlot, Studio

    missing = ModelSlot("qualiclip", "Official", reason="its weights are not on this server.",
                        detail="/root/.cache/torch/hub/checkpoints/qualiclip.pth missing")
    return Studio(tiny_studio.primary, tiny_studio.banner, (*tiny_studio.slots, missing))


@pytest.fixture(scope="session")
def app_url(served_studio: Studio) -> Iterator[str]:
    """One app server for every test that calls the app over HTTP or in a browser (a thread of this process)."""
    from tests.app_server import running_app

    with running_app(served_studio) as url:
        yield url


@pytest.fixture(scope="session")
def app_client(app_url: str):
    """A ``gradio_client.Client`` of :func:`app_url`."""
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (tests/browser.py); tests open and close their own pages."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, LAUNCH_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A natural photograph (uint8 HxWx3) shipped with scikit-image, downscaled for speed."""
    from skimage import data

    return data.astronaut()[::4, ::4].copy()


@pytest.fixture(scope="module")
def photo_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Three training photos and one held-out photo, downscaled for speed."""
    from PIL import Image
    from skimage import data

    root = tmp_path_factory.mktemp("photos")
    splits = {"train": ("astronaut", "coffee", "rocket"), "holdout": ("chelsea",)}
    for split, names in splits.items():
        (root / split).mkdir()
        for name in names:
            image = Image.fromarray(getattr(data, name)())
            image.thumbnail((192, 192))
            image.save(root / split / f"{name}.png")
    return root / "train", root / "holdout"


@pytest.fixture()
def make_fifo() -> Iterator[Callable[[Path], Path]]:
    """Creates FIFOs (named pipes). Code under test must never open one; if it does, it blocks
    until a writer appears, so each FIFO gets a writer after a few seconds: the test then fails
    instead of hanging."""
    timers: list[threading.Timer] = []

    def release(path: Path) -> None:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # succeeds only if a reader is waiting
        except OSError:
            pass

    def make(path: Path) -> Path:
        os.mkfifo(path)
        timers.append(threading.Timer(5.0, release, (path,)))
        timers[-1].start()
        return path

    yield make
    for timer in timers:
        timer.cancel()


def make_collection(folder: Path, photo: np.ndarray, count: int = 54) -> tuple[list[Path], list[Path]]:
    """``count`` usable images (three sizes and formats, some in a subfolder) and six unusable files.

    Returns (usable, unusable) paths; every file's pixels differ, so every score does too.
    """
    from PIL import Image

    (folder / "nested").mkdir(parents=True, exist_ok=True)
    usable = []
    for index in range(count):
        pixels = np.roll(photo, 3 * index, axis=1)
        kind = index % 3
        path = folder / ("nested" if index % 4 == 0 else "") / f"img{index:03d}.{('png', 'jpg', 'webp')[kind]}"
        image = Image.fromarray(pixels if kind == 0 else pixels[:96] if kind == 1 else pixels[:, :80])
        image.save(path, **({"quality": 90} if kind else {}))
        usable.append(path)
    unusable = {"truncated.jpg": usable[1].read_bytes()[:200], "empty.png": b"",
                "text.png": b"not an image at all", "header-only.jpg": b"\xff\xd8\xff\xe0 truncated",
                "half.png": usable[3].read_bytes()[:300]}
    for name, content in unusable.items():
        (folder / name).write_bytes(content)
    Image.fromarray(photo[:20, :20]).save(folder / "too-small.png")
    return usable, [folder / name for name in [*unusable, "too-small.png"]]


@pytest.fixture
def count_forwards(tiny_studio: Studio, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Batch sizes of every image-tower trunk pass (every forward starts with one) of the tiny studio's
    primary model, also the served app's (it runs in a thread of this process)."""
    model, calls = tiny_studio.primary, []
    original = model.trunk
    monkeypatch.setattr(model, "trunk", lambda batch: calls.append(len(batch)) or original(batch))
    return calls


@pytest.fixture(scope="session")
def report_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of two small photos for robustness reports, named so that its sorted order is the order the
    tests give them in (a report's random draws follow the photos' order)."""
    from PIL import Image
    from skimage import data

    root = tmp_path_factory.mktemp("report_photos")
    Image.fromarray(data.astronaut()[::8, ::8]).save(root / "a.png")
    Image.fromarray(data.coffee()[::6, ::6]).save(root / "b.png")
    return root
