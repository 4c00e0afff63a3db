"""The study designer, driven without a browser, and the comparison tables behind it."""

from __future__ import annotations

import pandas as pd
import pytest

from edstudy.experiment import Study, analysis_frame, run_study
from edstudy.investigations.strategy_comparison import (
    ARM_METRICS,
    arm_metrics,
    dropout_differences,
    effect_sizes,
    headline,
    mixed_models,
    what_this_shows,
)
from edstudy.sim import data_path
from edstudy.stats import hedges_g
from edstudy.widgets.study_designer import StudyDesigner, study_designer

ARMS = ["individualized", "personalized", "personalized_random_media"]
PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def designer() -> StudyDesigner:
    d = study_designer(n_students=450, arms=ARMS)
    d.meshing.value = 1.0
    assert d.run() is not None, d.message
    return d


def test_run_fills_summary_effects_and_figure(designer):
    assert designer.message == ""
    s = designer.summary
    assert isinstance(s, pd.DataFrame)
    assert list(s.columns) == [
        "scenario",
        "arm",
        "metric",
        "label",
        "n_students",
        "n_units",
        "mean",
        "ci_low",
        "ci_high",
    ]
    assert list(dict.fromkeys(s["scenario"])) == ["meshing 0", "meshing 1"]
    assert list(dict.fromkeys(s["arm"])) == ARMS
    assert list(dict.fromkeys(s["metric"])) == list(ARM_METRICS)
    assert (s["ci_low"] <= s["mean"]).all() and (s["mean"] <= s["ci_high"]).all()
    e = designer.effects
    # the study file's contrasts among the chosen arms, in each scenario
    pairs = set(zip(e["arm"], e["reference"], strict=True))
    assert pairs == {
        ("personalized", "individualized"),
        ("personalized", "personalized_random_media"),
        ("personalized_random_media", "individualized"),
    }
    assert len(e) == 6
    assert designer.figure_png.startswith(PNG)
    assert designer.figure.outputs[0]["data"]["text/plain"] == "<matplotlib figure>"
    assert "Hedges" in designer.table_html.value
    assert "450 students" in designer.status.value


def test_progress_bar_ran_and_is_hidden(designer):
    bar = designer.progress
    assert not bar.visible
    assert bar.bar.max == 2 * len(ARMS)  # one task per scenario and arm
    assert bar.bar.value == bar.bar.max


def test_controls_shape_the_study(designer):
    designer.compare_null.value = False
    designer.n_skills.value = 4
    designer.minutes.value = 120
    designer.class_size.value = 15
    study = designer.build_study()
    assert study.scenario_names == ("meshing 1",)
    assert len(study.curriculum.skills) == 4
    assert study.budget.minutes == 120
    assert study.class_size == 15
    assert study.population.preference_validity == designer.preference_validity.value
    designer.meshing.value = 0.0
    designer.compare_null.value = True
    assert designer.build_study().scenario_names == ("meshing 0",)
    # restore for the other tests
    designer.meshing.value = 1.0
    designer.n_skills.value = designer.n_skills.max
    designer.minutes.value = 240
    designer.class_size.value = 25


def test_bad_settings_show_a_message_not_a_traceback():
    d = study_designer(n_students=100, arms=ARMS)
    d.arms.value = ()
    assert d.run() is None
    assert d.message == "select at least one arm to run"
    assert d.errors.widget.layout.display == "block"
    d.arms.value = ("individualized", "personalized")
    d.n_students.value = 50  # two classes: one per arm, too few for the cluster analysis
    assert d.run() is None
    assert "too few clusters" in d.message
    assert not d.progress.visible


def test_study_from_a_file_and_seed():
    d = study_designer(data_path("default_study.yaml"), n_students=200, seed=7)
    assert d.base.name == "default"
    assert d.build_study().seed == 7
    assert "edstudy-study-designer" in d.widget._dom_classes


# --- the comparison tables -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def result():
    base = Study.from_yaml(data_path("default_study.yaml"))
    arms = tuple(a for a in base.arms if a.name in ARMS)
    study = base.with_changes(
        n_students=300,
        replications=2,
        arms=arms,
        contrasts=(("personalized", "individualized"),),
        scenarios={"meshing_0": {"meshing_effect": 0.0}},
    )
    return run_study(study, progress=False, keep_log=False)


