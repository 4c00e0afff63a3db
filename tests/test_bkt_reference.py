"""A slow, independent reference for the BKT tests: plain numpy, one row at a time.

Written from the model's definition (a two-state hidden Markov chain per student and skill), not
from edstudy's kernels: the forward algorithm with explicit emission vectors and transition
matrices, and an unscaled forward-backward for expected counts on short sequences.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    return np.log(p) - np.log1p(-p)


class RefParams:
    """Lookup of a tidy parameter table: (skill, class) -> value, with student effects."""

    def __init__(self, frame: pd.DataFrame):
        self.v = {}
        self.eff = {"student_prior": {}, "student_learn": {}}
        for skill, par, cls_, val in frame[["skill", "parameter", "class", "value"]].itertuples(
            index=False
        ):
            if par in self.eff:
                self.eff[par][cls_] = val
            else:
                self.v[(skill, par, cls_)] = val

    def get(self, skill, par, cls_):
        key = (skill, par, cls_)
        if key in self.v:
            return self.v[key]
        return self.v.get((skill, par, "all"), 0.0)

    def prior(self, skill, student):
        p = self.get(skill, "prior", "all")
        c = self.eff["student_prior"].get(student)
        return p if c is None else _sig(_logit(p) + c)

    def learn(self, skill, activity, student):
        p = self.get(skill, "learn", activity)
        b = self.eff["student_learn"].get(student)
        return p if b is None else _sig(_logit(p) + b)


def _rows(log: pd.DataFrame):
    """(index, skill, student, item, activity, correct) per row, grouped per sequence in order."""
    df = log.reset_index(drop=True)
    item = df["item_id"] if "item_id" in df else pd.Series("all", index=df.index)
    act = df["activity"] if "activity" in df else pd.Series("all", index=df.index)
    for (student, skill), g in df.groupby(["student_id", "skill_id"], sort=False):
        g = g.sort_values("order")
        yield [(i, skill, student, item[i], act[i], df["correct"][i]) for i in g.index]


def forward(log: pd.DataFrame, params: pd.DataFrame):
    """Per row: P(correct) before the answer, P(mastered) after answer + transition, and
    log P(answer | earlier answers) (0 for unscored rows). Arrays in the log's row order."""
    P = RefParams(params)
    n = len(log)
    pred, mastery, ll = np.zeros(n), np.zeros(n), np.zeros(n)
    for seq in _rows(log):
        _, skill, student = seq[0][:3]
        p0 = P.prior(skill, student)
        belief = np.array([1.0 - p0, p0])  # P(U), P(M)
        for i, skill, student, item, act, c in seq:
            g, s = P.get(skill, "guess", item), P.get(skill, "slip", item)
            p_correct = np.array([g, 1.0 - s])
            pred[i] = belief @ p_correct
            if pd.isna(c):
                post = belief
            else:
                like = p_correct if c == 1 else 1.0 - p_correct
                joint = belief * like
                ll[i] = np.log(joint.sum())
                post = joint / joint.sum()
            lr, fg = P.learn(skill, act, student), P.get(skill, "forget", act)
            A = np.array([[1.0 - lr, lr], [fg, 1.0 - fg]])  # rows: from U, from M
            belief = post @ A
            mastery[i] = belief[1]
    return pred, mastery, ll


def expected_counts(log: pd.DataFrame, params: pd.DataFrame) -> dict:
    """Per skill: the E-step's expected counts from an unscaled forward-backward (short
    sequences only), for the standard/forgets model."""
    P = RefParams(params)
    out: dict = {}
    for seq in _rows(log):
        skill = seq[0][1]
        p0 = P.get(skill, "prior", "all")
        g, s = P.get(skill, "guess", "all"), P.get(skill, "slip", "all")
        lr, fg = P.get(skill, "learn", "all"), P.get(skill, "forget", "all")
        A = np.array([[1.0 - lr, lr], [fg, 1.0 - fg]])
        T = len(seq)
        B = np.ones((T, 2))
        obs = [c for *_, c in seq]
        for t, c in enumerate(obs):
            if not pd.isna(c):
                B[t] = [g, 1 - s] if c == 1 else [1 - g, s]
        alpha = np.zeros((T, 2))
        beta = np.ones((T, 2))
        alpha[0] = np.array([1 - p0, p0]) * B[0]
        for t in range(1, T):
            alpha[t] = (alpha[t - 1] @ A) * B[t]
        for t in range(T - 2, -1, -1):
            beta[t] = A @ (B[t + 1] * beta[t + 1])
        Z = alpha[-1].sum()
        gamma = alpha * beta / Z
        c = out.setdefault(
            skill,
            dict.fromkeys(
                [
                    "prior",
                    "learn_n",
                    "learn_d",
                    "forget_n",
                    "forget_d",
                    "guess_n",
                    "guess_d",
                    "slip_n",
                    "slip_d",
                    "ll",
                    "n_seq",
                ],
                0.0,
            ),
        )
        c["prior"] += gamma[0, 1]
        c["ll"] += np.log(Z)
        c["n_seq"] += 1
        for t in range(T - 1):
            xi = alpha[t][:, None] * A * (B[t + 1] * beta[t + 1])[None, :] / Z
            c["learn_n"] += xi[0, 1]
            c["learn_d"] += gamma[t, 0]
            c["forget_n"] += xi[1, 0]
            c["forget_d"] += gamma[t, 1]
        for t, o in enumerate(obs):
            if pd.isna(o):
                continue
            c["guess_d"] += gamma[t, 0]
            c["slip_d"] += gamma[t, 1]
            if o == 1:
                c["guess_n"] += gamma[t, 0]
            else:
                c["slip_n"] += gamma[t, 1]
    return out


