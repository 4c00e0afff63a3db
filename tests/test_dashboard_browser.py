"""The teacher dashboard served by Voila and used in chromium: move a control, see it update.

Saves a screenshot to ``test-artifacts/dashboard.png``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from browser import browser_page, require_browser, voila

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "06_teacher_dashboard.ipynb"
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.browser


def _wait_for_change(locator, before: str, timeout: float = 20.0) -> str:
    """Poll ``locator``'s text until it differs from ``before``."""
    deadline = time.monotonic() + timeout
    while True:
        text = locator.inner_text()
        if text != before:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"text stayed {before!r} for {timeout:.0f} s")
        time.sleep(0.2)


def _wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f} s")
        time.sleep(0.2)


def test_dashboard_in_voila():
    require_browser()
    ARTIFACTS.mkdir(exist_ok=True)
    with voila(NOTEBOOK, timeout=40) as url, browser_page() as page:
        page.set_default_timeout(40_000)
        page.goto(url)
        count = page.locator(".edstudy-flag-count")
        count.wait_for(state="visible")
        page.locator(".edstudy-heatmap img").wait_for(state="visible")
        before = count.inner_text()
        assert re.fullmatch(
            r"\d+ of 30 students flagged: \d+ stuck · \d+ off pace · \d+ disengaged", before.strip()
        ), before

        # lower the mastery threshold from 0.95 to 0.80 with the keyboard
        handle = page.locator(".edstudy-threshold .noUi-handle")
        handle.focus()
        for _ in range(15):
            handle.press("ArrowLeft")
        readout = page.locator(".edstudy-threshold .widget-readout")
        assert readout.inner_text().strip() == "0.80"
        after = _wait_for_change(count, before)
        # each key press recomputes the snapshot: wait for the one of the last value
        summary = page.locator(".edstudy-summary")
        _wait_until(lambda: re.search(r"mastered at 0\.80", summary.inner_text()))
        assert after != before

        # pick the first student: the student panel fills in
        page.locator(".edstudy-student-select select").select_option(index=1)
        panel = page.locator(".edstudy-student h4")
        panel.wait_for(state="visible")
        assert panel.inner_text().startswith("Student ")

        # play the course on: more responses arrive
        status = page.locator(".edstudy-status")
        old_status = status.inner_text()
        page.locator(".edstudy-next").click()
        assert _wait_for_change(status, old_status) != old_status

        page.locator(".edstudy-progress").wait_for(state="hidden")
        assert page.locator(".edstudy-error").is_hidden()

        # Voila scrolls inside its own container: grow the viewport to the dashboard's height
        dashboard = page.locator(".edstudy-dashboard")
        bottom = page.evaluate(
            "() => Math.ceil(document.querySelector('.edstudy-dashboard')"
            ".getBoundingClientRect().bottom)"
        )
        page.set_viewport_size({"width": 1400, "height": min(max(bottom + 40, 1000), 8000)})
        dashboard.screenshot(path=str(ARTIFACTS / "dashboard.png"))
