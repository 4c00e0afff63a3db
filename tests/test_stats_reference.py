"""Trial statistics on unbalanced and edge designs against references written here.

References (none shares code with ``edstudy.stats``):

- **Power** (``stats/power.py``): the noncentral t probability written from its definition,
  ``P(T > c) = E_V[Phi(lam - c sqrt(V / df))]`` with ``V ~ chi2(df)`` (``T = (Z + lam) /
  sqrt(V / df)``), integrated numerically over the quantiles of ``V``; the standard errors and
  degrees of freedom of Bloom (2005) / PowerUp! (Dong & Maynard 2013, IRA, CRA2_2r, CRA3_3r)
  transcribed; Bloom's MDES multiplier ``t(1 - alpha/2, df) + t(power, df)``; the smallest sample
  size by counting up. Designs with a treated share of 0.3 or 0.7 and covariates. The exact
  power with estimated covariate slopes as that integral averaged over drawn covariates.
- **Cluster-adjusted Hedges' g** (``stats/effect_sizes.py``): the variance-components model
  ``y = u_cluster + e`` written as a covariance matrix ``V = (1 - rho) I + rho B``; the expected
  pooled within-arm variance ``tr(A V) / (N - 2)`` (``A`` the within-arm centring projector) and
  the variance of the difference of arm means ``c' V c`` computed from it by linear algebra, on
  arms of 3 and 6 clusters of unequal sizes with ICC 0.2; Hedges (2007) equations for ``d_T``,
  ``V(d_T)`` and ``h`` with equal cluster sizes and unequal arms; the WWC's clustering
  correction as the R package WWCr (``HaiwenChu/RWWC-v.4-Group-Designs``, ``R/Group Designs``,
  ``degclust``) writes it.
- **WWC** (``stats/wwc.py``, ``stats/attrition.py``): WWCr's ``Hedg``, ``omg``, ``Cox`` and ``BH``
  transcribed; every row of the attrition boundary (WWC Standards Handbook v4.1, Table II.1)
  against two public transcriptions typed in here from their sources: the R package baselinr
  (``zl1212-ship-it/baselinr``, ``R/attrition_boundary.R``, 0 to 65 percent) and WWCr (the file
  above, 0 to 57 percent).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, interpolate, stats

from edstudy.stats import (
    ClusterDesign,
    IndividualDesign,
    ThreeLevelDesign,
    hedges_g,
    mdes,
    power,
    sample_size,
)
from edstudy.stats.attrition import (
    WWC_CAUTIOUS_PCT,
    WWC_OPTIMISTIC_PCT,
    WWCR_OPTIMISTIC_PCT,
    attrition_from_counts,
    cox_index,
    wwc_attrition_boundary,
)
from edstudy.stats.effect_sizes import anova_icc, hedges_g_from_stats
from edstudy.stats.wwc import benjamini_hochberg, cox_effect_size, improvement_index

# --------------------------------------------------------------------------------------------
# power, MDES and sample size
# --------------------------------------------------------------------------------------------


def upper_tail(c: float, df: float, lam: float) -> float:
    """``P(T > c)`` for a noncentral t: ``E_V[Phi(lam - c sqrt(V / df))]``, ``V ~ chi2(df)``,
    integrated over the chi-square density in pieces (split where the integrand turns)."""

    def h(v: float) -> float:
        return stats.chi2.pdf(v, df) * stats.norm.cdf(lam - c * math.sqrt(v / df))

    turns = sorted({df * x for x in (0.25, 1.0, 4.0, 16.0)} | {df * (lam / c) ** 2})
    edges = [0.0, *[t for t in turns if t > 0], math.inf]
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        value, _ = integrate.quad(h, a, b, epsabs=0.0, epsrel=1e-12, limit=400)
        total += value
    return total


def reference_power(se: float, df: float, effect: float, alpha: float, two_sided: bool) -> float:
    lam = abs(effect) / se  # a one-sided test in the direction of the effect
    if two_sided:
        c = stats.t.ppf(1 - alpha / 2, df)
        return upper_tail(c, df, lam) + upper_tail(c, df, -lam)  # P(T < -c) = P(-T > c)
    return upper_tail(stats.t.ppf(1 - alpha, df), df, lam)


def se_individual(n, r2, p):
    return math.sqrt((1 - r2) / (p * (1 - p) * n))


def se_two_level(j, n, rho, r2_1, r2_2, p):
    return math.sqrt(
        rho * (1 - r2_2) / (p * (1 - p) * j) + (1 - rho) * (1 - r2_1) / (p * (1 - p) * j * n)
    )


def se_three_level(k, j, n, rho3, rho2, r2_1, r2_2, r2_3, p):
    pq = p * (1 - p)
    return math.sqrt(
        rho3 * (1 - r2_3) / (pq * k)
        + rho2 * (1 - r2_2) / (pq * k * j)
        + (1 - rho2 - rho3) * (1 - r2_1) / (pq * k * j * n)
    )


# (design, SE, df) with the treated share away from one half
DESIGNS = [
    (
        IndividualDesign(n=90, r2=0.4, p_treated=0.3, n_covariates=1),
        se_individual(90, 0.4, 0.3),
        87,
    ),
    (
        ClusterDesign(n_clusters=13, cluster_size=17, icc=0.23, r2_level1=0.5, r2_level2=0.6,
                      p_treated=0.3, n_covariates=1),
        se_two_level(13, 17, 0.23, 0.5, 0.6, 0.3),
        10,
    ),
    (ClusterDesign(n_clusters=5, cluster_size=30, icc=0.1, p_treated=0.7),
     se_two_level(5, 30, 0.1, 0, 0, 0.7), 3),
    (
        ThreeLevelDesign(n_schools=11, classes_per_school=3, class_size=21, icc_school=0.12,
                         icc_class=0.08, r2_level1=0.3, r2_level2=0.2, r2_level3=0.5,
                         p_treated=0.7, n_covariates=2),
        se_three_level(11, 3, 21, 0.12, 0.08, 0.3, 0.2, 0.5, 0.7),
        7,
    ),
]  # fmt: skip


@pytest.mark.parametrize(("design", "se", "df"), DESIGNS)
def test_standard_errors_and_df_are_bloom_s(design, se, df):
    assert design.standard_error == pytest.approx(se, rel=1e-14)
    assert design.df == df


@pytest.mark.parametrize(("design", "se", "df"), DESIGNS)
@pytest.mark.parametrize("effect", [-0.9, -0.25, 0.0, 0.3, 0.6])
@pytest.mark.parametrize(("alpha", "two_sided"), [(0.05, True), (0.05, False), (0.01, False)])
def test_power_is_the_noncentral_t_probability(design, se, df, effect, alpha, two_sided):
    """Includes one-sided tests of negative effects (one-sided in the effect's direction)."""
    got = power(design, effect, alpha=alpha, two_sided=two_sided)
    want = reference_power(se, df, effect, alpha, two_sided)
    assert got == pytest.approx(want, rel=1e-8, abs=1e-11)
    if effect < 0:  # the branch of a negative effect gives the same as its mirror
        assert got == power(design, -effect, alpha=alpha, two_sided=two_sided)


@pytest.mark.parametrize("df", [1, 3, 10, 148, 10_000])
def test_power_of_large_effects_is_finite_and_reaches_one(df):
    """scipy's ``nct.cdf`` is nan far in its lower tail (about lam 7.5 to 20): power stays a
    number, rises with the effect, and agrees with the integral there."""
    design = IndividualDesign(n=df + 2)
    lams = np.concatenate([np.linspace(0, 30, 301), [50, 100, 200, 1000]])
    values = [power(design, lam * design.standard_error) for lam in lams]
    assert np.all(np.isfinite(values)) and all(0 <= v <= 1 for v in values)
    assert np.all(np.diff(values) >= -1e-12)
    assert values[-1] == 1.0
    for lam in (7.6, 9.0, 11.4, 14.0):
        want = reference_power(design.standard_error, df, lam * design.standard_error, 0.05, True)
        assert power(design, lam * design.standard_error) == pytest.approx(want, abs=1e-10)


@pytest.mark.parametrize(("design", "se", "df"), DESIGNS)
@pytest.mark.parametrize(("target", "alpha", "two_sided"), [(0.8, 0.05, True), (0.9, 0.01, False),
                                                            (0.4, 0.05, True)])  # fmt: skip
def test_mdes_is_bloom_s_multiplier_times_the_se(design, se, df, target, alpha, two_sided):
    q = 1 - alpha / 2 if two_sided else 1 - alpha
    m = stats.t.ppf(q, df) + stats.t.ppf(target, df)  # t(power) < 0 when power < 0.5
    assert mdes(design, power=target, alpha=alpha, two_sided=two_sided) == pytest.approx(
        m * se, rel=1e-12
    )


def test_sample_size_is_the_smallest_that_reaches_the_effect():
    """Counting clusters (and cluster sizes) up with the transcribed MDES, treated share 0.3."""

    def mdes_at(j, n):
        se = se_two_level(j, n, 0.18, 0.4, 0.5, 0.3)
        df = j - 1 - 2
        return (stats.t.ppf(0.975, df) + stats.t.ppf(0.8, df)) * se

    base = ClusterDesign(n_clusters=4, cluster_size=20, icc=0.18, r2_level1=0.4, r2_level2=0.5,
                         p_treated=0.3, n_covariates=1)  # fmt: skip
    for effect in (0.25, 0.4, 0.7):
        j = 4
        while mdes_at(j, 20) > effect:
            j += 1
        assert sample_size(base, effect) == j
    big = ClusterDesign(n_clusters=40, cluster_size=1, icc=0.18, r2_level1=0.4, r2_level2=0.5,
                        p_treated=0.3, n_covariates=1)  # fmt: skip
    n = 1
    while mdes_at(40, n) > 0.45:
        n += 1
    assert sample_size(big, 0.45, solve_for="cluster_size") == n


def test_exact_power_averages_the_conditional_power_over_drawn_covariates():
    """``exact_power`` (Gauss-Jacobi over a Beta law) against its definition: draw the covariates'
    unit means, take ``U``, the share of the treatment indicator's sum of squares they leave
    unexplained (the OLS variance of the effect is ``SE^2 / U``), and average the noncentral-t
    power at ``SE / sqrt(U)`` over 200,000 draws (the integral above at 12 values of ``U``, a
    cubic spline between them: 2e-4 from 81 points). Tolerance 4 Monte Carlo SEs, 0.0009; a Beta
    law off by half a degree of freedom moves the exact power by 0.013."""
    j, g, effect = 10, 2, 1.0
    design = ClusterDesign(n_clusters=j, cluster_size=20, icc=0.2, r2_level1=0.5, r2_level2=0.5,
                           p_treated=0.3, n_covariates=g)  # fmt: skip
    se, df = se_two_level(j, 20, 0.2, 0.5, 0.5, 0.3), j - g - 2
    t = np.repeat([1.0, 0.0], [3, 7])
    t -= t.mean()
    x = np.random.default_rng(0).standard_normal((200_000, j, g))
    x -= x.mean(axis=1, keepdims=True)
    xt = np.einsum("djg,j->dg", x, t)
    explained = np.einsum(
        "dg,dg->d", xt, np.linalg.solve(x.transpose(0, 2, 1) @ x, xt[..., None])[..., 0]
    )
    u = 1.0 - explained / (t @ t)
    grid = np.linspace(u.min(), 1.0, 12)
    at = [reference_power(se / math.sqrt(v), df, effect, 0.05, True) for v in grid]
    h = interpolate.CubicSpline(grid, at)(u)
    mc_se = h.std() / math.sqrt(h.size)
    got = power(design, effect, exact=True)
    assert got == pytest.approx(h.mean(), abs=4 * mc_se)
    assert power(design, effect) - got > 100 * mc_se  # the formula's (U = 1) is far above


# --------------------------------------------------------------------------------------------
# Hedges' g, cluster-adjusted, with unequal arms and ICC > 0
# --------------------------------------------------------------------------------------------


def clustered_frame(sizes_t, sizes_c, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for arm, sizes, shift in (("T", sizes_t, 0.4), ("C", sizes_c, 0.0)):
        for j, size in enumerate(sizes):
            u = rng.normal(0, 0.5)
            rows += [(arm, f"{arm}{j}", shift + u + e) for e in rng.standard_normal(size)]
    return pd.DataFrame(rows, columns=["arm", "class_id", "posttest"])


def model_moments(sizes_t, sizes_c, rho):
    """Under y = u_cluster + e with unit total variance: E[S_T^2] and Var(mean_T - mean_C)."""
    sizes = list(sizes_t) + list(sizes_c)
    n = sum(sizes)
    cov = (1 - rho) * np.eye(n)
    start = 0
    for s in sizes:
        cov[start : start + s, start : start + s] += rho
        start += s
    n_t = sum(sizes_t)
    arm = np.r_[np.ones(n_t), np.zeros(n - n_t)]
    hat = np.zeros((n, n))  # projection on the arm means
    for a in (1, 0):
        idx = np.flatnonzero(arm == a)
        hat[np.ix_(idx, idx)] = 1 / idx.size
    centring = np.eye(n) - hat
    e_s2 = np.trace(centring @ cov) / (n - 2)
    c = np.where(arm == 1, 1 / n_t, -1 / (n - n_t))
    return e_s2, float(c @ cov @ c)


def hedges_2007(n_t, n_c, n, rho):
    """Hedges (2007), equal cluster sizes n: the factor on d, the d_T^2 coefficient of V(d_T)
    and the effective df h."""
    big_n = n_t + n_c
    a = (big_n - 2) - 2 * (n - 1) * rho
    b = (
        (big_n - 2) * (1 - rho) ** 2
        + n * (big_n - 2 * n) * rho**2
        + 2 * (big_n - 2 * n) * rho * (1 - rho)
    )
    return math.sqrt(a / (big_n - 2)), b / (2 * (big_n - 2) * a), a**2 / b


@pytest.mark.parametrize(("sizes_t", "sizes_c"), [([5, 9, 14], [7, 7, 10, 4, 12, 6]),
                                                  ([20, 3], [6, 6, 6, 6])])  # fmt: skip
@pytest.mark.parametrize("treatment", ["T", "C"])
def test_cluster_adjusted_g_unequal_arms_against_the_variance_components_model(
    sizes_t, sizes_c, treatment
):
    rho = 0.2
    df = clustered_frame(sizes_t, sizes_c)
    control = "C" if treatment == "T" else "T"
    res = hedges_g(df, treatment=treatment, control=control, cluster="class_id", icc=rho)
    if treatment == "C":
        sizes_t, sizes_c = sizes_c, sizes_t
    n_t, n_c = sum(sizes_t), sum(sizes_c)
    big_n = n_t + n_c
    y_t = df.loc[df["arm"] == treatment, "posttest"]
    y_c = df.loc[df["arm"] == control, "posttest"]
    s_t = math.sqrt(((n_t - 1) * y_t.var() + (n_c - 1) * y_c.var()) / (big_n - 2))
    e_s2, var_diff = model_moments(sizes_t, sizes_c, rho)
    # S_T^2 estimates e_s2 (in units of the total variance): dividing by sqrt(e_s2) standardizes
    d_t = (y_t.mean() - y_c.mean()) / s_t * math.sqrt(e_s2)
    # Hedges' (2007) equal-size terms at the n that gives the same E[S_T^2]
    n_u = 1 + (1 - e_s2) * (big_n - 2) / (2 * rho)
    _, coef, h = hedges_2007(n_t, n_c, n_u, rho)
    j = 1 - 3 / (4 * h - 1)
    assert res.df == pytest.approx(h, rel=1e-12)
    assert res.estimate == pytest.approx(j * d_t, rel=1e-12)
    assert res.std_error == pytest.approx(j * math.sqrt(var_diff + coef * d_t**2), rel=1e-12)
    assert res.standardizer == pytest.approx(s_t / math.sqrt(e_s2), rel=1e-12)


@pytest.mark.parametrize(("m_t", "m_c", "n"), [(3, 7, 8), (9, 2, 15)])
def test_cluster_adjusted_g_equal_sizes_is_hedges_2007_and_wwc(m_t, m_c, n):
    rho = 0.15
    df = clustered_frame([n] * m_t, [n] * m_c, seed=3)
    res = hedges_g(df, treatment="T", control="C", cluster="class_id", icc=rho)
    n_t, n_c = m_t * n, m_c * n
    big_n = n_t + n_c
    factor, coef, h = hedges_2007(n_t, n_c, n, rho)
    # WWCr's degclust(rho, N, M): the same h written with the average cluster size N / M
    avg = big_n / (m_t + m_c)
    wwcr_h = ((big_n - 2) - 2 * (avg - 1) * rho) ** 2 / (
        (big_n - 2) * (1 - rho) ** 2 + avg * (big_n - 2 * avg) * rho**2
        + 2 * (big_n - 2 * avg) * rho * (1 - rho)
    )  # fmt: skip
    assert h == pytest.approx(wwcr_h, rel=1e-13)
    d = (res.mean_treatment - res.mean_control) / res.sd_pooled
    d_t = d * factor
    var = (big_n / (n_t * n_c)) * (1 + (n - 1) * rho) + coef * d_t**2
    j = 1 - 3 / (4 * h - 1)
    assert res.df == pytest.approx(h, rel=1e-12)
    assert res.estimate == pytest.approx(j * d_t, rel=1e-12)
    assert res.std_error == pytest.approx(j * math.sqrt(var), rel=1e-12)
    # the interval: the estimate -/+ the t quantile on its df times the SE; df printed to 0.1
    q = stats.t.ppf(0.975, res.interval_df) if res.interval != "z" else stats.norm.ppf(0.975)
    assert res.ci_low == pytest.approx(res.estimate - q * res.std_error, rel=1e-12)
    assert res.ci_high == pytest.approx(res.estimate + q * res.std_error, rel=1e-12)
    assert f", df {h:.1f}; " in str(res)
    t_df = res.interval_df if res.interval != "z" else np.inf
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(res.estimate / res.std_error), t_df))


