"""Descriptive comparisons: group means with cluster-robust intervals, differences of means,
and paired differences of the same units under several arms.

These answer "what happened, on average, in each arm" without a model: intervals are
cluster-robust at the randomization unit (class or school means vary together) with a t quantile
on (units - 1) degrees of freedom. Models (mixed models, effect sizes, power) live beside this
module in :mod:`edstudy.stats`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist

from edstudy.stats.moments import cluster_moments, moments_summary

__all__ = [
    "contrast",
    "contrast_from_stats",
    "paired_differences",
    "summarize",
    "summary_from_moments",
]


def _cluster_stats(frame: pd.DataFrame, by: list[str], metric: str, unit: str) -> pd.DataFrame:
    """Mean, cluster-robust SE and number of units of ``metric`` per group (index ``by``).

    Computed from exact sufficient statistics (:mod:`edstudy.stats.moments`), so the same
    numbers come from a table split into pieces and merged.
    """
    s = moments_summary(cluster_moments(frame, [metric], by=by, unit=unit))
    return s.drop(columns="metric").set_index(by)[["n_students", "mean", "n_units", "se"]]


def _tq(df: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(df >= 1, t_dist.ppf(0.975, np.maximum(df, 1)), np.nan)


def summarize(
    outcomes: pd.DataFrame,
    *,
    metrics: Sequence[str],
    by: Sequence[str] = ("scenario", "arm"),
    unit: str = "class_id",
) -> pd.DataFrame:
    """Means with 95% intervals per group, one row per group and metric (tidy).

    Parameters
    ----------
    outcomes : DataFrame
        ``StudyResult.outcomes`` (or any outcomes table with the ``by`` columns).
    metrics : sequence of str
        Outcome columns; missing ones are skipped.
    by : sequence of str
        Grouping columns; missing ones are skipped.
    unit : str
        Randomization unit column for cluster-robust intervals (``student_id`` for none).

    Returns
    -------
    DataFrame
        ``*by, metric, n_students, n_units, mean, ci_low, ci_high``.
    """
    by = [b for b in by if b in outcomes.columns]
    present = [m for m in metrics if m in outcomes.columns]
    return summary_from_moments(cluster_moments(outcomes, present, by=by, unit=unit))


def summary_from_moments(moments: pd.DataFrame) -> pd.DataFrame:
    """What :func:`summarize` returns, from a moments table (:func:`cluster_moments`, possibly
    merged from pieces with :func:`combine_moments`): identical numbers to the whole table."""
    s = moments_summary(moments)
    by = [c for c in s.columns if c not in ("metric", "n_students", "n_units", "mean", "se")]
    half = _tq(s["n_units"].to_numpy(float) - 1) * s["se"].to_numpy()
    s["ci_low"] = s["mean"] - half
    s["ci_high"] = s["mean"] + half
    return s[[*by, "metric", "n_students", "n_units", "mean", "ci_low", "ci_high"]]


def contrast(
    outcomes: pd.DataFrame,
    arm: str,
    reference: str,
    *,
    metric: str = "posttest",
    by: Sequence[str] = ("scenario",),
    unit: str = "class_id",
    paired: bool = False,
) -> pd.DataFrame:
    """Difference of means ``arm - reference`` per group, with a 95% interval.

    Independent arms (randomized units) combine the two cluster-robust standard errors with
    ``min(units) - 1`` degrees of freedom. ``paired=True`` (randomization ``none``: the same
    students in both arms) takes per-student differences first.

    Returns
    -------
    DataFrame
        ``*by, arm, reference, metric, difference, ci_low, ci_high``.
    """
    by = [b for b in by if b in outcomes.columns]
    for name in (arm, reference):
        if name not in set(outcomes["arm"].astype(str)):
            raise KeyError(f"no arm {name!r} in the results")
    a = outcomes[outcomes["arm"] == arm]
    b = outcomes[outcomes["arm"] == reference]
    if paired:
        keys = [*by, "replication", "student_id"]
        m = a[[*keys, unit, metric]].merge(b[[*keys, metric]], on=keys, suffixes=("", "_ref"))
        m["_d"] = m[metric].astype(float) - m[f"{metric}_ref"].astype(float)
        s = (
            _cluster_stats(m, by, "_d", unit).reset_index()
            if by
            else _cluster_stats(m.assign(_all=0), ["_all"], "_d", unit).reset_index()
        )
        diff, se, df = s["mean"].to_numpy(), s["se"].to_numpy(), s["n_units"].to_numpy(float) - 1
        return _contrast_table(s, by, arm, reference, metric, diff, se, df)
    grp = by if by else None
    sa = _cluster_stats(a.assign(_all=0), grp or ["_all"], metric, unit)
    sb = _cluster_stats(b.assign(_all=0), grp or ["_all"], metric, unit)
    return contrast_from_stats(sa, sb, by, arm, reference, metric)


def contrast_from_stats(
    sa: pd.DataFrame,
    sb: pd.DataFrame,
    by: Sequence[str],
    arm: str,
    reference: str,
    metric: str,
) -> pd.DataFrame:
    """:func:`contrast` of independent arms from each arm's ``n_students, mean, n_units, se``
    per group (index ``by``), e.g. from :func:`moments_summary`."""
    by = list(by)
    s = sa.join(sb.add_suffix("_ref"), how="inner").reset_index()
    diff = (s["mean"] - s["mean_ref"]).to_numpy()
    se = np.sqrt(s["se"] ** 2 + s["se_ref"] ** 2).to_numpy()
    df = np.minimum(s["n_units"], s["n_units_ref"]).to_numpy(float) - 1
    return _contrast_table(s, by, arm, reference, metric, diff, se, df)


def _contrast_table(
    s: pd.DataFrame,
    by: list[str],
    arm: str,
    reference: str,
    metric: str,
    diff: np.ndarray,
    se: np.ndarray,
    df: np.ndarray,
) -> pd.DataFrame:
    half = _tq(df) * se
    out = pd.DataFrame({b_: s[b_] for b_ in by})
    out["arm"] = arm
    out["reference"] = reference
    out["metric"] = metric
    out["difference"] = diff
    out["ci_low"] = diff - half
    out["ci_high"] = diff + half
    return out.reset_index(drop=True)


def paired_differences(
    outcomes: pd.DataFrame,
    arms: Sequence[str],
    metrics: Sequence[str],
    *,
    confidence: float = 0.95,
    group: str = "model",
    keys: Sequence[str] = ("replication", "student_id"),
) -> pd.DataFrame:
    """Paired differences ``arm - other`` of the same units, per group, with intervals
    simultaneous over the arm pairs of a group (Bonferroni, t quantile).

    Parameters
    ----------
    outcomes : DataFrame
        One row per (group, unit, arm): columns ``group``, ``keys``, ``arm`` and the metrics.
    arms : sequence of str
        The arms compared (every ordered pair).
    metrics : sequence of str
    confidence : float
        Simultaneous level over the ``len(arms) * (len(arms) - 1) / 2`` pairs of a group.
    group : str
        Column of the groups (e.g. the student model of a Robust Evaluation Matrix column).
    keys : sequence of str
        Columns that identify a unit within a group (the pairs are matched on them).

    Returns
    -------
    DataFrame
        ``<group>, strategy, other, metric, difference, ci_low, ci_high, n_students``.
    """

    strategies = list(arms)
    n_pairs = max(len(strategies) * (len(strategies) - 1) // 2, 1)
    alpha = (1.0 - confidence) / n_pairs
    index = [group, *keys]
    rows = []
    for metric in metrics:
        wide = outcomes.pivot_table(index=index, columns="arm", values=metric, observed=True)
        for model, g in wide.groupby(level=group, sort=False):
            for a in strategies:
                for b in strategies:
                    if a == b:
                        continue
                    d = (g[a] - g[b]).dropna().to_numpy(dtype=float)
                    n = d.size
                    mean = float(d.mean()) if n else np.nan
                    se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
                    q = t_dist.ppf(1 - alpha / 2, n - 1) if n > 1 else np.nan
                    rows.append(
                        {
                            group: model,
                            "strategy": a,
                            "other": b,
                            "metric": metric,
                            "difference": mean,
                            "ci_low": mean - q * se,
                            "ci_high": mean + q * se,
                            "n_students": n,
                        }
                    )
    return pd.DataFrame(rows)
