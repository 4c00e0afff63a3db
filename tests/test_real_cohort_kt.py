"""kt models (edstudy.kt) as columns of the Robust Evaluation Matrix (edstudy.sim.from_kt).

The responder's answers are checked against the model's own one-step-ahead predictions of the
simulated log (an independent path: the batch feature kernels, not the online state) and the
students' own Philox uniforms; the ground-truth columns against the declared mastery rule; chunks
against one call; then the matrix and the pipeline with kt columns on a synthetic log. Fast
(seconds).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from edstudy.bkt.sampling import synthetic_log
from edstudy.datasets import select_log
from edstudy.investigations.real_cohort import (
    REM_METRICS,
    KTStudentModel,
    MatrixSettings,
    RealCohortSettings,
    fit_kt_models,
    fit_student_models,
    robust_evaluation_matrix,
    run_real_cohort_pipeline,
    score_student_models,
)
from edstudy.sim import Budget, builtin_strategy, simulate
from edstudy.sim._random import stream_key, uniforms
from edstudy.sim.from_model import StudentModel, cohort_from_model, curriculum_from_model

STRATEGIES = ("one_size", "individualized", "personalized")


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """Odd ids (a skill -7 beside text skills, mixed student ids), 3 skills."""
    return select_log(synthetic_log(n_students=160, n_opportunities=7, seed=3))


@pytest.fixture(scope="module")
def fitted(log):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bkt = fit_student_models(log, ("bkt",), seed=0)
        kt = fit_kt_models(log, ("pfa", "das3h", "bkt_ext", "bkt_forgets"), seed=0)
    return {**bkt, **kt}


def _setup(fitted, n=150):
    cur = curriculum_from_model(fitted["bkt"])
    cohort = cohort_from_model(fitted["bkt"], cur, n, seed=1)
    return cur, cohort, 1.0 - cur.tutor_arrays()["slip"]


def test_pfa_students_answer_with_the_models_own_predictions(fitted):
    """PFA has no ability and no time: P(next) is predict_proba of the history, so the engine's
    log replayed through the fitted model gives every answer's probability."""
    cur, cohort, thr = _setup(fitted)
    col = fitted["pfa"]
    seed, count = 5, 4
    r = col.responder(cur, cohort.student_id, seed=2, mastery=thr)
    log, out = simulate(
        cohort, cur, builtin_strategy("one_size", practice_count=count), seed=seed,
        budget=Budget(minutes=10_000), responder=r,
    )  # fmt: skip
    text = {str(s): s for s in col.skills}
    kt_log = pd.DataFrame(
        {
            "student_id": log["student_id"].to_numpy(),
            "skill_id": log["skill_id"].astype(str).map(text).to_numpy(dtype=object),
            "order": log["order"].to_numpy(),
            "correct": log["correct"].astype("Int8"),
        }
    )
    p = col.model.predict_proba(kt_log)
    u = uniforms(stream_key(seed), kt_log["student_id"].to_numpy(dtype=np.int64), "practice", 5,
                 counters=kt_log["order"].to_numpy())  # fmt: skip
    np.testing.assert_array_equal(log["correct"].to_numpy(dtype=int), (u[0] < p).astype(int))
    # over-practice: opportunities whose P(correct) already reached the skill's threshold
    k = log["skill_id"].cat.codes.to_numpy()
    over = pd.Series(p >= thr[k]).groupby(log["student_id"].to_numpy()).sum()
    o = out.set_index("student_id")
    np.testing.assert_array_equal(o.loc[over.index, "over_practice"], over.to_numpy())
    # the end: P(correct) on a next (unscored) row of every skill
    last = kt_log.groupby("student_id")["order"].max()
    nxt = pd.DataFrame(
        [(s, text[sk], last[s] + 1 + j) for s in last.index for j, sk in enumerate(cur.skill_ids)],
        columns=["student_id", "skill_id", "order"],
    ).assign(correct=pd.array([pd.NA], dtype="Int8").repeat(len(last) * 3))
    both = pd.concat([kt_log, nxt], ignore_index=True)
    p_end = col.model.predict_proba(both)[len(kt_log) :].reshape(len(last), 3)
    np.testing.assert_allclose(o.loc[last.index, "true_expected_posttest"], p_end.mean(axis=1))
    mastered = (p_end >= thr[None, :]).sum(axis=1)
    np.testing.assert_array_equal(o.loc[last.index, "mastered_true"], mastered)
    # one_size leaves every skill; PFA's P on a skill moves only with practice on it
    np.testing.assert_array_equal(o.loc[last.index, "under_practice"], 3 - mastered)
    # the start: every PFA student is the same (no ability): P(correct) on a first showing
    fresh = pd.DataFrame(
        {
            "student_id": ["new"] * 3,
            "skill_id": [text[s] for s in cur.skill_ids],
            "order": [0, 1, 2],
            "correct": pd.array([pd.NA] * 3, dtype="Int8"),
        }
    )
    p0 = col.model.predict_proba(fresh)
    assert (o["true_prior_mastered"] == (p0 >= thr).sum()).all()


