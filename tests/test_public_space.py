"""The app as a public Space meets it: hostile and unusual uploads, sent over HTTP to a running app."""
from __future__ import annotations

import inspect
import io
import os
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from qualiclip import ImageLoadError, prepare
from qualiclip.studio import batch, exports
from qualiclip.studio.endpoints import MODEL_QUEUE
from qualiclip.studio.formatting import DISPLAY_MAX_SIDE
from qualiclip.studio.layout import build_demo
from qualiclip.studio.model_slots import CPU_MAX_SIDE, Studio

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def served(app_url: str, app_client: Client) -> tuple[str, Client]:
    """The session's app server (tests/conftest.py): the tiny model, and the official one unavailable."""
    return app_url, app_client


@pytest.fixture(scope="module")
def client(served: tuple[str, Client]) -> Client:
    return served[1]


def _score(client: Client, path: Path) -> float:
    return client.predict(handle_file(str(path)), api_name="/score")[2]["score"]


def _colour_modes(photo: np.ndarray) -> dict[str, Image.Image]:
    rgb = Image.fromarray(photo)
    grey16 = Image.fromarray((np.asarray(rgb.convert("L"), np.uint16) * 257).astype(np.uint16), mode="I;16")
    rgba, la = rgb.convert("RGBA"), rgb.convert("LA")
    rgba.putalpha(128)
    la.putalpha(128)
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    palette.info["transparency"] = 0
    return {"grey16.png": grey16, "rgba.png": rgba, "la.png": la, "palette.png": palette,
            "cmyk.jpg": rgb.convert("CMYK"), "grey.png": rgb.convert("L")}


@pytest.mark.slow  # a Gradio server
def test_every_colour_mode_scores_as_in_the_library(client: Client, tiny_studio: Studio, photo: np.ndarray,
                                                     tmp_path: Path) -> None:
    for name, image in _colour_modes(photo).items():
        path = tmp_path / name
        image.save(path, transparency=0) if name == "palette.png" else image.save(path)
        [expected] = tiny_studio.primary.score([path])
        assert _score(client, path) == pytest.approx(expected.score, abs=1e-4), name
    rotated = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(photo[:, :96]).save(rotated, exif=exif)
    [expected] = tiny_studio.primary.score([rotated])
    result = client.predict(handle_file(str(rotated)), api_name="/score")[2]
    assert result["score"] == pytest.approx(expected.score, abs=1e-4)
    assert result["original_size"] == [photo.shape[0], 96]  # width and height swapped by the rotation


@pytest.mark.slow  # a Gradio server
def test_transparency_is_composited_on_white_not_dropped(client: Client, photo: np.ndarray, tmp_path: Path) -> None:
    opaque, faded = tmp_path / "opaque.png", tmp_path / "faded.png"
    Image.fromarray(photo).save(opaque)
    rgba = Image.fromarray(photo).convert("RGBA")
    rgba.putalpha(128)
    rgba.save(faded)
    white = Image.fromarray(np.full_like(photo, 255))
    composited = tmp_path / "composited.png"
    Image.alpha_composite(white.convert("RGBA"), rgba).convert("RGB").save(composited)
    assert _score(client, faded) == pytest.approx(_score(client, composited), abs=1e-4)
    assert _score(client, faded) != pytest.approx(_score(client, opaque), abs=1e-3)


def test_every_model_endpoint_shares_one_queue(tiny_studio: Studio) -> None:
    from qualiclip.studio.callbacks import Callbacks

    demo = build_demo(tiny_studio)
    model_running = {name for name in vars(Callbacks) if not name.startswith("_")} - {"reblend", "selected_tab", "main_image_shown"}
    def handler(fn) -> str:  # a named event's function is named after its endpoint (endpoints.as_tool)
        return getattr(inspect.unwrap(fn.fn), "__name__", "") if fn.fn else ""

    model_events = [fn for fn in demo.fns.values() if handler(fn) in model_running]
    assert {handler(fn) for fn in model_events} == model_running and len(model_events) >= 9
    for fn in model_events:
        assert (fn.concurrency_id, fn.concurrency_limit) == (MODEL_QUEUE["concurrency_id"],
                                                             MODEL_QUEUE["concurrency_limit"]), fn.name


@pytest.mark.slow  # a Gradio server
def test_uploads_over_the_limit_are_refused(client: Client, tmp_path: Path) -> None:
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(51 * 1024 * 1024))
    with pytest.raises(Exception, match="(?i)file size|too large|413"):
        client.predict(handle_file(str(big)), api_name="/score")


@pytest.mark.slow  # a Gradio server
def test_an_image_too_elongated_for_the_cap_is_refused(client: Client, tiny_studio: Studio, tmp_path: Path) -> None:
    strip = tmp_path / "strip.png"
    Image.new("RGB", (40_000, 32), (90, 120, 200)).save(strip)
    with pytest.raises(AppError, match=f"too elongated to score within the {CPU_MAX_SIDE} px cap"):
        client.predict(handle_file(str(strip)), api_name="/score")
    with pytest.raises(ImageLoadError, match="too elongated"):
        prepare(strip, CPU_MAX_SIDE)


