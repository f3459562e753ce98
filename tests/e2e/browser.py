"""Playwright driving Debian's Chromium (/usr/bin/chromium, installed by `make interop-deps`), for the portal's
browser tests; screenshots at phone (375 px) and desktop (1280 px) widths are kept under artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("ENTRYWAY_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WIDTHS = {"phone": 375, "desktop": 1280}


@contextmanager
def chromium(*extra_args: str) -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make interop-deps` (Debian's chromium package)")
    with sync_playwright() as playwright:
        # --no-sandbox: the suite runs as root in CI, where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", *extra_args])
        try:
            yield browser
        finally:
            browser.close()


def shoot(page: Page, name: str) -> None:
    """Full-page screenshots of the current page at both widths (the viewport is restored afterwards)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1280, "height": 900}
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower())
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{slug}-{label}.png"), full_page=True)
        # Nothing may overflow the width: a phone user would have to scroll sideways.
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {width} px is {overflow} px wider than the screen"
    page.set_viewport_size(size)
