"""The BKT estimator: API, options, errors, persistence, cross-validation and parameter recovery."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from edstudy.bkt import (
    BKT,
    BKTParams,
    ConvergenceWarning,
    NotFittedError,
    SkillParams,
    sample_log,
    update_mastery,
)

pytestmark = pytest.mark.filterwarnings("ignore::edstudy.bkt.ConvergenceWarning")

TRUTH = {
    "s0": SkillParams(prior=0.2, learn=0.1, guess=0.2, slip=0.1),
    "s1": SkillParams(prior=0.5, learn=0.2, guess=0.25, slip=0.05),
    "s2": SkillParams(prior=0.3, learn=0.05, guess=0.15, slip=0.15),
    "s3": SkillParams(prior=0.1, learn=0.3, guess=0.3, slip=0.1),
    "s4": SkillParams(prior=0.6, learn=0.15, guess=0.1, slip=0.2),
}


@pytest.fixture(scope="module")
def truth() -> BKTParams:
    return BKTParams.from_skills(TRUTH)


@pytest.fixture(scope="module")
def small_log(truth) -> pd.DataFrame:
    return sample_log(truth, 60, 10, seed=11)


@pytest.fixture(scope="module")
def fitted(small_log) -> BKT:
    return BKT(restarts=2).fit(small_log)


def _errors(model: BKT, truth: BKTParams) -> pd.DataFrame:
    both = model.params_.merge(
        truth.to_frame(), on=["skill", "parameter", "class"], suffixes=("", "_true")
    )
    both["error"] = (both["value"] - both["value_true"]).abs()
    return both


# ------------------------------------------------------------------------------- recovery
def test_recovers_standard_parameters(truth):
    """5 skills, 2000 students x 20 opportunities: prior/learn/guess/slip within +-0.03.

    Standard errors at this size are about 0.012 for the prior (the hardest: it is seen only
    through the first answers) and below 0.01 for the others, so 0.03 is about 2.5 SE.
    """
    log = sample_log(truth, 2000, 20, seed=1)
    model = BKT().fit(log)
    err = _errors(model, truth)
    main = err[err["parameter"].isin(["prior", "learn", "guess", "slip"])]
    assert len(main) == 20
    assert main["error"].max() < 0.03, main.sort_values("error").tail()
    assert model.converged_
    assert np.all(np.diff(model.history_) >= 0)


def test_recovers_forgets(truth):
    """Forget within +-0.02: it is estimated from every transition out of the mastered state
    (about 15,000 per skill here), SE ~0.003 to 0.006."""
    forgets = {
        k: SkillParams(v.prior, v.learn, v.guess, v.slip, forget=f)
        for (k, v), f in zip(TRUTH.items(), [0.05, 0.1, 0.02, 0.08, 0.04], strict=True)
    }
    t = BKTParams.from_skills(forgets)
    model = BKT(forgets=True).fit(sample_log(t, 2000, 20, seed=2))
    err = _errors(model, t).set_index("parameter")["error"]
    assert err.drop("forget").max() < 0.03
    assert err["forget"].max() < 0.02


def _table(rows):
    return pd.DataFrame(rows, columns=["skill", "parameter", "class", "value"])


def test_recovers_item_guess_slip():
    """KT-IDEM, 3 skills x 4 items: skill parameters within 0.03; item guess/slip within 0.04.

    Each item has ~10,000 answers, of which ~3,000-6,000 from the state that identifies its
    guess (unmastered) or slip (mastered): SE 0.006 to 0.009, and the per-item values also trade
    off against the skill's prior/learn; 0.04 is about 4 SE for the hardest item."""
    rows = []
    for k in range(3):
        rows += [
            (f"s{k}", "prior", "all", [0.2, 0.4, 0.3][k]),
            (f"s{k}", "learn", "all", [0.1, 0.2, 0.15][k]),
        ]
        for i in range(4):
            rows += [
                (f"s{k}", "guess", f"i{k}{i}", [0.05, 0.15, 0.25, 0.35][i]),
                (f"s{k}", "slip", f"i{k}{i}", [0.05, 0.1, 0.15, 0.2][(i + k) % 4]),
            ]
    t = BKTParams.from_frame(_table(rows))
    model = BKT(item_guess_slip=True).fit(BKT.from_params(t).sample(2000, 20, seed=1))
    err = _errors(model, t)
    assert err.loc[err["parameter"].isin(["prior", "learn"]), "error"].max() < 0.03
    assert err.loc[err["parameter"].isin(["guess", "slip"]), "error"].max() < 0.04
    assert len(err) == 3 * (2 + 8 + 1)


