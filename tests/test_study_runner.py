"""Study designs: YAML round trip, randomization, local vs Dask, files, errors, sweeps."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edstudy._output import read_manifest
from edstudy.experiment import Study, StudyResult, run_study, run_study_file, sweep
from edstudy.experiment.runner import chunk_bounds, tasks_of
from edstudy.sim import ConfigError, data_path

DEFAULT = data_path("default_study.yaml")


def small(study: Study, **changes) -> Study:
    return study.with_changes(**{"n_students": 700, "replications": 1, **changes})


@pytest.fixture(scope="module")
def default_study() -> Study:
    return Study.from_yaml(DEFAULT)


@pytest.fixture(scope="module")
def small_result(default_study) -> StudyResult:
    return run_study(small(default_study), progress=False)


def test_default_study_loads(default_study):
    assert default_study.scenario_names == ("meshing_0", "meshing_high")
    assert {
        "one_size",
        "differentiated",
        "individualized",
        "personalized",
        "blended",
        "adaptive",
    } <= set(default_study.arm_names)
    twin = next(a for a in default_study.arms if a.name == "personalized_random_media")
    assert twin.strategy.params["pick"] == "random" and twin.params == {"pick": "random"}


def test_results_are_tidy(small_result, default_study):
    out = small_result.outcomes
    assert list(out.columns[:5]) == ["scenario", "replication", "student_id", "arm", "class_id"]
    assert len(out) == 700 * 2
    assert not out.duplicated(["scenario", "replication", "student_id"]).any()
    assert set(out["arm"]) == set(default_study.arm_names)
    log = small_result.log
    assert {
        "scenario",
        "replication",
        "student_id",
        "skill_id",
        "order",
        "correct",
        "activity",
    } <= set(log.columns)
    s = small_result.summary()
    assert list(s.columns) == [
        "scenario",
        "arm",
        "metric",
        "n_students",
        "n_units",
        "mean",
        "ci_low",
        "ci_high",
    ]
    post = s[s["metric"] == "posttest"]
    assert len(post) == 2 * len(default_study.arms)
    assert (post["ci_low"] < post["mean"]).all() and (post["mean"] < post["ci_high"]).all()
    text = small_result.to_markdown()
    for arm in default_study.arm_names:
        assert f"| {arm} |" in text


def test_class_randomization_keeps_classes_whole(small_result):
    out = small_result.outcomes
    arms_per_class = out.groupby(["scenario", "replication", "class_id"])["arm"].nunique()
    assert (arms_per_class == 1).all()
    # balanced: 28 classes over 7 arms
    classes = out.groupby(["scenario", "arm"])["class_id"].nunique()
    assert (classes == 4).all()


@pytest.mark.parametrize("unit, column", [("school", "school_id"), ("student", "student_id")])
def test_other_randomization_units(default_study, unit, column):
    st = small(default_study, randomization=unit, n_students=1400, scenarios={})
    assign = st.assignment(0, np.arange(1400) // 25, np.arange(1400) // 100)
    ids = {"school": np.arange(1400) // 100, "student": np.arange(1400)}[unit]
    per_unit = pd.Series(assign).groupby(ids).nunique()
    assert (per_unit == 1).all()
    counts = np.bincount(assign)
    assert counts.max() - counts.min() <= {"school": 100, "student": 1}[unit]


def test_yaml_round_trip_reproduces_results(tmp_path, default_study):
    st = small(default_study, n_students=350, scenarios={"w": {"meshing_effect": 0.5}})
    path = tmp_path / "saved.yaml"
    st.to_yaml(path)
    again = Study.from_yaml(path)
    a, b = st.to_dict(), again.to_dict()
    assert a == b
    ra, rb = run_study(st, progress=False), run_study(again, progress=False)
    pd.testing.assert_frame_equal(ra.outcomes, rb.outcomes)
    pd.testing.assert_frame_equal(ra.log, rb.log)


def test_chunks_change_nothing(default_study):
    st = small(default_study, n_students=300, replications=2, scenarios={"w": {}})
    whole = run_study(st, progress=False, chunk_size=10_000)
    chunked = run_study(st, progress=False, chunk_size=30)
    pd.testing.assert_frame_equal(whole.outcomes, chunked.outcomes)
    pd.testing.assert_frame_equal(whole.log, chunked.log)
    pd.testing.assert_frame_equal(whole.summary(), chunked.summary(), check_exact=True)


def test_chunks_split_no_randomization_unit():
    units = np.repeat([3, 4, 9, 10, 11], [25, 25, 25, 60, 5])
    bounds = chunk_bounds(units, 50)
    assert bounds == [(0, 50), (50, 75), (75, 135), (135, 140)]
    assert chunk_bounds(np.arange(7), 3) == [(0, 3), (3, 6), (6, 7)]


@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.mark.parametrize("chunk_size", [40, 1000])
def test_dask_cluster_gives_the_same_results(default_study, cluster_client, tmp_path, chunk_size):
    st = small(default_study, n_students=280)
    local = run_study(st, progress=False)
    remote = run_study(st, client=cluster_client, progress=False, chunk_size=chunk_size)
    pd.testing.assert_frame_equal(local.outcomes, remote.outcomes)
    pd.testing.assert_frame_equal(local.log, remote.log)
    # workers write Parquet parts; only statistics come back, and give the same summaries
    out = tmp_path / "big"
    on_disk = run_study(
        st, client=cluster_client, progress=False, chunk_size=chunk_size, out_dir=out
    )
    assert on_disk.log is None and on_disk.moments is not None
    pd.testing.assert_frame_equal(local.summary(), on_disk.summary(), check_exact=True)
    pd.testing.assert_frame_equal(local.contrasts(), on_disk.contrasts(), check_exact=True)
    files = read_manifest(out, kind="study")["files"]
    parts = sorted(f for f in files if f.startswith("log.parquet/"))
    assert len(parts) == len(tasks_of(st, chunk_size=chunk_size)) > 1
    pd.testing.assert_frame_equal(local.outcomes, on_disk.outcomes)
    pd.testing.assert_frame_equal(local.log, on_disk.read_log())
    back = StudyResult.load(out)
    pd.testing.assert_frame_equal(local.summary(), back.summary(), check_exact=True)
    # the local run into a folder writes the same bytes, part for part
    run_study(st, progress=False, chunk_size=chunk_size, out_dir=tmp_path / "local")
    assert files_of(tmp_path / "local") == files_of(out)


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_run_study_file_writes_everything(tmp_path, default_study):
    src = tmp_path / "study.yaml"
    small(default_study, n_students=350).to_yaml(src)
    out = run_study_file(src, tmp_path / "out")
    names = {p.name for p in Path(out).iterdir()}
    assert names == {
        "study.yaml",
        "outcomes.csv",
        "log.csv.gz",
        "summary.csv",
        "contrasts.csv",
        "summary.md",
        "manifest.json",
    }
    back = StudyResult.load(out)
    assert back.study.to_dict() == small(default_study, n_students=350).to_dict()
    assert len(back.outcomes) == 700
    md = (Path(out) / "summary.md").read_text()
    assert "| personalized |" in md and "meshing_high" in md


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad_study.yaml"
    p.write_text(textwrap.dedent(text))
    return p


BAD = """\
name: bad
design:
  n_students: 200
  randomization: class
