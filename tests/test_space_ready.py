"""Ready for a Hugging Face Space: ZeroGPU wrapping, lazy start-up, a front matter that builds."""
from __future__ import annotations

import importlib
import inspect
import sys
import types
from pathlib import Path
from typing import Callable

import pytest

from qualiclip.studio import gpu
from qualiclip.studio.callbacks import Callbacks
from qualiclip.studio.bookings import LONG_CAP_S, MIN_S, Bookings
from qualiclip.studio.layout import ZERO_GPU_QUEUE_SIZE, build_demo
from qualiclip.studio.model_slots import Studio

ROOT = Path(__file__).resolve().parent.parent
#: Handlers that run no model: re-blending, tab bookkeeping, and the error cards (they only decode again).
NOT_MODEL_RUNNING = {"reblend", "selected_tab", "main_image_shown", "input_error", "two_photos_error"}


def test_every_model_callback_is_one_gpu_call_booking_from_its_work(tiny_studio: Studio,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``spaces`` there (a stand-in recording what it decorates), each model-running handler is a
    gpu_call with a duration callable; model events have no app-level cap and the queue is explicit."""
    decorated: list[Callable] = []

    def stand_in_gpu(task, duration):
        assert callable(duration)
        decorated.append(task)
        return task

    monkeypatch.setattr(gpu, "spaces", types.SimpleNamespace(GPU=stand_in_gpu))
    demo = build_demo(tiny_studio)
    model_running = {name for name in vars(Callbacks) if not name.startswith("_")} - NOT_MODEL_RUNNING
    # by handler name (a named event's function is named after its endpoint: endpoints.as_tool)
    on_gpu = {fn.fn.gpu_handler.__name__: fn for fn in demo.fns.values() if hasattr(fn.fn, "gpu_handler")}
    assert set(on_gpu) == model_running and len(decorated) == len(on_gpu)
    handler_names = {getattr(inspect.unwrap(fn.fn), "__name__", "") for fn in demo.fns.values()
                     if not hasattr(fn.fn, "gpu_handler")}
    assert not handler_names & model_running
    assert all(fn.concurrency_limit is None for fn in on_gpu.values())
    assert demo._queue.max_size == ZERO_GPU_QUEUE_SIZE > 1
    assert on_gpu["analyse_upload"].api_visibility == "private"
    assert {"score", "heatmaps", "robustness"} <= {fn.api_name for fn in on_gpu.values()}


def test_without_zero_gpu_callbacks_are_left_as_they_are(tiny_studio: Studio) -> None:
    handlers = Callbacks(tiny_studio)
    assert not gpu.on_zero_gpu()
    assert gpu.gpu_call(handlers.score_image, lambda *args: 5, handlers.analyses) == handlers.score_image


def test_zero_gpu_without_spaces_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing the GPU module anew with SPACES_ZERO_GPU set and no importable ``spaces`` fails at once."""
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setitem(sys.modules, "spaces", None)  # None: "import spaces" fails as for a missing package
    monkeypatch.delitem(sys.modules, "qualiclip.studio.gpu")  # put back when the test ends
    with pytest.raises(RuntimeError, match="SPACES_ZERO_GPU is set.*`spaces` package cannot be imported"):
        importlib.import_module("qualiclip.studio.gpu")


def test_interactive_bookings_fit_30_s_after_zero_gpus_factor(tiny_studio: Studio, tmp_path: Path) -> None:
    from PIL import Image

    big, small = tmp_path / "big.png", tmp_path / "small.png"
    Image.new("RGB", (6000, 4000)).save(big)
    Image.new("RGB", (320, 240)).save(small)
    bookings = Bookings(tiny_studio)
    for image in (big, small, None):
        for quick in (bookings.score, bookings.heatmaps, bookings.preview, bookings.upload, bookings.learn):
            assert MIN_S <= quick(image, "jpeg", 0) and quick(image, "jpeg", 0) * 1.5 <= 30
    assert bookings.sweep(big, "jpeg", True) > bookings.sweep(big, "jpeg", False) > bookings.sweep(small, "jpeg", False)
    assert bookings.sweep(big, "jpeg", True) <= LONG_CAP_S == bookings.batch([big] * 300)
    assert bookings.batch([small]) < bookings.batch([big] * 20) < LONG_CAP_S


def test_report_and_training_bookings_fit_their_caps_at_the_apps_limits(tiny_studio: Studio, tmp_path: Path) -> None:
    from PIL import Image

    from qualiclip.evaluation.robustness_report import ReportWork
    from qualiclip.studio.bookings import DEGRADE_S_PER_MP, FORWARD_S_PER_MP, QUICK_CAP_S, seconds
    from qualiclip.studio.live_training import APP_MAX_STEPS
    from qualiclip.studio.photo_report import MAX_SCORED_MEGAPIXELS

    photo = tmp_path / "photo.png"
    Image.new("RGB", (768, 512)).save(photo)  # 0.393 MP: 24 types x 6 levels = 56.6 MP, within the 60 MP limit
    bookings = Bookings(tiny_studio)
    one_type, all_types = bookings.robustness_report([photo], ["jpeg"]), bookings.robustness_report([photo], [])
    assert MIN_S <= one_type < all_types < LONG_CAP_S  # grows with the work, not clipped by the cap
    at_limit = ReportWork(photos=1, types=24, models=1, megapixels=MAX_SCORED_MEGAPIXELS / (24 * 6))
    assert seconds(at_limit.seconds(FORWARD_S_PER_MP, DEGRADE_S_PER_MP), cap=10_000) <= LONG_CAP_S  # unclipped
    assert bookings.robustness_report([photo], ["no_such_type"]) == MIN_S  # refused at once by the call
    assert bookings.training_step(photo, 1) < bookings.training_step(photo, APP_MAX_STEPS) <= QUICK_CAP_S


@pytest.mark.slow  # the fresh interpreter of tests/fresh_imports.py imports torch and gradio here
def test_start_up_imports_nothing_only_lazy_tabs_need(fresh_imports) -> None:
    """Building the app must not import what the heatmaps alone need (pytorch-grad-cam)."""
    assert fresh_imports.after("the app built").loaded("pytorch_grad_cam") == []


@pytest.mark.slow  # the fresh interpreter of tests/fresh_imports.py imports torch and gradio here
def test_the_server_allocator_tuning_applies_on_glibc(fresh_imports) -> None:
    # this machine runs glibc; the setting is process-wide, so it is applied there, not in the test process
    assert fresh_imports.after("the server's allocator tuning").value is True


#: Hardware names a Space's ``suggested_hardware`` may take (Hugging Face's Spaces configuration reference).
SPACE_HARDWARE = {"cpu-basic", "cpu-upgrade", "t4-small", "t4-medium", "l4x1", "l4x4", "a10g-small", "a10g-large",
                  "a10g-largex2", "a10g-largex4", "a100-large", "zero-a10g"}


def _front_matter() -> dict:
    import yaml

    text = (ROOT / "README.md").read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_space_front_matter_builds_with_the_pinned_gradio() -> None:
    import gradio

    meta = _front_matter()
    assert meta["sdk"] == "gradio" and (ROOT / meta["app_file"]).is_file()
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    gradio_pins = [pin for pin in pins if pin.startswith("gradio")]
    # a Space installs that exact Gradio, with the `mcp` package its MCP server needs
    assert gradio_pins == [f"gradio[mcp]=={meta['sdk_version']}"], gradio_pins
    assert gradio.__version__ == meta["sdk_version"]
    major, minor = (int(part) for part in str(meta["python_version"]).split("."))
    assert (major, minor) >= (3, 10)
    assert meta["suggested_hardware"] in SPACE_HARDWARE
    assert front_matter_problems(meta) == []


#: The Python versions ZeroGPU offers (Hugging Face's ZeroGPU docs list 3.10.13 and 3.12.12).
ZERO_GPU_PYTHONS = {"3.10", "3.12"}


def front_matter_problems(meta: dict) -> list[str]:
    """What stops a Space with this front matter from building on ZeroGPU (nothing for other hardware)."""
    if not str(meta.get("suggested_hardware", "")).startswith("zero-"):
        return []
    version = str(meta.get("python_version", ""))
    return [] if version in ZERO_GPU_PYTHONS else [f"python_version {version!r} is not one ZeroGPU offers"]


def test_a_zero_gpu_front_matter_with_another_python_is_refused() -> None:
    meta = _front_matter()
    assert front_matter_problems({**meta, "python_version": "3.11"}) == [
        "python_version '3.11' is not one ZeroGPU offers"]
    assert front_matter_problems({**meta, "python_version": "3.10"}) == []
    assert front_matter_problems({**meta, "python_version": "3.11", "suggested_hardware": "cpu-basic"}) == []


def test_spaces_is_a_dev_requirement_only() -> None:
    def names(path: Path) -> set[str]:
        return {line.split("#")[0].split("=")[0].split(">")[0].strip() for line in path.read_text().splitlines()}

    assert "spaces" not in names(ROOT / "requirements.txt")  # a Space installs its own
    assert "spaces" in names(ROOT / "requirements-dev.txt")