def test_recovers_activity_learn():
    """Learn rate per activity (3 activities, ~13,000 transitions each per skill): within 0.03."""
    rows = []
    for k in range(3):
        rows += [
            (f"s{k}", "prior", "all", [0.2, 0.4, 0.3][k]),
            (f"s{k}", "guess", "all", [0.2, 0.15, 0.25][k]),
            (f"s{k}", "slip", "all", [0.1, 0.05, 0.15][k]),
        ]
        for i, a in enumerate(["video", "text", "hands_on"]):
            rows.append((f"s{k}", "learn", a, [0.05, 0.15, 0.3][(i + k) % 3]))
    t = BKTParams.from_frame(_table(rows))
    log = BKT.from_params(t).sample(2000, 20, seed=1)
    assert set(log["activity"]) == {"video", "text", "hands_on"}
    model = BKT(activity_learn=True).fit(log)
    err = _errors(model, t)
    assert err["error"].max() < 0.03
    learn = model.params_.query("parameter == 'learn' and skill == 's0'").set_index("class")[
        "value"
    ]
    assert learn["hands_on"] > learn["text"] > learn["video"]


def _oracle_effects(truth, log, which, sd):
    """Effects fitted with the skill parameters held at the truth: what the data allow."""
    frame = truth.to_frame()
    m = BKT(**{which: True}, student_effect_sd=sd, restarts=1, fixed=frame).fit(log)
    return getattr(m.model_, which)


@pytest.mark.parametrize("which", ["student_prior", "student_learn"])
def test_recovers_student_effects(truth, which):
    """Individualized BKT, effects ~ N(0, 0.8^2) on the logit scale, 100 answers per student.

    Skill guess/slip/learn within 0.03. The skill prior is defined at effect 0 (the median
    student) and trades off against the effects; its population mean is checked within 0.045:
    over 5 replications of this design its error had SD ~0.015 for the low-prior skill (3 SE).
    A student's effect is seen through few
    answers (the first answer of each of 5 skills for the prior; the few transitions before
    mastery for the learning rate), so its estimate is noisy and shrunk: the test requires the
    fitted effects to correlate with the truth at least 90% as well as effects fitted with the
    skill parameters held at their true values (the information bound of this data), and a
    correlation above 0.45 (prior) / 0.6 (learn)."""
    sd = 0.8
    rng = np.random.default_rng(100)
    effects = rng.normal(0, sd, 2000)
    log = sample_log(truth, 2000, 20, seed=3, **{which: effects})
    model = BKT(**{which: True}, student_effect_sd=sd).fit(log)
    assert np.all(np.diff(model.history_) >= 0)
    err = _errors(model, truth).set_index("parameter")["error"]
    assert err.drop(["prior", "forget"]).max() < 0.03
    est = getattr(model.model_, which)
    order = np.asarray(model.model_.students)
    est = pd.Series(est, index=order).reindex(np.arange(2000)).to_numpy()
    corr = np.corrcoef(effects, est)[0, 1]
    oracle = _oracle_effects(truth, log, which, sd)
    oracle_corr = np.corrcoef(effects, oracle)[0, 1]
    assert corr >= 0.9 * oracle_corr
    assert corr > (0.45 if which == "student_prior" else 0.6)
    if which == "student_prior":
        fitted_prior = model.model_.skill_table()["prior"].to_numpy()
        logit = np.log(fitted_prior) - np.log1p(-fitted_prior)
        true_logit = np.log(truth.prior) - np.log1p(-np.asarray(truth.prior))
        pop_fit = (1 / (1 + np.exp(-(logit[:, None] + est[None, :])))).mean(axis=1)
        pop_true = (1 / (1 + np.exp(-(true_logit[:, None] + effects[None, :])))).mean(axis=1)
        assert np.abs(pop_fit - pop_true).max() < 0.045