def test_individual_g_interval_is_normal():
    df = clustered_frame([30], [45], seed=5)
    res = hedges_g(df, treatment="T", control="C")
    z = stats.norm.ppf(0.975)
    assert res.ci_low == pytest.approx(res.estimate - z * res.std_error, rel=1e-12)
    assert res.ci_high == pytest.approx(res.estimate + z * res.std_error, rel=1e-12)


def anova_icc_by_hand(y, clusters, arms):
    """Donner & Koval's ANOVA estimator with clusters nested in arms, written with loops."""
    groups = {}
    for v, c, a in zip(y, clusters, arms, strict=True):
        groups.setdefault((a, c), []).append(v)
    arm_values = {}
    for (a, _), vals in groups.items():
        arm_values.setdefault(a, []).extend(vals)
    n_total, m, n_arms = len(y), len(groups), len(arm_values)
    ssw = sum(sum((v - np.mean(vals)) ** 2 for v in vals) for vals in groups.values())
    ssb = sum(len(vals) * (np.mean(vals) - np.mean(arm_values[a])) ** 2
              for (a, _), vals in groups.items())  # fmt: skip
    msw, msb = ssw / (n_total - m), ssb / (m - n_arms)
    sum_sq = sum(
        sum(len(vals) ** 2 for (b, _), vals in groups.items() if b == a) / len(arm_values[a])
        for a in arm_values
    )
    n0 = (n_total - sum_sq) / (m - n_arms)
    return max((msb - msw) / (msb + (n0 - 1) * msw), 0.0)


