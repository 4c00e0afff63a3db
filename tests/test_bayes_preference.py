"""Learner-preference model (hierarchical multinomial logit) and the meshing test.

Small fits for the normal suite; the repeated-simulation checks are in ``test_bayes_slow.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edstudy.bayes import FitSettings
from edstudy.bayes.synthetic import MEDIA, simulate_choices, simulate_meshing

pytest.importorskip("pymc")

from edstudy.bayes.meshing import fit_meshing, meshing_data, meshing_summary  # noqa: E402
from edstudy.bayes.preference import (  # noqa: E402
    fit_preferences,
    preference_data,
    preference_summary,
    stated_effect_summary,
)


def test_preference_data_counts_choices_and_aligns_survey():
    log = pd.DataFrame(
        {
            "student_id": ["a", "a", "a", "b", "b", "c"],
            "skill_id": "k",
            "order": [0, 1, 2, 0, 1, 0],
            "correct": pd.array([1, 0, pd.NA, 1, 1, 0], dtype="Int8"),
            "activity": ["video", "video", "text", "audio", None, "text"],
            "chosen": pd.array([True, True, True, True, True, False], dtype="boolean"),
        }
    )
    outcomes = pd.DataFrame(
        {
            "student_id": ["a", "b", "d"],
            "stated_preference": ["video", None, "text"],
            "class_id": ["c1", "c1", "c2"],
            "interest": [1.0, 3.0, np.nan],
        }
    )
    before = (log.copy(), outcomes.copy())
    d = preference_data(log, outcomes, interest_columns=["interest"])
    pd.testing.assert_frame_equal(log, before[0])
    pd.testing.assert_frame_equal(outcomes, before[1])
    assert list(d.media) == ["audio", "text", "video"]  # from the choices
    assert list(d.students) == ["a", "b", "d"]
    np.testing.assert_array_equal(d.counts, [[0, 1, 2], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(d.stated, [2, -1, 1])
    np.testing.assert_allclose(d.covariates[:, 0], [-1.0, 1.0, 0.0])
    assert list(d.classes) == ["c1", "c2"]


def test_preference_data_errors_name_the_problem():
    log = pd.DataFrame({"student_id": ["a"], "activity": ["video"], "chosen": [True]})
    outcomes = pd.DataFrame({"student_id": ["a"], "stated_preference": ["video"]})
    with pytest.raises(ValueError, match=r"response log is missing column\(s\) \['chosen'\]"):
        preference_data(log.drop(columns="chosen"), outcomes)
    with pytest.raises(ValueError, match="chosen activity not in media"):
        preference_data(log, outcomes, media=["audio", "text"])


@pytest.fixture(scope="module")
def preference_fit():
    log, outcomes, truth = simulate_choices(
        n_classes=4, students_per_class=25, choices_per_student=12, stated_effect=1.0, seed=1
    )
    idata = fit_preferences(
        log, outcomes, settings=FitSettings(draws=400, tune=400, chains=2, cores=1), seed=1
    )
    return log, outcomes, truth, idata


def test_preference_model_recovers_stated_effect(preference_fit):
    _, _, truth, idata = preference_fit
    summary = stated_effect_summary(idata, interval=0.9)
    lo, hi = summary.loc["stated_effect", ["lower", "upper"]]
    assert lo < truth["stated_effect"] < hi
    assert summary.loc["stated_effect", "p_positive"] > 0.99
    assert set(idata.posterior["medium"].to_numpy()) == set(MEDIA)
    assert idata.posterior["preference"].dims == ("chain", "draw", "student", "medium")


def test_preference_summary_matches_choice_probabilities(preference_fit):
    _, outcomes, truth, idata = preference_fit
    table = preference_summary(idata)
    assert len(table) == len(outcomes) * len(MEDIA)
    sums = table.groupby("student_id")["mean"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)
    media = list(idata.posterior["medium"].to_numpy())
    order = [list(MEDIA).index(m) for m in media]
    wide = table.pivot(index="student_id", columns="medium", values="mean")[media]
    true = truth["choice_prob"][:, order]
    assert np.corrcoef(wide.to_numpy().ravel(), true.ravel())[0, 1] > 0.7


def test_meshing_data_drops_with_reasons():
    log, outcomes, _ = simulate_meshing(n_students=30, seed=0)
    outcomes = outcomes.copy()
    outcomes.loc[0, "posttest"] = np.nan
    outcomes.loc[1, "stated_preference"] = "smell"
    log = log[log["student_id"] != outcomes.loc[2, "student_id"]]
    d = meshing_data(log, outcomes)
    assert len(d.students) == 27
    assert d.dropped == {
        "missing pretest or posttest": 1,
        "stated_preference missing or not a medium": 1,
        "no activity in the log": 1,
    }
    np.testing.assert_allclose(d.share.sum(axis=1), 1.0)


@pytest.mark.parametrize(("effect", "seed"), [(0.0, 2), (0.08, 3)])
def test_meshing_interval_covers_zero_without_effect_and_recovers_true_effect(effect, seed):
    log, outcomes, truth = simulate_meshing(n_students=300, match_effect=effect, seed=seed)
    idata = fit_meshing(
        log, outcomes, settings=FitSettings(draws=300, tune=300, chains=2, cores=1), seed=seed
    )
    row = meshing_summary(idata, interval=0.9).loc["match_effect"]
    assert row["lower"] < effect < row["upper"]
    if effect == 0.0:
        assert row["lower"] < 0 < row["upper"]
    else:
        assert row["lower"] > 0, "a true match effect of 0.08 should be detected"
    assert int(idata.sample_stats["diverging"].sum()) <= 5


def test_meshing_fast_path_map():
    log, outcomes, _ = simulate_meshing(n_students=200, match_effect=0.1, seed=5)
    idata = fit_meshing(log, outcomes, settings=FitSettings(method="map"), seed=0)
    assert idata.posterior.sizes["draw"] == 1
    row = meshing_summary(idata).loc["match_effect"]
    assert 0.03 < row["mean"] < 0.17
