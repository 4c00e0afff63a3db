"""Parameter recovery: data simulated from each model itself, refitted, parameters recovered.

Tolerances come from standard errors: for the logistic models the SEs are computed from the
Fisher information at the true parameters (``X' W X`` over the simulated design), and every
identifiable coefficient must lie within 4 SEs (a family of ~10 coefficients then fails by chance
with probability below 1e-3). For BKT with ability the hidden states make closed-form SEs
impractical; the tolerances there are stated with the binomial SE they are built from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edstudy.kt import IRT, PFA, BKTExt
from edstudy.kt.design import fit_matrix
from edstudy.kt.features import BatchFeatures, build_timeline
from edstudy.schema import validate_log

pytestmark = pytest.mark.filterwarnings("ignore::edstudy.bkt.ConvergenceWarning")


def _template(skills, items_per_skill, rows=60, seed=0):
    """A small random log used only to create a fitted model whose coefficients are then set."""
    rng = np.random.default_rng(seed)
    sk = rng.choice(skills, rows)
    return pd.DataFrame(
        {
            "student_id": np.repeat(np.arange(rows // 6), 6),
            "skill_id": sk,
            "order": np.tile(np.arange(6), rows // 6),
            "correct": rng.integers(0, 2, rows),
            "item_id": [f"{s}-{rng.integers(items_per_skill)}" for s in sk],
        }
    )


def _schedule(n_students, skills, n_opps, items_per_skill, seed):
    rng = np.random.default_rng(seed)
    sk = rng.choice(skills, (n_students, n_opps))
    it = rng.integers(0, items_per_skill, (n_students, n_opps))
    return pd.DataFrame(
        {
            "student_id": np.repeat(np.arange(n_students), n_opps),
            "skill_id": sk.reshape(-1),
            "order": np.tile(np.arange(n_opps), n_students),
            "item_id": [f"{s}-{i}" for s, i in zip(sk.reshape(-1), it.reshape(-1), strict=True)],
        }
    )


def _fisher_se(model, log):
    """SEs of the design coefficients from the Fisher information ``X' W X`` at the model's
    parameters. The skill one-hots span the intercept, so no intercept column is added and the
    SE of a skill coefficient is that of ``intercept + skill``; centring (as in the fit) leaves the
    slopes' information unchanged."""
    v = validate_log(log)
    tl = build_timeline(v)
    blocks = model._blocks(tl, tl.item_id, BatchFeatures(tl))
    X, layout = fit_matrix(tl, blocks, np.ones(tl.n_rows, dtype=bool))
    X = X.toarray()
    p = 1 / (1 + np.exp(-model._eta(v, check=False)[1]))
    cov = np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None]))
    se = np.sqrt(np.diag(cov))
    out, pos = {}, 0
    for fb in layout:
        out[fb.name] = pd.Series(se[pos : pos + len(fb.levels)], index=fb.levels)
        pos += len(fb.levels)
    return out


def test_pfa_recovers_its_parameters():
    skills = ["a", "b", "c"]
    truth = PFA().fit(_template(skills, 1))
    truth.set_coef("intercept", 0.0)
    truth.set_coef("skill", {"a": -0.5, "b": 0.3, "c": -1.0})
    truth.set_coef("skill_wins", {"a": 0.25, "b": 0.10, "c": 0.30})
    truth.set_coef("skill_fails", {"a": 0.05, "b": -0.10, "c": 0.15})
    log = truth.simulate(_schedule(300, skills, 30, 1, seed=1), seed=2)
    fit = PFA(C=100.0).fit(log)
    se = _fisher_se(truth, log)
    for term in ("skill_wins", "skill_fails"):
        err = (fit.coef(term) - truth.coef(term).reindex(fit.coef(term).index)).abs()
        assert (err < 4 * se[term].reindex(err.index)).all(), (term, err, se[term])
    # skill levels are identified up to the intercept: compare intercept + skill
    lvl_fit = fit.coef("skill") + fit.intercept_
    lvl_true = (truth.coef("skill") + truth.intercept_).reindex(lvl_fit.index)
    assert ((lvl_fit - lvl_true).abs() < 4 * se["skill"].reindex(lvl_fit.index)).all()


