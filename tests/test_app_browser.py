"""The app in a real browser (Debian's Chromium, headless, via Playwright): upload, read, slide."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser import ARTIFACTS, needs_chromium, open_page

pytestmark = [pytest.mark.slow, needs_chromium]  # a Gradio server and a browser


@pytest.fixture
def page(chromium, app_url: str):
    page = open_page(chromium, app_url, {"width": 1400, "height": 1000}, timeout_ms=60_000)
    yield page
    page.close()


def _score(page, gauge_id: str) -> float:
    gauge = page.locator(f"#{gauge_id} .qc-gauge")
    gauge.wait_for()
    return float(gauge.get_attribute("data-score"))


def _wait_for_caption(page, gauge_id: str, text: str) -> None:
    page.locator(f"#{gauge_id} .qc-caption", has_text=text).wait_for()


def test_upload_score_and_slide(page, photo: np.ndarray, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    upload = tmp_path / "astronaut.png"
    Image.fromarray(photo).save(upload)
    assert "custom checkpoint" in page.locator("#weights-banner").inner_text()

    page.locator("#input-image input[type=file]").set_input_files(str(upload))
    score = _score(page, "score-gauge")
    assert 0.0 <= score <= 1.0
    assert page.locator("#score-gauge .qc-label").inner_text() in {"Very poor", "Poor", "Fair", "Good", "Excellent"}
    page.locator("#good-caption", has_text="Towards good").wait_for()
    page.screenshot(path=str(ARTIFACTS / "app_score.png"), full_page=True)

    page.get_by_role("tab", name="Robustness").click()
    _wait_for_caption(page, "degraded-gauge", "level 3")
    assert _score(page, "original-gauge") == pytest.approx(score, abs=1e-4)
    slider = page.locator("#level-slider input[type=range]")
    slider.fill("0")
    _wait_for_caption(page, "degraded-gauge", "level 0")
    assert _score(page, "degraded-gauge") == pytest.approx(score, abs=1e-4)  # level 0 is the original
    slider.fill("5")
    _wait_for_caption(page, "degraded-gauge", "level 5")
    assert _score(page, "degraded-gauge") != pytest.approx(score, abs=1e-4)
    page.screenshot(path=str(ARTIFACTS / "app_robustness.png"), full_page=True)