def log_likelihood(log: pd.DataFrame, params: pd.DataFrame) -> float:
    return float(forward(log, params)[2].sum())


# ------------------------------------------------------------------------------------- tests
import pytest  # noqa: E402

from edstudy.bkt import (  # noqa: E402
    BKT,
    BKTParams,
    SkillParams,
    _em,  # noqa: E402
    sample_log,
)
from edstudy.bkt._design import design_fit  # noqa: E402
from edstudy.schema import validate_log  # noqa: E402

TOL = 1e-9
pytestmark = pytest.mark.filterwarnings("ignore::edstudy.bkt.ConvergenceWarning")


def _params(forget=0.0):
    return BKTParams.from_skills(
        {
            "fractions": SkillParams(prior=0.25, learn=0.12, guess=0.22, slip=0.08, forget=forget),
            "decimals": SkillParams(prior=0.55, learn=0.3, guess=0.1, slip=0.2, forget=forget / 2),
            7: SkillParams(prior=0.05, learn=0.05, guess=0.3, slip=0.05, forget=forget),
        }
    )


def _shuffled(log, seed=0):
    return log.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("forget", [0.0, 0.07])
def test_predictions_and_mastery_match_reference(forget):
    p = _params(forget)
    log = _shuffled(sample_log(p, 40, 12, seed=3))
    model = BKT.from_params(p)
    pred, mastery, ll = forward(log, p.to_frame())
    np.testing.assert_allclose(model.predict_proba(log), pred, rtol=0, atol=TOL)
    np.testing.assert_allclose(model.mastery(log), mastery, rtol=0, atol=TOL)
    assert model.score(log, "log_likelihood")["log_likelihood"] == pytest.approx(ll.sum(), abs=TOL)


def test_variants_match_reference():
    rows = []
    for k, skill in enumerate(["a", "b"]):
        rows += [(skill, "prior", "all", 0.2 + 0.3 * k)]
        for j, act in enumerate(["video", "text"]):
            rows += [
                (skill, "learn", act, 0.05 + 0.1 * j + 0.05 * k),
                (skill, "forget", act, 0.02 * (j + 1)),
            ]
        for j in range(3):
            rows += [
                (skill, "guess", f"q{j}", 0.1 + 0.1 * j),
                (skill, "slip", f"q{j}", 0.05 * (j + 1)),
            ]
    for st in range(30):
        rows += [
            (None, "student_prior", st, 0.1 * (st % 7) - 0.3),
            (None, "student_learn", st, 0.2 * (st % 5) - 0.4),
        ]
    frame = pd.DataFrame(rows, columns=["skill", "parameter", "class", "value"])
    model = BKT.from_params(frame)
    assert model.item_guess_slip and model.activity_learn and model.forgets
    assert model.student_prior and model.student_learn
    log = _shuffled(model.sample(30, 15, seed=1))
    log["correct"] = log["correct"].astype("Int8")
    log.loc[log.index[::7], "correct"] = pd.NA  # unscored rows: a transition without evidence
    pred, mastery, ll = forward(log, frame)
    np.testing.assert_allclose(model.predict_proba(log), pred, rtol=0, atol=TOL)
    np.testing.assert_allclose(model.mastery(log), mastery, rtol=0, atol=TOL)
    assert model.score(log, "log_likelihood")["log_likelihood"] == pytest.approx(ll.sum(), abs=TOL)


def test_long_sequences_are_stable():
    # one student, 5000 opportunities: an unscaled forward pass would underflow to 0
    p = _params(0.01)
    log = sample_log(p, 2, 5000, seed=4)
    model = BKT.from_params(p)
    pred, mastery, ll = forward(log, p.to_frame())
    assert np.isfinite(ll.sum()) and ll.sum() < -1000
    np.testing.assert_allclose(model.predict_proba(log), pred, rtol=0, atol=TOL)
    assert model.score(log, "log_likelihood")["log_likelihood"] == pytest.approx(
        ll.sum(), rel=1e-12
    )
    fitted = BKT(forgets=True, restarts=1, max_iter=5).fit(log)
    assert np.isfinite(fitted.history_).all()
    assert fitted.log_likelihood_ == pytest.approx(log_likelihood(log, fitted.params_), rel=1e-12)