# ------------------------------------------------------------------------------- fitted attrs
def test_fitted_attributes(fitted, small_log):
    p = fitted.params_
    assert list(p.columns) == ["skill", "parameter", "class", "value"]
    assert set(p["parameter"]) == {"prior", "learn", "forget", "guess", "slip"}
    assert (p["class"] == "all").all()
    assert len(p) == 5 * 5
    assert p["value"].between(0, 1).all()
    assert (p.query("parameter == 'forget'")["value"] == 0).all()
    assert p.query("parameter == 'guess'")["value"].max() <= 0.5
    assert list(fitted.skills_) == ["s0", "s1", "s2", "s3", "s4"]
    h = fitted.history_
    assert h.ndim == 1 and len(h) == fitted.n_iter_ + 1
    assert np.all(np.diff(h) >= 0)
    assert fitted.log_likelihood_ == pytest.approx(h[-1])
    assert fitted.score(small_log, "log_likelihood")["log_likelihood"] == pytest.approx(
        fitted.log_likelihood_, abs=1e-8
    )


def test_fit_returns_self_and_does_not_modify_input(small_log):
    before = small_log.copy()
    m = BKT(restarts=1)
    assert m.fit(small_log) is m
    pd.testing.assert_frame_equal(small_log, before)


def test_same_seed_same_fit(small_log):
    a = BKT(restarts=3, seed=5).fit(small_log).params_
    b = BKT(restarts=3, seed=5).fit(small_log).params_
    pd.testing.assert_frame_equal(a, b)


def test_more_restarts_never_lower_the_likelihood(small_log):
    lls = [BKT(restarts=r, seed=1).fit(small_log).log_likelihood_ for r in (1, 3, 6)]
    assert lls[0] <= lls[1] + 1e-9 <= lls[2] + 2e-9


def test_predict_before_fit_raises(small_log):
    with pytest.raises(
        NotFittedError,
        match=re.escape(
            "this BKT instance is not fitted yet; call fit(log) or BKT.from_params(...) first"
        ),
    ):
        BKT().predict_proba(small_log)


def test_mastery_equals_chained_update_mastery(truth):
    log = sample_log(truth, 5, 8, seed=2)
    model = BKT.from_params(truth)
    got = model.mastery(log)
    table = truth.skill_table()
    for (_, skill), g in log.groupby(["student_id", "skill_id"]):
        pr = table.loc[skill]
        p = np.array([pr["prior"]])
        for i, c in zip(g.index, g["correct"], strict=True):
            p = update_mastery(
                p,
                np.array([c]),
                guess=pr["guess"],
                slip=pr["slip"],
                learn=pr["learn"],
                forget=pr["forget"],
            )
            assert got[i] == pytest.approx(p[0], abs=1e-12)


def test_predictions_follow_row_order_and_any_index(fitted, small_log):
    shuffled = small_log.sample(frac=1, random_state=3)
    shuffled.index = np.arange(len(shuffled))[::-1] * 10 + 7
    a = fitted.predict_proba(small_log)
    b = fitted.predict_proba(shuffled)
    pos = small_log.index.get_indexer(small_log.sample(frac=1, random_state=3).index)
    np.testing.assert_array_equal(b, a[pos])


