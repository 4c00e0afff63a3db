"""The compiled BKT passes called directly, against a plain HMM written here from the definition.

``tests/test_bkt_reference.py`` checks the kernels through the estimator, where every restart
shares its parameters and every skill sits in one chunk. Here the kernels get designs the
estimator only builds in special cases: several guess/slip and transition classes per skill,
restarts with different parameters, per-sequence priors and learning-rate shifts, skills split
into chunks of which only some are processed, unscored rows (also last in a sequence),
sequences of one row, and the per-row and per-sequence outputs. The reference is an unscaled
forward-backward with explicit 2x2 transition matrices (sequences are short, so nothing
underflows); agreement is asked to 1e-9, the accuracy of double-precision sums of a few hundred
terms, far below any modelling difference.

Edge cases are computed by hand in the tests: answers that are impossible under the model (the
belief is left unchanged, the log-likelihood is -inf), a learning rate of 0 (no division by 0 in
the smoothing), and the helpers that split the work into chunks and blocks.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edstudy.bkt import _kernels as K

TOL = 1e-9
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- the reference


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _smooth(p0, emit, trans):
    """Unscaled forward-backward of one two-state chain.

    emit[t] = (P(obs_t | U), P(obs_t | M)); trans[t] = 2x2 matrix from row t to row t+1
    (rows: from U, from M). Returns (gamma (T, 2), xi (T - 1, 2, 2), log Z).
    """
    T = len(emit)
    alpha = np.zeros((T, 2))
    beta = np.ones((T, 2))
    alpha[0] = np.array([1.0 - p0, p0]) * emit[0]
    for t in range(1, T):
        alpha[t] = (alpha[t - 1] @ trans[t - 1]) * emit[t]
    for t in range(T - 2, -1, -1):
        beta[t] = trans[t] @ (emit[t + 1] * beta[t + 1])
    z = alpha[-1].sum()
    gamma = alpha * beta / z
    xi = np.zeros((T - 1, 2, 2))
    for t in range(T - 1):
        xi[t] = alpha[t][:, None] * trans[t] * (emit[t + 1] * beta[t + 1])[None, :] / z
    return gamma, xi, math.log(z)


def _reference_e_step(d, r):
    """Per-row and per-sequence expectations of restart ``r`` for every sequence of design d."""
    n_rows = len(d["ecode"])
    row_gm, row_x01, row_x10 = np.zeros(n_rows), np.zeros(n_rows), np.zeros(n_rows)
    seq = np.zeros((len(d["offsets"]) - 1, 4))
    for s in range(len(d["offsets"]) - 1):
        a0, a1 = d["offsets"][s], d["offsets"][s + 1]
        p0 = d["prior_tab"][d["seq_prior_idx"][s], r]
        emit = [(d["eu_tab"][e, r], d["em_tab"][e, r]) for e in d["ecode"][a0:a1]]
        trans = []
        for t in range(a0, a1 - 1):
            k = d["tr_idx"][t]
            if d["use_shift"]:
                lr = _sig(d["learn_logit"][k, r] + d["seq_shift"][s])
            else:
                lr = d["learn"][k, r]
            fg = d["forget"][k, r]
            trans.append(np.array([[1.0 - lr, lr], [fg, 1.0 - fg]]))
        gamma, xi, logz = _smooth(p0, np.array(emit), trans)
        row_gm[a0:a1] = gamma[:, 1]
        row_x01[a0 : a1 - 1] = xi[:, 0, 1]
        row_x10[a0 : a1 - 1] = xi[:, 1, 0]
        seq[s] = (gamma[0, 1], xi[:, 0, 1].sum(), gamma[:-1, 0].sum(), logz)
    return row_gm, row_x01, row_x10, seq


# --------------------------------------------------------------------------- random designs


@st.composite
def designs(draw):
    """A small design in the layout of ``_em.Workspace``, with chunks and classes per skill."""
    n_skills = draw(st.integers(1, 3))
    n_gs = [draw(st.integers(1, 2)) for _ in range(n_skills)]
    n_tr = [draw(st.integers(1, 2)) for _ in range(n_skills)]
    gs_lo = np.concatenate(([0], np.cumsum(n_gs))).astype(np.int64)
    tr_lo = np.concatenate(([0], np.cumsum(n_tr))).astype(np.int64)
    R = draw(st.integers(1, 3))
    ecode, tr_idx, offsets, seq_skill = [], [], [0], []
    chunk_lo, chunk_hi, chunk_skill = [], [], []
    for k in range(n_skills):
        n_seq = draw(st.integers(0 if k else 1, 3))
        first = len(seq_skill)
        for _ in range(n_seq):
            n = draw(st.integers(1, 19))
            for _ in range(n):
                g = gs_lo[k] + draw(st.integers(0, n_gs[k] - 1))
                code = draw(st.sampled_from([0, 1, 1, 2]))
                ecode.append(3 * g + code)
                tr_idx.append(tr_lo[k] + draw(st.integers(0, n_tr[k] - 1)))
            offsets.append(offsets[-1] + n)
            seq_skill.append(k)
        # contiguous chunks covering the skill's sequences (one, possibly empty, at least)
        cuts = []
        if n_seq > 1:
            inner = st.integers(first + 1, first + n_seq - 1)
            cuts = sorted(set(draw(st.lists(inner, max_size=2))))
        bounds = [first, *cuts, first + n_seq]
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            chunk_lo.append(lo)
            chunk_hi.append(hi)
            chunk_skill.append(k)
    n_seq = len(seq_skill)
    prob, low, forget = st.floats(0.02, 0.98), st.floats(0.02, 0.45), st.floats(0.0, 0.3)
    guess = np.array([[draw(low) for _ in range(R)] for _ in range(gs_lo[-1])])
    slip = np.array([[draw(low) for _ in range(R)] for _ in range(gs_lo[-1])])
    em_tab = np.stack([slip, 1.0 - slip, np.ones_like(slip)], axis=1).reshape(-1, R)
    eu_tab = np.stack([1.0 - guess, guess, np.ones_like(guess)], axis=1).reshape(-1, R)
    n_prior = draw(st.integers(1, 3))
    learn = np.array([[draw(prob) for _ in range(R)] for _ in range(tr_lo[-1])])
    use_shift = draw(st.booleans())
    n_chunks = len(chunk_lo)
    chunk_ids = draw(st.permutations(range(n_chunks)))[: draw(st.integers(1, n_chunks))]
    chunk_skill = np.array(chunk_skill, dtype=np.int64)
    n_cls_gs = np.diff(gs_lo)[chunk_skill]
    n_cls_tr = np.diff(tr_lo)[chunk_skill]
    return {
        "ecode": np.array(ecode, dtype=np.int32),
        "offsets": np.array(offsets, dtype=np.int64),
        "chunk_lo": np.array(chunk_lo, dtype=np.int64),
        "chunk_hi": np.array(chunk_hi, dtype=np.int64),
        "chunk_skill": chunk_skill,
        "gs_lo": gs_lo,
        "tr_lo": tr_lo,
        "gs_off": np.concatenate(([0], np.cumsum(n_cls_gs)[:-1])).astype(np.int64),
        "tr_off": np.concatenate(([0], np.cumsum(n_cls_tr)[:-1])).astype(np.int64),
        "n_slots": (int(n_cls_gs.sum()), int(n_cls_tr.sum())),
        "chunk_ids": np.array(chunk_ids, dtype=np.int64),
        "prior_tab": np.array([[draw(prob) for _ in range(R)] for _ in range(n_prior)]),
        "seq_prior_idx": np.array(
            [draw(st.integers(0, n_prior - 1)) for _ in range(n_seq)], dtype=np.int64
        ),
        "seq_shift": np.array([draw(st.floats(-2.0, 2.0)) for _ in range(n_seq)]),
        "tr_idx": np.array(tr_idx, dtype=np.int32),
        "em_tab": np.ascontiguousarray(em_tab),
        "eu_tab": np.ascontiguousarray(eu_tab),
        "learn": learn,
        "learn_logit": np.log(learn) - np.log1p(-learn),
        "forget": np.array([[draw(forget) for _ in range(R)] for _ in range(tr_lo[-1])]),
        "use_shift": use_shift,
        "store_rows": draw(st.booleans()),
        "store_seq": draw(st.booleans()),
        "R": R,
    }


def _run_e_step(d):
    """Call the kernel with every output prefilled with NaN (untouched entries stay NaN)."""
    R, n_rows, n_seq = d["R"], len(d["ecode"]), len(d["offsets"]) - 1
    out = {
        "chunk_stats": np.full((len(d["chunk_lo"]), K.N_CHUNK, R), np.nan),
        "gs_acc": np.full((d["n_slots"][0], K.N_CLASS, R), np.nan),
        "tr_acc": np.full((d["n_slots"][1], K.N_CLASS, R), np.nan),
        "seq_stats": np.full((n_seq, K.N_SEQ, R), np.nan),
        "row_gm": np.full((n_rows, R), np.nan),
        "row_x01": np.full((n_rows, R), np.nan),
        "row_x10": np.full((n_rows, R), np.nan),
    }
    max_len = int(np.diff(d["offsets"]).max())
    K.e_step(
        d["ecode"], d["offsets"], d["chunk_lo"], d["chunk_hi"], d["chunk_skill"], d["gs_lo"],
        d["tr_lo"], d["gs_off"], d["tr_off"], d["chunk_ids"], d["prior_tab"], d["seq_prior_idx"],
        d["seq_shift"], d["tr_idx"], d["em_tab"], d["eu_tab"], d["learn"], d["learn_logit"],
        d["forget"], d["use_shift"], d["store_rows"], d["store_seq"], max_len,
        out["chunk_stats"], out["gs_acc"], out["tr_acc"], out["seq_stats"], out["row_gm"],
        out["row_x01"], out["row_x10"],
    )  # fmt: skip
    return out


@SETTINGS
@given(d=designs())
def test_e_step_matches_the_reference_chain_by_chain(d):
    out = _run_e_step(d)
    processed = set(d["chunk_ids"].tolist())
    seq_done = np.zeros(len(d["offsets"]) - 1, dtype=bool)
    for c in processed:
        seq_done[d["chunk_lo"][c] : d["chunk_hi"][c]] = True
    row_done = np.repeat(seq_done, np.diff(d["offsets"]))
    for r in range(d["R"]):
        row_gm, row_x01, row_x10, seq = _reference_e_step(d, r)
        for c in range(len(d["chunk_lo"])):
            k, lo, hi = d["chunk_skill"][c], d["chunk_lo"][c], d["chunk_hi"][c]
            gs_slots = d["gs_off"][c] + np.arange(d["gs_lo"][k + 1] - d["gs_lo"][k])
            tr_slots = d["tr_off"][c] + np.arange(d["tr_lo"][k + 1] - d["tr_lo"][k])
            if c not in processed:  # a chunk left out is not written at all
                assert np.isnan(out["chunk_stats"][c, :, r]).all()
                assert np.isnan(out["gs_acc"][gs_slots, :, r]).all()
                assert np.isnan(out["tr_acc"][tr_slots, :, r]).all()
                continue
            expected = [seq[lo:hi, 0].sum(), seq[lo:hi, 3].sum()]
            np.testing.assert_allclose(out["chunk_stats"][c, :, r], expected, rtol=0, atol=TOL)
            rows = np.arange(d["offsets"][lo], d["offsets"][hi])
            e = d["ecode"][rows]
            cls, code = e // 3, e % 3
            last = np.isin(rows, d["offsets"][1:] - 1)
            gu = 1.0 - row_gm[rows]
            for j, g in enumerate(range(d["gs_lo"][k], d["gs_lo"][k + 1])):
                on = cls == g
                expected = [
                    gu[on & (code == 1)].sum(),  # guess numerator
                    gu[on & (code < 2)].sum(),  # guess denominator
                    row_gm[rows][on & (code == 0)].sum(),  # slip numerator
                ]
                np.testing.assert_allclose(
                    out["gs_acc"][gs_slots[j], :, r], expected, rtol=0, atol=TOL
                )
            kt = d["tr_idx"][rows]
            for j, q in enumerate(range(d["tr_lo"][k], d["tr_lo"][k + 1])):
                on = (kt == q) & ~last
                expected = [row_x01[rows][on].sum(), gu[on].sum(), row_x10[rows][on].sum()]
                np.testing.assert_allclose(
                    out["tr_acc"][tr_slots[j], :, r], expected, rtol=0, atol=TOL
                )
        if d["store_seq"]:
            np.testing.assert_allclose(out["seq_stats"][seq_done, :, r], seq[seq_done], atol=TOL)
        if d["store_rows"]:
            for name, ref in (("row_gm", row_gm), ("row_x01", row_x01), ("row_x10", row_x10)):
                np.testing.assert_allclose(out[name][row_done, r], ref[row_done], atol=TOL)
    # what was not asked for, or not processed, is not written
    assert np.isnan(out["seq_stats"][~seq_done if d["store_seq"] else slice(None)]).all()
    for name in ("row_gm", "row_x01", "row_x10"):
        assert np.isnan(out[name][~row_done if d["store_rows"] else slice(None)]).all()


# --------------------------------------------------------------------------- forward pass


@st.composite
def forward_designs(draw):
    n_seq = draw(st.integers(1, 6))
    lengths = [draw(st.integers(1, 19)) for _ in range(n_seq)]
    n_rows = sum(lengths)
    n_gs, n_tr = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    prob = st.floats(0.02, 0.98)
    learn = np.array([draw(prob) for _ in range(n_tr)])
    cuts = sorted(set(draw(st.lists(st.integers(1, n_seq), max_size=3))))
    return {
        "obs": np.array([draw(st.sampled_from([1, 1, 0, -1])) for _ in range(n_rows)], np.int8),
        "offsets": np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
        "block_starts": np.array(sorted({0, *cuts, n_seq}), dtype=np.int64),
        "seq_prior": np.array([draw(prob) for _ in range(n_seq)]),
        "seq_shift": np.array([draw(st.floats(-2.0, 2.0)) for _ in range(n_seq)]),
        "gs_idx": np.array([draw(st.integers(0, n_gs - 1)) for _ in range(n_rows)], np.int32),
        "tr_idx": np.array([draw(st.integers(0, n_tr - 1)) for _ in range(n_rows)], np.int32),
        "guess": np.array([draw(st.floats(0.02, 0.45)) for _ in range(n_gs)]),
        "slip": np.array([draw(st.floats(0.02, 0.45)) for _ in range(n_gs)]),
        "learn": learn,
        "learn_logit": np.log(learn) - np.log1p(-learn) + draw(st.floats(-1.0, 1.0)),
        "forget": np.array([draw(st.floats(0.0, 0.3)) for _ in range(n_tr)]),
        "use_shift": draw(st.booleans()),
    }


def _run_forward(d):
    n = len(d["obs"])
    pred, mastery, row_ll = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    K.forward(
        d["obs"], d["offsets"], d["block_starts"], d["seq_prior"], d["seq_shift"], d["gs_idx"],
        d["tr_idx"], d["guess"], d["slip"], d["learn"], d["learn_logit"], d["forget"],
        d["use_shift"], pred, mastery, row_ll,
    )  # fmt: skip
    return pred, mastery, row_ll


def _reference_forward(d):
    """Filtering with a belief vector (P(U), P(M)) and an explicit transition matrix per row."""
    n = len(d["obs"])
    pred, mastery, row_ll = np.zeros(n), np.zeros(n), np.zeros(n)
    for s in range(len(d["offsets"]) - 1):
        belief = np.array([1.0 - d["seq_prior"][s], d["seq_prior"][s]])
        for t in range(d["offsets"][s], d["offsets"][s + 1]):
            g, k = d["gs_idx"][t], d["tr_idx"][t]
            p_correct = np.array([d["guess"][g], 1.0 - d["slip"][g]])
            pred[t] = belief @ p_correct
            if d["obs"][t] in (0, 1):
                like = p_correct if d["obs"][t] == 1 else 1.0 - p_correct
                row_ll[t] = math.log(belief @ like)
                belief = belief * like / (belief @ like)
            if d["use_shift"]:
                lr = _sig(d["learn_logit"][k] + d["seq_shift"][s])
            else:
                lr = d["learn"][k]
            fg = d["forget"][k]
            belief = belief @ np.array([[1.0 - lr, lr], [fg, 1.0 - fg]])
            mastery[t] = belief[1]
    return pred, mastery, row_ll


@SETTINGS
@given(d=forward_designs())
def test_forward_matches_the_reference_row_by_row(d):
    got = _run_forward(d)
    for a, b in zip(got, _reference_forward(d), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


# --------------------------------------------------------------------------- edge cases by hand


def _one_skill(obs, prior, guess, slip, learn, forget, *, shift=0.0, use_shift=False):
    """Both kernels on one sequence of one skill with one class, one restart."""
    n = len(obs)
    code = np.where(np.asarray(obs) == 1, 1, np.where(np.asarray(obs) == 0, 0, 2))
    lg = math.log(learn) - math.log1p(-learn) if 0.0 < learn < 1.0 else 0.0
    d = {
        "ecode": code.astype(np.int32),
        "offsets": np.array([0, n], dtype=np.int64),
        "chunk_lo": np.array([0], dtype=np.int64),
        "chunk_hi": np.array([1], dtype=np.int64),
        "chunk_skill": np.array([0], dtype=np.int64),
        "gs_lo": np.array([0, 1], dtype=np.int64),
        "tr_lo": np.array([0, 1], dtype=np.int64),
        "gs_off": np.array([0], dtype=np.int64),
        "tr_off": np.array([0], dtype=np.int64),
        "n_slots": (1, 1),
        "chunk_ids": np.array([0], dtype=np.int64),
        "prior_tab": np.array([[prior]]),
        "seq_prior_idx": np.array([0], dtype=np.int64),
        "seq_shift": np.array([shift]),
        "tr_idx": np.zeros(n, dtype=np.int32),
        "em_tab": np.array([[slip], [1.0 - slip], [1.0]]),
        "eu_tab": np.array([[1.0 - guess], [guess], [1.0]]),
        "learn": np.array([[learn]]),
        "learn_logit": np.array([[lg]]),
        "forget": np.array([[forget]]),
        "use_shift": use_shift,
        "store_rows": True,
        "store_seq": True,
        "R": 1,
    }
    f = {
        "obs": np.asarray(obs, dtype=np.int8),
        "offsets": d["offsets"],
        "block_starts": np.array([0, 1], dtype=np.int64),
        "seq_prior": np.array([prior]),
        "seq_shift": d["seq_shift"],
        "gs_idx": np.zeros(n, dtype=np.int32),
        "tr_idx": np.zeros(n, dtype=np.int32),
        "guess": np.array([guess]),
        "slip": np.array([slip]),
        "learn": np.array([learn]),
        "learn_logit": np.array([lg]),
        "forget": np.array([forget]),
        "use_shift": use_shift,
    }
    return _run_e_step(d), _run_forward(f)


def test_an_impossible_answer_leaves_the_belief_unchanged():
    # guess 0: a correct answer is impossible when unmastered; with prior 0 it is impossible.
    (e, (pred, mastery, ll)) = _one_skill([1, 1], prior=0.0, guess=0.0, slip=0.1, learn=0.5,
                                          forget=0.0)  # fmt: skip
    # forward: P(correct) = 0 at row 0, belief stays 0, then learning: 0 + 1 * 0.5
    assert pred.tolist() == [0.0, 0.5 * 0.9]
    assert mastery.tolist() == [0.5, 1.0]
    assert ll[0] == -math.inf and ll[1] == pytest.approx(math.log(0.45), abs=1e-15)
    # E-step by hand: the impossible row is uninformative; the second correct answer proves
    # mastery at row 1, so the chain moved U -> M after row 0.
    assert e["chunk_stats"][0, :, 0].tolist() == [0.0, -math.inf]
    np.testing.assert_allclose(e["row_gm"][:, 0], [0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(e["row_x01"][:, 0], [1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(e["gs_acc"][0, :, 0], [1.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(e["tr_acc"][0, :, 0], [1.0, 1.0, 0.0], atol=1e-15)
    # slip 0 with prior 1: a wrong answer is impossible
    (_, (pred, mastery, ll)) = _one_skill([0], prior=1.0, guess=0.3, slip=0.0, learn=0.2,
                                          forget=0.25)  # fmt: skip
    assert pred.tolist() == [1.0] and mastery.tolist() == [0.75] and ll[0] == -math.inf


def test_a_skill_never_learned_or_never_forgotten_gives_finite_counts():
    # learn 0 and prior 0: P(M next) = 0 exactly; the smoothing must not divide 0 by 0.
    (e, (pred, mastery, ll)) = _one_skill([1, 0], prior=0.0, guess=0.2, slip=0.1, learn=0.0,
                                          forget=0.0)  # fmt: skip
    np.testing.assert_allclose(e["gs_acc"][0, :, 0], [1.0, 2.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(e["tr_acc"][0, :, 0], [0.0, 1.0, 0.0], atol=1e-15)
    assert e["chunk_stats"][0, :, 0] == pytest.approx([0.0, math.log(0.2 * 0.8)], abs=1e-15)
    np.testing.assert_allclose(
        e["seq_stats"][0, :, 0], [0.0, 0.0, 1.0, math.log(0.2 * 0.8)], atol=1e-15
    )
    assert mastery.tolist() == [0.0, 0.0] and pred.tolist() == [0.2, 0.2]
    # prior 1 and forget 0: P(U next) = 0 exactly
    (e, _) = _one_skill([0, 1], prior=1.0, guess=0.2, slip=0.1, learn=0.3, forget=0.0)
    np.testing.assert_allclose(e["gs_acc"][0, :, 0], [0.0, 0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(e["tr_acc"][0, :, 0], [0.0, 0.0, 0.0], atol=1e-15)
    assert e["chunk_stats"][0, :, 0] == pytest.approx([1.0, math.log(0.1 * 0.9)], abs=1e-15)


def test_a_single_unscored_row_carries_no_evidence():
    (e, (pred, mastery, ll)) = _one_skill([-1], prior=0.3, guess=0.2, slip=0.1, learn=0.4,
                                          forget=0.1)  # fmt: skip
    assert e["chunk_stats"][0, :, 0].tolist() == [0.3, 0.0]
    np.testing.assert_allclose(e["gs_acc"][0, :, 0], [0.0, 0.0, 0.0], atol=0)
    assert e["row_gm"][0, 0] == 0.3 and ll[0] == 0.0
    assert pred[0] == pytest.approx(0.3 * 0.9 + 0.7 * 0.2, abs=1e-15)
    assert mastery[0] == pytest.approx(0.3 * 0.9 + 0.7 * 0.4, abs=1e-15)


def test_the_student_shift_moves_the_learning_rate_on_the_logit_scale():
    lr = 1.0 / (1.0 + math.exp(-(math.log(0.2 / 0.8) + 1.5)))
    (_, (_, mastery, _)) = _one_skill([-1], prior=0.0, guess=0.2, slip=0.1, learn=0.2,
                                      forget=0.0, shift=1.5, use_shift=True)  # fmt: skip
    assert mastery[0] == pytest.approx(lr, abs=1e-15)
    (_, (_, mastery, _)) = _one_skill([-1], prior=0.0, guess=0.2, slip=0.1, learn=0.2,
                                      forget=0.0, shift=1.5)  # fmt: skip
    assert mastery[0] == pytest.approx(0.2, abs=1e-15)  # no shift unless asked
    # the logistic of a large logit of either sign is computed without overflow (inf / inf)
    for shift, rate in ((-800.0, 0.0), (800.0, 1.0)):
        (e, (_, mastery, _)) = _one_skill([-1, -1], prior=0.0, guess=0.2, slip=0.1, learn=0.2,
                                          forget=0.0, shift=shift, use_shift=True)  # fmt: skip
        assert mastery[0] == rate
        assert np.isfinite(e["tr_acc"]).all() and np.isfinite(e["row_gm"]).all()


def test_long_sequences_fold_the_normalizers_without_underflow():
    # 4000 rows whose normalizers are each about 0.1: their product underflows after ~320 rows,
    # so the log-likelihood needs the folding; it must equal the sum of the per-row terms.
    obs = [0] * 4000
    (e, (_, _, ll)) = _one_skill(obs, prior=1.0, guess=0.9, slip=0.1, learn=0.5, forget=0.0)
    assert e["chunk_stats"][0, 1, 0] == pytest.approx(4000 * math.log(0.1), rel=1e-12)
    assert ll.sum() == pytest.approx(4000 * math.log(0.1), rel=1e-12)


# --------------------------------------------------------------------------- work splitting


def test_chunks_by_skill_by_hand():
    # skill 0: sequences of 5, 5, 5, 5 rows; skill 1: none; skill 2: one of 3 rows
    offsets = np.array([0, 5, 10, 15, 20, 23])
    skill_offsets = np.array([0, 4, 4, 5])
    lo, hi, sk = K.chunks_by_skill(offsets, skill_offsets, 10)
    assert lo.tolist() == [0, 2, 4, 4] and hi.tolist() == [2, 4, 4, 5]
    assert sk.tolist() == [0, 0, 1, 2]
    assert lo.dtype == hi.dtype == sk.dtype == np.int64
    lo, hi, sk = K.chunks_by_skill(offsets, skill_offsets, 20)
    assert (lo.tolist(), hi.tolist(), sk.tolist()) == ([0, 4, 4], [4, 4, 5], [0, 1, 2])
    lo, hi, _ = K.chunks_by_skill(offsets, skill_offsets, 1)  # never more chunks than sequences
    assert (lo.tolist(), hi.tolist()) == ([0, 1, 2, 3, 4, 4], [1, 2, 3, 4, 4, 5])
    lo, hi, _ = K.chunks_by_skill(offsets, skill_offsets, 0)  # a target below 1 counts as 1
    assert (lo.tolist(), hi.tolist()) == ([0, 1, 2, 3, 4, 4], [1, 2, 3, 4, 4, 5])
    lo, hi, _ = K.chunks_by_skill(offsets, skill_offsets, 7)  # ceil(20 / 7) = 3 pieces
    assert (lo.tolist(), hi.tolist()) == ([0, 2, 3, 4, 4], [2, 3, 4, 4, 5])
    # one-row sequences and a target of 1 row: a chunk per sequence (not per 2 rows)
    lo, hi, _ = K.chunks_by_skill(np.arange(5), np.array([0, 4]), 1)
    assert (lo.tolist(), hi.tolist()) == ([0, 1, 2, 3], [1, 2, 3, 4])
    # rows 1, 1, 10 in 3 pieces of about 4: the cuts at 4 and 8 both fall in the long sequence
    lo, hi, _ = K.chunks_by_skill(np.array([0, 1, 2, 12]), np.array([0, 3]), 4)
    assert (lo.tolist(), hi.tolist()) == ([0], [3])
    # the same skill after five one-row sequences, target 1: at most 3 pieces (its 3
    # sequences), whose cuts at 4 and 8 rows again fall in the long one
    offsets = np.array([0, 1, 2, 3, 4, 5, 6, 7, 17])
    lo, hi, sk = K.chunks_by_skill(offsets, np.array([0, 5, 8]), 1)
    assert lo[sk == 1].tolist() == [5] and hi[sk == 1].tolist() == [8]


@settings(max_examples=80, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 30), min_size=1, max_size=25),
    n_skills=st.integers(1, 4),
    target=st.integers(1, 200),
    data=st.data(),
)
def test_chunks_tile_each_skill_in_order(lengths, n_skills, target, data):
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(lengths)), min_size=n_skills - 1,
                                     max_size=n_skills - 1)))  # fmt: skip
    skill_offsets = np.array([0, *cuts, len(lengths)])
    lo, hi, sk = K.chunks_by_skill(offsets, skill_offsets, target)
    for k in range(n_skills):
        mine = np.flatnonzero(sk == k)
        assert len(mine) >= 1
        assert lo[mine[0]] == skill_offsets[k] and hi[mine[-1]] == skill_offsets[k + 1]
        assert (lo[mine[1:]] == hi[mine[:-1]]).all() and (hi[mine] >= lo[mine]).all()
        rows = offsets[skill_offsets[k + 1]] - offsets[skill_offsets[k]]
        n_seq = skill_offsets[k + 1] - skill_offsets[k]
        assert len(mine) <= max(1, min(n_seq, -(-rows // target)))
    assert (np.diff(sk) >= 0).all()


def test_blocks_by_rows_by_hand():
    # four sequences of 10 rows: cumulative rows 0, 10, 20, 30, 40
    even = np.array([0, 10, 20, 30, 40])
    assert K.blocks_by_rows(even, np.arange(4), 2).tolist() == [0, 2, 4]
    assert K.blocks_by_rows(even, np.arange(4), 3).tolist() == [0, 2, 3, 4]  # 13.3 -> 2, 26.7 -> 3
    assert K.blocks_by_rows(even, np.arange(4), 4).tolist() == [0, 1, 2, 3, 4]
    assert K.blocks_by_rows(even, np.arange(4), 9).tolist() == [0, 1, 2, 3, 4]
    assert K.blocks_by_rows(even, np.arange(4), 1).tolist() == [0, 4]
    assert K.blocks_by_rows(even, np.arange(4), 0).tolist() == [0, 4]
    # a subset of the sequences, by their own lengths (2, 2, 2 rows; the 24-row one left out)
    offsets = np.array([0, 10, 12, 14, 16, 40])
    assert K.blocks_by_rows(offsets, np.array([1, 2, 3]), 3).tolist() == [0, 1, 2, 3]
    assert K.blocks_by_rows(offsets, np.array([0, 4]), 2).tolist() == [0, 2]  # cut at 17 -> 2
    assert K.blocks_by_rows(offsets, np.arange(5), 2).tolist() == [0, 5]  # the 24 rows dominate
    empty = K.blocks_by_rows(offsets, np.array([], dtype=np.int64), 4)
    assert empty.tolist() == [0] and empty.dtype == np.int64


@settings(max_examples=80, deadline=None)
@given(lengths=st.lists(st.integers(1, 50), min_size=1, max_size=40), n_blocks=st.integers(1, 9))
def test_blocks_cover_every_sequence_once(lengths, n_blocks):
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    b = K.blocks_by_rows(offsets, np.arange(len(lengths)), n_blocks)
    assert b[0] == 0 and b[-1] == len(lengths) and (np.diff(b) > 0).all()
    assert len(b) - 1 <= n_blocks


def test_small_passes_run_on_one_thread_and_restore_the_setting():
    before = numba.get_num_threads()
    with K.threads_for(K.PARALLEL_MIN_ROWS - 1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with K.threads_for(K.PARALLEL_MIN_ROWS):
        assert numba.get_num_threads() == before
    with pytest.raises(RuntimeError), K.threads_for(10):
        raise RuntimeError("the setting is restored even when the pass fails")
    assert numba.get_num_threads() == before
