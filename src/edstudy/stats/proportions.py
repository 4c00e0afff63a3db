"""Differences of proportions: Newcombe's interval and risk differences under clustering.

See :mod:`edstudy.stats` for the conventions and references.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from edstudy._format import TableResult
from edstudy.stats._checks import (
    _fmt,
    _fmt_p,
    _min_per_arm,
    _select,
    _z,
)
from edstudy.stats.effect_sizes import _cluster_codes

__all__ = ["RiskDifference", "newcombe_interval", "risk_difference"]


def _wilson(successes: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval for a proportion (counts may be fractional: effective sizes)."""
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(
    successes_1: float, n_1: float, successes_2: float, n_2: float, *, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``p1 - p2`` (Newcombe 1998, method 10).

    ``L = (p1 - p2) - sqrt((p1 - l1)^2 + (u2 - p2)^2)``,
    ``U = (p1 - p2) + sqrt((u1 - p1)^2 + (p2 - l2)^2)`` with ``(l_i, u_i)`` the Wilson score
    intervals of each proportion. Counts may be fractional (effective sample sizes).

    Returns
    -------
    (ci_low, ci_high) : tuple of float
    """
    if n_1 <= 0 or n_2 <= 0:
        raise ValueError(f"newcombe_interval needs positive sample sizes, got {n_1} and {n_2}")
    z = _z(confidence)
    p1, p2 = successes_1 / n_1, successes_2 / n_2
    l1, u1 = _wilson(successes_1, n_1, z)
    l2, u2 = _wilson(successes_2, n_2, z)
    diff = p1 - p2
    return (
        diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


@dataclass(frozen=True)
class RiskDifference(TableResult):
    """Difference of two proportions (treatment minus control) with its interval.

    Attributes
    ----------
    estimate, std_error, ci_low, ci_high, p_value : float
        ``p_T - p_C``; the (unpooled, or cluster-robust) standard error; the interval of
        ``method``; the two-sided p-value (pooled two-proportion z-test, or the cluster-robust
        Wald test when ``cluster`` is set).
    method : str
        ``"newcombe"`` (hybrid Wilson score, Newcombe 1998 method 10), ``"wald"``, or with a
        cluster ``"newcombe (design-effect adjusted)"`` / ``"wald (cluster-robust)"``.
    rate_treatment, rate_control : float
        The two proportions.
    events_treatment, events_control, n_treatment, n_control : int
        Counts of events and students with a non-missing outcome.
    design_effect_treatment, design_effect_control : float or None
        With a cluster: ``Var_cluster(p) / (p (1 - p) / n)`` per arm.
    """

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    confidence: float
    outcome: str
    treatment: str
    control: str
    rate_treatment: float
    rate_control: float
    events_treatment: int
    events_control: int
    n_treatment: int
    n_control: int
    n_missing: int = 0
    cluster: str | None = None
    design_effect_treatment: float | None = None
    design_effect_control: float | None = None

    def __str__(self) -> str:
        pct = round(100 * self.confidence)
        lines = [
            f"risk difference = {_fmt(self.estimate)} [{pct}% CI {_fmt(self.ci_low)}, "
            f"{_fmt(self.ci_high)}] ({self.method}), p {_fmt_p(self.p_value)}",
            f"{self.outcome}: {self.treatment} {self.events_treatment}/{self.n_treatment} "
            f"= {_fmt(self.rate_treatment)} vs {self.control} {self.events_control}/"
            f"{self.n_control} = {_fmt(self.rate_control)}",
        ]
        if self.cluster is not None:
            lines.append(
                f"clustered by {self.cluster!r}: design effects "
                f"{_fmt(self.design_effect_treatment, 2)}"
                f" ({self.treatment}), {_fmt(self.design_effect_control, 2)} ({self.control})"
            )
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One-row tidy table."""
        return pd.DataFrame(
            [
                {
                    "term": "risk_difference",
                    "estimate": self.estimate,
                    "std_error": self.std_error,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "p_value": self.p_value,
                    "method": self.method,
                    "outcome": self.outcome,
                    "rate_treatment": self.rate_treatment,
                    "rate_control": self.rate_control,
                    "n_treatment": self.n_treatment,
                    "n_control": self.n_control,
                }
            ]
        )


def _cluster_variance_of_rate(y: np.ndarray, codes: np.ndarray) -> tuple[float, int]:
    """Ratio-estimator variance of a proportion over clusters: M/(M-1) sum (y_j - p n_j)^2 / N^2."""
    _, codes = np.unique(codes, return_inverse=True)
    m = int(codes.max()) + 1
    sums = np.bincount(codes, weights=y, minlength=m)
    sizes = np.bincount(codes, minlength=m).astype(np.float64)
    n = sizes.sum()
    p = sums.sum() / n
    return float(m / (m - 1) * np.sum((sums - p * sizes) ** 2) / n**2), m


def risk_difference(
    outcomes: pd.DataFrame,
    outcome: str = "dropped_out",
    arm: str = "arm",
    *,
    treatment: object,
    control: object,
    method: Literal["newcombe", "wald"] = "newcombe",
    cluster: str | None = None,
    confidence: float = 0.95,
) -> RiskDifference:
    """Difference in the rate of a binary outcome (dropout, completion, mastery) between two arms.

    Parameters
    ----------
    outcomes : DataFrame
        One row per student.
    outcome : str
        Binary column (bool, nullable boolean or 0/1), e.g. ``"dropped_out"`` or ``"completed"``.
    arm, treatment, control
        Arm column and the two levels to compare (treatment minus control).
    method : {"newcombe", "wald"}
        ``"newcombe"`` (default): Newcombe's (1998) hybrid score interval (method 10), which keeps
        its coverage near nominal for small samples and rates near 0 or 1. ``"wald"``:
        ``d +/- z sqrt(p_T(1-p_T)/n_T + p_C(1-p_C)/n_C)``.
    cluster : str, optional
        Cluster column (e.g. ``"class_id"``) when students are clustered. Each arm's variance is
        then the cluster-level ratio-estimator variance ``M/(M-1) sum_j (y_j - p n_j)^2 / N^2``;
        ``"wald"`` uses it directly, ``"newcombe"`` replaces each arm's ``n`` by the effective size
        ``p (1 - p) / Var_cluster(p)`` (the design-effect adjustment of Donner & Klar 2000).
        Needs >= 2 clusters per arm.
    confidence : float
        Interval level.

    Returns
    -------
    RiskDifference
    """
    func = "risk_difference"
    if method not in ("newcombe", "wald"):
        raise ValueError(f"method must be 'newcombe' or 'wald', got {method!r}")
    sample = _select(
        outcomes,
        func=func,
        outcome=outcome,
        arm=arm,
        treatment=treatment,
        control=control,
        binary=True,
        roles={"cluster": cluster},
    )
    _min_per_arm(sample, 1, func, outcome, treatment, control)
    y, t = sample.y, sample.treated
    x1, n1 = float(y[t].sum()), int(t.sum())
    x2, n2 = float(y[~t].sum()), int((~t).sum())
    p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    z = _z(confidence)
    deff1 = deff2 = None
    if cluster is None:
        var1, var2 = p1 * (1 - p1) / n1, p2 * (1 - p2) / n2
        se = math.sqrt(var1 + var2)
        pooled = (x1 + x2) / (n1 + n2)
        se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        p_value = float(2 * stats.norm.sf(abs(diff) / se0)) if se0 > 0 else 1.0
        if method == "newcombe":
            lo, hi = newcombe_interval(x1, n1, x2, n2, confidence=confidence)
        else:
            lo, hi = diff - z * se, diff + z * se
        label = method
    else:
        codes = _cluster_codes(sample.frame, cluster, arm, func, treatment, control)
        for level, mask in ((treatment, t), (control, ~t)):
            k = len(np.unique(codes[mask]))
            if k < 2:  # checked first: the variance divides by (clusters - 1)
                raise ValueError(
                    f"too few clusters: risk_difference with cluster={cluster!r} needs at least 2 "
                    f"clusters in each arm, got {k} in arm {level!r}"
                )
        var1, _ = _cluster_variance_of_rate(y[t], codes[t])
        var2, _ = _cluster_variance_of_rate(y[~t], codes[~t])
        se = math.sqrt(var1 + var2)
        p_value = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else 1.0
        binom1, binom2 = p1 * (1 - p1) / n1, p2 * (1 - p2) / n2
        deff1 = var1 / binom1 if binom1 > 0 else 1.0
        deff2 = var2 / binom2 if binom2 > 0 else 1.0
        if method == "newcombe":
            ne1 = n1 / deff1 if deff1 > 0 else float(n1)
            ne2 = n2 / deff2 if deff2 > 0 else float(n2)
            lo, hi = newcombe_interval(p1 * ne1, ne1, p2 * ne2, ne2, confidence=confidence)
            label = "newcombe (design-effect adjusted)"
        else:
            lo, hi = diff - z * se, diff + z * se
            label = "wald (cluster-robust)"
    return RiskDifference(
        estimate=diff,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        p_value=p_value,
        method=label,
        confidence=confidence,
        outcome=outcome,
        treatment=str(treatment),
        control=str(control),
        rate_treatment=p1,
        rate_control=p2,
        events_treatment=int(round(x1)),
        events_control=int(round(x2)),
        n_treatment=n1,
        n_control=n2,
        n_missing=sample.n_missing,
        cluster=cluster,
        design_effect_treatment=deff1,
        design_effect_control=deff2,
    )