@pytest.mark.parametrize("sizes", [([3, 7, 4], [5, 9]), ([2, 2], [6])])
def test_anova_icc_with_unequal_clusters_is_donner_and_koval_s(sizes):
    """The second design has 3 clusters in 2 arms: one degree of freedom between clusters."""
    df = clustered_frame(*sizes, seed=11)
    codes = pd.factorize(df["class_id"])[0]
    arms = (df["arm"] == "T").to_numpy()
    expected = anova_icc_by_hand(df["posttest"].to_numpy(), codes, arms)
    assert anova_icc(df["posttest"].to_numpy(), codes, arms) == pytest.approx(expected, rel=1e-12)
    assert expected > 0.0


def test_anova_icc_is_0_when_clusters_differ_less_than_chance():
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])  # equal cluster means: MSB = 0
    assert anova_icc(y, np.array([0, 0, 1, 1, 2, 2])) == 0.0
    assert anova_icc(np.ones(6), np.array([0, 0, 1, 1, 2, 2])) == 0.0  # no variance at all
    # no variance within clusters: the ICC is 1, reported as 1 - 1e-12 (documented: in [0, 1))
    assert anova_icc(np.array([0.0, 0.0, 1.0, 1.0, 3.0, 3.0]), np.array([0, 0, 1, 1, 2, 2])) == (
        1.0 - 1e-12
    )
    with pytest.raises(ValueError, match=r"the ICC needs more clusters \(2\) than arms \(2\)"):
        anova_icc(y, np.array([0, 0, 0, 1, 1, 1]), np.array([0, 0, 0, 1, 1, 1]))


