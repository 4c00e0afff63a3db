"""BKT with per-row emission probabilities: compiled forward-backward and online filters, and
the M-step of the emission logits, abilities and item difficulties (:class:`Emission`)."""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.special import expit

__all__ = ["Emission", "forward_backward", "online_filter"]


@njit(cache=True, nogil=True)
def forward_backward(offsets, y, p0, p1, prior, learn, forget):
    """Posterior P(known) per row and per-sequence expected counts; sequences are contiguous."""
    n = y.shape[0]
    post = np.empty(n)
    stats = np.zeros((offsets.shape[0] - 1, 5))  # first, xi01, gamma0, xi10, gamma1 (t < T-1)
    ll = 0.0
    filt = np.empty(n)
    scale = np.empty(n)
    e0 = np.empty(n)
    e1 = np.empty(n)
    for s in range(offsets.shape[0] - 1):
        lo, hi = offsets[s], offsets[s + 1]
        pk = prior[s]
        for t in range(lo, hi):
            if np.isnan(y[t]):
                e0[t] = 1.0
                e1[t] = 1.0
            elif y[t] > 0.5:
                e0[t] = p0[t]
                e1[t] = p1[t]
            else:
                e0[t] = 1.0 - p0[t]
                e1[t] = 1.0 - p1[t]
            a1 = pk * e1[t]
            a0 = (1.0 - pk) * e0[t]
            c = a1 + a0
            scale[t] = c
            ll += np.log(c)
            f = a1 / c
            filt[t] = f
            pk = f * (1.0 - forget[s]) + (1.0 - f) * learn[s]
        b1 = 1.0
        b0 = 1.0
        for t in range(hi - 1, lo - 1, -1):
            g1 = filt[t] * b1
            g0 = (1.0 - filt[t]) * b0
            tot = g1 + g0
            post[t] = g1 / tot
            if t > lo:
                fp = filt[t - 1]
                c = scale[t]
                x11 = fp * (1.0 - forget[s]) * e1[t] * b1 / c
                x10 = fp * forget[s] * e0[t] * b0 / c
                x01 = (1.0 - fp) * learn[s] * e1[t] * b1 / c
                x00 = (1.0 - fp) * (1.0 - learn[s]) * e0[t] * b0 / c
                stats[s, 1] += x01
                stats[s, 3] += x10
                nb1 = ((1.0 - forget[s]) * e1[t] * b1 + forget[s] * e0[t] * b0) / c
                nb0 = (learn[s] * e1[t] * b1 + (1.0 - learn[s]) * e0[t] * b0) / c
                stats[s, 2] += x01 + x00
                stats[s, 4] += x11 + x10
                b1 = nb1
                b0 = nb0
        stats[s, 0] = post[lo]
    return post, stats, ll


@njit(cache=True, nogil=True)
def online_filter(attempt_start, student, pair, y, g0, g1, shift, prior, learn, forget, nodes, lw0):  # noqa: PLR0913
    """Posterior predictive with an online ability (grid) and one forward filter per grid value.

    ``g0, g1, shift`` per row (emission logits, minus the item difficulty); ``prior, learn,
    forget`` per row (of the row's skill); ``pair`` the (student, skill) key of each row.
    Returns the predictions and the marginal log-likelihood (abilities integrated out).
    """
    n = y.shape[0]
    g_n = nodes.shape[0]
    n_pairs = pair.max() + 1 if n else 0
    known = np.full((n_pairs, g_n), -1.0)  # -1: pair not started
    out = np.empty(n)
    lw = lw0.copy()
    wts = np.empty(g_n)
    like = np.empty(g_n)
    en = np.exp(-nodes)  # sigmoid(x + node) = 1 / (1 + exp(-x) * exp(-node))
    ll = 0.0
    for a in range(attempt_start.shape[0] - 1):
        lo, hi = attempt_start[a], attempt_start[a + 1]
        if a == 0 or student[lo] != student[attempt_start[a - 1]]:
            lw[:] = lw0
        mx = lw.max()
        tot = 0.0
        for g in range(g_n):
            wts[g] = np.exp(lw[g] - mx)
            tot += wts[g]
            like[g] = 1.0
        for r in range(lo, hi):
            k = pair[r]
            e1 = np.exp(-(g1[r] + shift[r]))
            e0 = np.exp(-(g0[r] + shift[r]))
            scored = not np.isnan(y[r])
            right = scored and y[r] > 0.5
            pr = 0.0
            for g in range(g_n):
                pk = known[k, g] if known[k, g] >= 0 else prior[r]
                q1 = 1.0 / (1.0 + e1 * en[g])
                q0 = 1.0 / (1.0 + e0 * en[g])
                pc = pk * q1 + (1.0 - pk) * q0
                pr += wts[g] * pc
                post = pk
                if scored:
                    if right:
                        post = pk * q1 / pc
                        like[g] *= pc
                    else:
                        post = pk * (1.0 - q1) / (1.0 - pc)
                        like[g] *= 1.0 - pc
                known[k, g] = post * (1.0 - forget[r]) + (1.0 - post) * learn[r]
            out[r] = pr / tot
        new_tot = 0.0
        for g in range(g_n):
            lw[g] += np.log(like[g])
            new_tot += wts[g] * like[g]
        ll += np.log(new_tot / tot)
    return out, ll


