"""The browser the tests drive: Debian's Chromium through Playwright (Playwright cannot download its own
browsers here). One browser is shared by the session (``chromium`` in tests/conftest.py); each test opens
pages of its own."""
from __future__ import annotations

import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
#: Headless, and nothing that reaches for the network on its own (the machine's network is closed).
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                    reason=f"{CHROMIUM} is missing (apt-get install chromium)")