def test_a_categorical_cluster_column_with_unused_categories():
    df = clustered_frame([5, 6], [4, 7], seed=2)
    cat = df.assign(
        class_id=pd.Categorical(df["class_id"], categories=[*sorted(set(df["class_id"])), "empty"])
    )
    plain = hedges_g(df, treatment="T", control="C", cluster="class_id", icc=0.1)
    res = hedges_g(cat, treatment="T", control="C", cluster="class_id", icc=0.1)
    assert res.estimate == plain.estimate and res.std_error == plain.std_error


@pytest.mark.parametrize("interval", ["t_h", "t_clusters"])
def test_cluster_adjusted_g_t_intervals_and_p_values(interval):
    df = clustered_frame([6, 9, 4], [7, 5, 8, 3], seed=6)
    res = hedges_g(df, treatment="T", control="C", cluster="class_id", icc=0.15, interval=interval)
    t_df = res.df if interval == "t_h" else 3 + 4 - 2.0
    assert res.interval_df == pytest.approx(t_df, rel=1e-12)
    q = stats.t.ppf(0.975, t_df)
    assert (res.ci_low, res.ci_high) == pytest.approx(
        (res.estimate - q * res.std_error, res.estimate + q * res.std_error), rel=1e-12
    )
    assert res.p_value == pytest.approx(
        2 * stats.t.sf(abs(res.estimate / res.std_error), t_df), rel=1e-12
    )