arms:
  - name: a
    strategy: {strategies}/individualized.yaml
  - name: b
    strategy: {strategies}/personalized.yaml
"""


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            ("randomization: class", "randomization: clas"),
            r"line 4, field 'design.randomization': "
            r"randomization must be one of .*did you mean 'class'",
        ),
        (
            ("n_students: 200", "n_students: -5"),
            r"line 3, field 'design.n_students': must be >= 1, got -5",
        ),
        (
            ("name: bad", "name: bad\npopulaton: {}"),
            r"line 2, field 'populaton': unknown key 'populaton' \(did you mean 'population'\?\)",
        ),
        (
            ("name: a\n", "name: a\n    params: {mastery_threshold: high}\n"),
            r"line 7, field 'arms.0.params.mastery_threshold': "
            r"parameter 'mastery_threshold' must be a number",
        ),
        (("name: b\n", "name: a\n"), r"line 8, field 'arms.1.name': arm name 'a' is used twice"),
        (
            ("personalized.yaml", "personalised.yaml"),
            r"line 9, field 'arms.1.strategy': strategy file not found",
        ),
        (
            ("name: bad", "name: bad\nscenarios: {w: {meshing: 1}}"),
            r"line 2, field 'scenarios.w.meshing': "
            r"unknown key 'meshing' \(did you mean 'meshing_effect'\?\)",
        ),
        (
            ("name: bad", "name: bad\ncontrasts: [{arm: a, reference: c}]"),
            r"line 2, field 'contrasts.0.reference': unknown arm 'c'",
        ),
    ],
)
def test_bad_study_files_fail_before_anything_runs(tmp_path, change, expected):
    strategies = data_path("strategies")
    p = write(tmp_path, BAD.format(strategies=strategies).replace(*change))
    out = tmp_path / "never"
    with pytest.raises(ConfigError, match=expected) as err:
        run_study_file(p, out)
    assert str(err.value).startswith(str(p))
    assert not out.exists(), "nothing runs or is written half-way"


def test_errors_inside_a_referenced_rule_file_name_that_file(tmp_path):
    rules = tmp_path / "mine.yaml"
    rules.write_text(
        "name: mine\nrules:\n  - when: mastery > 0.9\n    do: advance\n"
        "  - do: practice\n    medium: podcast\n"
    )
    p = write(tmp_path, f"arms:\n  - strategy: {rules}\n")
    with pytest.raises(
        ConfigError, match=rf"^{rules}, line 6, rule 2, field 'medium': unknown medium 'podcast'"
    ):
        Study.from_yaml(p)


def test_sweep_reports_the_trade_off():
    table = sweep(
        "individualized",
        {"mastery_threshold": [0.8, 0.95], "remediate_after_errors": [2, 4]},
        n_students=300,
        seed=1,
        progress=False,
    )
    assert list(table["mastery_threshold"]) == [0.8, 0.8, 0.95, 0.95]
    assert list(table["remediate_after_errors"]) == [2, 4, 2, 4]
    for col in ("practice_minutes", "posttest", "dropped_out", "over_practice", "under_practice"):
        assert col in table and f"{col}_low" in table and f"{col}_high" in table
    low, high = table.iloc[0], table.iloc[2]
    assert high["under_practice"] < low["under_practice"], (
        "a higher threshold leaves fewer skills unlearned"
    )
    with pytest.raises(ConfigError, match="has no parameter 'choice_set_size'"):
        sweep("individualized", {"choice_set_size": [1, 2]}, n_students=50)
