"""environment.yml (conda/Binder) and pyproject.toml must list the same dependencies and floors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names where they differ from PyPI's (extras are part of the conda package).
CONDA_NAME = {"pandera[pandas]": "pandera", "dask[distributed]": "dask", "build": "python-build"}
REQ = re.compile(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(>=\s*[0-9.]+)?")


def _parse(spec: str) -> tuple[str, str | None]:
    m = REQ.match(spec)
    assert m, f"cannot parse requirement {spec!r}"
    name = m.group(1).lower()
    floor = m.group(2).replace(" ", "") if m.group(2) else None
    return CONDA_NAME.get(name, name), floor


def pyproject_requirements() -> dict[str, str | None]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for reqs in project["optional-dependencies"].values():
        specs += [r for r in reqs if not r.startswith("edstudy")]
    return dict(_parse(s) for s in specs)


def conda_requirements() -> dict[str, str | None]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = [
        d
        for d in env["dependencies"]
        if isinstance(d, str) and re.split(r"[<>=]", d)[0].strip() not in ("python", "pip")
    ]
    return dict(_parse(s) for s in specs)


def test_environment_yml_matches_pyproject():
    py, conda = pyproject_requirements(), conda_requirements()
    assert sorted(set(py) - set(conda)) == [], "in pyproject.toml but not environment.yml"
    assert sorted(set(conda) - set(py)) == [], "in environment.yml but not pyproject.toml"
    differing = {n: (py[n], conda[n]) for n in py if py[n] != conda[n]}
    assert differing == {}, f"floors differ (pyproject, environment.yml): {differing}"


def test_environment_installs_the_package_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-e ."]