def test_hedges_g_needs_two_students_and_two_clusters_per_arm():
    df = clustered_frame([3, 4], [5, 2], seed=4)
    one = df[(df["arm"] == "C") | (df.index == 0)]
    with pytest.raises(ValueError) as err:
        hedges_g(one, treatment="T", control="C")
    assert str(err.value) == (
        "hedges_g needs at least 2 students with a non-missing 'posttest' in each arm; arm 'T' "
        "has 1"
    )
    assert (
        hedges_g(df[(df["arm"] == "C") | (df.index < 2)], treatment="T", control="C").n_treatment
        == 2
    )
    single = df[(df["arm"] == "C") | (df["class_id"] == "T0")]
    with pytest.raises(ValueError) as err:
        hedges_g(single, treatment="T", control="C", cluster="class_id", icc=0.1)
    assert str(err.value) == (
        "too few clusters: hedges_g with cluster='class_id' needs at least 2 clusters in each "
        "arm, got 1 in arm 'T'"
    )
    with pytest.raises(TypeError):  # the level is keyword-only
        hedges_g_from_stats(1.0, 1.0, 10, 0.0, 1.0, 10, 0.9)  # type: ignore[misc]
    with pytest.raises(ValueError) as err:  # no spread in either arm
        hedges_g_from_stats(1.0, 0.0, 10, 0.0, 0.0, 10)
    assert str(err.value) == "hedges_g is undefined when the pooled standard deviation is 0"
    from edstudy.stats.effect_sizes import EffectSize

    defaults = {f.name: f.default for f in dataclasses.fields(EffectSize)}
    assert defaults["n_missing"] == 0


