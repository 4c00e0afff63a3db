"""The edstudy command: readable errors with exit status 2, and a small study run end to end."""

from __future__ import annotations

import pandas as pd

from edstudy.cli import main


def test_bad_study_file_is_one_readable_error(tmp_path, capsys):
    study = tmp_path / "study.yaml"
    study.write_text("arms:\n  - strategy: nonexistent\n")
    assert main(["run", str(study), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: {study}, line 2, field 'arms.0.strategy': strategy file not found"
    )
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing runs half-way


def test_run_writes_log_outcomes_and_reproducible_config(tmp_path, capsys):
    study = tmp_path / "study.yaml"
    study.write_text(
        "name: tiny\n"
        "seed: 3\n"
        "replications: 1\n"
        "design: {n_students: 40, randomization: student}\n"
        "arms:\n  - {name: one_size, strategy: one_size}\n"
        "  - {name: individualized, strategy: individualized}\n"
    )
    assert main(["run", str(study), "--out", str(tmp_path / "out")]) == 0
    out = tmp_path / "out"
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert sorted(outcomes["arm"].unique()) == ["individualized", "one_size"]
    assert (out / "study.yaml").is_file() and (out / "summary.md").is_file()
    # the saved configuration reproduces the same outcomes
    assert main(["run", str(out / "study.yaml"), "--out", str(tmp_path / "again")]) == 0
    again = pd.read_csv(tmp_path / "again" / "outcomes.csv")
    pd.testing.assert_frame_equal(outcomes, again)
