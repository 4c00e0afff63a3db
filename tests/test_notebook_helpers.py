"""Helpers of notebooks 03 and 04 (edstudy.investigations: knowledge_tracing, media_preferences)
and their figures. Fast: no PyMC, no real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from edstudy import plots
from edstudy.bkt import BKTParams, SkillParams, sample_log
from edstudy.investigations import knowledge_tracing as kt
from edstudy.investigations import media_preferences as mx


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    params = BKTParams.from_skills(
        {
            "easy": SkillParams(prior=0.4, learn=0.3, guess=0.35, slip=0.05),
            "slow": SkillParams(prior=0.2, learn=0.05, guess=0.1, slip=0.25),
        }
    )
    out = sample_log(params, 120, 8, seed=1)
    out["item_id"] = np.where(np.arange(len(out)) % 10 == 0, "rare-item", "common")
    return out


def test_returning_split_holds_out_each_students_last_rows(log):
    mask = kt.returning_split(log, 0.25)
    per = pd.DataFrame({"s": log["student_id"], "o": log["order"], "t": mask})
    for _, g in per.groupby("s"):
        assert g["t"].sum() == 4  # 16 distinct orders per student, the last quarter
        assert g.loc[g["t"], "o"].min() > g.loc[~g["t"], "o"].max()
    with pytest.raises(ValueError, match="test_share must be in"):
        kt.returning_split(log, 1.0)


def test_pool_rare_items_counts_and_does_not_mutate(log):
    before = log.copy()
    pooled = kt.pool_rare_items(log, min_rows=500)
    pd.testing.assert_frame_equal(log, before)
    assert set(pooled["item_id"]) == {"rare", "common"}
    assert pooled.attrs["pooled_items"]["rows_pooled"] == int((log["item_id"] == "rare-item").sum())


def test_compare_variants_table_curves_and_notes(log):
    res = kt.compare_variants(log, ["standard", "forgets"], folds=2, restarts=1)
    assert list(res.table["protocol"].unique()) == ["new students", "returning students"]
    assert res.table["auc"].between(0.5, 1).all()
    table = kt.comparison_table(res.table)
    assert list(table.columns[:4]) == ["auc_new", "rmse_new", "auc_returning", "rmse_returning"]
    assert table.loc["forgets", "auc_khajah2016"] == 0.83
    assert "best AUC" in kt.comparison_notes(res.table)
    curves = kt.learning_curves(log, res.predictions, max_opportunity=5, min_students=10)
    assert set(curves["series"]) == {"observed", "standard", "forgets"}
    assert curves["opportunity"].max() == 5
    assert isinstance(plots.learning_curves(curves), Figure)
    skills = kt.skill_table(res.models["standard"], log)
    assert "forget" not in skills.columns
    np.testing.assert_allclose(skills["discrimination"], 1 - skills["guess"] - skills["slip"])
    notes = kt.teacher_notes(skills, min_students=1)
    assert "*slow*" in notes.split("Slow to learn")[1]


def test_true_match_effect_recovers_a_known_interaction():
    rng = np.random.default_rng(0)
    n = 400
    pref = rng.integers(0, 4, n)
    gains = rng.normal(0, 1, (n, 1)) + np.array([0.1, 0.0, -0.1, 0.2])
    gains[np.arange(n), pref] += np.array([0.05, 0.1, 0.15, 0.1])[pref]
    assert mx.true_match_effect(gains, pref) == pytest.approx(0.1, abs=1e-9)
    with pytest.raises(ValueError, match="one medium code"):
        mx.true_match_effect(gains, pref[:-1])


def test_media_experiment_is_randomized_and_reproducible():
    a = mx.media_experiment(80, 1.0, seed=3)
    b = mx.media_experiment(80, 1.0, seed=3)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    assert a.outcomes["assigned_medium"].value_counts().tolist() == [20, 20, 20, 20]
    assert a.potential_gains.shape == (80, 4)
    medium = a.outcomes.set_index("student_id")["assigned_medium"]
    assert (a.log["activity"].astype(str) == a.log["student_id"].map(medium)).all()


def test_stated_vs_chosen_shares_and_figures():
    log = pd.DataFrame(
        {
            "student_id": ["a", "a", "b", "b", "b"],
            "activity": ["video", "text", "text", "text", "video"],
            "chosen": [True, True, True, True, False],
        }
    )
    outcomes = pd.DataFrame({"student_id": ["a", "b"], "stated_preference": ["video", "text"]})
    t = mx.stated_vs_chosen(log, outcomes)
    share = t.set_index(["stated", "chosen"])["share"]
    assert share[("video", "video")] == 0.5
    assert share[("text", "text")] == 1.0
    assert isinstance(plots.choice_heatmap(t), Figure)
    long = pd.DataFrame(
        {
            "activity": ["quiz", "quiz", "url"],
            "preference": [0.1, 0.3, 0.6],
            "share": [0.2, 0.2, 0.8],
        }
    )
    assert isinstance(plots.preference_spread(long), Figure)
    table = pd.DataFrame(
        {
            "estimate": [0.0, 0.05],
            "lower": [-0.02, 0.03],
            "upper": [0.02, 0.07],
            "true_match": [0, 0.05],
        },
        index=["no meshing", "meshing"],
    )
    fig = plots.estimate_vs_truth(table)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["no meshing", "meshing"]