def test_hedges_g_from_stats_is_wwc_s_with_unequal_arms():
    """WWCr's Hedg (omega = 1 - 3 / (4N - 9), pooled SD) with 23 vs 61 students."""
    mi, si, ni, mc, sc, nc = 54.1, 9.3, 23, 49.8, 11.2, 61
    pooled = math.sqrt(((ni - 1) * si**2 + (nc - 1) * sc**2) / (ni + nc - 2))
    omega = 1 - 3 / (4 * (ni + nc) - 9)
    g, se, lo, hi = hedges_g_from_stats(mi, si, ni, mc, sc, nc)
    assert g == pytest.approx(omega * (mi - mc) / pooled, rel=1e-13)
    d = (mi - mc) / pooled
    assert se == pytest.approx(omega * math.sqrt((ni + nc) / (ni * nc) + d**2 / (2 * (ni + nc))))
    swapped = hedges_g_from_stats(mc, sc, nc, mi, si, ni)
    assert swapped[0] == pytest.approx(-g, rel=1e-15) and swapped[1] == pytest.approx(se)


# --------------------------------------------------------------------------------------------
# WWC
# --------------------------------------------------------------------------------------------


def test_improvement_index_signs_and_values():
    for g in (-1.2, -0.25, 0.0, 0.25, 0.8):
        assert improvement_index(g) == pytest.approx(100 * (stats.norm.cdf(g) - 0.5), abs=1e-12)
    assert improvement_index(0.25) == pytest.approx(9.87, abs=0.005)  # WWC: 0.25 SD ~ +10
    assert improvement_index(-0.25) == pytest.approx(-improvement_index(0.25), abs=1e-12)


