"""Standardized mean differences: Hedges' g (individual and cluster-adjusted) and ICCs.

See :mod:`edstudy.stats` for the conventions and references.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

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

# --------------------------------------------------------------------------------------------
# Hedges' g
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectSize(TableResult):
    """A standardized mean difference with its standard error and confidence interval.

    Attributes
    ----------
    measure : str
        ``"hedges_g"`` (individual-level) or ``"hedges_g_cluster"`` (Hedges 2007, total-variance
        standardized ``g_T`` for cluster-randomized designs).
    estimate, std_error, ci_low, ci_high, p_value : float
        ``g``, its standard error, the normal-theory interval and the two-sided z-test p-value.
    confidence : float
        Level of the interval.
    outcome, treatment, control : str
        What was compared (treatment minus control).
    n_treatment, n_control : int
        Students with a non-missing outcome in each arm.
    mean_treatment, mean_control, sd_pooled : float
        Arm means and the pooled within-arm standard deviation (``S_T`` in Hedges 2007).
    correction : float
        Small-sample factor ``J`` applied to ``d`` (``g = J d``).
    n_missing : int
        Rows of the two arms left out because the outcome was missing.
    icc, icc_source : float or None, str or None
        Intraclass correlation used for the cluster adjustment and where it came from
        (``"given"`` or ``"estimated (one-way ANOVA within arms)"``).
    cluster : str or None
        Cluster column; ``n_clusters_treatment``/``n_clusters_control`` count its levels.
    df : float or None
        Effective degrees of freedom ``h`` of Hedges (2007) for the cluster-adjusted ``g``.
    interval : str
        How ``ci_low``/``ci_high`` and ``p_value`` were made: ``"z"`` (normal), ``"t_h"`` (t on
        Hedges' ``h``) or ``"t_clusters"`` (t on clusters minus 2); see :func:`hedges_g`.
    interval_df : float or None
        Degrees of freedom of a t interval.
    standardizer : float or None
        The standard deviation the mean difference is divided by before the small-sample factor
        (``S_pooled``; for the cluster-adjusted g ``S_T / sqrt(1 - 2 (n - 1) rho / (N - 2))``),
        so that a model's adjusted difference ``b`` is ``correction * b / standardizer`` in g
        units.
    """

    measure: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    confidence: float
    outcome: str
    treatment: str
    control: str
    n_treatment: int
    n_control: int
    mean_treatment: float
    mean_control: float
    sd_pooled: float
    correction: float
    n_missing: int = 0
    icc: float | None = None
    icc_source: str | None = None
    cluster: str | None = None
    n_clusters_treatment: int | None = None
    n_clusters_control: int | None = None
    df: float | None = None
    interval: str = "z"
    interval_df: float | None = None
    standardizer: float | None = None

    def __str__(self) -> str:
        pct = round(100 * self.confidence)
        head = (
            f"Hedges' g = {_fmt(self.estimate)} [{pct}% CI {_fmt(self.ci_low)}, "
            f"{_fmt(self.ci_high)}], SE {_fmt(self.std_error)}, p {_fmt_p(self.p_value)}"
        )
        arms = (
            f"{self.outcome}: {self.treatment} (n={self.n_treatment}, "
            f"mean {_fmt(self.mean_treatment)})"
            f" vs {self.control} (n={self.n_control}, mean {_fmt(self.mean_control)}),"
            f" pooled SD {_fmt(self.sd_pooled)}"
        )
        lines = [head, arms]
        if self.cluster is not None:
            lines.append(
                f"cluster-adjusted (Hedges 2007) for {self.cluster!r}: "
                f"{self.n_clusters_treatment} vs {self.n_clusters_control} clusters, "
                f"ICC {_fmt(self.icc)} ({self.icc_source}), df {_fmt(self.df, 1)}; "
                + _INTERVAL_TEXT[self.interval].format(df=_fmt(self.interval_df, 1))
            )
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One-row tidy table (``term, estimate, std_error, ci_low, ci_high, p_value``, details)."""
        row = {
            "term": self.measure,
            "estimate": self.estimate,
            "std_error": self.std_error,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "outcome": self.outcome,
            "treatment": self.treatment,
            "control": self.control,
            "n_treatment": self.n_treatment,
            "n_control": self.n_control,
            "icc": self.icc,
            "df": self.df,
        }
        return pd.DataFrame([row])


_INTERVAL_TEXT = {
    "z": "normal interval",
    "t_h": "t interval on Hedges' h = {df} df",
    "t_clusters": "t interval on clusters - 2 = {df} df",
}


def _small_sample_factor(df: float) -> float:
    """Hedges' correction ``J = 1 - 3 / (4 df - 1)`` (Borenstein et al. 2009, eq. 4.22)."""
    return 1.0 - 3.0 / (4.0 * df - 1.0)


def hedges_g_from_stats(
    mean_treatment: float,
    sd_treatment: float,
    n_treatment: int,
    mean_control: float,
    sd_control: float,
    n_control: int,
    *,
    confidence: float = 0.95,
) -> tuple[float, float, float, float]:
    """Hedges' g from summary statistics (independent groups).

    ``d = (m_T - m_C) / S_pooled``, ``Var(d) = (n_T + n_C) / (n_T n_C) + d^2 / (2 (n_T + n_C))``,
    ``J = 1 - 3 / (4 (n_T + n_C - 2) - 1)``, ``g = J d``, ``Var(g) = J^2 Var(d)``
    (Borenstein et al. 2009, eqs. 4.18-4.24; the WWC uses the same ``J``, written
    ``omega = 1 - 3 / (4N - 9)``).

    Parameters
    ----------
    mean_treatment, sd_treatment, n_treatment : float, float, int
        Mean, standard deviation (``ddof=1``) and size of the treatment group.
    mean_control, sd_control, n_control : float, float, int
        The same for the control group.
    confidence : float
        Level of the normal-theory interval ``g +/- z SE(g)``.

    Returns
    -------
    (g, se, ci_low, ci_high) : tuple of float
    """
    if n_treatment < 2 or n_control < 2:
        raise ValueError(
            f"hedges_g needs at least 2 students per arm, got {n_treatment} and {n_control}"
        )
    n = n_treatment + n_control
    sd_pooled = math.sqrt(
        ((n_treatment - 1) * sd_treatment**2 + (n_control - 1) * sd_control**2) / (n - 2)
    )
    if not sd_pooled > 0:
        raise ValueError("hedges_g is undefined when the pooled standard deviation is 0")
    d = (mean_treatment - mean_control) / sd_pooled
    var_d = n / (n_treatment * n_control) + d**2 / (2.0 * n)
    j = _small_sample_factor(n - 2)
    g, se = j * d, j * math.sqrt(var_d)
    z = _z(confidence)
    return g, se, g - z * se, g + z * se


def anova_icc(
    y: np.ndarray, cluster_codes: np.ndarray, arm_codes: np.ndarray | None = None
) -> float:
    """One-way ANOVA estimate of the intraclass correlation, clusters nested in arms.

    ``ICC = (MSB - MSW) / (MSB + (n0 - 1) MSW)`` with between-cluster mean square taken around the
    arm means (``M - A`` degrees of freedom for ``M`` clusters in ``A`` arms) and
    ``n0 = (N - sum_a sum_j n_aj^2 / N_a) / (M - A)`` for unequal cluster sizes
    (Donner & Koval 1980). Negative estimates are truncated at 0.

    Parameters
    ----------
    y : float array, shape (n,)
        Outcome, no missing values.
    cluster_codes : int array, shape (n,)
        Cluster of each row, codes ``0..M-1``.
    arm_codes : int array, shape (n,), optional
        Arm of each row; clusters must be nested in arms. ``None`` means a single arm.

    Returns
    -------
    float
        The ICC in ``[0, 1)``.
    """
    y = np.asarray(y, dtype=np.float64)
    cl = np.asarray(cluster_codes)
    arms = np.zeros_like(cl) if arm_codes is None else np.asarray(arm_codes)
    _, cl = np.unique(cl, return_inverse=True)
    _, arms = np.unique(arms, return_inverse=True)
    n_total = y.size
    m = int(cl.max()) + 1
    a = int(arms.max()) + 1
    if m - a < 1:
        raise ValueError(f"too few clusters: the ICC needs more clusters ({m}) than arms ({a})")
    size = np.bincount(cl, minlength=m).astype(np.float64)
    cl_mean = np.bincount(cl, weights=y, minlength=m) / size
    arm_of_cluster = np.zeros(m, dtype=np.int64)
    arm_of_cluster[cl] = arms
    arm_n = np.bincount(arms, minlength=a).astype(np.float64)
    arm_mean = np.bincount(arms, weights=y, minlength=a) / arm_n
    ssw = float(np.sum((y - cl_mean[cl]) ** 2))
    ssb = float(np.sum(size * (cl_mean - arm_mean[arm_of_cluster]) ** 2))
    msw = ssw / (n_total - m) if n_total > m else 0.0
    msb = ssb / (m - a)
    sum_sq = np.bincount(arm_of_cluster, weights=size**2, minlength=a)
    n0 = (n_total - float(np.sum(sum_sq / arm_n))) / (m - a)
    denom = msb + (n0 - 1.0) * msw
    if denom <= 0:
        return 0.0
    return float(min(max((msb - msw) / denom, 0.0), 1.0 - 1e-12))


def _cluster_codes(
    frame: pd.DataFrame, cluster: str, arm: str, func: str, treatment: object, control: object
) -> np.ndarray:
    """Integer cluster codes; check clusters are nested in arms."""
    if frame[cluster].isna().any():
        n = int(frame[cluster].isna().sum())
        raise ValueError(f"{func}: cluster column {cluster!r} is missing in {n} analysed rows")
    arms_per_cluster = frame.groupby(cluster, sort=True, observed=True)[arm].nunique()
    mixed = arms_per_cluster[arms_per_cluster > 1]
    if len(mixed):
        raise ValueError(
            f"{func}: cluster {cluster!r} is not nested in arm: {len(mixed)} cluster(s) contain "
            f"both {treatment!r} and {control!r} (first: {mixed.index[0]!r}); the cluster "
            "adjustment applies to cluster-randomized designs"
        )
    codes, _ = pd.factorize(frame[cluster], sort=True)
    return codes


def hedges_g(
    outcomes: pd.DataFrame,
    outcome: str = "posttest",
    arm: str = "arm",
    *,
    treatment: object,
    control: object,
    cluster: str | None = None,
    icc: float | None = None,
    confidence: float = 0.95,
    interval: Literal["z", "t_h", "t_clusters"] = "z",
) -> EffectSize:
    """Hedges' g of ``outcome`` between two arms, optionally adjusted for cluster randomization.

    Without ``cluster``: ``g = J (m_T - m_C) / S_pooled`` with the variance and small-sample factor
    of :func:`hedges_g_from_stats` (Borenstein et al. 2009).

    With ``cluster`` (a column such as ``"class_id"`` whose levels are nested in the arms): the
    total-variance effect size ``d_T`` of Hedges (2007), which corrects the bias of the pooled
    SD ``S_T`` in clustered samples, with its variance::

        d_T    = (m_T - m_C) / S_T * sqrt(1 - 2 (n_U - 1) rho / (N - 2))
        V(d_T) = (N / (N_T N_C)) (1 + (n_tilde - 1) rho)
                 + d_T^2 [(N-2)(1-rho)^2 + n(N-2n) rho^2 + 2(N-2n) rho (1-rho)]
                         / (2 (N-2) [(N-2) - 2(n-1) rho])

    For equal cluster sizes ``n_U = n_tilde = n`` and these are Hedges' (2007) equations for
    ``d_T`` and ``V(d_T)``. For unequal sizes ``n_tilde = N_C sum_T n_j^2 / (N_T N) +
    N_T sum_C n_j^2 / (N_C N)`` (Hedges 2007) makes the first term exact, and
    ``n_U = (sum_T n_j^2 / N_T + sum_C n_j^2 / N_C) / 2`` makes ``E[S_T^2]`` exact (derived from
    the same variance-components model); the second, small term uses the equal-size formula at
    ``n = n_U``. The estimate is multiplied by ``J(h) = 1 - 3 / (4h - 1)`` with Hedges' effective
    degrees of freedom ``h = [(N-2) - 2(n-1) rho]^2 / [(N-2)(1-rho)^2 + n(N-2n) rho^2 +
    2(N-2n) rho (1-rho)]``, which reduces to the unclustered ``J`` when ``rho = 0``. (At
    ``rho = 0`` the variance differs from the unclustered one only in writing the ``d^2`` term
    over ``2(N - 2)`` instead of ``2N``.)

    Parameters
    ----------
    outcomes : DataFrame
        One row per student with the ``outcome`` and ``arm`` columns (and ``cluster``).
    outcome : str
        Numeric outcome column, e.g. ``"posttest"``.
    arm : str
        Column holding the arm of each student.
    treatment, control : object
        The two arm levels to compare (treatment minus control).
    cluster : str, optional
        Cluster column for a cluster-randomized design; needs >= 2 clusters per arm.
    icc : float, optional
        Intraclass correlation of the outcome (within arms). Estimated by one-way ANOVA
        (:func:`anova_icc`) when not given; the WWC's defaults when a study reports none are
        :data:`edstudy.stats.wwc.WWC_DEFAULT_ICC` (0.20 achievement, 0.10 behavioral).
    confidence : float
        Level of the interval.
    interval : {"z", "t_h", "t_clusters"}
        Cluster-adjusted g only: ``"z"`` (default) the normal interval ``g +/- z SE``;
        ``"t_h"`` a t interval on Hedges' (2007) effective degrees of freedom ``h``;
        ``"t_clusters"`` a t interval on ``M - 2`` degrees of freedom for ``M`` clusters (the
        degrees of freedom of the cluster-level comparison). With an ICC *estimated* from few
        clusters the normal interval under-covers (about 0.92 at 4 + 4 clusters of 20, ICC 0.2);
        ``h`` is close to the number of students, so ``"t_h"`` barely changes that (0.92), while
        ``"t_clusters"`` restores it (0.96; tests/test_trial_stats.py measures all three).
        The p-value uses the same reference distribution.

    Returns
    -------
    EffectSize

    Raises
    ------
    ValueError
        A column is missing, an arm level is unknown, an arm has < 2 students, the cluster
        design has < 2 clusters in an arm, clusters are not nested in arms, or the pooled SD is 0.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["a"] * 3 + ["b"] * 3, "posttest": [3, 4, 5, 1, 2, 3]})
    >>> round(hedges_g(df, treatment="a", control="b").estimate, 3)
    1.6
    """
    func = "hedges_g"
    if icc is not None and cluster is None:
        raise ValueError("hedges_g: icc is only used with cluster=...; pass the cluster column too")
    sample = _select(
        outcomes,
        func=func,
        outcome=outcome,
        arm=arm,
        treatment=treatment,
        control=control,
        extra=(),
        roles={"cluster": cluster},
    )
    _min_per_arm(sample, 2, func, outcome, treatment, control)
    y, t = sample.y, sample.treated
    n_t, n_c = int(t.sum()), int((~t).sum())
    n = n_t + n_c
    m_t, m_c = float(y[t].mean()), float(y[~t].mean())
    ss = float(np.sum((y[t] - m_t) ** 2) + np.sum((y[~t] - m_c) ** 2))
    sd_pooled = math.sqrt(ss / (n - 2))
    if not sd_pooled > 0:
        raise ValueError(f"hedges_g is undefined: {outcome!r} has no variation within the arms")
    z = _z(confidence)
    base: dict[str, Any] = dict(
        confidence=confidence,
        outcome=outcome,
        treatment=str(treatment),
        control=str(control),
        n_treatment=n_t,
        n_control=n_c,
        mean_treatment=m_t,
        mean_control=m_c,
        sd_pooled=sd_pooled,
        n_missing=sample.n_missing,
    )
    d = (m_t - m_c) / sd_pooled
    if cluster is None:
        var_d = n / (n_t * n_c) + d**2 / (2.0 * n)
        j = _small_sample_factor(n - 2)
        g, se = j * d, j * math.sqrt(var_d)
        p = float(2 * stats.norm.sf(abs(g / se)))
        return EffectSize(
            measure="hedges_g",
            estimate=g,
            std_error=se,
            ci_low=g - z * se,
            ci_high=g + z * se,
            p_value=p,
            correction=j,
            standardizer=sd_pooled,
            **base,
        )

    codes = _cluster_codes(sample.frame, cluster, arm, func, treatment, control)
    size = np.bincount(codes).astype(np.float64)
    cluster_treated = np.zeros(size.size, dtype=bool)
    cluster_treated[codes] = t
    m_t_clusters, m_c_clusters = int(cluster_treated.sum()), int((~cluster_treated).sum())
    for level, k in ((treatment, m_t_clusters), (control, m_c_clusters)):
        if k < 2:
            raise ValueError(
                f"too few clusters: hedges_g with cluster={cluster!r} needs at least 2 clusters in "
                f"each arm, got {k} in arm {level!r}"
            )
    if icc is None:
        rho = anova_icc(y, codes, t.astype(np.int64))
        source = "estimated (one-way ANOVA within arms)"
    else:
        if not 0.0 <= icc < 1.0:
            raise ValueError(f"icc must be in [0, 1), got {icc}")
        rho, source = float(icc), "given"
    sq_t = float(np.sum(size[cluster_treated] ** 2))
    sq_c = float(np.sum(size[~cluster_treated] ** 2))
    n_u = (sq_t / n_t + sq_c / n_c) / 2.0
    n_tilde = n_c * sq_t / (n_t * n) + n_t * sq_c / (n_c * n)
    a = (n - 2) - 2.0 * (n_u - 1.0) * rho
    if a <= 0:
        raise ValueError(
            f"hedges_g: the cluster adjustment is undefined (N - 2 - 2(n - 1) ICC = {a:.3g} <= 0); "
            "the clusters are too large for the number of students"
        )
    d_t = d * math.sqrt(a / (n - 2))
    b = (
        (n - 2) * (1 - rho) ** 2
        + n_u * (n - 2 * n_u) * rho**2
        + 2 * (n - 2 * n_u) * rho * (1 - rho)
    )
    var_d_t = (n / (n_t * n_c)) * (1 + (n_tilde - 1) * rho) + d_t**2 * b / (2 * (n - 2) * a)
    h = a**2 / b
    j = _small_sample_factor(h)
    g, se = j * d_t, j * math.sqrt(var_d_t)
    if interval == "z":
        crit, p, t_df = z, float(2 * stats.norm.sf(abs(g / se))), None
    elif interval in ("t_h", "t_clusters"):
        t_df = h if interval == "t_h" else float(m_t_clusters + m_c_clusters - 2)
        crit = float(stats.t.ppf(0.5 + confidence / 2.0, t_df))
        p = float(2 * stats.t.sf(abs(g / se), t_df))
    else:
        raise ValueError(f"interval must be 'z', 't_h' or 't_clusters', got {interval!r}")
    return EffectSize(
        measure="hedges_g_cluster",
        estimate=g,
        std_error=se,
        ci_low=g - crit * se,
        ci_high=g + crit * se,
        p_value=p,
        correction=j,
        icc=rho,
        icc_source=source,
        cluster=cluster,
        n_clusters_treatment=m_t_clusters,
        n_clusters_control=m_c_clusters,
        df=h,
        interval=interval,
        interval_df=t_df,
        standardizer=sd_pooled / math.sqrt(a / (n - 2)),
        **base,
    )
