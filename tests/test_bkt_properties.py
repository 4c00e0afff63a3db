"""Property tests (hypothesis) of the BKT estimator's invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edstudy.bkt import BKT, BKTParams, SkillParams

pytestmark = pytest.mark.filterwarnings("ignore::edstudy.bkt.ConvergenceWarning")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

prob = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def skill_params(draw, forgets=True, sane=False):
    guess = draw(prob)
    slip = draw(st.floats(0.0, 1.0 - guess) if sane else prob)
    if sane:
        # "sane" means a correct answer is at least as likely when mastered: 1 - slip >= guess,
        # checked in floating point (guess=3e-238, slip=1.0 passes "guess + slip <= 1" but not this)
        assume(1.0 - slip >= guess)
    return SkillParams(
        prior=draw(prob),
        learn=draw(prob),
        guess=guess,
        slip=slip,
        forget=draw(prob) if forgets else 0.0,
    )


@st.composite
def logs(draw, max_students=6, max_len=12, skills=("a", "b"), unscored=True):
    rows = []
    n_students = draw(st.integers(1, max_students))
    for s in range(n_students):
        order = 0
        for skill in skills:
            n = draw(st.integers(0, max_len))
            for _ in range(n):
                c = draw(st.sampled_from([0, 1, None] if unscored else [0, 1]))
                rows.append((f"st{s}", skill, order, c))
                order += 1
    if not rows:
        rows.append(("st0", skills[0], 0, 1))
    df = pd.DataFrame(rows, columns=["student_id", "skill_id", "order", "correct"])
    df["correct"] = df["correct"].astype("Int8")
    perm = draw(st.permutations(range(len(df))))
    return df.iloc[list(perm)].reset_index(drop=True)


@SETTINGS
@given(a=skill_params(), b=skill_params(), log=logs())
def test_probabilities_stay_in_unit_interval(a, b, log):
    model = BKT.from_params({"a": a, "b": b})
    for values in (model.predict_proba(log), model.mastery(log)):
        assert values.shape == (len(log),)
        assert np.all((values >= 0.0) & (values <= 1.0)), values


def _previous_mastery(model, log):
    """P(mastered) before each row: the previous row's mastery, or the skill's prior."""
    mastery = model.mastery(log)
    prior = model.model_.skill_table()["prior"]
    before = np.empty(len(log))
    for _, g in log.groupby(["student_id", "skill_id"]):
        g = g.sort_values("order")
        idx = g.index.to_numpy()
        before[idx[0]] = prior[g["skill_id"].iloc[0]]
        before[idx[1:]] = mastery[idx[:-1]]
    return mastery, before


@SETTINGS
@given(
    a=skill_params(forgets=False, sane=True), b=skill_params(forgets=False, sane=True), log=logs()
)
def test_without_forgetting_a_correct_answer_never_lowers_mastery(a, b, log):
    # holds whenever guess + slip <= 1 (which BKT's default bounds guarantee)
    model = BKT.from_params({"a": a, "b": b})
    mastery, before = _previous_mastery(model, log)
    correct = (log["correct"] == 1).fillna(False).to_numpy()
    assert np.all(mastery[correct] >= before[correct] - 1e-12)
    # and nothing lowers it without forgetting except a wrong answer
    unscored = log["correct"].isna().to_numpy()
    assert np.all(mastery[unscored] >= before[unscored] - 1e-12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=logs(max_students=8, unscored=False))
def test_fitted_models_keep_mastery_monotone_after_correct_answers(log):
    model = BKT(restarts=2, max_iter=30).fit(log)
    mastery, before = _previous_mastery(model, log)
    correct = (log["correct"] == 1).to_numpy()
    assert np.all(mastery[correct] >= before[correct] - 1e-12)
    assert np.all(np.diff(model.history_) >= 0)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=logs(max_students=8, unscored=False), seed=st.integers(0, 2**31 - 1))
def test_fit_is_invariant_to_the_order_of_students(log, seed):
    rng = np.random.default_rng(seed)
    model = BKT(restarts=2, max_iter=50, forgets=True)
    a = model.fit(log).params_
    # the same rows in another order: the same fit, bit for bit
    shuffled = log.iloc[rng.permutation(len(log))]
    pd.testing.assert_frame_equal(BKT(**model.get_params()).fit(shuffled).params_, a)
    # students renamed so that they sort differently: the same fit up to summation order
    names = log["student_id"].unique()
    rename = dict(zip(names, [f"x{i}" for i in rng.permutation(len(names))], strict=True))
    renamed = log.assign(student_id=log["student_id"].map(rename))
    b = BKT(**model.get_params()).fit(renamed).params_
    np.testing.assert_allclose(b["value"].to_numpy(), a["value"].to_numpy(), atol=1e-7)


@SETTINGS
@given(a=skill_params(), b=skill_params(), log=logs(unscored=False), data=st.data())
def test_predictions_use_only_earlier_rows(a, b, log, data):
    model = BKT.from_params({"a": a, "b": b})
    pred = model.predict_proba(log)
    i = data.draw(st.integers(0, len(log) - 1))
    same = (log["student_id"] == log.at[i, "student_id"]) & (
        log["skill_id"] == log.at[i, "skill_id"]
    )
    later = same & (log["order"] >= log.at[i, "order"])
    changed = log.copy()
    changed.loc[later, "correct"] = 1 - changed.loc[later, "correct"]
    new = model.predict_proba(changed)
    keep = ~later.to_numpy() | (log.index == i)  # row i's own answer cannot affect its prediction
    np.testing.assert_array_equal(new[keep], pred[keep])


@SETTINGS
@given(p=skill_params())
def test_skill_params_round_trip(p):
    bp = BKTParams.from_skills({"k": p})
    assert BKTParams.from_frame(bp.to_frame()) == bp
    assert BKTParams.from_json(bp.to_json()) == bp