@pytest.mark.parametrize("forget", [0.0, 0.1])
def test_e_step_counts_match_reference(forget):
    p = _params(forget)
    log = sample_log(p, 25, 10, seed=5)
    log["correct"] = log["correct"].astype("Int8")
    log.loc[log.index[::5], "correct"] = pd.NA
    d, enc = design_fit(
        validate_log(log), item_guess_slip=False, activity_learn=False, students=False
    )
    frame = p.to_frame()
    lookup = {
        (s, par): v for s, par, v in zip(frame.skill, frame.parameter, frame.value, strict=True)
    }
    t = _em.Tables(*(np.array([[lookup[(s, name)]] for s in enc.skills]) for name in _em.TABLES))
    for R in (1, 3):  # the restart columns are independent chains of one pass
        tt = _em.Tables(*(np.repeat(getattr(t, n), R, axis=1) for n in _em.TABLES))
        ws = _em.Workspace(d, enc, R)
        st = ws.e_step(tt)
        ref = expected_counts(log, frame)
        for k, skill in enumerate(enc.skills):
            c = ref[skill]
            for r in range(R):
                sk, gs, tr = st.skill[k, :, r], st.gs[k, :, r], st.tr[k, :, r]
                assert sk[_em.C_PRIOR] == pytest.approx(c["prior"], abs=TOL)
                assert sk[_em.C_LL] == pytest.approx(c["ll"], abs=TOL)
                assert tr[_em.T_LEARN_N] == pytest.approx(c["learn_n"], abs=TOL)
                assert tr[_em.T_LEARN_D] == pytest.approx(c["learn_d"], abs=TOL)
                assert tr[_em.T_FORGET_N] == pytest.approx(c["forget_n"], abs=TOL)
                forget_d = ws.tr_next[k] - tr[_em.T_LEARN_D]
                assert forget_d == pytest.approx(c["forget_d"], abs=TOL)
                assert gs[_em.G_GUESS_N] == pytest.approx(c["guess_n"], abs=TOL)
                assert gs[_em.G_GUESS_D] == pytest.approx(c["guess_d"], abs=TOL)
                assert gs[_em.G_SLIP_N] == pytest.approx(c["slip_n"], abs=TOL)
                slip_d = ws.gs_scored[k] - gs[_em.G_GUESS_D]
                assert slip_d == pytest.approx(c["slip_d"], abs=TOL)


def test_e_step_does_not_depend_on_chunking():
    # big skills are split into chunks that run in parallel, each with its own slots per class
    rng = np.random.default_rng(1)
    log = sample_log(_params(0.05), 80, 12, seed=8)
    log["item_id"] = rng.integers(0, 4, len(log))
    log["activity"] = np.where(rng.random(len(log)) < 0.5, "video", "text")
    d, enc = design_fit(
        validate_log(log), item_guess_slip=True, activity_learn=True, students=False
    )
    opt = _em.Options(
        forgets=True, max_guess=0.5, max_slip=0.5, restarts=3, max_iter=1, tol=0.0,
        student_prior=False, student_learn=False, student_effect_sd=1.0, seed=0,
    )  # fmt: skip
    t = _em.initial_tables(enc, opt, range(3), np.random.default_rng(0))
    whole = _em.Workspace(d, enc, 3, chunk_rows=10**9)
    split = _em.Workspace(d, enc, 3, chunk_rows=37)
    assert len(split.chunk_lo) > 3 * len(whole.chunk_lo)
    a, b = whole.e_step(t), split.e_step(t)
    for name in ("skill", "gs", "tr"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-12, atol=1e-12)
    # per-class counts add up to the per-skill ones of a skill-level design
    assert a.gs.shape == (enc.n_gs, 3, 3) and a.tr.shape == (enc.n_tr, 3, 3)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"forgets": True},
        {"item_guess_slip": True},
        {"activity_learn": True},
        {"student_prior": True, "student_learn": True},
    ],
)
def test_fitted_log_likelihood_matches_reference(options):
    rng = np.random.default_rng(0)
    log = sample_log(_params(0.05), 60, 8, seed=6)
    log["item_id"] = rng.integers(0, 3, len(log))
    log["activity"] = np.where(rng.random(len(log)) < 0.5, "video", "text")
    model = BKT(restarts=2, max_iter=30, **options).fit(log)
    ref = log_likelihood(log, model.params_)
    assert model.log_likelihood_ == pytest.approx(ref, abs=TOL)
    assert model.score(log, "log_likelihood")["log_likelihood"] == pytest.approx(ref, abs=TOL)
    assert np.all(np.diff(model.history_) >= 0)


def test_em_reaches_a_stationary_point():
    # At convergence the gradient of the (reference) log-likelihood vanishes for interior
    # parameters: an independent check of the E- and M-steps.
    p = _params(0.0)
    log = sample_log(p, 300, 12, seed=7)
    model = BKT(restarts=1, tol=1e-12, max_iter=2000).fit(log)
    base = model.params_
    sub = log[log["skill_id"] == "fractions"]
    for par in ("prior", "learn", "guess", "slip"):
        h = 1e-5
        vals = []
        for sign in (-1, 1):
            f = base.copy()
            m = (f["skill"] == "fractions") & (f["parameter"] == par)
            f.loc[m, "value"] = f.loc[m, "value"] + sign * h
            vals.append(log_likelihood(sub, f))
        grad = (vals[1] - vals[0]) / (2 * h)
        assert abs(grad) < 0.05, (par, grad)