def test_unscored_rows_are_predicted_and_teach(truth):
    log = sample_log(truth, 200, 6, seed=4)
    log["correct"] = log["correct"].astype("Int8")
    log.loc[log.index[::3], "correct"] = pd.NA
    model = BKT(restarts=1).fit(log)
    pred = model.predict_proba(log)
    assert np.isfinite(pred).all()
    # an unscored row still moves mastery by the learning transition
    one = pd.DataFrame(
        {"student_id": 1, "skill_id": "s0", "order": [0, 1], "correct": [pd.NA, pd.NA]}
    )
    m = BKT.from_params(truth).mastery(one)
    assert m[0] == pytest.approx(0.2 + 0.8 * 0.1)
    assert m[1] == pytest.approx(m[0] + (1 - m[0]) * 0.1)
    s = model.score(log)
    assert set(s) == {"auc", "rmse", "log_loss", "accuracy"}


def test_no_scored_rows_is_an_error():
    log = pd.DataFrame(
        {"student_id": [1, 1], "skill_id": "a", "order": [0, 1], "correct": [pd.NA, pd.NA]}
    )
    with pytest.raises(
        ValueError, match=re.escape("the log has no scored rows (correct is missing everywhere)")
    ):
        BKT().fit(log)


def test_fixed_parameters_are_held(small_log):
    m = BKT(fixed={"guess": 0.2, "slip": {"s1": 0.07}}, restarts=2).fit(small_log)
    p = m.params_.set_index(["skill", "parameter"])["value"]
    assert (p.xs("guess", level="parameter") == 0.2).all()
    assert p[("s1", "slip")] == 0.07
    assert p[("s0", "slip")] != 0.07
    # a tidy table, e.g. part of a previous fit
    prev = BKT(restarts=1).fit(small_log).params_
    keep = prev[prev["parameter"] == "learn"]
    m2 = BKT(fixed=keep, restarts=2).fit(small_log)
    np.testing.assert_allclose(
        m2.params_.query("parameter == 'learn'")["value"].to_numpy(), keep["value"].to_numpy()
    )
    assert np.all(np.diff(m2.history_) >= 0)


def test_guess_slip_bounds(small_log):
    m = BKT(max_guess=0.3, max_slip=0.1, restarts=2).fit(small_log)
    p = m.params_
    assert p.query("parameter == 'guess'")["value"].max() <= 0.3
    assert p.query("parameter == 'slip'")["value"].max() <= 0.1
    assert np.all(np.diff(m.history_) >= 0)


def test_convergence_warning(small_log):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m = BKT(max_iter=1, tol=0.0, restarts=1).fit(small_log)
    assert not m.converged_
    assert any(issubclass(x.category, ConvergenceWarning) for x in w)
    assert "max_iter=1" in str([str(x.message) for x in w])


def test_n_jobs_gives_the_same_fit(small_log):
    a = BKT(restarts=2, n_jobs=1).fit(small_log)
    b = BKT(restarts=2, n_jobs=-1).fit(small_log)
    pd.testing.assert_frame_equal(a.params_, b.params_)
    np.testing.assert_array_equal(a.predict_proba(small_log), b.predict_proba(small_log))


