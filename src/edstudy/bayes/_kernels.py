"""Compiled (numba) kernel of the hierarchical BKT marginal likelihood and its gradient.

For one sequence of ``n`` answers the hidden path is summarized by ``tau`` in ``0..n``, the first
opportunity in the mastered state (``tau = n``: not mastered within the sequence). With
``lL0 = log L0``, ``lnL0 = log(1-L0)``, ``lnT = log(1-T)``, ``lT = log T`` (from the per-sequence
logits ``u`` of ``L0`` and ``v`` of ``T``), ``a = log g - log(1-s)`` and ``b = log(1-g) - log s``::

    x_0   = lL0
    x_tau = lnL0 + (tau-1) lnT + [tau < n] lT + c_<tau a + w_<tau b      (1 <= tau <= n)
    loglik = logsumexp(x) + c log(1-s) + w log s

(``c_<tau`` / ``w_<tau``: correct / incorrect answers before ``tau``.) The kernel returns
``logsumexp(x)`` and its partial derivatives (softmax-weighted sums of the coefficients) from the
flat, unpadded answers, so ragged real-data sequences cost only their length.

Speed: consecutive terms differ by ``lnT + (a or b)``, so relative to ``x_0`` the weights are
running products and a sequence needs about five transcendental calls, whatever its length, and
no branch on the (random) answers. When the running product leaves [1e-250, 1e250] (very long
sequences or extreme parameters) that sequence is recomputed in log space (two passes, one exp per
term), which is exact at any range.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["hbkt_lse", "hbkt_lse_logspace", "hbkt_loglik_grad"]

_BIG = 1e250
_SMALL = 1e-250


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _log_sigmoid_and_sigmoid(u: float) -> tuple[float, float, float]:
    """``(log sigmoid(u), sigmoid(u), exp(-u))`` with one exp and one log1p."""
    e = np.exp(-abs(u))
    log_sig = min(u, 0.0) - np.log1p(e)
    if u >= 0.0:
        return log_sig, 1.0 / (1.0 + e), e
    return log_sig, e / (1.0 + e), 1.0 / e


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _one_logspace(
    correct: np.ndarray,
    start: int,
    n: int,
    u: float,
    v: float,
    aj: float,
    bj: float,
    x: np.ndarray,
    out: np.ndarray,
    jac: np.ndarray,
    j: int,
) -> None:
    """Reference path for sequence ``j``: build ``x`` in log space, then softmax weights."""
    l_l0, p_l0, _ = _log_sigmoid_and_sigmoid(u)
    l_t, p_t, _ = _log_sigmoid_and_sigmoid(v)
    l_nl0 = l_l0 - u
    l_nt = l_t - v
    x[0] = l_l0
    mx = x[0]
    xt = l_nl0 + l_t - l_nt
    for tau in range(1, n):
        xt += l_nt + bj + correct[start + tau - 1] * (aj - bj)
        x[tau] = xt
        mx = max(mx, xt)
    x[n] = xt + l_nt + bj + correct[start + n - 1] * (aj - bj) - l_t  # tau = n: no learning term
    mx = max(mx, x[n])
    w0 = np.exp(x[0] - mx)
    s_rest = 0.0
    s_nt = 0.0
    s_t = 0.0
    s_a = 0.0
    s_b = 0.0
    n_right = 0.0
    for tau in range(1, n + 1):
        n_right += correct[start + tau - 1]
        w = np.exp(x[tau] - mx)
        s_rest += w
        s_nt += w * (tau - 1)
        if tau < n:
            s_t += w
        s_a += w * n_right
        s_b += w * (tau - n_right)
    total = w0 + s_rest
    out[j] = mx + np.log(total)
    inv = 1.0 / total
    jac[j, 0] = (w0 * (1.0 - p_l0) - s_rest * p_l0) * inv
    jac[j, 1] = (s_t * (1.0 - p_t) - s_nt * p_t) * inv
    jac[j, 2] = s_a * inv
    jac[j, 3] = s_b * inv


@numba.njit(cache=True, nogil=True, error_model="numpy")
def hbkt_lse(
    correct: np.ndarray,
    offsets: np.ndarray,
    logit_prior: np.ndarray,
    logit_learn: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``logsumexp_tau x`` per sequence and its Jacobian.

    Parameters
    ----------
    correct : int8 array, shape (n_rows,)
    offsets : int64 array, shape (n_sequences + 1,)
    logit_prior, logit_learn : float64 arrays, shape (n_sequences,)
        Logit L0 and logit T of each sequence.
    a, b : float64 arrays, shape (n_sequences,)
        ``log g - log(1-s)`` and ``log(1-g) - log s`` of each sequence's skill.

    Returns
    -------
    value : float64 array, shape (n_sequences,)
    jac : float64 array, shape (n_sequences, 4)
        Derivatives with respect to ``logit_prior, logit_learn, a, b``.
    """
    n_seq = offsets.shape[0] - 1
    value = np.empty(n_seq)
    jac = np.empty((n_seq, 4))
    longest = 0
    for j in range(n_seq):
        longest = max(longest, offsets[j + 1] - offsets[j])
    x = np.empty(longest + 1)
    a_prev = np.nan
    b_prev = np.nan
    ea = 1.0
    eb = 1.0
    for j in range(n_seq):
        start = offsets[j]
        n = offsets[j + 1] - start
        u = logit_prior[j]
        v = logit_learn[j]
        aj = a[j]
        bj = b[j]
        if aj != a_prev:  # sequences come sorted by skill: a, b change rarely
            ea = np.exp(aj)
            a_prev = aj
        if bj != b_prev:
            eb = np.exp(bj)
            b_prev = bj
        l_l0, p_l0, exp_neg_u = _log_sigmoid_and_sigmoid(u)
        _, p_t, _ = _log_sigmoid_and_sigmoid(v)
        not_t = 1.0 - p_t
        dq = ea - eb
        # r_tau = exp(x_tau - x_0) / T for tau >= 1 (the learning factor T is added back below)
        y = correct[start]
        r = exp_neg_u * (eb + y * dq)
        n_right = float(y)
        lo = r
        hi = r
        s_r = 0.0
        s_nt = 0.0
        s_a = 0.0
        s_b = 0.0
        for tau in range(1, n):
            s_r += r
            s_nt += r * (tau - 1)
            s_a += r * n_right
            s_b += r * (tau - n_right)
            y = correct[start + tau]
            n_right += y
            r *= not_t * (eb + y * dq)
            lo = min(lo, r)
            hi = max(hi, r)
        # tau = n carries no learning factor: its weight is r itself
        w_n = r
        w_rest = p_t * s_r + w_n
        total = 1.0 + w_rest
        if not (lo > _SMALL and hi < _BIG and p_t > _SMALL and total < _BIG):
            _one_logspace(correct, start, n, u, v, aj, bj, x, value, jac, j)
            continue
        value[j] = l_l0 + np.log(total)
        inv = 1.0 / total
        s_nt_all = p_t * s_nt + w_n * (n - 1)
        jac[j, 0] = ((1.0 - p_l0) - w_rest * p_l0) * inv
        jac[j, 1] = (p_t * s_r * (1.0 - p_t) - s_nt_all * p_t) * inv
        jac[j, 2] = (p_t * s_a + w_n * n_right) * inv
        jac[j, 3] = (p_t * s_b + w_n * (n - n_right)) * inv
    return value, jac


