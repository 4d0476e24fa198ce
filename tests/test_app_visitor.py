"""What a first-time visitor meets, in a real browser (Debian's Chromium via Playwright) at 1280 and 390 px.

One test per item that was broken (stale sweep plot, stale result after an error, opacity ignoring
the keyboard, batch sorting), plus the phone layout, the two-photos tab and the before/after sliders. Screenshots go to
``artifacts/`` for a person to look at.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser import ARTIFACTS, DESKTOP, PHONE, needs_chromium, open_page

pytestmark = [pytest.mark.slow, needs_chromium]  # the session's app server and browser (tests/conftest.py)


@pytest.fixture
def desktop(chromium, app_url: str):
    page = open_page(chromium, app_url, DESKTOP)
    yield page
    page.close()


@pytest.fixture
def phone(chromium, app_url: str):
    page = open_page(chromium, app_url, PHONE)
    yield page
    page.close()


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory, photo: np.ndarray) -> dict[str, Path]:
    """A photo, a blurred copy, a noisy copy (different scores) and a truncated JPEG."""
    root = tmp_path_factory.mktemp("visitor")
    rng = np.random.default_rng(0)
    noisy = np.clip(photo + rng.normal(0, 40, photo.shape), 0, 255).astype(np.uint8)
    paths = {"photo": root / "astronaut.png", "blurred": root / "blurred.png", "noisy": root / "noisy.png",
             "corrupt": root / "holiday.jpg"}
    Image.fromarray(photo).save(paths["photo"])
    Image.fromarray(photo[::4, ::4]).resize(photo.shape[1::-1]).save(paths["blurred"])
    Image.fromarray(noisy).save(paths["noisy"])
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="JPEG")
    paths["corrupt"].write_bytes(buffer.getvalue()[:300])
    return paths


def _upload(page, path: Path, target: str = "#input-image") -> None:
    page.locator(f"{target} input[type=file]").set_input_files(str(path))


def _score(page, gauge_id: str = "score-gauge") -> float:
    gauge = page.locator(f"#{gauge_id} .qc-gauge")
    gauge.wait_for()
    return float(gauge.get_attribute("data-score"))


def _map_source(page, map_id: str) -> str:
    image = page.locator(f"#{map_id} img")
    image.wait_for()
    return image.get_attribute("src")


def _cells_js(table_id: str, name: str) -> str:
    """JS giving one column of a results table as shown: Gradio's virtual table renders only the rows in
    view (others read as ''), each cell marked with its row and column."""
    return f"""(() => {{
        const titles = [...document.querySelectorAll('#{table_id} thead th')].map(c => c.title);
        const grid = document.querySelector('#{table_id} [role=grid]');
        const column = titles.indexOf('{name}'), rows = grid ? Number(grid.getAttribute('aria-rowcount')) - 1 : 0;
        return [...Array(rows).keys()].map(r =>
            (document.querySelector(`#{table_id} [data-testid=cell-${{r}}-${{column}}]`)?.innerText ?? '').trim());
    }})()"""


def _column(page, table_id: str, name: str) -> list[str]:
    return page.evaluate(f"() => {_cells_js(table_id, name)}")


def _wait_for_column(page, table_id: str, name: str, condition: str) -> list[str]:
    """Wait until the column's cells (a JS array ``cells`` of strings) satisfy ``condition``; return them."""
    page.wait_for_function(f"() => {{ const cells = {_cells_js(table_id, name)}; return cells.length > 0 && ({condition}); }}")
    return _column(page, table_id, name)


def _visible_toasts(page) -> int:
    return page.locator(".toast-body:visible").count()


