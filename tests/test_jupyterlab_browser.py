"""A notebook used in JupyterLab itself (not only Voila), in chromium: run every cell, then use the
rule editor's sweep and check that its figure and table appear.

Saves a screenshot to ``test-artifacts/jupyterlab_rule_editor.png``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from browser import browser_page, jupyterlab, require_browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02_pathway_rule_tuning.ipynb"
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.browser


def _menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def test_rule_editor_sweep_in_jupyterlab(tmp_path):
    require_browser()
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)  # the repository's copy stays untouched
    with jupyterlab(tmp_path, timeout=90) as url, browser_page() as page:
        page.set_default_timeout(300_000)  # the notebook's own sweeps run first
        page.goto(f"{url}lab/tree/{NOTEBOOK.name}")
        page.locator(".jp-Notebook").wait_for(state="visible")
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()  # the kernel is ready
        _menu(page, "Run", "Run All Cells")

        editor = page.locator(".edstudy-rule-editor")
        editor.wait_for(state="visible")
        assert "valid" in page.locator(".edstudy-rule-status").inner_text().lower()

        # sweep the mastery threshold over three values on a small cohort
        page.locator(".edstudy-sweep-values input").fill("0.85, 0.9, 0.95")
        handle = page.locator(".edstudy-sweep-students .noUi-handle")
        handle.focus()
        for _ in range(4):  # 300 -> 100 students, in steps of 50
            handle.press("ArrowLeft")
        assert page.locator(".edstudy-sweep-students .widget-readout").inner_text() == "100"
        page.locator(".edstudy-run-sweep").click()

        table = page.locator(".edstudy-sweep-table table")
        table.wait_for(state="visible")
        rows = table.locator("tbody tr")
        assert rows.count() == 3
        assert "0.85" in rows.nth(0).inner_text() and "0.95" in rows.nth(2).inner_text()
        figure = page.locator(".edstudy-rule-editor .edstudy-figure img")
        figure.wait_for(state="visible")
        assert figure.evaluate("img => img.naturalWidth") > 200  # a drawn figure, not a stub
        errors = page.locator(".edstudy-rule-editor .edstudy-error")
        assert all(errors.nth(i).is_hidden() for i in range(errors.count()))
        editor.scroll_into_view_if_needed()
        editor.screenshot(path=str(ARTIFACTS / "jupyterlab_rule_editor.png"))