@numba.njit(cache=True, nogil=True, error_model="numpy")
def hbkt_lse_logspace(
    correct: np.ndarray,
    offsets: np.ndarray,
    logit_prior: np.ndarray,
    logit_learn: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Same as :func:`hbkt_lse`, always on the log-space path (reference for tests)."""
    n_seq = offsets.shape[0] - 1
    value = np.empty(n_seq)
    jac = np.empty((n_seq, 4))
    longest = 0
    for j in range(n_seq):
        longest = max(longest, offsets[j + 1] - offsets[j])
    x = np.empty(longest + 1)
    for j in range(n_seq):
        start = offsets[j]
        _one_logspace(
            correct,
            start,
            offsets[j + 1] - start,
            logit_prior[j],
            logit_learn[j],
            a[j],
            b[j],
            x,
            value,
            jac,
            j,
        )
    return value, jac


@numba.njit(cache=True, nogil=True, error_model="numpy")
def hbkt_loglik_grad(
    correct: np.ndarray,
    offsets: np.ndarray,
    seq_student: np.ndarray,
    seq_skill: np.ndarray,
    right: np.ndarray,
    wrong: np.ndarray,
    mu_prior: np.ndarray,
    mu_learn: np.ndarray,
    eff_prior: np.ndarray,
    eff_learn: np.ndarray,
    guess: np.ndarray,
    slip: np.ndarray,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Total hierarchical-BKT log-likelihood and its gradient with respect to every parameter.

    Sequence ``j`` (student ``i``, skill ``k``) has logit L0 ``mu_prior[k] + eff_prior[i]`` and
    logit T ``mu_learn[k] + eff_learn[i]``; the answers' emission is ``guess[k], slip[k]``.

    Parameters
    ----------
    correct : int8 array, shape (n_rows,)
    offsets : int64 array, shape (n_sequences + 1,)
    seq_student, seq_skill : int64 arrays, shape (n_sequences,)
    right, wrong : float64 arrays, shape (n_skills,)
        Correct and incorrect answers per skill (constants of the data).
    mu_prior, mu_learn, guess, slip : float64 arrays, shape (n_skills,)
    eff_prior, eff_learn : float64 arrays, shape (n_students,)

    Returns
    -------
    (loglik, d_mu_prior, d_mu_learn, d_eff_prior, d_eff_learn, d_guess, d_slip)
        A float and the gradients, each shaped like its parameter.
    """
    n_seq = offsets.shape[0] - 1
    n_skills = mu_prior.shape[0]
    log_g = np.log(guess)
    log_ng = np.log1p(-guess)
    log_s = np.log(slip)
    log_ns = np.log1p(-slip)
    u = np.empty(n_seq)
    v = np.empty(n_seq)
    a = np.empty(n_seq)
    b = np.empty(n_seq)
    for j in range(n_seq):
        i = seq_student[j]
        k = seq_skill[j]
        u[j] = mu_prior[k] + eff_prior[i]
        v[j] = mu_learn[k] + eff_learn[i]
        a[j] = log_g[k] - log_ns[k]
        b[j] = log_ng[k] - log_s[k]
    value, jac = hbkt_lse(correct, offsets, u, v, a, b)
    d_mu_prior = np.zeros(n_skills)
    d_mu_learn = np.zeros(n_skills)
    d_eff_prior = np.zeros(eff_prior.shape[0])
    d_eff_learn = np.zeros(eff_learn.shape[0])
    d_a = np.zeros(n_skills)
    d_b = np.zeros(n_skills)
    total = 0.0
    for j in range(n_seq):
        i = seq_student[j]
        k = seq_skill[j]
        total += value[j]
        d_mu_prior[k] += jac[j, 0]
        d_eff_prior[i] += jac[j, 0]
        d_mu_learn[k] += jac[j, 1]
        d_eff_learn[i] += jac[j, 1]
        d_a[k] += jac[j, 2]
        d_b[k] += jac[j, 3]
    d_guess = np.empty(n_skills)
    d_slip = np.empty(n_skills)
    for k in range(n_skills):
        # answers all from the mastered state: right log(1-s) + wrong log s
        total += right[k] * log_ns[k] + wrong[k] * log_s[k]
        g = guess[k]
        s = slip[k]
        # a = log g - log(1-s), b = log(1-g) - log s
        d_guess[k] = d_a[k] / g - d_b[k] / (1.0 - g)
        d_slip[k] = d_a[k] / (1.0 - s) - d_b[k] / s - right[k] / (1.0 - s) + wrong[k] / s
    return total, d_mu_prior, d_mu_learn, d_eff_prior, d_eff_learn, d_guess, d_slip
