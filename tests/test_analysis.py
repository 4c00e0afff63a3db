"""Effect sizes, risk differences and regression models of edstudy.stats."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from edstudy.stats import (
    TIDY_COLUMNS,
    anova_icc,
    binary_model,
    cluster_means_model,
    hedges_g,
    hedges_g_from_stats,
    mixed_model,
    newcombe_interval,
    risk_difference,
)

# --------------------------------------------------------------------------------------------
# Data builders
# --------------------------------------------------------------------------------------------


def _exact(mean: float, sd: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """n values with exactly this sample mean and (ddof=1) standard deviation."""
    x = rng.standard_normal(n)
    x = (x - x.mean()) / x.std(ddof=1)
    return mean + sd * x


def _two_arms(y_t: np.ndarray, y_c: np.ndarray, name: str = "posttest") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "student_id": np.arange(len(y_t) + len(y_c)),
            "arm": ["personalized"] * len(y_t) + ["individualized"] * len(y_c),
            name: np.concatenate([y_t, y_c]),
        }
    )


def _cluster_trial(
    rng: np.random.Generator,
    *,
    clusters_per_arm: int = 10,
    sizes: np.ndarray | int = 20,
    icc: float = 0.2,
    effect: float = 0.4,
) -> pd.DataFrame:
    """Cluster-randomized trial, total variance 1, so the true delta_T equals ``effect``."""
    m = 2 * clusters_per_arm
    size = np.broadcast_to(np.asarray(sizes), (m,)).astype(int)
    treated = np.repeat([True, False], clusters_per_arm)
    u = rng.normal(0.0, math.sqrt(icc), m)
    cluster = np.repeat(np.arange(m), size)
    y = effect * treated[cluster] + u[cluster] + rng.normal(0.0, math.sqrt(1 - icc), size.sum())
    return pd.DataFrame(
        {
            "student_id": np.arange(size.sum()),
            "class_id": [f"class-{c}" for c in cluster],
            "arm": np.where(treated[cluster], "personalized", "individualized"),
            "posttest": y,
        }
    )


ARMS = dict(treatment="personalized", control="individualized")

# --------------------------------------------------------------------------------------------
# Hedges' g
# --------------------------------------------------------------------------------------------


def test_hedges_g_textbook_example_borenstein_2009():
    # Borenstein, Hedges, Higgins & Rothstein (2009), Introduction to Meta-Analysis, ch. 4:
    # means 103 vs 100, SDs 5.5 and 4.5, n = 50 each -> d = 0.5970, V_d = 0.0418,
    # J = 0.9923, g = 0.5924, V_g = 0.0411.
    g, se, lo, hi = hedges_g_from_stats(103, 5.5, 50, 100, 4.5, 50)
    assert g == pytest.approx(0.5924, abs=5e-5)
    assert se**2 == pytest.approx(0.0411, abs=5e-5)
    assert lo == pytest.approx(g - 1.959964 * se, abs=1e-6)
    assert hi == pytest.approx(g + 1.959964 * se, abs=1e-6)
    # The same numbers from raw data with exactly those summary statistics.
    rng = np.random.default_rng(1)
    df = _two_arms(_exact(103, 5.5, 50, rng), _exact(100, 4.5, 50, rng))
    result = hedges_g(df, **ARMS)
    assert result.estimate == pytest.approx(0.5924, abs=5e-5)
    assert result.std_error == pytest.approx(se, rel=1e-10)
    assert result.correction == pytest.approx(0.9923, abs=5e-5)
    assert result.sd_pooled == pytest.approx(math.sqrt((5.5**2 + 4.5**2) / 2), rel=1e-12)


def test_hedges_g_matches_hand_computation():
    df = pd.DataFrame(
        {
            "arm": ["personalized"] * 4 + ["individualized"] * 5,
            "posttest": [0.61, 0.72, 0.55, 0.80, 0.50, 0.42, 0.66, 0.58, 0.47],
        }
    )
    t = np.array([0.61, 0.72, 0.55, 0.80])
    c = np.array([0.50, 0.42, 0.66, 0.58, 0.47])
    sp = math.sqrt(((4 - 1) * t.var(ddof=1) + (5 - 1) * c.var(ddof=1)) / 7)
    d = (t.mean() - c.mean()) / sp
    j = 1 - 3 / (4 * 9 - 9)  # the WWC's omega = 1 - 3 / (4N - 9)
    var_d = 9 / 20 + d**2 / 18
    result = hedges_g(df, **ARMS)
    assert result.estimate == pytest.approx(j * d, rel=1e-12)
    assert result.std_error == pytest.approx(j * math.sqrt(var_d), rel=1e-12)
    assert result.n_treatment == 4 and result.n_control == 5
    assert result.p_value == pytest.approx(2 * stats.norm.sf(result.estimate / result.std_error))


def test_hedges_g_sign_is_treatment_minus_control_and_str_to_frame():
    df = pd.DataFrame({"arm": ["a", "a", "a", "b", "b", "b"], "posttest": [3, 4, 5, 1, 2, 3]})
    result = hedges_g(df, treatment="a", control="b")
    assert result.estimate == pytest.approx(1.6)  # d = 2, J = 1 - 3/15
    assert hedges_g(df, treatment="b", control="a").estimate == pytest.approx(-1.6)
    text = str(result)
    assert text.startswith("Hedges' g = 1.600 [95% CI ")
    assert "a (n=3, mean 4.000) vs b (n=3, mean 2.000)" in text
    frame = result.to_frame()
    assert tuple(frame.columns[:6]) == TIDY_COLUMNS
    assert frame.loc[0, "term"] == "hedges_g"


def test_hedges_g_does_not_mutate_input_and_drops_missing_outcomes():
    df = pd.DataFrame(
        {
            "arm": pd.array(["a", "a", "a", None, "b", "b", "b", "c"], dtype="string"),
            "posttest": [0.3, 0.4, np.nan, 0.9, 0.1, 0.2, 0.3, 0.5],
        }
    )
    before = df.copy()
    result = hedges_g(df, treatment="a", control="b")
    pd.testing.assert_frame_equal(df, before)
    assert (result.n_treatment, result.n_control, result.n_missing) == (2, 3, 1)


def test_cluster_adjusted_g_equal_sizes_matches_hedges_2007_equations():
    rng = np.random.default_rng(3)
    df = _cluster_trial(rng, clusters_per_arm=4, sizes=5, icc=0.2)
    rho, n, n_t, n_c = 0.2, 5, 20, 20
    total = n_t + n_c
    y = df["posttest"].to_numpy()
    t = (df["arm"] == "personalized").to_numpy()
    s_t = math.sqrt(
        (((y[t] - y[t].mean()) ** 2).sum() + ((y[~t] - y[~t].mean()) ** 2).sum()) / (total - 2)
    )
    # Hedges (2007), equal cluster sizes: d_T, V(d_T) and the effective df h.
    d_t = (y[t].mean() - y[~t].mean()) / s_t * math.sqrt(1 - 2 * (n - 1) * rho / (total - 2))
    num = (
        (total - 2) * (1 - rho) ** 2
        + n * (total - 2 * n) * rho**2
        + 2 * (total - 2 * n) * rho * (1 - rho)
    )
    v = (total / (n_t * n_c)) * (1 + (n - 1) * rho) + d_t**2 * num / (
        2 * (total - 2) * ((total - 2) - 2 * (n - 1) * rho)
    )
    h = ((total - 2) - 2 * (n - 1) * rho) ** 2 / num
    j = 1 - 3 / (4 * h - 1)
    result = hedges_g(df, cluster="class_id", icc=0.2, **ARMS)
    assert result.measure == "hedges_g_cluster"
    assert result.estimate == pytest.approx(j * d_t, rel=1e-12)
    assert result.std_error == pytest.approx(j * math.sqrt(v), rel=1e-12)
    assert result.df == pytest.approx(h, rel=1e-12)
    assert (result.n_clusters_treatment, result.n_clusters_control) == (4, 4)
    assert "cluster-adjusted (Hedges 2007) for 'class_id'" in str(result)


def test_cluster_adjusted_g_with_zero_icc_is_the_ordinary_g():
    df = _cluster_trial(np.random.default_rng(4), clusters_per_arm=5, sizes=np.arange(3, 13))
    plain = hedges_g(df, **ARMS)
    clustered = hedges_g(df, cluster="class_id", icc=0.0, **ARMS)
    assert clustered.estimate == pytest.approx(plain.estimate, rel=1e-12)
    # Hedges (2007) writes the d^2 term over 2(N - 2), Borenstein et al. over 2N: tiny difference.
    assert clustered.std_error == pytest.approx(plain.std_error, rel=1e-3)


def test_cluster_adjusted_g_is_unbiased_and_covers_in_simulation():
    # 400 cluster-randomized trials, unequal cluster sizes; true delta_T = 0.4, ICC 0.2.
    rng = np.random.default_rng(20240607)
    sizes = np.tile([10, 15, 20, 25, 30], 4)
    est, covered, est_icc = [], 0, []
    for _ in range(400):
        df = _cluster_trial(rng, clusters_per_arm=10, sizes=sizes, icc=0.2, effect=0.4)
        r = hedges_g(df, cluster="class_id", icc=0.2, **ARMS)
        est.append(r.estimate)
        covered += r.ci_low <= 0.4 <= r.ci_high
        est_icc.append(hedges_g(df, cluster="class_id", **ARMS).icc)
    est = np.array(est)
    assert abs(est.mean() - 0.4) < 3 * est.std() / math.sqrt(len(est))  # unbiased
    assert 0.92 <= covered / 400 <= 0.98  # nominal 95% coverage of the normal interval
    # the ANOVA ICC of 20 unequal clusters is biased down (8,000 trials: mean 0.1956, SD 0.066):
    # its bias 0.0044 plus 3 SEs of a 400-trial mean (0.0033), 0.015 (was 0.02)
    assert np.mean(est_icc) == pytest.approx(0.2, abs=0.015)
    # The ordinary g understates the uncertainty of a clustered design badly.
    naive = hedges_g(df, **ARMS).std_error
    assert naive < 0.6 * hedges_g(df, cluster="class_id", icc=0.2, **ARMS).std_error


def test_anova_icc_recovers_known_icc():
    rng = np.random.default_rng(5)
    m, n = 3000, 12
    u = rng.normal(0, math.sqrt(0.15), m)
    codes = np.repeat(np.arange(m), n)
    y = u[codes] + rng.normal(0, math.sqrt(0.85), m * n)
    # 3 SD: 1,000 seeds give SD 0.0051 (mean 0.1499). With 300 clusters (SD 0.016) +-0.02 was
    # 1.2 SD and an ICC 20% off could pass; with 3,000 it fails.
    assert anova_icc(y, codes) == pytest.approx(0.15, abs=0.015)


# --------------------------------------------------------------------------------------------
# Error messages
# --------------------------------------------------------------------------------------------


def test_unknown_arm_level_message():
    df = pd.DataFrame({"arm": ["a", "b", "b"], "posttest": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError) as err:
        hedges_g(df, treatment="video", control="b")
    assert str(err.value) == "unknown arm level 'video': column 'arm' has levels ['a', 'b']"


def test_missing_outcome_column_message():
    df = pd.DataFrame({"arm": ["a", "b"], "student_id": [1, 2]})
    with pytest.raises(ValueError) as err:
        hedges_g(df, treatment="a", control="b")
    assert str(err.value) == (
        "outcome column 'posttest' is not in outcomes; available columns: ['arm', 'student_id']"
    )
    with pytest.raises(ValueError, match=r"^arm column 'condition' is not in outcomes"):
        risk_difference(df, "student_id", "condition", treatment="a", control="b")


def test_too_few_clusters_message():
    df = pd.DataFrame(
        {
            "arm": ["a"] * 4 + ["b"] * 4,
            "class_id": ["k1", "k1", "k2", "k2", "k3", "k3", "k3", "k3"],
            "posttest": [1.0, 2.0, 3.0, 4.0, 2.0, 3.0, 1.0, 2.5],
        }
    )
    with pytest.raises(ValueError) as err:
        hedges_g(df, treatment="a", control="b", cluster="class_id")
    assert str(err.value) == (
        "too few clusters: hedges_g with cluster='class_id' needs at least 2 clusters in each arm, "
        "got 1 in arm 'b'"
    )
    two = df.assign(class_id=["k1"] * 4 + ["k3"] * 4)
    with pytest.raises(ValueError) as err:
        mixed_model(two, treatment="a", control="b", covariates=(), levels=("class_id",))
    assert str(err.value) == (
        "too few clusters: mixed_model needs at least 3 groups of 'class_id', got 2"
    )


def test_other_input_errors():
    df = pd.DataFrame({"arm": ["a", "b", "a", "b"], "posttest": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match=r"hedges_g: icc is only used with cluster=\.\.\."):
        hedges_g(df, treatment="a", control="b", icc=0.1)
    with pytest.raises(ValueError, match="treatment and control must be different arm levels"):
        hedges_g(df, treatment="a", control="a")
    with pytest.raises(
        ValueError, match=r"needs at least 2 students with a non-missing 'posttest'"
    ):
        hedges_g(df.iloc[:3], treatment="a", control="b")
    with pytest.raises(TypeError, match="outcomes must be a pandas DataFrame, got dict"):
        hedges_g({"arm": []}, treatment="a", control="b")
    with pytest.raises(ValueError) as err:
        risk_difference(df, "posttest", treatment="a", control="b")
    assert str(err.value) == (
        "risk_difference: outcome 'posttest' must be binary (0/1 or false/true); "
        "found values [2, 3, 4]"
    )
    mixed = pd.DataFrame(
        {
            "arm": ["a", "b"] * 4,
            "class_id": ["k1", "k1", "k2", "k2", "k3", "k3", "k4", "k4"],
            "posttest": np.arange(8.0),
        }
    )
    with pytest.raises(ValueError, match="cluster 'class_id' is not nested in arm: 4 cluster"):
        hedges_g(mixed, treatment="a", control="b", cluster="class_id")
    text = pd.DataFrame({"arm": ["a", "b"] * 2, "posttest": ["x", "y", "z", "w"]})
    with pytest.raises(ValueError, match="column 'posttest' must be numeric or boolean"):
        hedges_g(text, treatment="a", control="b")


# --------------------------------------------------------------------------------------------
# Risk difference
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        # Newcombe (1998), Table II, method 10 (hybrid score).
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
    ],
)
def test_newcombe_interval_published_values(x1, n1, x2, n2, low, high):
    lo, hi = newcombe_interval(x1, n1, x2, n2)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_newcombe_agrees_with_statsmodels():
    from statsmodels.stats.proportion import confint_proportions_2indep

    for x1, n1, x2, n2 in [(5, 56, 0, 29), (0, 10, 0, 20), (10, 10, 0, 20), (123, 400, 97, 390)]:
        ref = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
        assert newcombe_interval(x1, n1, x2, n2) == pytest.approx(tuple(map(float, ref)), abs=1e-10)


def test_risk_difference_on_outcomes_table():
    dropped = [True] * 56 + [False] * 14 + [True] * 48 + [False] * 32 + [None]
    df = pd.DataFrame(
        {
            "arm": ["blended"] * 70 + ["one-size"] * 80 + ["blended"],
            "dropped_out": pd.array(dropped, dtype="boolean"),
        }
    )
    r = risk_difference(df, treatment="blended", control="one-size")
    assert r.estimate == pytest.approx(0.2)
    assert (r.events_treatment, r.n_treatment, r.n_missing) == (56, 70, 1)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert r.method == "newcombe"
    wald = risk_difference(df, treatment="blended", control="one-size", method="wald")
    se = math.sqrt(0.8 * 0.2 / 70 + 0.6 * 0.4 / 80)
    assert (wald.ci_low, wald.ci_high) == pytest.approx(
        (0.2 - 1.959964 * se, 0.2 + 1.959964 * se), abs=1e-6
    )
    assert str(r).startswith("risk difference = 0.200 [95% CI 0.052, 0.334] (newcombe)")
    assert tuple(r.to_frame().columns[:6]) == TIDY_COLUMNS


@settings(max_examples=60, deadline=None)
@given(
    n1=st.integers(1, 60),
    n2=st.integers(1, 60),
    f1=st.floats(0, 1),
    f2=st.floats(0, 1),
)
def test_newcombe_interval_is_inside_minus_one_one_and_contains_estimate(n1, n2, f1, f2):
    x1, x2 = round(f1 * n1), round(f2 * n2)
    lo, hi = newcombe_interval(x1, n1, x2, n2)
    diff = x1 / n1 - x2 / n2
    assert -1.0 - 1e-12 <= lo <= diff + 1e-12
    assert diff - 1e-12 <= hi <= 1.0 + 1e-12


def test_cluster_risk_difference_widens_with_clustering():
    rng = np.random.default_rng(8)
    m, n = 40, 25
    treated = np.repeat([True, False], m // 2)
    p_cluster = rng.beta(2, 6, m)  # beta-binomial: within-cluster correlation 1/(2+6+1)
    cluster = np.repeat(np.arange(m), n)
    y = rng.random(m * n) < p_cluster[cluster]
    df = pd.DataFrame(
        {"class_id": cluster, "arm": np.where(treated[cluster], "a", "b"), "dropped_out": y}
    )
    plain = risk_difference(df, treatment="a", control="b")
    clus = risk_difference(df, treatment="a", control="b", cluster="class_id")
    assert clus.estimate == pytest.approx(plain.estimate)
    assert clus.method == "newcombe (design-effect adjusted)"
    assert (clus.ci_high - clus.ci_low) > 1.8 * (plain.ci_high - plain.ci_low)
    # design effect ~ 1 + (n - 1) rho = 1 + 24 / 9 = 3.7. One trial estimates it with an SD of
    # 0.78 (2,000 simulated trials of this design: mean 3.69), so +/-1.5 is about 2 SD; the
    # estimator's arithmetic is checked exactly in tests/test_stats_proportions.py.
    assert np.mean([clus.design_effect_treatment, clus.design_effect_control]) == pytest.approx(
        3.7, abs=1.5
    )


# --------------------------------------------------------------------------------------------
# Mixed model
# --------------------------------------------------------------------------------------------


def _three_level(
    rng: np.random.Generator, *, schools: int = 80, classes: int = 4, n: int = 15
) -> pd.DataFrame:
    """School-randomized trial: effect 0.3, pretest slope 0.5, variances 0.1, 0.1, 0.6."""
    size = schools * classes * n
    school = np.repeat(np.arange(schools), classes * n)
    klass = np.tile(np.repeat(np.arange(classes), n), schools)  # class labels repeat across schools
    treated = rng.permutation(np.repeat([True, False], schools // 2))
    u_s = rng.normal(0, math.sqrt(0.1), schools)
    u_c = rng.normal(0, math.sqrt(0.1), (schools, classes))
    pre = rng.standard_normal(size)
    y = (
        0.3 * treated[school]
        + 0.5 * pre
        + u_s[school]
        + u_c[school, klass]
        + rng.normal(0, math.sqrt(0.6), size)
    )
    return pd.DataFrame(
        {
            "student_id": np.arange(size),
            "school_id": [f"s{s}" for s in school],
            "class_id": [f"c{c}" for c in klass],
            "arm": np.where(treated[school], "personalized", "individualized"),
            "pretest_z": pre,
            "posttest_z": y,
        }
    )


def test_mixed_model_recovers_effect_and_variance_components():
    rng = np.random.default_rng(11)
    effects, ses, school_icc, class_icc, resid = [], [], [], [], []
    for _ in range(6):
        r = mixed_model(_three_level(rng), "posttest_z", covariates=["pretest_z"], **ARMS)
        assert r.converged
        te = r.treatment_effect
        effects.append(te["estimate"])
        ses.append(te["std_error"])
        school_icc.append(r.icc["school_id"])
        class_icc.append(r.icc["class_id"])
        resid.append(r.variance_components.set_index("component").loc["residual", "variance"])
        assert te["df"] == 80 - 2  # school-level treatment: K - 2 (Pinheiro & Bates)
        slope = r.coefficients.set_index("term").loc["pretest_z"]
        assert slope["estimate"] == pytest.approx(0.5, abs=4 * slope["std_error"])
    # averages over 6 replications against the truth (conditional ICCs 0.1 / 0.8 = 0.125), to
    # 3 SDs of such an average: 60 simulated fits of this design give SDs of one fit of 0.024
    # (school ICC), 0.015 (class ICC) and 0.0125 (residual), so 0.0097, 0.0060 and 0.0051 for
    # the mean of 6
    assert np.mean(effects) == pytest.approx(0.3, abs=3 * np.mean(ses) / math.sqrt(6))
    assert np.mean(school_icc) == pytest.approx(0.125, abs=0.03)
    assert np.mean(class_icc) == pytest.approx(0.125, abs=0.018)
    assert np.mean(resid) == pytest.approx(0.6, abs=0.015)
    assert tuple(r.to_frame().columns[:6]) == TIDY_COLUMNS
    assert list(r.coefficients["term"]) == ["Intercept", "arm[personalized]", "pretest_z"]
    assert r.n_groups == {"school_id": 80, "class_id": 320}
    assert "random intercepts for school_id; class_id within school_id" in str(r)


def test_two_level_mixed_model_matches_cluster_means_with_balanced_clusters():
    df = _cluster_trial(np.random.default_rng(12), clusters_per_arm=15, sizes=20, icc=0.2)
    mm = mixed_model(df, covariates=(), levels=("class_id",), **ARMS).treatment_effect
    cm = cluster_means_model(df, cluster="class_id", **ARMS).treatment_effect
    # With equal cluster sizes and no covariates, REML GLS equals OLS on cluster means.
    assert mm["estimate"] == pytest.approx(cm["estimate"], rel=1e-6)
    assert mm["std_error"] == pytest.approx(cm["std_error"], rel=1e-3)
    assert mm["df"] == cm["df"] == 28
    assert mm["p_value"] == pytest.approx(cm["p_value"], rel=1e-2)


def test_mixed_model_df_method_normal_uses_z():
    df = _cluster_trial(np.random.default_rng(13), clusters_per_arm=6, sizes=10)
    r = mixed_model(df, covariates=(), levels=("class_id",), df_method="normal", **ARMS)
    assert r.coefficients["df"].isna().all()
    te = r.treatment_effect
    assert te["ci_high"] - te["estimate"] == pytest.approx(1.959964 * te["std_error"], rel=1e-5)


# --------------------------------------------------------------------------------------------
# Binary outcomes: GEE and GLM
# --------------------------------------------------------------------------------------------


def _binary_cluster_trial(rng: np.random.Generator, m: int = 200, n: int = 20) -> pd.DataFrame:
    treated = np.repeat([True, False], m // 2)
    mean = np.where(treated, 0.2, 0.3)
    # beta-binomial clusters with within-cluster correlation 1 / (a + b + 1) = 0.1
    a, b = mean * 9, (1 - mean) * 9
    p = rng.beta(a, b)
    cluster = np.repeat(np.arange(m), n)
    return pd.DataFrame(
        {
            "class_id": cluster,
            "arm": np.where(treated[cluster], "adaptive", "one-size"),
            "dropped_out": pd.array(rng.random(m * n) < p[cluster], dtype="boolean"),
            "pretest": rng.random(m * n),
        }
    )


def test_gee_recovers_log_odds_ratio_and_within_cluster_correlation():
    df = _binary_cluster_trial(np.random.default_rng(21))
    r = binary_model(df, treatment="adaptive", control="one-size", covariates=())
    rates = df.groupby("arm")["dropped_out"].mean()
    log_or = math.log(rates["adaptive"] / (1 - rates["adaptive"])) - math.log(
        rates["one-size"] / (1 - rates["one-size"])
    )
    te = r.treatment_effect
    # equal cluster sizes and a cluster-level arm: GEE fits the arm rates exactly
    assert te["estimate"] == pytest.approx(log_or, abs=1e-6)
    assert te["estimate"] == pytest.approx(
        math.log(0.2 / 0.8) - math.log(0.3 / 0.7), abs=3 * te["std_error"]
    )
    # the working correlation's SD over 60 simulated trials of this design is 0.014 (mean
    # 0.096): +/-0.03 is about 2 SD
    assert r.icc == pytest.approx({"class_id (working correlation)": 0.1}, abs=0.03)
    # the GLM with cluster-robust SE gives the same point estimate, and the same sandwich with
    # equal clusters and a cluster-level arm, up to the CR1 factor G/(G-1) (N-1)/(N-K) that
    # statsmodels applies to the GLM and not to GEE (200 clusters, 4,000 rows, 2 parameters)
    glm = binary_model(df, treatment="adaptive", control="one-size", covariates=(), method="glm")
    assert glm.treatment_effect["estimate"] == pytest.approx(log_or, abs=1e-8)
    cr1 = math.sqrt(200 / 199 * 3999 / 3998)
    assert glm.treatment_effect["std_error"] == pytest.approx(te["std_error"] * cr1, rel=1e-6)
    odds = binary_model(
        df, treatment="adaptive", control="one-size", covariates=(), exponentiate=True
    )
    assert odds.treatment_effect["estimate"] == pytest.approx(math.exp(log_or), rel=1e-6)
    assert "odds ratios" in odds.model


def test_gee_with_covariate_and_bias_reduced_se():
    df = _binary_cluster_trial(np.random.default_rng(22), m=30, n=20)
    robust = binary_model(df, treatment="adaptive", control="one-size", covariates=["pretest"])
    reduced = binary_model(
        df,
        treatment="adaptive",
        control="one-size",
        covariates=["pretest"],
        cov_type="bias_reduced",
    )
    assert list(robust.coefficients["term"]) == ["Intercept", "arm[adaptive]", "pretest"]
    # the Mancl-DeRouen correction inflates the sandwich with few clusters
    assert reduced.treatment_effect["std_error"] > robust.treatment_effect["std_error"]


def test_cluster_means_model_too_few_clusters_message():
    df = _cluster_trial(np.random.default_rng(23), clusters_per_arm=1, sizes=5)
    with pytest.raises(ValueError) as err:
        cluster_means_model(df, cluster="class_id", **ARMS)
    assert str(err.value) == (
        "too few clusters: cluster_means_model with 2 clusters and 0 covariate(s) has 0 degrees "
        "of freedom (J - g - 2); it needs at least 3 clusters"
    )