@pytest.mark.parametrize("name", ["das3h", "bkt_ext"])
def test_kt_students_in_chunks_are_the_same_students(fitted, name):
    """Abilities (DAS3H, BKT-ext) and BKT-ext's hidden states come from each student's own
    stream, DAS3H's windows from the student's own time: chunks give the same rows."""
    cur, cohort, thr = _setup(fitted, n=80)
    col = fitted[name]
    mastery = None if col.hidden_state else thr
    strategy = builtin_strategy("individualized")

    def run(idx):
        c = cohort.subset(idx)
        r = col.responder(cur, c.student_id, seed=3, mastery=mastery)
        return simulate(c, cur, strategy, seed=4, responder=r)

    whole = run(np.arange(80))
    parts = [run(np.arange(0, 35)), run(np.arange(35, 80))]
    pd.testing.assert_frame_equal(whole.log, pd.concat([p.log for p in parts], ignore_index=True))
    pd.testing.assert_frame_equal(
        whole.outcomes, pd.concat([p.outcomes for p in parts], ignore_index=True)
    )
    if col.hidden_state:  # BKT-ext: mastery is the true hidden state, learning happens
        o = whole.outcomes
        assert o["true_prior_mastered"].between(0, 3).all()
        assert o["mastered_true"].mean() > o["true_prior_mastered"].mean()


def test_kt_columns_need_a_threshold_and_known_skills(fitted):
    cur, cohort, _ = _setup(fitted, n=5)
    with pytest.raises(ValueError, match="no hidden knowledge state"):
        fitted["pfa"].responder(cur, cohort.student_id, seed=1)
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        fitted["pfa"].responder(cur, cohort.student_id, seed=1, mastery=1.0)
    other = curriculum_from_model(
        StudentModel("x", ("zz",), [0.5], [0.1], [0.2], [0.1], [0.0])
    )  # fmt: skip
    with pytest.raises(KeyError, match="not in model"):
        fitted["pfa"].responder(other, [0], seed=1, mastery=0.8)
    with pytest.raises(TypeError, match="edstudy.kt model"):
        KTStudentModel("bad", fitted["bkt"])