# ------------------------------------------------------------------------------- options
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"forgets": "yes"}, "forgets must be True or False, got 'yes'"),
        ({"item_guess_slip": 1}, "item_guess_slip must be True or False, got 1"),
        ({"activity_learn": None}, "activity_learn must be True or False, got None"),
        ({"student_prior": "no"}, "student_prior must be True or False, got 'no'"),
        ({"student_learn": 0}, "student_learn must be True or False, got 0"),
        ({"restarts": 0}, "restarts must be an int >= 1, got 0"),
        ({"restarts": 2.0}, "restarts must be an int >= 1, got 2.0"),
        ({"max_iter": 0}, "max_iter must be an int >= 1, got 0"),
        ({"tol": -1}, "tol must be a number >= 0, got -1"),
        ({"max_guess": 0}, "max_guess must be a number in (0, 1], got 0"),
        ({"max_slip": 1.5}, "max_slip must be a number in (0, 1], got 1.5"),
        ({"student_effect_sd": 0}, "student_effect_sd must be a number > 0, got 0"),
        (
            {"handle_unknown": "ignore"},
            "handle_unknown must be one of 'error', 'average', got 'ignore'",
        ),
        ({"seed": 1.5}, "seed must be None or an int, got 1.5"),
        ({"n_jobs": 0}, "n_jobs must be None, -1 or an int >= 1, got 0"),
        (
            {"fixed": [0.2]},
            "fixed must be None, a dict or a DataFrame with columns skill, "
            "parameter, class, value, got list",
        ),
    ],
)
def test_invalid_options_name_the_option_and_allowed_values(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        BKT(**kwargs)
    m = BKT()
    with pytest.raises(ValueError, match=re.escape(message)):
        m.set_params(**kwargs)


def test_unknown_option():
    with pytest.raises(TypeError):
        BKT(forget=True)
    with pytest.raises(ValueError, match=re.escape("unknown option 'forget'; allowed: forgets, ")):
        BKT().set_params(forget=True)


@pytest.mark.parametrize(
    ("fixed", "message"),
    [
        (
            {"guesses": 0.2},
            "fixed: unknown parameter 'guesses'; allowed: prior, learn, forget, guess, slip",
        ),
        ({"guess": 2}, "fixed: guess must be a probability in [0, 1], got 2"),
        ({"forget": 0.1}, "fixed: forget needs forgets=True"),
        ({"slip": {"nope": 0.1}}, "fixed: skill 'nope' is not in the log"),
    ],
)
def test_invalid_fixed(fixed, message, small_log):
    with pytest.raises(ValueError, match=re.escape(message)):
        BKT(fixed=fixed).fit(small_log)


def test_variant_needs_its_column(small_log):
    with pytest.raises(
        ValueError, match=re.escape("item_guess_slip=True needs the column 'item_id' in the log")
    ):
        BKT(item_guess_slip=True).fit(small_log)
    with pytest.raises(
        ValueError, match=re.escape("activity_learn=True needs the column 'activity' in the log")
    ):
        BKT(activity_learn=True).fit(small_log)
    log = small_log.assign(activity="video")
    log.loc[log.index[3], "activity"] = None
    with pytest.raises(
        ValueError,
        match=re.escape(
            "activity is missing in 1 rows (first at index 3): "
            "activity_learn=True needs activity on every row"
        ),
    ):
        BKT(activity_learn=True).fit(log)


def test_get_set_params_and_repr():
    m = BKT(forgets=True, restarts=3)
    params = m.get_params()
    assert params["forgets"] is True and params["restarts"] == 3
    assert set(params) == {
        "forgets",
        "item_guess_slip",
        "activity_learn",
        "student_prior",
        "student_learn",
        "student_effect_sd",
        "max_guess",
        "max_slip",
        "restarts",
        "max_iter",
        "tol",
        "fixed",
        "handle_unknown",
        "seed",
        "n_jobs",
    }
    assert repr(m) == "BKT(forgets=True, restarts=3)"
    assert m.set_params(restarts=4) is m and m.restarts == 4
    clone = BKT(**m.get_params())
    assert clone.get_params() == m.get_params()


# ------------------------------------------------------------------------------- unknowns
def test_unknown_skill_is_a_clear_error(fitted):
    new = pd.DataFrame(
        {
            "student_id": [1, 1, 2],
            "skill_id": ["s0", "zz", "zz"],
            "order": [0, 1, 0],
            "correct": [1, 0, 1],
        }
    )
    with pytest.raises(
        ValueError,
        match=re.escape(
            "skill_id not seen in fit: ['zz'] in 2 rows; pass handle_unknown='average' to BKT to "
            "predict them with averaged fitted parameters"
        ),
    ):
        fitted.predict_proba(new)


def test_unknown_skill_average_fallback(fitted):
    new = pd.DataFrame(
        {
            "student_id": [1, 1, 2],
            "skill_id": ["s0", "zz", "zz"],
            "order": [0, 1, 0],
            "correct": [1, 0, 1],
        }
    )
    m = BKT.from_params(fitted.model_, handle_unknown="average")
    p = m.predict_proba(new)
    table = m.model_.skill_table()
    w = np.asarray(m.model_.gs_weight)  # rows behind each skill
    prior, guess, slip = (float(np.sum(table[c] * w) / w.sum()) for c in ("prior", "guess", "slip"))
    assert p[1] == pytest.approx(prior * (1 - slip) + (1 - prior) * guess)
    assert p[2] == pytest.approx(p[1])
    assert p[0] == pytest.approx(fitted.predict_proba(new.iloc[[0]])[0])


def test_unknown_item_and_activity():
    rng = np.random.default_rng(0)
    log = sample_log(BKTParams.from_skills(TRUTH), 100, 6, seed=1)
    log["item_id"] = rng.integers(0, 3, len(log))
    log["activity"] = np.where(rng.random(len(log)) < 0.5, "video", "text")
    m = BKT(item_guess_slip=True, activity_learn=True, restarts=1).fit(log)
    new = log.head(4).copy()
    new.loc[new.index[1], "item_id"] = 99
    with pytest.raises(
        ValueError,
        match=re.escape(
            "item_id not seen in fit for its skill: [('s1', 99)] (skill, item_id) pairs in 1 rows; "
            "pass handle_unknown='average'"
        ),
    ):
        m.predict_proba(new)
    new2 = log.head(4).copy()
    new2["activity"] = new2["activity"].astype(object)
    new2.loc[new2.index[2], "activity"] = "podcast"
    with pytest.raises(
        ValueError,
        match=re.escape(
            "activity not seen in fit for its skill: [('s2', 'podcast')] (skill, activity) "
            "pairs in 1 rows"
        ),
    ):
        m.predict_proba(new2)
    m.set_params(handle_unknown="average")
    p = m.predict_proba(new)
    assert np.isfinite(p).all()
    assert p[0] == pytest.approx(m.predict_proba(log.head(4))[0])


def test_new_students_get_zero_effects(truth):
    log = sample_log(truth, 100, 8, seed=3)
    m = BKT(student_learn=True, student_prior=True, restarts=1).fit(log)
    new = log[log["student_id"] == 0].assign(student_id=10_000)
    base = BKT.from_params(m.model_.to_frame().query("skill.notna()", engine="python"))
    np.testing.assert_allclose(m.predict_proba(new), base.predict_proba(new), atol=1e-12)


# ------------------------------------------------------------------------------- score / CV
def test_score_metrics_and_errors(fitted, small_log):
    s = fitted.score(small_log)
    assert list(s) == ["auc", "rmse", "log_loss", "accuracy"]
    assert 0.5 < s["auc"] <= 1 and 0 < s["rmse"] < 0.5
    assert list(fitted.score(small_log, metrics="rmse")) == ["rmse"]
    with pytest.raises(
        ValueError,
        match=re.escape(
            "unknown metric 'f1'; allowed: auc, rmse, log_loss, accuracy, log_likelihood"
        ),
    ):
        fitted.score(small_log, metrics=("auc", "f1"))


def test_cross_validate(small_log):
    m = BKT(restarts=1)
    table = m.cross_validate(small_log, folds=3, seed=1)
    assert list(table.index) == [0, 1, 2, "pooled"]
    assert list(table.columns) == ["auc", "rmse", "log_loss", "accuracy", "n_rows", "n_groups"]
    assert table.loc[[0, 1, 2], "n_rows"].sum() == table.loc["pooled", "n_rows"] == len(small_log)
    assert table.loc["pooled", "n_groups"] == 60
    again, oof = m.cross_validate(small_log, folds=3, seed=1, return_predictions=True)
    pd.testing.assert_frame_equal(table, again)
    assert np.isfinite(oof).all()
    assert not hasattr(m, "model_")  # the estimator itself is not fitted by CV
    # every student is predicted only by a model that never saw them
    codes = pd.factorize(small_log["student_id"], sort=True)[0]
    rng = np.random.default_rng(1)
    fold_of = np.empty(60, dtype=int)
    fold_of[rng.permutation(60)] = np.arange(60) % 3
    test = fold_of[codes] == 0
    ref = BKT(restarts=1).fit(small_log[~test]).predict_proba(small_log[test])
    np.testing.assert_allclose(oof[test], ref)


def test_cross_validate_by_column_and_errors(small_log):
    log = small_log.assign(class_id=small_log["student_id"] % 4)
    t = BKT(restarts=1).cross_validate(log, folds=2, by="class_id", metrics=("auc",))
    assert t.loc["pooled", "n_groups"] == 4
    with pytest.raises(
        ValueError, match=re.escape("by must be 'student' or a column of the log, got 'school'")
    ):
        BKT().cross_validate(log, by="school")
    with pytest.raises(ValueError, match=re.escape("folds must be an int >= 2, got 1")):
        BKT().cross_validate(log, folds=1)
    with pytest.raises(
        ValueError, match=re.escape("folds=5 needs at least 5 distinct class_id values, got 4")
    ):
        BKT().cross_validate(log, folds=5, by="class_id")


# ------------------------------------------------------------------------------- sample / JSON
def test_sample_from_fitted_and_given(fitted, truth):
    a = fitted.sample(30, 5, seed=1)
    b = fitted.sample(30, 5, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["student_id", "skill_id", "order", "correct"]
    assert len(a) == 30 * 5 * 5
    from edstudy.schema import validate_log

    validate_log(a)
    given = BKT.from_params({"fractions": {"prior": 0.3, "learn": 0.2, "guess": 0.2, "slip": 0.1}})
    s = given.sample(10, 4, seed=0, return_state=True)
    assert set(s["skill_id"]) == {"fractions"} and "mastered" in s
    assert not (s.groupby("student_id")["mastered"].diff() < 0).any()  # no forgetting


def test_json_round_trip(tmp_path, truth):
    rng = np.random.default_rng(0)
    log = sample_log(truth, 80, 6, seed=2)
    log["item_id"] = rng.integers(0, 3, len(log))
    m = BKT(
        item_guess_slip=True,
        student_learn=True,
        forgets=True,
        restarts=2,
        fixed={"slip": {"s0": 0.1}},
    ).fit(log)
    path = tmp_path / "model.json"
    m.to_json(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "edstudy.bkt.BKT/1"
    back = BKT.from_json(path)
    assert back.get_params() == m.get_params()
    pd.testing.assert_frame_equal(back.params_, m.params_)
    np.testing.assert_array_equal(back.history_, m.history_)
    np.testing.assert_array_equal(back.predict_proba(log), m.predict_proba(log))
    np.testing.assert_array_equal(back.mastery(log), m.mastery(log))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="is not a saved edstudy BKT model"):
        BKT.from_json(bad)


def test_json_with_fixed_table(tmp_path, small_log):
    prev = BKT(restarts=1).fit(small_log).params_
    m = BKT(fixed=prev[prev["parameter"] == "guess"], restarts=1).fit(small_log)
    m.to_json(tmp_path / "m.json")
    back = BKT.from_json(tmp_path / "m.json")
    pd.testing.assert_frame_equal(back.params_, m.params_)


def test_import_is_light():
    code = (
        "import sys, edstudy.bkt; bad = [m for m in ('pymc', 'ipywidgets', 'dask', 'matplotlib') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
