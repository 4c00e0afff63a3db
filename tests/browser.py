"""Serve notebooks (Voila, JupyterLab) on 127.0.0.1 and drive them with Playwright on chromium.

Used by the browser tests; they skip (with the reason) when chromium or playwright is missing.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_browser() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def voila(notebook: Path, timeout: float = 120.0) -> Iterator[str]:
    """Run ``voila notebook`` on a free loopback port; yield its URL; stop it afterwards."""
    port = _free_port()
    cmd = [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}"]
    with _serving(cmd + ["--Voila.ip=127.0.0.1"], notebook.parent, port, "", timeout) as url:
        yield url


#: JupyterLab settings for tests: every cell rendered (no windowing, so Playwright sees the
#: widgets of cells scrolled away) and no news pop-up over the notebook.
_LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false"}',
}


@contextlib.contextmanager
def jupyterlab(root: Path, timeout: float = 120.0) -> Iterator[str]:
    """Run JupyterLab on ``root`` (loopback, no token, no browser); yield its base URL."""
    port = _free_port()
    settings = root / ".lab-settings"
    for name, text in _LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        "--allow-root",  # CI runs as root; the server listens on loopback only
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with _serving(cmd, root, port, "api", timeout) as url:
        yield url


@contextlib.contextmanager
def _serving(cmd: list[str], cwd: Path, port: int, probe: str, timeout: float) -> Iterator[str]:
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[2]} exited early:\n{proc.stdout.read()}")
            try:
                urllib.request.urlopen(url + probe, timeout=2)  # noqa: S310 (loopback only)
                break
            except urllib.error.HTTPError:
                break  # the server answered (with an error status): it is up
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{cmd[2]} did not answer on {url} within {timeout:.0f} s"
                    ) from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def browser_page() -> Iterator[object]:
    """A headless chromium page (Playwright) with background networking off."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()