def test_irt_recovers_item_difficulties_and_ability_spread():
    n_items = 30
    truth = IRT().fit(_template(["s"], n_items, rows=240))
    rng = np.random.default_rng(3)
    easiness = pd.Series(rng.normal(0, 1, n_items), index=[f"s-{i}" for i in range(n_items)])
    truth.set_coef("intercept", 0.0).set_coef("item", easiness).set_coef("ability_sd", 1.0)
    sched = _schedule(400, ["s"], n_items, n_items, seed=4)
    sched["item_id"] = [
        f"s-{i}" for i in np.concatenate([rng.permutation(n_items) for _ in range(400)])
    ]
    log = truth.simulate(sched, seed=5)
    fit = IRT(C=10.0).fit(log)
    est = fit.coef("item") + fit.intercept_
    est = est - est.mean() + easiness.mean()  # abilities and easiness share one location
    # SE of an item's easiness: 1 / sqrt(sum p(1-p)) over its 400 answers (p(1-p) <= .25)
    se = 1.0 / np.sqrt(400 * 0.18)
    assert (est - easiness.reindex(est.index)).abs().max() < 4 * se
    # ability spread: each student's ability has SE ~ 1 / sqrt(30 * .18) = .43, so the estimate
    # of the spread (400 students) is within about .1 of the truth
    assert fit.ability_sd_ == pytest.approx(1.0, abs=0.15)
    # the simulated students' abilities are recovered too
    true_ab = log.attrs["abilities"]
    assert np.corrcoef(fit.abilities_.reindex(true_ab.index), true_ab)[0, 1] > 0.85


def test_bkt_ext_recovers_its_parameters():
    skills = ["a", "b", "c"]
    items = 8
    truth = BKTExt(max_iter=1, restarts=1).fit(_template(skills, items, rows=120))
    t = truth.skill_params_
    t.loc[:, "prior"] = [0.2, 0.4, 0.3]
    t.loc[:, "learn"] = [0.15, 0.10, 0.20]
    t.loc[:, "forget"] = [0.02, 0.0, 0.03]
    t.loc[:, "gamma0"] = np.log(np.array([0.2, 0.25, 0.15]) / np.array([0.8, 0.75, 0.85]))
    t.loc[:, "gamma1"] = np.log(np.array([0.9, 0.92, 0.88]) / np.array([0.1, 0.08, 0.12]))
    rng = np.random.default_rng(6)
    truth.difficulty_[:] = rng.normal(0, 0.6, len(truth.difficulty_))
    truth.ability_sd_ = 0.8
    sched = _schedule(600, skills, 36, items, seed=7)
    sched["item_id"] = sched["item_id"].where(sched["item_id"].isin(truth.difficulty_.index))
    sched = sched.dropna(subset=["item_id"])
    log = truth.simulate(sched, seed=8)
    fit = BKTExt().fit(log)
    p_fit, p_true = (
        fit.params_.set_index(["term", "level"]),
        truth.params_.set_index(["term", "level"]),
    )
    for term, tol in (("prior", 0.08), ("learn", 0.05), ("guess", 0.06), ("slip", 0.06)):
        # binomial SE of a rate from ~600 students x 12 opportunities per skill is ~.01; the
        # hidden state and the ability/difficulty trade-off widen it, hence 5 to 8 points
        err = (p_fit.loc[term, "value"] - p_true.loc[term, "value"]).abs()
        assert (err < tol).all(), (term, err)
    assert fit.ability_sd_ == pytest.approx(0.8, abs=0.2)
    d_fit = fit.difficulty_.reindex(truth.difficulty_.index)
    assert np.corrcoef(d_fit, truth.difficulty_)[0, 1] > 0.8
    assert fit.history_[-1] > fit.history_[0]  # EM improved on the plain BKT start
