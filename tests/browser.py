"""The browser the tests drive: Debian's Chromium through Playwright (Playwright cannot download its own
browsers here). One browser is shared by the session (``chromium`` in tests/conftest.py); each test opens
pages of its own."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
#: Headless, and nothing that reaches for the network on its own (the machine's network is closed).
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                    reason=f"{CHROMIUM} is missing (apt-get install chromium)")
#: Where browser tests leave their screenshots, for a person to look at.
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
#: The page sizes the visitor tests check: a desktop and a phone.
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
#: How long a page waits for anything by default (a cold app on a loaded 2-core machine is slow).
TIMEOUT_MS = 90_000


def open_page(browser, url: str, viewport: dict[str, int], timeout_ms: int = TIMEOUT_MS):
    """A new page of ``browser`` at ``viewport`` showing the app at ``url``, once its main image is on the page."""
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(timeout_ms)
    page.goto(url)
    page.locator("#input-image").wait_for()
    return page
