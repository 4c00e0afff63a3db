"""Sufficient statistics of cluster-robust means: exact, so they can be split and merged.

A cluster-robust mean (:func:`edstudy.stats.summarize`) of a group needs, over its clusters ``c``
(``n_c`` rows with finite values summing to ``S_c``):

- ``n = sum n_c`` (students), ``G`` (clusters), ``C = sum n_c^2`` (whole numbers);
- ``S = sum y``, ``A = sum S_c^2`` and ``B = sum n_c S_c`` (floats).

Then ``mean = S / n`` and the sum of squared cluster residuals is
``ss = sum (S_c - n_c mean)^2 = A - 2 mean B + mean^2 C``, so
``se = sqrt(G / (G - 1) * ss) / n``.

The float sums are kept **exactly**, as Shewchuk expansions (non-overlapping floats whose exact
sum is the exact sum of the inputs; Shewchuk 1997, the algorithm of Python's :func:`math.fsum`),
with the products ``S_c^2`` and ``n_c S_c`` split exactly (Dekker's two-product). Rounding happens
once, at the end, to the nearest float of the exact value. So statistics computed in pieces (a
study's chunks, on any number of workers) and merged with :func:`combine_moments` give the same
bits as the whole table at once, whatever the pieces and their order, as long as no cluster is
split between pieces (``S_c`` is rounded once per cluster). ``ss`` is evaluated exactly too (no
cancellation), so it is never negative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numba import njit

__all__ = ["MOMENT_COLUMNS", "cluster_moments", "combine_moments", "moments_summary"]

#: Columns of a moments table after the grouping columns.
MOMENT_COLUMNS = ("metric", "n_students", "n_units", "sum_n2", "sum_y", "sum_s2", "sum_ns")

_CAP = 96  # an expansion of doubles has at most ~40 terms (2098 exponents / 53 bits)
_SPLIT = 134217729.0  # 2^27 + 1 (Veltkamp)


@njit(cache=True, nogil=True)
def _grow(partials, count, x):
    """Add ``x`` to the expansion ``partials[:count]`` exactly; returns the new count."""
    i = 0
    for j in range(count):
        y = partials[j]
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            partials[i] = lo
            i += 1
        x = hi
    if i >= partials.shape[0]:
        raise ValueError("expansion too long")
    partials[i] = x
    return i + 1


@njit(cache=True, nogil=True)
def _round(p, n):
    """The float nearest to the exact sum of the expansion ``p[:n]`` (CPython's fsum ending)."""
    if n == 0:
        return 0.0
    n -= 1
    hi = p[n]
    lo = 0.0
    while n > 0:
        x = hi
        n -= 1
        y = p[n]
        hi = x + y
        yr = hi - x
        lo = y - yr
        if lo != 0.0:
            break
    if n > 0 and ((lo < 0.0 and p[n - 1] < 0.0) or (lo > 0.0 and p[n - 1] > 0.0)):
        y = lo * 2.0
        x = hi + y
        yr = x - hi
        if y == yr:
            hi = x
    return hi


@njit(cache=True, nogil=True)
def _two_product(a, b):
    """``a * b == p + e`` exactly (Dekker), for finite values far from overflow."""
    p = a * b
    c = _SPLIT * a
    ah = c - (c - a)
    al = a - ah
    c = _SPLIT * b
    bh = c - (c - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


@njit(cache=True, nogil=True)
def _moments(y, order, group, cluster, counts, exp_y, n_y, exp_a, n_a, exp_b, n_b):
    """Rows in ``order`` (sorted by cluster): per group the counts and the three expansions."""
    tmp = np.empty(_CAP)
    j = 0
    rows = order.shape[0]
    while j < rows:
        c = cluster[order[j]]
        g = group[order[j]]
        t = 0
        nc = 0
        while j < rows and cluster[order[j]] == c:
            v = y[order[j]]
            t = _grow(tmp, t, v)
            n_y[g] = _grow(exp_y[g], n_y[g], v)
            nc += 1
            j += 1
        s = _round(tmp, t)
        p, e = _two_product(s, s)
        n_a[g] = _grow(exp_a[g], n_a[g], p)
        n_a[g] = _grow(exp_a[g], n_a[g], e)
        p, e = _two_product(np.float64(nc), s)
        n_b[g] = _grow(exp_b[g], n_b[g], p)
        n_b[g] = _grow(exp_b[g], n_b[g], e)
        counts[g, 0] += nc
        counts[g, 1] += 1
        counts[g, 2] += nc * nc


@njit(cache=True, nogil=True)
def _expansion_of(values):
    out = np.empty(_CAP)
    n = 0
    for v in values:
        n = _grow(out, n, v)
    return out[:n].copy()


def _exact(values: Sequence[float]) -> tuple[float, ...]:
    """A short expansion with the exact sum of ``values``."""
    arr = np.asarray(values, dtype=np.float64)
    return tuple(float(x) for x in _expansion_of(arr) if x != 0.0)


def cluster_moments(
    frame: pd.DataFrame,
    metrics: Sequence[str],
    *,
    by: Sequence[str],
    unit: str,
    nest: Sequence[str] = ("replication",),
) -> pd.DataFrame:
    """Per group and metric, the exact sufficient statistics of a cluster-robust mean.

    Parameters
    ----------
    frame : DataFrame
        One row per student (an outcomes table).
    metrics : sequence of str
        Columns to summarize; missing ones are skipped, rows with a missing or infinite value are
        left out of that metric.
    by : sequence of str
        Grouping columns (all present; none means one group).
    unit : str
        Cluster column; clusters are ``(*by, *nest, unit)`` so clusters of different replications
        are never pooled.
    nest : sequence of str
        Columns between groups and units, used where present.

    Returns
    -------
    DataFrame
        ``*by, metric, n_students, n_units, sum_n2, sum_y, sum_s2, sum_ns``: whole numbers and
        tuples of floats (expansions), in order of metric, then of the groups' first rows.
    """
    by = list(by)
    keys = by + [c for c in nest if c in frame.columns and c not in by] + [unit]
    if by:
        gcode = frame.groupby(by, sort=False, observed=True, dropna=False).ngroup().to_numpy()
    else:
        gcode = np.zeros(len(frame), dtype=np.int64)
    ccode = frame.groupby(keys, sort=False, observed=True, dropna=False).ngroup().to_numpy()
    parts = []
    for metric in metrics:
        if metric not in frame.columns:
            continue
        y = frame[metric].astype(float).to_numpy(dtype=np.float64, na_value=np.nan)
        rows = np.flatnonzero(np.isfinite(y))
        if rows.size == 0:
            continue
        # groups renumbered by first appearance among the rows kept
        present, first = np.unique(gcode[rows], return_index=True)
        seq = present[np.argsort(first, kind="stable")]
        renum = np.full(int(gcode.max()) + 1, -1, dtype=np.int64)
        renum[seq] = np.arange(seq.size)
        group = renum[gcode]
        order = rows[np.argsort(ccode[rows], kind="stable")]
        ng = seq.size
        counts = np.zeros((ng, 3), dtype=np.int64)
        exps = [np.zeros((ng, _CAP)) for _ in range(3)]
        lens = [np.zeros(ng, dtype=np.int64) for _ in range(3)]
        _moments(
            np.ascontiguousarray(y),
            order,
            group,
            ccode.astype(np.int64),
            counts,
            exps[0],
            lens[0],
            exps[1],
            lens[1],
            exps[2],
            lens[2],
        )
        first_rows = rows[np.sort(first)]
        table = (
            frame[by].iloc[first_rows].reset_index(drop=True)
            if by
            else pd.DataFrame(index=range(ng))
        )
        table["metric"] = metric
        table["n_students"] = counts[:, 0]
        table["n_units"] = counts[:, 1]
        table["sum_n2"] = counts[:, 2]
        for name, e, n in zip(("sum_y", "sum_s2", "sum_ns"), exps, lens, strict=True):
            table[name] = [_exact(e[i, : n[i]]) for i in range(ng)]
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=[*by, *MOMENT_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def combine_moments(parts: Sequence[pd.DataFrame], by: Sequence[str]) -> pd.DataFrame:
    """Merge moments tables of disjoint pieces (no cluster in two pieces) into one, exactly.

    The result equals :func:`cluster_moments` of the pieces' rows concatenated in the order
    given (groups in order of first appearance, metrics in order of first appearance).
    """
    by = list(by)
    frames = [p for p in parts if len(p)]
    if not frames:
        return pd.DataFrame(columns=[*by, *MOMENT_COLUMNS])
    allm = pd.concat(frames, ignore_index=True)
    keys = [*by, "metric"]
    g = allm.groupby(keys, sort=False, observed=True, dropna=False)
    head = g[keys].head(1).index
    out = allm.loc[head, keys].reset_index(drop=True)
    for col in ("n_students", "n_units", "sum_n2"):
        out[col] = g[col].sum().to_numpy().astype(np.int64)
    for col in ("sum_y", "sum_s2", "sum_ns"):
        out[col] = [_exact([x for t in ts for x in t]) for ts in g[col].agg(list)]
    metric_order = {m: i for i, m in enumerate(pd.unique(allm["metric"]))}
    rank = out["metric"].map(metric_order).to_numpy()
    return out.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def moments_summary(moments: pd.DataFrame) -> pd.DataFrame:
    """``mean`` and cluster-robust ``se`` per row of a moments table.

    Returns
    -------
    DataFrame
        The grouping columns and ``metric, n_students, n_units, mean, se``.
    """
    by = [c for c in moments.columns if c not in MOMENT_COLUMNS]
    means, ss = [], []
    for n, c2, sy, sa, sb in zip(
        moments["n_students"],
        moments["sum_n2"],
        moments["sum_y"],
        moments["sum_s2"],
        moments["sum_ns"],
        strict=True,
    ):
        mean = math.fsum(sy) / int(n)
        terms = list(sa)
        for b in sb:
            terms.extend(_two_product(-2.0 * mean, b))
        h, lo = _two_product(mean, mean)
        terms.extend(_two_product(h, float(c2)))
        terms.extend(_two_product(lo, float(c2)))
        means.append(mean)
        ss.append(max(math.fsum(terms), 0.0))
    out = moments[[*by, "metric", "n_students", "n_units"]].copy()
    out["mean"] = np.asarray(means, dtype=float)
    n = out["n_students"].to_numpy(float)
    units = out["n_units"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(units > 1, units / (units - 1), np.nan)
        out["se"] = np.sqrt(scale * np.asarray(ss, dtype=float) / n**2)
    return out
