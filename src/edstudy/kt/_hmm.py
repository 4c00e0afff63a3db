"""Compiled forward-backward and online filters of BKT with per-row emission probabilities."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["forward_backward", "online_filter"]


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
    like = np.zeros(g_n)
    ll = 0.0
    for a in range(attempt_start.shape[0] - 1):
        lo, hi = attempt_start[a], attempt_start[a + 1]
        if a == 0 or student[lo] != student[attempt_start[a - 1]]:
            lw[:] = lw0
        mx = lw.max()
        tot = 0.0
        for g in range(g_n):
            tot += np.exp(lw[g] - mx)
        like[:] = 0.0
        for r in range(lo, hi):
            k = pair[r]
            pr = 0.0
            for g in range(g_n):
                pk = known[k, g] if known[k, g] >= 0 else prior[r]
                q1 = 1.0 / (1.0 + np.exp(-(g1[r] + shift[r] + nodes[g])))
                q0 = 1.0 / (1.0 + np.exp(-(g0[r] + shift[r] + nodes[g])))
                pc = pk * q1 + (1.0 - pk) * q0
                pr += np.exp(lw[g] - mx) * pc
                if np.isnan(y[r]):
                    post = pk
                else:
                    if y[r] > 0.5:
                        num = pk * q1
                        den = pc
                    else:
                        num = pk * (1.0 - q1)
                        den = 1.0 - pc
                    like[g] += np.log(den)
                    post = num / den
                known[k, g] = post * (1.0 - forget[r]) + (1.0 - post) * learn[r]
            out[r] = pr / tot
        new_tot = 0.0
        for g in range(g_n):
            lw[g] += like[g]
            new_tot += np.exp(lw[g] - mx)
        ll += np.log(new_tot / tot)
    return out, ll
