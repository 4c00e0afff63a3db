"""Student ability as a latent Normal(0, sd^2) trait inferred online on a quadrature grid.

The models with an ability never predict with a fitted ability: for every student the posterior
of the ability given their earlier answers is carried on a 21-point Gauss-Hermite grid and the
prediction is the posterior predictive (:func:`ability_filter` for the logistic models; the BKT
variant in :mod:`edstudy.kt._hmm`). The same recursion gives the exact marginal likelihood of a
log (abilities integrated out), which :func:`mml_sd` maximizes to estimate the spread ``sd``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import minimize_scalar

__all__ = ["GRID_POINTS", "ability_filter", "grid", "mml_sd"]

GRID_POINTS = 21
SD_BOUNDS = (0.02, 5.0)


def grid(sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log-weights of the Normal(0, sd^2) prior (one node at 0 when ``sd`` is 0)."""
    if sd <= 0:
        return np.zeros(1), np.zeros(1)
    z, w = hermegauss(GRID_POINTS)
    return sd * z, np.log(w / w.sum())


def mml_sd(marginal_loglik: Callable[[float], float], near: float | None = None) -> float:
    """The ``sd`` in [0.02, 5] maximizing ``marginal_loglik(sd)``: a bounded search on ``log sd``
    to 1% precision; with ``near`` (a previous estimate), first within a factor 2 of it, widening
    to the full range when the optimum sits on an edge of that bracket."""
    lo, hi = np.log(SD_BOUNDS[0]), np.log(SD_BOUNDS[1])

    def search(a: float, b: float) -> float:
        res = minimize_scalar(
            lambda s: -marginal_loglik(float(np.exp(s))),
            bounds=(a, b),
            method="bounded",
            options={"xatol": 1e-2},
        )
        return float(res.x)

    if near is not None and near > 0:
        a, b = max(lo, np.log(near) - np.log(2)), min(hi, np.log(near) + np.log(2))
        x = search(a, b)
        if (x - a > 0.02 or a == lo) and (b - x > 0.02 or b == hi):
            return float(np.exp(x))
    return float(np.exp(search(lo, hi)))


@njit(cache=True, nogil=True)
def ability_filter(attempt_start, student, eta, value, nodes, log_w0):
    """Online posterior predictive with a grid prior on the ability (per student, per attempt).

    Returns the prediction of every row and the marginal log-likelihood of the attempts (an
    attempt's answer is the mean of its scored rows)."""
    n = eta.shape[0]
    g_n = nodes.shape[0]
    out = np.empty(n)
    ll = 0.0
    lw = log_w0.copy()
    wts = np.empty(g_n)
    en = np.exp(-nodes)  # sigmoid(x + node) = 1 / (1 + exp(-x) * exp(-node))
    for a in range(attempt_start.shape[0] - 1):
        lo, hi = attempt_start[a], attempt_start[a + 1]
        if a == 0 or student[lo] != student[attempt_start[a - 1]]:
            lw[:] = log_w0
        mx = lw.max()
        tot = 0.0
        for g in range(g_n):
            wts[g] = np.exp(lw[g] - mx)
            tot += wts[g]
        e_sum = 0.0
        v_sum = 0.0
        v_n = 0
        for r in range(lo, hi):
            ex = np.exp(-eta[r])
            pr = 0.0
            for g in range(g_n):
                pr += wts[g] / (1.0 + ex * en[g])
            out[r] = pr / tot
            if not np.isnan(value[r]):
                e_sum += eta[r]
                v_sum += value[r]
                v_n += 1
        if v_n > 0:
            e = e_sum / v_n
            v = v_sum / v_n
            new_tot = 0.0
            for g in range(g_n):
                z = e + nodes[g]
                # log sigmoid(z) and log sigmoid(-z), stably
                ls = -np.log1p(np.exp(-z)) if z > 0 else z - np.log1p(np.exp(z))
                lf = -z + ls
                step = v * ls + (1.0 - v) * lf
                lw[g] += step
                new_tot += wts[g] * np.exp(step)
            ll += np.log(new_tot / tot)
    return out, ll
