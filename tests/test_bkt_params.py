"""BKT parameter containers, metrics and sampling."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from edstudy.bkt import BKT, BKTParams, SkillParams, sample_log
from edstudy.bkt import metrics as M
from edstudy.schema import validate_log


# ------------------------------------------------------------------------------- params
def test_skill_params_validation():
    assert SkillParams(0.1, 0.2, 0.3, 0.4).forget == 0.0
    with pytest.raises(
        ValueError, match=re.escape("guess must be a probability in [0, 1], got 1.5")
    ):
        SkillParams(prior=0.1, learn=0.2, guess=1.5, slip=0.1)
    with pytest.raises(
        ValueError, match=re.escape("prior must be a probability in [0, 1], got nan")
    ):
        SkillParams(prior=float("nan"), learn=0.2, guess=0.1, slip=0.1)
    with pytest.raises(
        ValueError, match=re.escape("learn must be a probability in [0, 1], got 'x'")
    ):
        SkillParams(prior=0.1, learn="x", guess=0.1, slip=0.1)
    p = SkillParams(0.1, 0.2, 0.3, 0.4)
    with pytest.raises(AttributeError):
        p.prior = 0.5


def test_bkt_params_validation():
    base = BKTParams.from_skills({"a": SkillParams(0.1, 0.2, 0.3, 0.1)})
    assert base.n_skills == 1 and not base.item_guess_slip and not base.forgets
    with pytest.raises(ValueError):
        base.prior[0] = 0.5  # read-only arrays
    with pytest.raises(
        ValueError, match=re.escape("slip must be a probability in [0, 1], got -0.1")
    ):
        BKTParams.from_skills({"a": {"prior": 0.1, "learn": 0.2, "guess": 0.3, "slip": -0.1}})
    with pytest.raises(
        ValueError,
        match=re.escape(
            "slip must be probabilities in [0, 1]: 1 values are not, "
            "first at position 1 (value 2.0)"
        ),
    ):
        BKTParams(
            skills=("a", "b"),
            prior=[0.1, 0.2],
            tr_skill=[0, 1],
            tr_label=("all", "all"),
            learn=[0.1, 0.1],
            forget=[0, 0],
            gs_skill=[0, 1],
            gs_label=("all", "all"),
            guess=[0.1, 0.1],
            slip=[0.1, 2.0],
        )
    with pytest.raises(
        ValueError, match=re.escape("every skill needs a guess/slip value; missing for ['b']")
    ):
        BKTParams(
            skills=("a", "b"),
            prior=[0.1, 0.2],
            tr_skill=[0, 1],
            tr_label=("all", "all"),
            learn=[0.1, 0.1],
            forget=[0, 0],
            gs_skill=[0],
            gs_label=("all",),
            guess=[0.1],
            slip=[0.1],
        )
    with pytest.raises(
        ValueError,
        match=re.escape(
            "unknown parameter 'slips' for skill 'a'; allowed: prior, learn, forget, guess, slip"
        ),
    ):
        BKTParams.from_skills({"a": {"prior": 0.1, "learn": 0.2, "guess": 0.3, "slips": 0.1}})
    with pytest.raises(ValueError, match="a BKT model needs at least one skill"):
        BKTParams.from_skills({})


def test_frame_round_trip_with_classes_and_effects():
    rows = [
        ("a", "prior", "all", 0.3),
        ("a", "learn", "video", 0.2),
        ("a", "learn", "text", 0.1),
        ("a", "guess", 1, 0.2),
        ("a", "slip", 1, 0.1),
        ("a", "guess", 2, 0.25),
        ("a", "slip", 2, 0.05),
        ("b", "prior", "all", 0.5),
        ("b", "learn", "video", 0.3),
        ("b", "guess", "all", 0.2),
        ("b", "slip", "all", 0.1),
        (None, "student_learn", "ann", 0.4),
        (None, "student_learn", "bob", -0.4),
    ]
    frame = pd.DataFrame(rows, columns=["skill", "parameter", "class", "value"])
    p = BKTParams.from_frame(frame)
    assert p.item_guess_slip and p.activity_learn and p.student_prior is None
    assert p.students == ("ann", "bob")
    back = BKTParams.from_frame(p.to_frame())
    assert back == p
    assert BKTParams.from_json(p.to_json()) == p
    table = p.to_frame()
    assert list(table.columns) == ["skill", "parameter", "class", "value"]
    assert table.query("parameter == 'forget'")["value"].eq(0).all()
    with pytest.raises(
        ValueError,
        match=re.escape(
            "unknown parameter 'guesses'; allowed: prior, learn, forget, guess, slip, "
            "student_prior, student_learn"
        ),
    ):
        BKTParams.from_frame(frame.assign(parameter="guesses"))
    with pytest.raises(ValueError, match=re.escape("prior missing for skill(s) ['a']")):
        BKTParams.from_frame(frame[frame["parameter"] != "prior"].iloc[:6])


def test_skill_table_weights_classes():
    p = BKTParams(
        skills=("a",),
        prior=[0.2],
        tr_skill=[0],
        tr_label=("all",),
        learn=[0.1],
        forget=[0.0],
        gs_skill=[0, 0],
        gs_label=(1, 2),
        guess=[0.1, 0.3],
        slip=[0.1, 0.1],
        gs_weight=[3, 1],
    )
    assert p.skill_table().loc["a", "guess"] == pytest.approx(0.15)


def test_json_rejects_unsupported_ids():
    p = BKTParams.from_skills({(1, 2): SkillParams(0.1, 0.2, 0.3, 0.1)})
    with pytest.raises(TypeError, match="use int or str ids"):
        p.to_json()


# ------------------------------------------------------------------------------- metrics
def test_metrics_agree_with_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.round(rng.random(500), 2)  # with ties
    assert M.auc(y, p) == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert M.rmse(y, p) == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)), abs=1e-12)
    assert M.log_loss(y, p) == pytest.approx(
        skm.log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)), abs=1e-12
    )
    assert M.accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p >= 0.5), abs=1e-12)
    assert M.log_likelihood([1, 0], [0.8, 0.25]) == pytest.approx(np.log(0.8) + np.log(0.75))
    assert np.isnan(M.auc([1, 1], [0.2, 0.3]))
    with pytest.raises(ValueError, match="y and p must have the same length, got 2 and 3"):
        M.rmse([1, 0], [0.1, 0.2, 0.3])


# ------------------------------------------------------------------------------- sampling
def test_sample_log_format_and_seed():
    p = BKTParams.from_skills(
        {"a": SkillParams(0.2, 0.2, 0.2, 0.1), 3: SkillParams(0.5, 0.1, 0.1, 0.2)}
    )
    log = sample_log(p, 7, 4, seed=1)
    assert len(log) == 7 * 4 * 2
    validate_log(log)
    assert log.groupby("student_id")["order"].apply(lambda o: list(o) == list(range(8))).all()
    pd.testing.assert_frame_equal(log, sample_log(p, 7, 4, seed=1))
    assert not log.equals(sample_log(p, 7, 4, seed=2))
    gen = np.random.default_rng(5)
    assert len(sample_log(p, 2, 2, seed=gen)) == 8
    with pytest.raises(ValueError, match=re.escape("n_students must be an int >= 1, got 0")):
        sample_log(p, 0, 4)


def test_sampled_answers_follow_the_parameters():
    p = BKTParams.from_skills({"a": SkillParams(prior=0.0, learn=0.0, guess=0.3, slip=0.1)})
    log = sample_log(p, 4000, 2, seed=0, return_state=True)
    assert log["mastered"].sum() == 0
    # tolerances: 3 binomial SEs, sqrt(.3 * .7 / 8000) = 0.0051 and sqrt(.25 / 4000) = 0.0079
    assert log["correct"].mean() == pytest.approx(0.3, abs=0.015)
    q = BKTParams.from_skills(
        {"a": SkillParams(prior=1.0, learn=0.0, guess=0.3, slip=0.1, forget=0.5)}
    )
    s = sample_log(q, 4000, 2, seed=0, return_state=True)
    assert s.groupby("order")["mastered"].mean().to_list() == pytest.approx([1.0, 0.5], abs=0.024)


def test_sample_variants_have_their_columns():
    rows = [
        ("a", "prior", "all", 0.3),
        ("a", "learn", "video", 0.2),
        ("a", "learn", "text", 0.1),
        ("a", "guess", "q1", 0.2),
        ("a", "slip", "q1", 0.1),
        ("a", "guess", "q2", 0.25),
        ("a", "slip", "q2", 0.05),
    ]
    model = BKT.from_params(pd.DataFrame(rows, columns=["skill", "parameter", "class", "value"]))
    log = model.sample(50, 6, seed=2)
    assert set(log["item_id"]) == {"q1", "q2"} and set(log["activity"]) == {"video", "text"}
    validate_log(log)
