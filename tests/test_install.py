"""edstudy installed anywhere: the wheel and the sdist build, and the wheel, installed into a fresh
virtual environment outside the checkout, runs the shipped default study and builds every report.

This is the test of the promise "pip install edstudy, then use it in your own folder": it finds
its configuration and notebooks as package data, not in this repository. It installs the
dependencies from the package index (pip's cache makes that quick after ``make install``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from edstudy._output import read_manifest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.install


#: The environment of every command: nothing that would point Python at this checkout.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EDSTUDY_CONFIG_DIR")}


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("env", CLEAN_ENV)
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--sdist",
            "--wheel",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        cwd=out,  # not the checkout: a build/ folder there would shadow the build package
    )
    return out


def test_the_wheel_and_sdist_carry_data_and_notebooks(dist):
    wheel = next(dist.glob("edstudy-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "edstudy/data/default_study.yaml",
        "edstudy/data/curriculum_default.yaml",
        "edstudy/data/strategies/individualized.yaml",
        "edstudy/_notebooks/01_simulated_cohort_comparison.ipynb",
        "edstudy/_notebooks/profiles.yaml",
    } <= names
    sdist = next(dist.glob("edstudy-*.tar.gz"))
    members = {
        Path(m).relative_to(Path(m).parts[0]).as_posix()
        for m in tarfile.open(sdist).getnames()
        if len(Path(m).parts) > 1
    }
    assert {
        "setup.py",
        "notebooks/01_simulated_cohort_comparison.ipynb",
        "src/edstudy/data/default_study.yaml",
    } <= members


def test_the_wheel_works_outside_the_checkout(dist, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    wheel = next(dist.glob("edstudy-*.whl"))
    run([str(py), "-m", "pip", "install", "--quiet", f"{wheel}[bayes,notebooks]"])
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = CLEAN_ENV
    where = run(
        [str(py), "-c", "import edstudy, edstudy.sim as s; print(edstudy.__file__, s.data_path())"],
        cwd=work,
        env=env,
    ).stdout
    assert (
        str(ROOT) not in where and "site-packages" in where
    )  # the installed copy, not this checkout
    edstudy = str(venv / "bin" / "edstudy")
    run([edstudy, "run", "default", "--out", "results"], cwd=work, env=env)
    manifest = read_manifest(work / "results", kind="study")
    assert manifest["command"] == ["edstudy", "run", "default", "--out", "<out>"]
    run([edstudy, "report", "--profile", "small", "--out", "reports", "--quiet"], cwd=work, env=env)
    read_manifest(work / "reports", kind="reports")
    index = (work / "reports" / "index.html").read_text()
    pages = re.findall(r'href="(\d\d_[a-z_]+\.html)"', index)
    assert len(pages) >= 7
    for page in pages:
        html = (work / "reports" / page).read_text()
        assert "Traceback" not in html, f"{page} shows a traceback"
        assert "hl-ipython3" not in html, f"{page} shows code"
        assert "<img" in html, f"{page} has no figure"
