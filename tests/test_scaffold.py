"""``edstudy init``: a study project whose own README commands run, and reports built from it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from edstudy._output import OutputError, read_manifest
from edstudy.cli import main
from edstudy.experiment import Study
from edstudy.scaffold import init_project
from edstudy.sim import STRATEGY_NAMES


def readme_commands(project: Path) -> list[list[str]]:
    """The commands of the project README's bash block (comments stripped)."""
    block = re.search(r"```bash\n(.*?)```", (project / "README.md").read_text(), flags=re.S)
    return [shlex.split(line.split("#")[0]) for line in block.group(1).splitlines() if line.strip()]


def test_init_writes_a_project_whose_two_commands_run(tmp_path, monkeypatch, capsys):
    project = tmp_path / "my-study"
    assert main(["init", str(project)]) == 0
    names = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert {
        "README.md",
        "study.yaml",
        "curriculum.yaml",
        "notebooks/01_my_study.ipynb",
        "environment.yml",
        ".github/workflows/report.yml",
        ".gitignore",
    } <= names
    assert {f"strategies/{s}.yaml" for s in STRATEGY_NAMES} <= names
    study = Study.from_yaml(project / "study.yaml")  # its arms point to the copied rule files
    assert study.name == "my-study" and len(study.arms) == 7
    workflow = yaml.safe_load((project / ".github/workflows/report.yml").read_text())
    steps = [s.get("run", "") for s in workflow["jobs"]["report"]["steps"]]
    commands = readme_commands(project)
    assert [" ".join(c) for c in commands] == [s for s in steps if s.startswith("edstudy ")]

    monkeypatch.chdir(project)
    for command in commands:
        assert command[0] == "edstudy"
        assert main(command[1:]) == 0, capsys.readouterr().err
    read_manifest(project / "results", kind="study")
    read_manifest(project / "reports", kind="reports")
    index = (project / "reports" / "index.html").read_text()
    # its headline finding, written from the run's numbers
    assert re.search(
        r"<strong>personalized</strong> vs <strong>individualized</strong> on the "
        r"post-test: in <code>meshing_0</code>, [a-z ]+ \(Hedges' g [+-]\d\.\d\d",
        index,
    )
    assert "<img" in (project / "reports" / "01_my_study.html").read_text()
    for command in commands:  # rerunning replaces what edstudy wrote (the commands say --overwrite)
        assert main(command[1:]) == 0


def test_init_never_writes_into_a_folder_with_files(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(OutputError, match="already exists and is not an empty folder"):
        init_project(mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert init_project(tmp_path / "empty_ok").is_dir()
