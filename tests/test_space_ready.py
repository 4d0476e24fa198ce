"""Ready for a Hugging Face Space: ZeroGPU wrapping, lazy start-up, a front matter that builds."""
from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from qualiclip.studio import gpu
from qualiclip.studio.callbacks import Callbacks
from qualiclip.studio.layout import build_demo
from qualiclip.studio.model_slots import Studio

ROOT = Path(__file__).resolve().parent.parent
NOT_MODEL_RUNNING = {"reblend", "selected_tab"}


def test_every_model_callback_runs_inside_spaces_gpu(tiny_studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapped: list[str] = []

    def stand_in_gpu(duration: int):
        def decorate(handler):
            def on_a_gpu(*args, **kwargs):
                return handler(*args, **kwargs)
            on_a_gpu.handler = handler.__name__
            wrapped.append(handler.__name__)
            return on_a_gpu
        assert duration == gpu.GPU_DURATION_S
        return decorate

    monkeypatch.setattr(gpu, "spaces", types.SimpleNamespace(GPU=stand_in_gpu))
    demo = build_demo(tiny_studio)
    model_running = {name for name in vars(Callbacks) if not name.startswith("_")} - NOT_MODEL_RUNNING
    on_gpu = {fn.fn.handler for fn in demo.fns.values() if hasattr(fn.fn, "handler")}
    elsewhere = {fn.name for fn in demo.fns.values() if not hasattr(fn.fn, "handler")}
    assert on_gpu == set(wrapped) == model_running
    assert not elsewhere & model_running and "reblend" in elsewhere


def test_without_spaces_callbacks_are_left_as_they_are(tiny_studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu, "spaces", None)
    handlers = Callbacks(tiny_studio)
    assert gpu.on_gpu(handlers.score_image) == handlers.score_image
    assert not gpu.on_zero_gpu()


@pytest.mark.slow  # fresh Python processes importing torch, or several models
def test_start_up_imports_nothing_only_lazy_tabs_need() -> None:
    """Building the app must not import what the heatmaps alone need (pytorch-grad-cam)."""
    script = ("import sys; from qualiclip.studio.layout import build_demo; from qualiclip.studio.model_slots import load_studio; "
              "import qualiclip.studio.callbacks; print('pytorch_grad_cam' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow  # fresh Python processes importing torch, or several models
def test_the_server_allocator_tuning_applies_on_glibc() -> None:
    script = "from qualiclip.studio.allocator import tune_for_serving; print(tune_for_serving())"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "True"  # this machine runs glibc; the test process itself is left alone


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
    assert gradio_pins == [f"gradio=={meta['sdk_version']}"], gradio_pins  # a Space installs that exact Gradio
    assert gradio.__version__ == meta["sdk_version"]
    major, minor = (int(part) for part in str(meta["python_version"]).split("."))
    assert (major, minor) >= (3, 10)
    assert meta["suggested_hardware"] in SPACE_HARDWARE