@pytest.mark.slow  # a Gradio server
def test_a_long_thin_image_still_gets_heatmaps_and_a_preview(client: Client, tmp_path: Path) -> None:
    strip = tmp_path / "ribbon.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (32, 17_000, 3), dtype=np.uint8)).save(strip)
    assert 0.0 <= _score(client, strip) <= 1.0
    good, bad, *_ = client.predict(handle_file(str(strip)), "gradcam", -1, 0.5, api_name="/heatmaps")
    assert max(Image.open(good).size) == DISPLAY_MAX_SIDE and Image.open(bad).size == Image.open(good).size
    (original, preview), *_ = client.predict(handle_file(str(strip)), "jpeg", 3, api_name="/robustness")
    assert max(Image.open(preview).size) == DISPLAY_MAX_SIDE and Image.open(original).size == Image.open(preview).size


def _bad_uploads(tmp_path: Path) -> dict[str, Path]:
    corrupt = tmp_path / "corrupt.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(buffer, format="JPEG")
    corrupt.write_bytes(buffer.getvalue()[:200])
    svg = tmp_path / "drawing.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64"/></svg>')
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12_000, 12_000)).save(bomb)  # 144 megapixels in a few kilobytes
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    return {"corrupt": corrupt, "svg": svg, "bomb": bomb, "text": text}


@pytest.mark.slow  # a Gradio server
def test_no_error_reveals_a_server_path(client: Client, tmp_path: Path) -> None:
    for kind, path in _bad_uploads(tmp_path).items():
        for api_name, extra in (("/score", ()), ("/heatmaps", ("gradcam", -1, 0.5)), ("/compare", ())):
            with pytest.raises(AppError) as refused:
                client.predict(handle_file(str(path)), *extra, api_name=api_name)
            message = str(refused.value)
            assert path.name in message or "not an image" in message or "too large" in message, (kind, message)
            assert "/tmp" not in message and str(tmp_path) not in message and "gradio" not in message, (kind, message)


@pytest.mark.slow  # a Gradio server
def test_banner_compare_tab_and_config_show_no_server_paths(served: tuple[str, Client], photo: np.ndarray,
                                                            tmp_path: Path) -> None:
    url, client = served
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    table, _, summary, _ = client.predict(handle_file(str(path)), api_name="/compare")
    cells = [str(cell) for row in table["data"] for cell in row] + [summary]
    assert "Official: its weights are not on this server." in summary
    with urllib.request.urlopen(f"{url}config") as response:
        config = response.read().decode()
    for secret in [*cells, config]:
        for fragment in ("/root", str(ROOT), ".cache", "checkpoints", "qualiclip_exports"):
            assert fragment not in secret, (fragment, secret[:200])
    # The only server paths in the config are Gradio's own file-serving URLs (its upload cache)
    gradio_cache = os.environ.get("GRADIO_TEMP_DIR", os.path.join(tempfile.gettempdir(), "gradio"))
    assert config.count("/tmp/") == config.count(gradio_cache + "/")


def test_unexpected_errors_become_one_plain_sentence(tiny_studio: Studio, photo: np.ndarray, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    from qualiclip.studio.callbacks import Callbacks
    from qualiclip.studio.endpoints import Endpoints
    from qualiclip.studio.public_errors import UNEXPECTED

    handlers = Callbacks(tiny_studio)
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    handlers.model = None  # type: ignore[assignment]  # a bug: every model call now fails inside
    import gradio as gr
    with pytest.raises(gr.Error) as shown:
        Endpoints(handlers).endpoint(handlers.score_image)(str(path))  # as every event runs it
    assert shown.value.message == UNEXPECTED
    assert "NoneType" in caplog.text  # the full traceback went to the server's log


def test_batch_limits_and_its_csv_folders_are_cleaned(tiny_studio: Studio, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from qualiclip.studio.callbacks import Callbacks

    files = []
    for index in range(3):
        files.append(tmp_path / f"{index}.png")
        Image.new("RGB", (1000, 1000)).save(files[-1])
    monkeypatch.setattr(batch, "MAX_BATCH_PIXELS", 2_500_000)
    with pytest.raises(gr.Error, match="3 megapixels; at most 2 per batch"):
        Callbacks(tiny_studio).batch_score([str(f) for f in files])
    root = tmp_path / "csv"
    stale = exports.request_folder(root)
    (stale / "old.csv").write_text("x")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = exports.request_folder(root)
    assert not stale.exists() and fresh.is_dir() and fresh.parent == root


@pytest.mark.slow  # a Gradio server
def test_multi_frame_files_score_the_first_frame_with_a_notice(client: Client, photo: np.ndarray,
                                                               tmp_path: Path) -> None:
    frames = [Image.fromarray(photo), Image.fromarray(255 - photo)]
    animated, first = tmp_path / "animated.gif", tmp_path / "first.gif"
    frames[0].save(animated, save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(first)
    result = client.predict(handle_file(str(animated)), api_name="/score")[2]
    assert "The file has 2 frames; the first one was scored." in result["notice"]
    assert result["score"] == pytest.approx(_score(client, first), abs=1e-4)


@pytest.mark.slow  # the fresh interpreter of tests/fresh_imports.py imports torch here
def test_a_large_jpeg_is_decoded_at_reduced_size(fresh_imports) -> None:
    """Peak memory of preparing a 6000x6000 JPEG for a 768 px cap, measured in a fresh process."""
    measured = fresh_imports.after("a 6000x6000 JPEG prepared for 768 px").value
    assert measured["size"] == [768, 768]
    assert measured["rise_mb"] < 120, measured  # a full-size float32 copy alone would be 412 MB