def test_analysis_frame_separates_replications(result):
    out = result.outcomes
    frame = analysis_frame(out)
    assert out["class_id"].equals(result.outcomes["class_id"])  # input untouched
    per_rep = out.groupby("replication")["class_id"].nunique().sum()
    assert frame["class_id"].nunique() == per_rep
    assert set(frame.groupby("class_id")["replication"].nunique()) == {1}
    learned = frame["mastered_true"] - frame["true_prior_mastered"]
    expected = (frame["time_on_task"] / 60 / learned).where(learned > 0)
    pd.testing.assert_series_equal(frame["minutes_per_skill_learned"], expected, check_names=False)


def test_effect_sizes_match_hedges_g(result):
    e = effect_sizes(result)
    assert list(e[["scenario", "arm", "reference"]].itertuples(index=False, name=None)) == [
        ("meshing_0", "personalized", "individualized")
    ]
    direct = hedges_g(
        analysis_frame(result.outcomes),
        "posttest",
        treatment="personalized",
        control="individualized",
        cluster="class_id",
    )
    assert e.loc[0, "g"] == pytest.approx(direct.estimate)
    assert e.loc[0, "ci_low"] < e.loc[0, "g"] < e.loc[0, "ci_high"]


def test_dropout_and_mixed_model_tables(result):
    d = dropout_differences(result)
    assert d.loc[0, "difference"] == pytest.approx(
        d.loc[0, "rate_arm"] - d.loc[0, "rate_reference"]
    )
    m = mixed_models(result)
    assert list(m.columns[:3]) == ["scenario", "arm", "reference"]
    assert {"estimate", "ci_low", "ci_high", "p_value", "icc_school_id", "icc_class_id"} <= set(
        m.columns
    )
    assert m.loc[0, "n_obs"] == 2 * 2 * 100
    none = result.study.with_changes(randomization="none")
    with pytest.raises(ValueError, match="randomization: none"):
        mixed_models(type(result)(study=none, outcomes=result.outcomes))


def test_what_this_shows_calls_only_clear_intervals():
    effects = pd.DataFrame(
        {
            "scenario": ["s", "s"],
            "arm": ["a", "b"],
            "reference": ["r", "r"],
            "g": [0.5, 0.1],
            "ci_low": [0.2, -0.1],
            "ci_high": [0.8, 0.3],
            "mean_arm": [0.8, 0.7],
            "mean_reference": [0.7, 0.7],
        }
    )
    dropout = pd.DataFrame(
        {
            "scenario": ["s", "s"],
            "arm": ["a", "b"],
            "reference": ["r", "r"],
            "rate_arm": [0.1, 0.2],
            "rate_reference": [0.2, 0.2],
            "difference": [-0.1, 0.0],
            "ci_low": [-0.15, -0.05],
            "ci_high": [-0.05, 0.05],
        }
    )
    text = what_this_shows(effects, dropout, n_students=100)
    lines = text.splitlines()
    assert lines[0] == "**Scenario `s`**"
    assert lines[2].startswith("- `a` vs `r`: higher post-test scores")
    assert "less dropout (10.0% vs 20.0%" in lines[2]
    assert lines[3].startswith("- `b` vs `r`: no detectable difference in post-test scores")
    assert "no detectable difference in dropout" in lines[3]
    assert "100 per replication" in text


def test_arm_metrics_rejects_unknown_metrics(result):
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['grit'\]"):
        arm_metrics(result, ["posttest", "grit"])


def test_the_headline_is_one_sentence_from_the_numbers():
    effects = pd.DataFrame(
        {
            "scenario": ["w0", "w1"],
            "arm": ["personalized", "personalized"],
            "reference": ["individualized", "individualized"],
            "g": [0.05, 0.4],
            "ci_low": [-0.1, 0.2],
            "ci_high": [0.2, 0.6],
        }
    )
    assert headline(effects) == (
        "**personalized** vs **individualized** on the post-test: in `w0`, no detectable "
        "difference (Hedges' g +0.05, 95% CI -0.10 to +0.20); in `w1`, higher (Hedges' g +0.40, "
        "95% CI +0.20 to +0.60)."
    )
    other = effects.assign(arm="blended")  # no such comparison: the study's first one
    assert headline(other).startswith("**blended** vs **individualized**")