def test_cox_effect_size_is_wwcr_s_with_unequal_arms():
    """WWCr's Cox(pi, pc, ni, nc) = omega (logit pi - logit pc) / 1.65; Woolf's SE."""
    a, ni, c, nc = 31, 47, 40, 113
    pi, pc = a / ni, c / nc
    omega = 1 - 3 / (4 * (ni + nc) - 9)
    want = omega * (math.log(pi / (1 - pi)) - math.log(pc / (1 - pc))) / 1.65
    es, se, lo, hi = cox_effect_size(a, ni, c, nc, design_effect=1.7)
    assert es == pytest.approx(want, rel=1e-13)
    woolf = math.sqrt(1 / a + 1 / (ni - a) + 1 / c + 1 / (nc - c))
    assert se == pytest.approx(omega * woolf / 1.65 * math.sqrt(1.7), rel=1e-13)
    assert cox_effect_size(c, nc, a, ni)[0] == pytest.approx(-es, rel=1e-13)
    assert cox_index(pi, pc, ni, nc) == pytest.approx(want, rel=1e-12)


def test_benjamini_hochberg_keeps_what_wwcr_keeps():
    """WWCr's BH: sorted p-values, kept up to the largest rank i with p_(i) < i alpha / M."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        m = int(rng.integers(1, 12))
        p = np.round(rng.uniform(0, 0.12, m) ** rng.uniform(0.5, 2), 6)
        ps = np.sort(p)
        ranks = np.arange(1, m + 1)
        below = ranks[ps < ranks / m * 0.05]
        assume_no_tie = np.all(np.abs(ps - ranks / m * 0.05) > 1e-9)
        if not assume_no_tie:
            continue
        kept = ps[: below.max()] if below.size else ps[:0]
        _, significant = benjamini_hochberg(p)
        assert sorted(p[significant]) == sorted(kept)


# WWC Standards Handbook v4.1, Table II.1, as two public transcriptions type it.
# baselinr, R/attrition_boundary.R (.wwc_attrition_table): cautious 0-57, optimistic 0-65
BASELINR_CAUTIOUS = (
    5.7, 5.8, 5.9, 5.9, 6.0, 6.1, 6.2, 6.3, 6.3, 6.3, 6.3, 6.2, 6.2, 6.1, 6.0,
    5.9, 5.9, 5.8, 5.7, 5.5, 5.4, 5.3, 5.2, 5.1, 4.9, 4.8, 4.7, 4.5, 4.4, 4.3,
    4.1, 4.0, 3.8, 3.6, 3.5, 3.3, 3.2, 3.1, 2.9, 2.8, 2.6, 2.5, 2.3, 2.1, 2.0,
    1.8, 1.6, 1.5, 1.3, 1.2, 1.0, 0.9, 0.7, 0.6, 0.4, 0.3, 0.2, 0.0,
)  # fmt: skip
BASELINR_OPTIMISTIC = (
    10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9, 10.9, 10.9,
    10.9, 10.8, 10.8, 10.7, 10.6, 10.5, 10.3, 10.2, 10.0, 9.9, 9.7, 9.5, 9.4,
    9.2, 9.0, 8.8, 8.6, 8.4, 8.2, 8.0, 7.8, 7.6, 7.4, 7.2, 7.0, 6.7, 6.5, 6.3,
    6.0, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6, 4.4, 4.2, 3.9, 3.7, 3.5, 3.2, 3.0, 2.8,
    2.6, 2.3, 2.1, 1.9, 1.6, 1.4, 1.1, 0.9, 0.7, 0.5, 0.3,
)  # fmt: skip
# WWCr, R/Group Designs ("WWC Standards Handbook v4.0, Table II.1 (p.12)"): 0-57
WWCR_CAUTIOUS = (
    5.7, 5.8, 5.9, 5.9, 6, 6.1, 6.2, 6.3, 6.3, 6.3, 6.3, 6.2, 6.2, 6.1, 6, 5.9, 5.9, 5.8, 5.7,
    5.5, 5.4, 5.3, 5.2, 5.1, 4.9, 4.8, 4.7, 4.5, 4.4, 4.3, 4.1, 4, 3.8, 3.6, 3.5, 3.3, 3.2, 3.1,
    2.9, 2.8, 2.6, 2.5, 2.3, 2.1, 2, 1.8, 1.6, 1.5, 1.3, 1.2, 1, 0.9, 0.7, 0.6, 0.4, 0.3, 0.2, 0,
)  # fmt: skip
WWCR_OPTIMISTIC = (
    10, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9, 10.9, 10.9, 10.9, 10.9, 10.8, 10.8,
    10.7, 10.6, 10.5, 10.3, 10.2, 10, 9.9, 9.7, 9.5, 9.4, 9.2, 9, 8.8, 8.6, 8.4, 8.2, 8, 7.8, 7.6,
    7.4, 7.2, 7, 6.7, 6.5, 6.3, 6, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6, 4.4, 4.2, 3.9, 3.7, 3.5, 3.2, 3,
    2.8, 2.6, 2.3,
)  # fmt: skip


def test_every_row_of_the_attrition_table_against_two_transcriptions():
    assert len(BASELINR_CAUTIOUS) == len(WWCR_CAUTIOUS) == 58
    assert len(BASELINR_OPTIMISTIC) == 66 and len(WWCR_OPTIMISTIC) == 58
    assert WWC_CAUTIOUS_PCT == BASELINR_CAUTIOUS == WWCR_CAUTIOUS
    assert WWC_OPTIMISTIC_PCT == BASELINR_OPTIMISTIC
    assert WWCR_OPTIMISTIC_PCT == WWCR_OPTIMISTIC
    for row in range(70):
        for boundary, column in (("cautious", BASELINR_CAUTIOUS),
                                 ("optimistic", BASELINR_OPTIMISTIC)):  # fmt: skip
            got = wwc_attrition_boundary(row / 100, boundary)
            if row < len(column):
                assert got == pytest.approx(column[row] / 100, abs=1e-12), (row, boundary)
            else:
                assert math.isnan(got), (row, boundary)


@pytest.mark.parametrize("boundary", ["cautious", "optimistic"])
def test_attrition_verdict_on_both_sides_of_every_row_s_boundary(boundary):
    """20,000 students (10,000 per arm): overall exactly ``row`` percent and a differential
    exactly at the row's boundary is low attrition, 0.1 point more is high (rows 6 and up, where
    both arms can lose that many); past the table every differential is high. Rows read
    ``row - 0.5 <= overall < row + 0.5`` percent."""
    column = BASELINR_CAUTIOUS if boundary == "cautious" else BASELINR_OPTIMISTIC
    for row in range(6, 71):
        for x in (0, 1, 2, 37, 60, 63, 64, 100, 109, 110):  # differential in tenths of a point
            lost_t, lost_c = 100 * row + 5 * x, 100 * row - 5 * x
            if lost_t > 10_000:
                continue
            res = attrition_from_counts(10_000, 10_000 - lost_t, 10_000, 10_000 - lost_c,
                                        boundary=boundary)  # fmt: skip
            assert res.overall == pytest.approx(row / 100, abs=1e-12)
            assert res.differential == pytest.approx(x / 1000, abs=1e-12)
            want = row < len(column) and x <= round(10 * column[row])
            assert res.low_attrition is want, (row, x)
            # the same row from an overall rate just inside either edge of its interval
            for edge in (-49, 49):  # overall (100 row + edge / 100) percent of 20,000 = 2 * ...
                t, c = lost_t + edge, lost_c + edge
                if t < 0 or c < 0 or t > 10_000:
                    continue
                near = attrition_from_counts(10_000, 10_000 - t, 10_000, 10_000 - c,
                                             boundary=boundary)  # fmt: skip
                assert near.low_attrition is want, (row, x, edge)