def test_an_error_replaces_the_previous_result_once(desktop, photos: dict[str, Path]) -> None:
    page = desktop
    _upload(page, photos["photo"])
    _score(page)
    _map_source(page, "good-map")
    _upload(page, photos["corrupt"])
    card = page.locator("#score-gauge .qc-error")
    card.wait_for()
    text = card.inner_text()
    assert "holiday.jpg" in text and "Try another image" in text  # names the file, says what to do
    assert "Error" not in text.split(":")[0] and "UnidentifiedImageError" not in text
    assert page.locator("#score-gauge .qc-gauge").count() == 0  # the old score is gone...
    assert page.locator("#good-map img").count() == 0 and page.locator("#bad-map img").count() == 0  # ...its maps too
    assert _visible_toasts(page) == 0  # said once, in place of the score
    page.get_by_role("tab", name="Robustness").click()
    page.locator("#degraded-gauge .qc-error", has_text="holiday.jpg").wait_for()
    page.wait_for_timeout(1500)
    assert _visible_toasts(page) == 0  # opening another tab does not say it again
    assert page.locator("#original-gauge .qc-gauge").count() == 0
    assert page.locator("#degraded-gauge .qc-error").is_visible()  # no "Error" pill covers it
    assert page.locator(":is(#degraded-gauge, #degraded-slider) .error:visible").count() == 0
    page.screenshot(path=str(ARTIFACTS / "visitor_error.png"), full_page=True)
    page.get_by_role("tab", name="Score").click()
    _upload(page, photos["photo"])  # a good image afterwards: the error goes, the score comes back
    _score(page)
    assert page.locator("#score-gauge .qc-error").count() == 0


def test_the_sweep_plot_shows_each_new_sweep(desktop, photos: dict[str, Path]) -> None:
    page = desktop
    _upload(page, photos["photo"])
    _score(page)
    page.get_by_role("tab", name="Robustness").click()

    def sweep(every_type: bool) -> str:
        before = page.locator("#sweep-plot img").get_attribute("src") if page.locator("#sweep-plot img").count() else None
        box = page.get_by_label("Sweep every type (about 25x longer)")
        if box.is_checked() != every_type:
            box.click()
        page.get_by_role("button", name="Sweep levels 0-5 with every model").click()
        page.wait_for_function("([sel, old]) => { const i = document.querySelector(sel); return i && i.src !== old; }",
                               arg=["#sweep-plot img", before])
        return page.locator("#sweep-plot img").get_attribute("src")

    one = sweep(False)
    assert _wait_for_column(page, "sweep-table", "type", "cells.length === 1") == ["Gaussian blur"]
    every = sweep(True)
    assert _wait_for_column(page, "sweep-table", "type", "cells.length > 20")[:2] == ["Gaussian blur", "Lens blur"]
    assert every != one
    page.screenshot(path=str(ARTIFACTS / "visitor_sweep_every_type.png"), full_page=True)
    again = sweep(False)
    assert _wait_for_column(page, "sweep-table", "type", "cells.length === 1") == ["Gaussian blur"]
    assert again == one  # the same one-type plot as the first time: nothing of the 26-type sweep stays
    headers = page.locator("#sweep-table thead th").evaluate_all("cells => cells.map(c => c.title)")
    assert headers[:4] == ["type", "model", "spearman", "monotone"]
    for button in ("Download table (CSV)", "Download plot (PNG)"):
        with page.expect_download() as download:
            page.get_by_role("button", name=button).click()
        assert download.value.suggested_filename.endswith((".csv", ".png"))


