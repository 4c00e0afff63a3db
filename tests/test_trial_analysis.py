"""analyze_trial on simulated trials of each design whose truth is known: estimates recover the
effect, intervals cover it at their level, ratings come out as constructed, and what cannot be
analysed honestly is refused with the reason."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from edstudy.investigations.trial import (
    EFFECT_COLUMNS,
    TrialDataError,
    analyze_trial,
    load_trial,
    trial_from_dict,
)
from edstudy.investigations.trial.spec import OutcomeSpec
from edstudy.investigations.trial.synthetic import (
    SyntheticTrial,
    recovery_check,
    synthetic_spec,
    synthetic_trial,
)
from edstudy.sim import ConfigError
from edstudy.sim._config import parse_yaml
from edstudy.stats.wwc import DOES_NOT_MEET, MEETS_WITH, MEETS_WITHOUT, benjamini_hochberg

# --- recovery and coverage over replicates ----------------------------------------------------
# Tolerances: the bias within 3.5 Monte Carlo SEs of the mean estimate; the coverage of a 95%
# interval within 3 binomial SEs, sqrt(.95 * .05 / R): 0.06 at R = 120 and 0.084 at R = 60.


def _row(check: pd.DataFrame, estimator: str) -> pd.Series:
    return check.set_index("estimator").loc[estimator]


def test_student_design_recovers_the_effect_and_covers():
    s = SyntheticTrial("student", n_units=300, imbalance=0.15, attrition_treatment=0.2,
                       attrition_control=0.05)  # fmt: skip
    check = recovery_check(s, replicates=120, seed=1)
    for est in ("mixed_model", "mixed_model_g"):
        r = _row(check, est)
        assert abs(r["bias"]) <= 3.5 * r["bias_se"], est
        assert abs(r["coverage"] - 0.95) <= 3 * r["coverage_se"], est
    # the unadjusted g carries the built-in imbalance: slope 0.6 x 0.15 = 0.09 SD
    g = _row(check, "hedges_g")
    assert g["bias"] == pytest.approx(0.09, abs=3.5 * g["bias_se"])


def test_cluster_design_recovers_the_effect_and_covers():
    s = SyntheticTrial("cluster", n_units=10, cluster_size=8, icc=0.2)
    check = recovery_check(s, replicates=60, seed=2)
    for est in ("mixed_model", "mixed_model_g", "hedges_g_cluster"):
        r = _row(check, est)
        assert abs(r["bias"]) <= 3.5 * r["bias_se"], est
        assert abs(r["coverage"] - 0.95) <= 3 * r["coverage_se"], est
    assert check["rating"].iloc[0] == MEETS_WITHOUT


def test_block_design_recovers_the_effect_and_covers():
    s = SyntheticTrial("block", n_units=200, n_blocks=5, block_share=0.2)
    check = recovery_check(s, replicates=120, seed=3)
    for est in ("mixed_model", "mixed_model_g"):
        r = _row(check, est)
        assert abs(r["bias"]) <= 3.5 * r["bias_se"], est
        assert abs(r["coverage"] - 0.95) <= 3 * r["coverage_se"], est


def test_blocks_as_random_effects_and_clusters_within_blocks():
    s = SyntheticTrial("block", n_units=400, n_blocks=6, effect=0.4)
    frame = synthetic_trial(s, 4)
    spec = replace(synthetic_spec(s), blocks_as="random")
    fit = analyze_trial(spec, outcomes=frame).effects.set_index("estimator")
    assert "random intercepts for school_id" in fit.loc["mixed_model", "method"]
    assert fit.loc["mixed_model", "ci_low"] < 0.4 < fit.loc["mixed_model", "ci_high"]
    # classes randomized within schools: a random class intercept plus school fixed effects
    c = SyntheticTrial("cluster", n_units=12, cluster_size=10, effect=0.4)
    frame = synthetic_trial(c, 5)
    frame["school_id"] = [f"s{int(k[1:]) // 2}" for k in frame["class_id"]]
    frame = frame.groupby("school_id").filter(lambda b: b["arm"].nunique() == 2)
    spec = replace(synthetic_spec(c), randomization="block", block="school_id")
    res = analyze_trial(spec, outcomes=frame)
    assert spec.cluster_assigned and set(res.attrition["level"]) == {"cluster", "student"}
    assert "hedges_g_cluster" in set(res.effects["estimator"])


# --- ratings as constructed ---------------------------------------------------------------------


def _rate(settings: SyntheticTrial, seed: int = 0, **changes) -> tuple[str, object]:
    frame = synthetic_trial(settings, seed)
    result = analyze_trial(synthetic_spec(settings, **changes), outcomes=frame)
    return result.ratings["rating"].iloc[0], result


def test_low_attrition_meets_without_reservations():
    rating, result = _rate(SyntheticTrial("student", n_units=1000, attrition_treatment=0.05,
                                          attrition_control=0.05))  # fmt: skip
    assert rating == MEETS_WITHOUT
    a = result.attrition.iloc[0]
    assert a["overall"] == pytest.approx(0.05) and a["differential"] == pytest.approx(0.0)


def test_high_attrition_needs_baseline_equivalence():
    high = dict(attrition_treatment=0.2, attrition_control=0.05)  # 12.5% overall, 15 pp
    ok, result = _rate(SyntheticTrial("student", n_units=4000, imbalance=0.12, **high))
    assert ok == MEETS_WITH
    row = result.baseline.set_index("covariate").loc["pretest"]
    assert row["category"] == "requires statistical adjustment" and row["adjusted_in_model"]
    bad, _ = _rate(SyntheticTrial("student", n_units=4000, imbalance=0.5, **high))
    assert bad == DOES_NOT_MEET
    none, result = _rate(SyntheticTrial("student", n_units=1000, **high), baseline=())
    assert none == DOES_NOT_MEET
    assert any(c.startswith("missing baseline: no baseline covariate") for c in result.caveats)


def test_the_boundary_decides():
    s = SyntheticTrial("student", n_units=2000, attrition_treatment=0.2, attrition_control=0.1)
    cautious, _ = _rate(s, baseline=())  # 15% overall, 10 pp: above 5.9
    optimistic, result = _rate(s, baseline=(), boundary="optimistic")  # below 10.8
    assert cautious == DOES_NOT_MEET and optimistic == MEETS_WITHOUT
    assert result.standards["attrition_boundary"] == "optimistic"


def test_cluster_attrition_is_judged_at_the_cluster_level():
    s = SyntheticTrial("cluster", n_units=20, cluster_size=10)
    frame = synthetic_trial(s, 6)
    lost = frame["class_id"].isin(frame.loc[frame["arm"] == "treatment", "class_id"].unique()[:3])
    frame.loc[lost, "posttest"] = np.nan  # 3 of 10 treatment classes lost whole
    result = analyze_trial(synthetic_spec(s), outcomes=frame)
    cl = result.attrition.set_index("level").loc["cluster"]
    assert cl["overall"] == pytest.approx(0.15) and cl["differential"] == pytest.approx(0.3)
    assert not cl["low_attrition"]
    assert result.ratings["rating"].iloc[0] in (MEETS_WITH, DOES_NOT_MEET)
    assert result.standards["findings"][0]["reasons"][0].startswith(
        "cluster-level attrition is high"
    )


def test_missing_baseline_counts_as_attrition():
    s = SyntheticTrial("student", n_units=400)
    frame = synthetic_trial(s, 7)
    frame.loc[frame.index[:20], "pretest"] = np.nan
    result = analyze_trial(synthetic_spec(s), outcomes=frame)
    a = result.attrition.iloc[0]
    assert a["analyzed_treatment"] + a["analyzed_control"] == 380
    assert any("20 students" in c and "lack a baseline covariate" in c for c in result.caveats)


# --- outputs --------------------------------------------------------------------------------------


def test_effects_table_bh_and_standards():
    s = SyntheticTrial("student", n_units=400)
    frame = synthetic_trial(s, 8)
    frame["posttest2"] = frame["posttest"] * 0.5 + np.random.default_rng(0).normal(size=len(frame))
    spec = synthetic_spec(s)
    spec = replace(spec, outcomes=(*spec.outcomes, replace(spec.outcomes[0], name="posttest2")))
    result = analyze_trial(spec, outcomes=frame)
    table = result.effects_table()
    assert tuple(table.columns[: len(EFFECT_COLUMNS)]) == EFFECT_COLUMNS
    assert set(table["estimator"]) == {"hedges_g", "mixed_model_g", "mixed_model"}
    for _, rows in table.groupby("estimator"):
        adjusted, _ = benjamini_hochberg(rows["p_value"].to_numpy())
        assert rows["p_value_bh"].to_numpy() == pytest.approx(adjusted)
    g = table[table["scale"] == "g"]
    assert g["improvement_index"].notna().all()
    doc = result.standards
    assert [f["outcome"] for f in doc["findings"]] == ["posttest", "posttest2"]
    assert doc["findings"][0]["attrition"][0]["boundary"] == "cautious"
    assert "Table II.1" in doc["sources"] and "halves up" in doc["rounding"]
    assert result.to_markdown().startswith("## synthetic student trial")


def test_binary_outcome_risk_difference_and_cox_index():
    rng = np.random.default_rng(9)
    n = 3000
    t = rng.permutation(np.arange(n) < n // 2)
    frame = pd.DataFrame(
        {
            "student_id": np.arange(n),
            "arm": np.where(t, "treatment", "control"),
            "pretest": rng.standard_normal(n),
            "female": rng.integers(0, 2, n),
            "passed": (rng.random(n) < np.where(t, 0.6, 0.5)).astype(int),
        }
    )
    spec = replace(synthetic_spec(SyntheticTrial("student")), outcomes=(OutcomeSpec("passed"),))
    fit = analyze_trial(spec, outcomes=frame).effects.set_index("estimator")
    rd = fit.loc["mixed_model"]
    assert rd["scale"] == "risk difference" and rd["binary"]
    assert rd["ci_low"] < 0.1 < rd["ci_high"]
    cox = fit.loc["hedges_g"]
    p1 = frame.loc[t, "passed"].mean()
    p0 = frame.loc[~t, "passed"].mean()
    omega = 1 - 3 / (4 * n - 9)
    assert cox["estimate"] == pytest.approx(
        omega * (np.log(p1 / (1 - p1)) - np.log(p0 / (1 - p0))) / 1.65
    )
    assert fit.loc["mixed_model_g", "p_value"] == pytest.approx(rd["p_value"])


# --- refusals -------------------------------------------------------------------------------------


def _spec(text: str, tmp_path, data: pd.DataFrame | None = None):
    path = tmp_path / "trial.yaml"
    path.write_text(text)
    if data is not None:
        data.to_csv(tmp_path / "outcomes.csv", index=False)
    return path


BASE = (
    "name: t\ndata: outcomes.csv\narm: arm\ntreatment: small\ncontrol: regular\n"
    "outcomes: [posttest]\n"
)


def _table(**extra) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "student_id": range(8),
            "arm": ["small"] * 4 + ["regular"] * 4,
            "class_id": ["a", "a", "b", "b", "c", "c", "d", "d"],
            "school_id": ["s1", "s1", "s2", "s2", "s1", "s1", "s2", "s2"],
            "posttest": [0.5, 0.6, 0.7, 0.4, 0.3, 0.5, 0.4, 0.6],
        }
    )
    return frame.assign(**extra)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE + "randomisation: cluster\n", "line 7, field 'randomisation': unknown key "
         "'randomisation' (did you mean 'randomization'?)"),
        (BASE + "randomization: cluster\n", "line 7, field 'randomization': a "
         "cluster-randomized trial needs 'cluster'"),
        (BASE + "randomization: clusters\n", "must be one of student, cluster, block, got "
         "'clusters' (did you mean 'cluster'?)"),
        (BASE.replace("control: regular", "control: small"), "line 5, field 'control': the "
         "control arm 'small' is also listed as a treatment"),
        (BASE.replace("data: outcomes.csv", "data: {dataset: assistments_ab}"), "field "
         "'data.dataset': unknown dataset 'assistments_ab' (did you mean "
         "'assistments_ab_video_vs_text'?)"),
        (BASE.replace("data: outcomes.csv", "data: missing.csv"), "line 2, field 'data': file "
         "not found: missing.csv"),
        (BASE + "icc: 1.5\n", "line 7, field 'icc': must be < 1, got 1.5"),
    ],
)  # fmt: skip
def test_trial_file_mistakes_name_file_line_and_field(tmp_path, text, message):
    path = _spec(text, tmp_path, _table())
    with pytest.raises(ConfigError) as err:
        load_trial(path)
    assert str(err.value).startswith(f"{path}, ") and message in str(err.value)


@pytest.mark.parametrize(
    ("yaml_extra", "table", "message"),
    [
        ("", _table(arm=["smal"] * 4 + ["regular"] * 4), "outcomes.csv: the treatment arm "
         "'small' does not exist in column 'arm' (did you mean 'smal'?); its levels are "
         "regular, smal"),
        ("", _table(arm=["small"] * 8), "outcomes.csv: no control rows: the control arm "
         "'regular' does not occur in column 'arm'; its levels are small"),
        ("randomization: cluster\ncluster: class_id\n",
         _table(class_id=["a", "a", "b", "c", "c", "c", "d", "d"]),
         "outcomes.csv: cluster 'c' (column 'class_id') holds students of arms 'regular' and "
         "'small'; in a cluster-randomized trial every cluster is in one arm"),
        ("randomization: block\nblock: school_id\n",
         _table(school_id=["s1", "s1", "s3", "s3", "s1", "s1", "s2", "s2"]),
         "outcomes.csv: block 's2' (column 'school_id') has only arm 'regular' of the "
         "comparison 'small' vs 'regular'; in a blocked design both arms are randomized within "
         "every block"),
        ("", _table(arm=["small", None] + ["small"] * 2 + ["regular"] * 4),
         "outcomes.csv: column 'arm' (the arm) is missing in 1 rows, first at line 3"),
        ("", _table(student_id=[0, 1, 2, 3, 4, 5, 6, 0]),
         "outcomes.csv: student 0 (column 'student_id') is listed twice, again at line 9"),
        ("", _table(posttest=["0.5", "x"] + [0.1] * 6), "outcomes.csv: outcome 'posttest' "
         "must hold numbers (or 0/1); line 3 has 'x'"),
        ("baseline: [pretst]\n", _table(pretest=0.1), "outcomes.csv: no column 'pretst' (the "
         "trial's baseline covariate) (did you mean 'pretest'?)"),
    ],
)  # fmt: skip
def test_data_that_cannot_be_analysed_honestly_are_refused(tmp_path, yaml_extra, table, message):
    path = _spec(BASE + yaml_extra, tmp_path, table)
    with pytest.raises(TrialDataError) as err:
        analyze_trial(path)
    assert str(err.value).startswith(message)


def test_lists_and_roles_are_checked():
    base = {"name": "t", "treatment": "b", "control": "a"}
    doc, src = parse_yaml("name: t\noutcomes: [post, post]\n", name="t.yaml")
    with pytest.raises(ConfigError, match=r"^t.yaml, line 2, field 'outcomes': lists 'post'"):
        trial_from_dict({**base, **doc, "data": {"dataset": "assistments_ab_video_vs_text"}},
                        source=src)  # fmt: skip
    with pytest.raises(ConfigError, match="'post' is both an outcome and a baseline covariate"):
        trial_from_dict(
            {**base, "data": {"dataset": "assistments_ab_video_vs_text"}, "outcomes": ["post"],
             "baseline": ["post"]}
        )  # fmt: skip


def test_a_response_log_gives_process_measures_per_arm():
    from edstudy.bkt import BKT, SkillParams

    s = SyntheticTrial("student", n_units=120)
    frame = synthetic_trial(s, 10)
    model = BKT.from_params({"fractions": SkillParams(prior=0.2, learn=0.15, guess=0.2, slip=0.1)})
    log = model.sample(n_students=130, n_opportunities=8, seed=1)  # 10 students not randomized
    result = analyze_trial(synthetic_spec(s), outcomes=frame, log=log)
    summary = result.process.summary.set_index(["metric", "arm"])
    assert summary.loc[("opportunities", "treatment"), "mean"] == 8.0
    assert summary.loc[("opportunities", "treatment"), "n_students"] == 60
    assert 0 < summary.loc[("final_mastery", "control"), "mean"] < 1
    traj = result.process.trajectories
    assert set(traj["arm"]) == {"treatment", "control"} and traj["opportunity"].max() == 8
    assert traj.groupby("arm")["mastery"].apply(lambda m: m.is_monotonic_increasing).all()
    assert "process" in result.figure_kinds()
