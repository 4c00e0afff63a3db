"""``edstudy kt-benchmark``: student models scored on the same folds, as a checked result."""

from __future__ import annotations

import pandas as pd

from edstudy._output import read_manifest
from edstudy.bkt import BKTParams, SkillParams
from edstudy.bkt.sampling import sample_log
from edstudy.cli import main


def test_kt_benchmark_writes_the_table_beside_the_published_figures(tmp_path, capsys):
    params = BKTParams.from_skills(
        {"a": SkillParams(0.3, 0.2, 0.2, 0.1), "b": SkillParams(0.5, 0.1, 0.25, 0.1)}
    )
    log = sample_log(params, 60, 8, seed=1)
    path = tmp_path / "log.csv"
    log[["student_id", "skill_id", "order", "correct"]].to_csv(path, index=False)
    out = tmp_path / "bench"
    argv = ["kt-benchmark", str(path), "--out", str(out), "--models", "pfa,irt", "--folds", "2"]
    assert main([*argv, "--quiet"]) == 0
    table = pd.read_csv(out / "benchmark.csv")
    assert list(table["model"]) == ["pfa", "irt"]
    assert table["auc"].between(0.5, 1).all() and (table["n"] == len(log)).all()
    assert read_manifest(out, kind="kt-benchmark")["files"].keys() == {
        "benchmark.csv",
        "benchmark.md",
    }
    assert "| pfa | attempt |" in (out / "benchmark.md").read_text()
    capsys.readouterr()
    assert main([*argv, "--quiet"]) == 2  # an earlier result is replaced only when asked
    assert "pass --overwrite" in capsys.readouterr().err


def test_kt_benchmark_names_a_bad_model_or_log(tmp_path, capsys):
    assert main(["kt-benchmark", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "nope.csv: no such file; give a response-log CSV or a dataset name" in (
        capsys.readouterr().err
    )
    log = tmp_path / "log.csv"
    log.write_text("student_id,skill_id,order,correct\n1,a,0,1\n1,a,1,0\n2,a,0,1\n2,a,1,1\n")
    argv = ["kt-benchmark", str(log), "--out", str(tmp_path / "o"), "--models", "dkt"]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "dkt" in err
    assert not (tmp_path / "o").exists()