def _sigmoid(x):
    return expit(np.asarray(x, dtype=float))


class Emission:
    """The M-step of the emission blocks: the expected complete-data log-likelihood
    ``sum_t sum_z w_tz log P(y_t | z)`` with ``logit P = gamma_kz + ability_s - difficulty_i``.

    Every row involves one parameter of each block, so within a block the parameters are
    independent given the others and exact one-dimensional Newton steps maximize it.
    """

    MAX_INNER = 4

    def __init__(self, y, w0, w1, k, st, it) -> None:
        self.y, self.w0, self.w1, self.k, self.st, self.it = y, w0, w1, k, st, it
        self.has_item = it >= 0

    def _probs(self, g0, g1, ab, dif):
        shift = ab[self.st] if ab.size else 0.0
        if dif.size:
            shift = shift - np.where(self.has_item, dif[np.maximum(self.it, 0)], 0.0)
        return _sigmoid(g0[self.k] + shift), _sigmoid(g1[self.k] + shift)

    def _sums(self, block, g0, g1, ab, dif):
        p0, p1 = self._probs(g0, g1, ab, dif)
        r0, r1 = self.w0 * (self.y - p0), self.w1 * (self.y - p1)
        h0, h1 = self.w0 * p0 * (1 - p0), self.w1 * p1 * (1 - p1)
        return r0, r1, h0, h1

    def hessian(self, block, g0, g1, ab, dif, sd, n) -> np.ndarray:
        _, _, h0, h1 = self._sums(block, g0, g1, ab, dif)
        if block == "ability":
            return np.bincount(self.st, h0 + h1, n) + 1 / sd**2
        m = self.has_item
        return np.bincount(self.it[m], (h0 + h1)[m], n) + 1 / sd**2

    def newton(self, block, g0, g1, ab, dif, sd_ab, sd_dif) -> None:
        """Newton steps on one block, in place, until the largest step is below 1e-3 (a
        generalized EM: the M-step need only improve, not maximize)."""
        for _ in range(self.MAX_INNER):
            r0, r1, h0, h1 = self._sums(block, g0, g1, ab, dif)
            if block == "gamma":  # weak Normal(0, 10^2) prior keeps empty states finite
                n = g0.size
                step0 = (np.bincount(self.k, r0, n) - g0 / 100) / (
                    np.bincount(self.k, h0, n) + 0.01
                )
                step1 = (np.bincount(self.k, r1, n) - g1 / 100) / (
                    np.bincount(self.k, h1, n) + 0.01
                )
                step0, step1 = np.clip(step0, -2, 2), np.clip(step1, -2, 2)
                g0 += step0
                g1 += step1
                bad = g1 < g0  # a known student never answers worse than an unknown one
                mid = (g0[bad] + g1[bad]) / 2
                g0[bad], g1[bad] = mid, mid
                big = max(np.abs(step0).max(), np.abs(step1).max())
            elif block == "ability":
                n = ab.size
                grad = np.bincount(self.st, r0 + r1, n) - ab / sd_ab**2
                hess = np.bincount(self.st, h0 + h1, n) + 1 / sd_ab**2
                step = np.clip(grad / hess, -2, 2)
                ab += step
                big = np.abs(step).max()
            else:
                n, m = dif.size, self.has_item
                grad = -np.bincount(self.it[m], (r0 + r1)[m], n) - dif / sd_dif**2
                hess = np.bincount(self.it[m], (h0 + h1)[m], n) + 1 / sd_dif**2
                step = np.clip(grad / hess, -2, 2)
                dif += step
                big = np.abs(step).max()
            if big < 1e-3:
                return