def test_kt_columns_in_the_matrix(fitted, log):
    small = MatrixSettings(STRATEGIES, n_students=40)
    rem = robust_evaluation_matrix(fitted, small, seed=0, log=log)
    assert rem.models == ("bkt", "pfa", "das3h", "bkt_ext", "bkt_forgets")
    assert rem.table.shape[0] == len(STRATEGIES) * 5 * len(REM_METRICS)
    assert rem.table["mean"].notna().all()
    assert rem.ranks.columns[:5].tolist() == list(rem.models)
    assert rem.settings["kt_columns"] == ["pfa", "das3h", "bkt_ext"]  # bkt_forgets: engine BKT
    assert any("Columns pfa, das3h, bkt_ext" in n and "1 - slip" in n for n in rem.notes)
    again = robust_evaluation_matrix(fitted, small, seed=0, log=log)
    pd.testing.assert_frame_equal(rem.table, again.table)
    # a fixed threshold changes only the kt columns without a hidden state
    fixed = robust_evaluation_matrix(
        fitted, MatrixSettings(STRATEGIES, n_students=40, kt_mastery=0.5), seed=0, log=log
    )
    same = fixed.table["model"].isin(["bkt", "bkt_ext", "bkt_forgets"])
    pd.testing.assert_frame_equal(fixed.table[same], rem.table[same])
    m = fixed.table["metric"] == "posttest_mastery"
    assert not fixed.table.loc[m & ~same, "mean"].equals(rem.table.loc[m & ~same, "mean"])
    # the kt BKT variants are the engine's own BKT students
    sm = fitted["bkt_forgets"].student_model()
    assert isinstance(sm, StudentModel) and sm.forget.max() >= 0
    assert fitted["pfa"].student_model() is None
    cur, cohort, _ = _setup(fitted, n=20)  # (their responder also runs: own generator, seeded)
    r = fitted["bkt_forgets"].responder(cur, cohort.student_id, seed=1)
    out = simulate(cohort, cur, builtin_strategy("one_size"), seed=1, responder=r).outcomes
    assert out["mastered_true"].between(0, 3).all()
    with pytest.raises(ValueError, match="BKT-family columns"):
        robust_evaluation_matrix(fitted, MatrixSettings(STRATEGIES, n_students=5, tutor="pfa"))
    only_kt = {n: fitted[n] for n in ("pfa", "das3h")}
    with pytest.raises(ValueError, match="the tutor needs a BKT model"):
        robust_evaluation_matrix(only_kt, MatrixSettings(STRATEGIES, n_students=5))
    with pytest.raises(ValueError, match="kt_mastery"):
        MatrixSettings(kt_mastery="midpoint")


def test_kt_models_are_scored_like_the_bkt_ones(fitted, log):
    scores = score_student_models(fitted, log)
    assert scores.index.tolist() == list(fitted)
    assert scores["auc"].between(0.5, 1).all()
    assert (scores["n_rows"] == log["correct"].notna().sum()).all()
    assert scores.loc["pfa", "rows_unseen_student"] == 0
    with pytest.raises(ValueError, match="unknown kt model"):
        fit_kt_models(log, ("dkt",))


def test_pipeline_with_kt_columns_names_the_best_predicting_model():
    log = synthetic_log(n_students=200, n_opportunities=8, seed=4)
    settings = RealCohortSettings(
        models=("bkt",),
        kt_models=("pfa", "best_lr"),
        test_fraction=0.3,
        matrix=MatrixSettings(STRATEGIES, n_students=40),
        threshold_students=50,
    )
    res = run_real_cohort_pipeline(log, settings, seed=0)
    assert list(res.models) == ["bkt", "pfa", "best_lr"]
    assert res.scores.index.tolist() == ["bkt", "pfa", "best_lr"]
    assert res.matrix.models == ("bkt", "pfa", "best_lr")
    assert {"fit_pfa", "fit_best_lr"} <= set(res.timings)
    assert res.skill_parameters()["model"].unique().tolist() == ["bkt"]
    assert set(res.thresholds["model"]) == {"bkt"}
    best = res.best_predicting_model()
    assert best == res.scores["auc"].idxmax()
    head = res.headline()
    assert f"under {best}, the model that predicts held-out students best" in head
    assert head.endswith(("holds.", "does not hold."))
    with pytest.raises(ValueError, match="both models and kt_models"):
        RealCohortSettings(models=("bkt",), kt_models=("bkt",))
