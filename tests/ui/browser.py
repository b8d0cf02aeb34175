"""Headless Chromium for the UI test: Debian's ``/usr/bin/chromium`` driven by Playwright for Python.

Playwright's own browser download is not used (and does not work on the CI machines): the system
browser is launched with a fresh profile. ``missing()`` says what is absent, so the test can skip
(or, where the UI test is required, fail) with a clear reason.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # playwright may be missing: missing() says so
    from playwright.sync_api import ViewportSize

CHROMIUM = Path(os.environ.get("VTEX_UI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}


def missing() -> str | None:
    """Why the browser cannot run here, or ``None`` if it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[test]')"
    return None
