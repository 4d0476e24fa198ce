"""Remake docs/images/app-desktop.png (1280 px) and app-phone.png (390 px): the app on the bundled offline
model after the cat example is uploaded, in Debian's Chromium (from the repository root: ``python -m docs.images.take_screenshots``; it serves the app with the tests'
:mod:`tests.app_server`).

Saved as 256-colour PNGs to keep the repository small.
"""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

from qualiclip.studio import EXAMPLES_DIR
from qualiclip.studio.model_slots import load_studio
from tests.app_server import running_app

HERE = Path(__file__).parent
VIEWS = {"app-desktop.png": {"width": 1280, "height": 900}, "app-phone.png": {"width": 390, "height": 844}}


def main() -> None:
    with running_app(load_studio()) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for name, viewport in VIEWS.items():
            page = browser.new_page(viewport=viewport)
            page.set_default_timeout(120_000)
            page.goto(url)
            page.locator("#input-image input[type=file]").set_input_files(str(EXAMPLES_DIR / "chelsea.jpg"))
            page.locator("#score-gauge .qc-gauge").wait_for()
            page.locator("#good-map img").wait_for()
            page.wait_for_timeout(1000)
            png = page.screenshot()
            Image.open(io.BytesIO(png)).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(HERE / name, optimize=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