def test_opacity_follows_the_keyboard(desktop, photos: dict[str, Path]) -> None:
    page = desktop
    _upload(page, photos["photo"])
    _score(page)
    old = _map_source(page, "good-map")
    page.get_by_label("Attention map (gradient-free)").check()  # local scores: never an empty map
    page.wait_for_function("([sel, old]) => document.querySelector(sel)?.src !== old", arg=["#good-map img", old])
    page.locator("#good-caption", has_text="locally judged good").wait_for()
    first = _map_source(page, "good-map")
    page.locator("#opacity input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("([sel, old]) => document.querySelector(sel)?.src !== old", arg=["#good-map img", first])
    after_arrows = _map_source(page, "good-map")
    number = page.locator("#opacity input[type=number]")
    number.fill("1")
    number.press("Enter")
    page.wait_for_function("([sel, old]) => document.querySelector(sel)?.src !== old",
                           arg=["#good-map img", after_arrows])


def test_batch_results_can_be_sorted(desktop, photos: dict[str, Path]) -> None:
    page = desktop
    page.get_by_role("tab", name="Batch").click()
    page.locator("#input-image").wait_for(state="hidden")  # the main drop zone is not beside the batch's own
    page.locator("input[type=file][multiple]").set_input_files(
        [str(photos[name]) for name in ("photo", "blurred", "noisy", "corrupt")])
    page.get_by_role("button", name="Score all files").click()
    uploaded = _wait_for_column(page, "batch-table", "file", "cells.length === 4")
    assert uploaded == ["astronaut.png", "blurred.png", "noisy.png", "holiday.jpg"]
    page.locator("#batch-order").get_by_text("Worst score first").click()
    _wait_for_column(page, "batch-table", "file", "cells[0] !== 'astronaut.png' && cells[3] === 'holiday.jpg'")
    scores = [float(s) for s in _column(page, "batch-table", "score") if s]
    assert scores == sorted(scores) and len(scores) == 3 and len(set(scores)) == 3
    worst = _column(page, "batch-table", "file")[0]  # read before the click: the re-order may be instant
    page.locator("#batch-order").get_by_text("Best score first").click()
    _wait_for_column(page, "batch-table", "file", f"cells[0] !== '{worst}'")
    scores = [float(s) for s in _column(page, "batch-table", "score") if s]
    assert scores == sorted(scores, reverse=True)
    page.get_by_role("tab", name="Score").click()
    page.locator("#input-image").wait_for()  # back on a tab that uses it


def test_two_photos_side_by_side(desktop, photos: dict[str, Path]) -> None:
    page = desktop
    page.get_by_role("tab", name="Two photos").click()
    _upload(page, photos["photo"], "#photo-a")
    page.locator("#two-verdict", has_text="Add Photo B").wait_for()
    _upload(page, photos["noisy"], "#photo-b")
    verdict = page.locator("#two-verdict", has_text="looks better").or_(
        page.locator("#two-verdict", has_text="score the same"))
    verdict.wait_for()
    first, second = _score(page, "gauge-a"), _score(page, "gauge-b")
    text = verdict.inner_text()
    if round(first - second, 3):
        better = "Photo A" if first > second else "Photo B"
        assert text.startswith(f"{better} looks better") and f"{abs(first - second):.3f} higher" in text
    page.locator("#two-maps img").nth(3).wait_for()  # both photos' good and bad maps
    assert page.locator("#two-maps img").count() == 4
    page.screenshot(path=str(ARTIFACTS / "visitor_two_photos.png"), full_page=True)


def test_phone_shows_the_score_without_scrolling(phone, photos: dict[str, Path]) -> None:
    page = phone
    for tab in ("Score", "Robustness", "Two photos", "Batch", "Compare", "Learn"):
        # Gradio lays the tab row out after the page shows: wait for it, then no "..." menu may hide a tab
        expect(page.get_by_role("tab", name=tab)).to_be_visible(timeout=15_000)
    _upload(page, photos["photo"])
    _score(page)
    box = page.locator("#score-gauge .qc-score-value").bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], box  # visible without scrolling
    assert page.evaluate("() => window.scrollY") == 0
    page.screenshot(path=str(ARTIFACTS / "visitor_phone_score.png"))
    page.get_by_role("tab", name="Robustness").click()
    page.locator("#degraded-gauge .qc-gauge").wait_for()
    clipped = page.evaluate("""() => [...document.querySelectorAll('label span, [data-testid="block-info"]')]
        .filter(e => e.offsetParent !== null && e.innerText.trim() && e.scrollWidth > e.clientWidth + 1)
        .map(e => e.innerText)""")
    assert clipped == []
    page.screenshot(path=str(ARTIFACTS / "visitor_phone_robustness.png"), full_page=True)


