"""Each student model's features, predictions and likelihood against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.polynomial.hermite_e import hermegauss

from edstudy.bkt import BKT
from edstudy.kt import AFM, DAS3H, IRT, PFA, BestLR, BKTExt, BKTModel
from edstudy.kt._ability import GRID_POINTS

pytestmark = pytest.mark.filterwarnings("ignore::edstudy.bkt.ConvergenceWarning")


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    """A: x(i1)=1; {x, y}(i2)=0; y(i2)=1; x(i1)=1. B: y(i3)=0; x(i1)=0; y(i2)=1. C: x(i1)=1."""
    return pd.DataFrame(
        {
            "student_id": ["A"] * 5 + ["B"] * 3 + ["C"],
            "skill_id": ["x", "x", "y", "y", "x", "y", "x", "y", "x"],
            "order": [0, 1, 1, 2, 3, 0, 1, 2, 0],
            "correct": [1, 0, 0, 1, 1, 0, 0, 1, 1],
            "item_id": ["i1", "i2", "i2", "i2", "i1", "i3", "i1", "i2", "i1"],
        }
    )


# earlier successes / failures on the row's skill, by hand (rows in fixture order)
S = {"x": [0, 1, 1, None, 1, None, 0, None, 0], "y": [None, 0, 0, 0, None, 0, None, 0, None]}
F = {"x": [0, 0, 0, None, 1, None, 0, None, 0], "y": [None, 0, 0, 1, None, 0, None, 1, None]}
ATTEMPT = [0, 1, 1, 2, 3, 0, 1, 2, 0]  # attempt index within the student
TOTAL_WINS = [0, 1, 1, 1, 2, 0, 0, 0, 0]
ITEM = ["i1", "i2", "i2", "i2", "i1", "i3", "i1", "i2", "i1"]
ITEM_ATT = [0, 0, 0, 1, 1, 0, 0, 0, 0]
ITEM_WIN = [0, 0, 0, 0, 1, 0, 0, 0, 0]
SKILLS_OF_ROW = [["x"], ["x", "y"], ["x", "y"], ["y"], ["x"], ["y"], ["x"], ["y"], ["x"]]


def _coef(model, term):
    return model.coef(term).to_dict()


def _loglik(y, p):
    y = np.asarray(y, dtype=float)
    return float(np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))


def test_pfa_matches_hand_computation(tiny):
    m = PFA(C=10.0).fit(tiny)
    b, g, r = _coef(m, "skill"), _coef(m, "skill_wins"), _coef(m, "skill_fails")
    eta = []
    for i, skills in enumerate(SKILLS_OF_ROW):
        e = m.intercept_
        for k in skills:
            e += b[k] + g[k] * S[k][i] + r[k] * F[k][i]
        eta.append(e)
    p = sig(np.array(eta))
    assert m.predict_proba(tiny) == pytest.approx(p, abs=1e-9)
    # the fit weighs each attempt once: rows 1 and 2 are one attempt of weight 1 / 2 each
    assert m.log_likelihood_ == pytest.approx(_loglik(tiny["correct"], p), abs=1e-6)
    assert p[1] == pytest.approx(p[2])  # one prediction per attempt


def test_best_lr_matches_hand_computation(tiny):
    m = BestLR(C=10.0).fit(tiny)
    it, sk = _coef(m, "item"), _coef(m, "skill")
    w, a = _coef(m, "skill_wins"), _coef(m, "skill_attempts")
    ic, tc = _coef(m, "item_counts"), _coef(m, "total_counts")
    eta = []
    for i, skills in enumerate(SKILLS_OF_ROW):
        e = m.intercept_ + it[ITEM[i]]
        for k in skills:
            e += sk[k] + w[k] * np.log1p(S[k][i]) + a[k] * np.log1p(S[k][i] + F[k][i])
        e += ic["wins[all]"] * np.log1p(ITEM_WIN[i]) + ic["attempts[all]"] * np.log1p(ITEM_ATT[i])
        e += tc["wins[all]"] * np.log1p(TOTAL_WINS[i]) + tc["attempts[all]"] * np.log1p(ATTEMPT[i])
        eta.append(e)
    assert m.predict_proba(tiny) == pytest.approx(sig(np.array(eta)), abs=1e-9)


def _grid_predict(log, eta, sd):
    """Independent posterior predictive with a Normal(0, sd^2) ability on a Gauss-Hermite grid."""
    z, w = hermegauss(GRID_POINTS)
    nodes, logw0 = sd * z, np.log(w / w.sum())
    out = np.empty(len(log))
    for _, rows in log.groupby("student_id", sort=False):
        lw = logw0.copy()
        for _, att in rows.groupby("order", sort=True):
            idx = att.index.to_numpy()
            wts = np.exp(lw - lw.max())
            wts /= wts.sum()
            for r in idx:
                out[r] = float(np.sum(wts * sig(eta[r] + nodes)))
            e = eta[idx].mean()
            yv = att["correct"].mean()
            q = sig(e + nodes)
            lw = lw + yv * np.log(q) + (1 - yv) * np.log(1 - q)
    return out


def test_irt_online_ability_matches_hand_computation(tiny):
    m = IRT(C=10.0).fit(tiny)
    b = _coef(m, "item")
    eta = np.array([m.intercept_ + b[i] for i in ITEM])
    ref = _grid_predict(tiny.reset_index(drop=True), eta, m.ability_sd_)
    assert m.predict_proba(tiny) == pytest.approx(ref, abs=1e-9)
    assert m.ability_sd_ > 0
    assert set(m.abilities_.index) == {"A", "B", "C"}
    # training log-likelihood uses the fitted abilities
    th = m.abilities_.to_dict()
    p_fit = sig(eta + np.array([th[s] for s in tiny["student_id"]]))
    assert m.log_likelihood_ == pytest.approx(_loglik(tiny["correct"], p_fit), abs=1e-6)


def test_afm_and_das3h_linear_predictors(tiny):
    afm = AFM(C=10.0).fit(tiny)
    b, g = _coef(afm, "skill"), _coef(afm, "skill_attempts")
    eta = np.array(
        [
            afm.intercept_ + sum(b[k] + g[k] * (S[k][i] + F[k][i]) for k in skills)
            for i, skills in enumerate(SKILLS_OF_ROW)
        ]
    )
    ref = _grid_predict(tiny.reset_index(drop=True), eta, afm.ability_sd_)
    assert afm.predict_proba(tiny) == pytest.approx(ref, abs=1e-9)
    das = DAS3H(C=10.0).fit(tiny)  # no timestamps: all-time counts only
    it, sk = _coef(das, "item"), _coef(das, "skill")
    w, a = _coef(das, "skill_wins"), _coef(das, "skill_attempts")
    eta = np.array(
        [
            das.intercept_
            + it[ITEM[i]]
            + sum(
                sk[k] + w[k] * np.log1p(S[k][i]) + a[k] * np.log1p(S[k][i] + F[k][i])
                for k in skills
            )
            for i, skills in enumerate(SKILLS_OF_ROW)
        ]
    )
    ref = _grid_predict(tiny.reset_index(drop=True), eta, das.ability_sd_)
    assert das.predict_proba(tiny) == pytest.approx(ref, abs=1e-9)
    assert das.time_windows_ == ()


def test_das3h_uses_time_windows_with_timestamps(tiny):
    log = tiny.assign(timestamp=pd.to_datetime(np.arange(len(tiny)) * 3000, unit="s"))
    m = DAS3H(windows=(3600.0,)).fit(log)
    assert m.time_windows_ == (3600.0,)
    assert "skill_wins[1h]" in set(m.params_["term"])
    with pytest.raises(ValueError, match="needs a 'timestamp' column"):
        m.predict_proba(tiny)


def test_bkt_model_equals_edstudy_bkt(tiny):
    m = BKTModel(forgets=True, restarts=2).fit(tiny)
    ref = BKT(forgets=True, restarts=2, handle_unknown="average").fit(tiny)
    assert m.predict_proba(tiny) == pytest.approx(ref.predict_proba(tiny))
    pd.testing.assert_frame_equal(m.params_, ref.params_)


def _bkt_ext_reference(model, log):
    """Independent forward filter per (student, skill) and grid value of the ability."""
    t = model.skill_params_
    if model.ability_sd_ > 0:
        z, w = hermegauss(GRID_POINTS)
        nodes, logw0 = model.ability_sd_ * z, np.log(w / w.sum())
    else:
        nodes, logw0 = np.zeros(1), np.zeros(1)
    d = model.difficulty_.to_dict()
    out = np.empty(len(log))
    for _, rows in log.groupby("student_id", sort=False):
        lw = logw0.copy()
        known = {}
        for _, att in rows.groupby("order", sort=True):
            wts = np.exp(lw - lw.max())
            wts /= wts.sum()
            like = np.zeros_like(nodes)
            for r, row in att.iterrows():
                k = row["skill_id"]
                pk = known.get(k, np.full(nodes.shape, t.loc[k, "prior"]))
                sh = -d.get(row["item_id"], 0.0) + nodes
                q1, q0 = sig(t.loc[k, "gamma1"] + sh), sig(t.loc[k, "gamma0"] + sh)
                pc = pk * q1 + (1 - pk) * q0
                out[r] = float(np.sum(wts * pc))
                if row["correct"] == 1:
                    post, like = pk * q1 / pc, like + np.log(pc)
                else:
                    post, like = pk * (1 - q1) / (1 - pc), like + np.log(1 - pc)
                known[k] = post * (1 - t.loc[k, "forget"]) + (1 - post) * t.loc[k, "learn"]
            lw = lw + like
    return out


@pytest.mark.parametrize("ability", [False, True])
def test_bkt_ext_matches_hand_computation(tiny, ability):
    m = BKTExt(ability=ability, max_iter=5, restarts=1).fit(tiny)
    ref = _bkt_ext_reference(m, tiny.reset_index(drop=True))
    assert m.predict_proba(tiny) == pytest.approx(ref, abs=1e-9)
    assert m.n_iter_ <= 5 and len(m.history_) == m.n_iter_ + 1


def test_bkt_ext_without_extensions_is_bkt(tiny):
    """With ability and item difficulty off and no EM step, BKTExt predicts like BKT."""
    m = BKTExt(ability=False, item_difficulty=False, max_iter=0, restarts=2).fit(tiny)
    ref = BKT(forgets=True, restarts=2).fit(tiny)
    # (guess and slip logits are clipped at 1e-6 from 0 and 1)
    assert m.predict_proba(tiny) == pytest.approx(ref.predict_proba(tiny), abs=1e-5)
