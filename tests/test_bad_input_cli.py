"""The command line never answers a user's mistake with a traceback: ``error: ...``, status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from edstudy.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["dashboard", "--port", "99999"], "port must be between 1 and 65535, got 99999"),
        (["dashboard", "--port", "0"], "port must be between 1 and 65535, got 0"),
        (["dashboard", "--port", "http"], "port must be a whole number, got 'http'"),
        (["run"], "the following arguments are required"),
    ],
)
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_and_misplaced_study_files(tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["run", str(tmp_path / "absent.yaml"), "--out", out]) == 2
    assert f"file not found: {tmp_path / 'absent.yaml'}" in capsys.readouterr().err
    assert main(["run", str(tmp_path), "--out", out]) == 2  # a folder, not a file
    assert "file not found" in capsys.readouterr().err


def test_an_unexpected_bug_shows_its_traceback_only_when_asked(tmp_path, monkeypatch, capsys):
    import edstudy.experiment.runner as runner

    def broken(*args, **kwargs):
        raise ValueError("a bug deep inside")

    monkeypatch.setattr(runner, "run_study_file", broken)
    study = tmp_path / "s.yaml"
    study.write_text("name: x\n")
    assert main(["run", str(study), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == "error: a bug deep inside\n"
    monkeypatch.setenv("EDSTUDY_DEBUG", "1")
    with pytest.raises(ValueError, match="a bug deep inside"):
        main(["run", str(study), "--out", str(tmp_path / "o")])


def test_the_console_script_exits_2_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("arms: [\n")
    proc = subprocess.run(
        [sys.executable, "-m", "edstudy.cli", "run", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {bad}, line 2: not valid YAML")
    assert "Traceback" not in proc.stderr