def _slider_pictures(page, slider_id: str) -> list[np.ndarray]:
    """The two pictures a before/after slider shows (before, after), as served to the page."""
    pictures = page.locator(f"#{slider_id} img[data-testid=imageslider-image]")
    pictures.nth(1).wait_for()
    sources = pictures.evaluate_all("images => images.map(image => image.src)")
    return [np.asarray(Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB"), np.int16)
            for src in sources]


def _split(page, slider_id: str) -> float:
    """Where the slider splits its pictures, in % of the width: the after picture is clipped left of it."""
    clip = page.locator(f"#{slider_id} img[data-testid=imageslider-image]").nth(1).evaluate(
        "image => getComputedStyle(image).clipPath")
    return float(re.fullmatch(r"inset\(0px 0px 0px ([\d.]+)%\)", clip).group(1))


def _drag_split(page, slider_id: str, fraction: float) -> float:
    """Drag the slider's handle with the mouse to ``fraction`` of the picture's width; return the split (% of the
    frame's width) it should then show. The picture is drawn centred in the frame (object-fit: contain), and
    the handle moves only across the picture."""
    handle = page.locator(f"#{slider_id} [data-testid=slider]")
    handle.scroll_into_view_if_needed()
    grip = handle.bounding_box()
    frame = page.locator(f"#{slider_id} img[data-testid=imageslider-image]").nth(1).evaluate("""image => {
        const box = image.getBoundingClientRect();
        const scale = Math.min(box.width / image.naturalWidth, box.height / image.naturalHeight);
        return {x: box.x, width: box.width, drawn: image.naturalWidth * scale};
    }""")
    x = frame["x"] + (frame["width"] - frame["drawn"]) / 2 + frame["drawn"] * fraction
    y = grip["y"] + grip["height"] / 2
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(x, y, steps=8)
    page.mouse.up()
    return 100 * (x - frame["x"]) / frame["width"]


def _assert_inside_the_page(page, slider_id: str, viewport: dict[str, int]) -> None:
    box = page.locator(f"#{slider_id}").bounding_box()
    assert box["width"] > 0.7 * min(viewport["width"], 600) and box["height"] > 150, box  # a real picture
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box  # nothing cut off at the side


#: Mean absolute difference (8-bit steps) of a picture and its JPEG sent for display, at most (measured: 6.8).
JPEG_STEPS = 10


def _difference(one: np.ndarray, other: np.ndarray) -> float:
    """Mean absolute difference of two pictures, in 8-bit steps."""
    return float(np.abs(one - other).mean())


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_robustness_shows_original_and_degraded_in_one_slider(request, screen: str, photos: dict[str, Path]) -> None:
    page, viewport = request.getfixturevalue(screen), DESKTOP if screen == "desktop" else PHONE
    _upload(page, photos["photo"])
    _score(page)
    page.get_by_role("tab", name="Robustness").click()
    page.locator("#level-slider input[type=range]").fill("5")
    page.locator("#degraded-gauge .qc-caption", has_text="level 5").wait_for()
    before, after = _slider_pictures(page, "degraded-slider")
    original = np.asarray(Image.open(photos["photo"]).convert("RGB"), np.int16)
    assert before.shape == after.shape == original.shape
    # the original (sent as JPEG: within a few 8-bit steps on this small, detailed photo), then the blurred one
    assert _difference(before, original) < JPEG_STEPS < _difference(after, original)
    assert _split(page, "degraded-slider") == pytest.approx(50, abs=0.5)
    _assert_inside_the_page(page, "degraded-slider", viewport)
    expected = _drag_split(page, "degraded-slider", 0.25)
    assert _split(page, "degraded-slider") == pytest.approx(expected, abs=1) and expected < 45  # more degraded shown
    page.locator("#degraded-slider").screenshot(path=str(ARTIFACTS / f"visitor_robustness_slider_{viewport['width']}.png"))
    page.screenshot(path=str(ARTIFACTS / f"visitor_robustness_{viewport['width']}.png"), full_page=True)


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_two_photos_in_one_slider(request, screen: str, photos: dict[str, Path]) -> None:
    page, viewport = request.getfixturevalue(screen), DESKTOP if screen == "desktop" else PHONE
    page.get_by_role("tab", name="Two photos").click()
    _upload(page, photos["photo"], "#photo-a")
    _upload(page, photos["blurred"], "#photo-b")
    page.locator("#two-verdict", has_text="looks better").or_(
        page.locator("#two-verdict", has_text="score the same")).wait_for()
    first, second = _slider_pictures(page, "two-slider")
    photo_a, photo_b = (np.asarray(Image.open(photos[name]).convert("RGB"), np.int16) for name in ("photo", "blurred"))
    assert _difference(first, photo_a) < JPEG_STEPS < _difference(first, photo_b)  # A, then B
    assert _difference(second, photo_b) < JPEG_STEPS < _difference(second, photo_a)
    _assert_inside_the_page(page, "two-slider", viewport)
    expected = _drag_split(page, "two-slider", 0.75)
    assert _split(page, "two-slider") == pytest.approx(expected, abs=1) and expected > 55  # more of photo A shown
    page.locator("#two-slider").screenshot(path=str(ARTIFACTS / f"visitor_two_photos_slider_{viewport['width']}.png"))
