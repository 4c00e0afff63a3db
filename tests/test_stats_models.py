"""Regression models on unbalanced designs, against formulas transcribed here.

What edstudy computes itself is checked against its own reference; what statsmodels fits is
checked through a formula that the fit must satisfy:

- the between-within denominator degrees of freedom of Pinheiro & Bates (2000, sec. 2.4.2), by
  hand for two- and three-level designs with unequal cluster sizes and covariates at each level;
- t intervals and p-values (``estimate +/- t_{df} SE``, ``2 P(T_df > |t|)``) from those df;
- the mixed model's fixed effects as the generalized least squares solution
  ``(X' V^-1 X)^-1 X' V^-1 y`` with ``V`` built from the reported variance components (true of
  the REML/ML estimate at the reported components), and their standard errors against
  ``sqrt(diag((X' V^-1 X)^-1))`` within 3% (statsmodels inverts the observed Hessian instead);
- the cluster-means model as ordinary least squares on cluster means written out, and without
  covariates as the two-sample t test of the cluster means (scipy);
- the logistic GLM's cluster-robust (CR1) covariance, ``c (X'WX)^-1 (sum_g s_g s_g') (X'WX)^-1``
  with ``c = G / (G - 1) (N - 1) / (N - K)``, and the one-way ANOVA ICC of Donner & Koval (1980).

Tolerances: 1e-10 for closed forms; 1e-6 relative for quantities of an iterative fit (the
optimizers stop at gradients of about 1e-6).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from edstudy.stats import binary_model, cluster_means_model, mixed_model
from edstudy.stats.models import _between_within_df, _tidy

ARMS = dict(treatment="T", control="C")


def _two_level(rng, sizes, treated, icc=0.3, effect=0.5):
    """Students in classes of the given sizes; ``treated[j]`` is class j's arm."""
    cls = np.repeat(np.arange(len(sizes)), sizes)
    u = rng.normal(0, math.sqrt(icc), len(sizes))
    pre = rng.standard_normal(cls.size)
    y = effect * np.asarray(treated)[cls] + 0.4 * pre + u[cls] + rng.normal(0, 0.8, cls.size)
    return pd.DataFrame(
        {
            "class_id": [f"k{c:02d}" for c in cls],
            "arm": np.where(np.asarray(treated)[cls], "T", "C"),
            "pretest": pre,
            "posttest": y,
        }
    )


# --------------------------------------------------------------------------- degrees of freedom


def test_between_within_df_by_hand_two_levels():
    # 5 classes of sizes 2, 3, 1, 4, 2 (N = 12); treatment and class size constant within class
    sizes = [2, 3, 1, 4, 2]
    g0 = np.repeat(np.arange(5), sizes)
    data = pd.DataFrame(
        {
            "g0": g0,
            "treated": np.array([1, 0, 1, 0, 1])[g0],
            "x0": np.arange(12.0),  # varies within classes
            "x1": np.array(sizes, float)[g0],  # class-level
        }
    )
    df = _between_within_df(data, ["Intercept", "treated", "x0", "x1"], ["g0"])
    # level 1 (classes): m1 - m0 - p1 = 5 - 1 - 2; level 2 (students): 12 - 5 - 1
    assert df.tolist() == [6.0, 2.0, 6.0, 2.0]
    assert _between_within_df(data, ["Intercept", "treated"], ["g0"]).tolist() == [7.0, 3.0]


def test_between_within_df_by_hand_three_levels():
    # 3 schools with 2, 1 and 3 classes (labels repeat across schools), 15 students
    school = np.array([0] * 5 + [1] * 3 + [2] * 7)
    klass = np.array([0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    data = pd.DataFrame(
        {
            "g0": school,
            "g1": klass,
            "treated": np.array([1, 0, 1])[school],  # school-randomized
            "x0": np.arange(15.0),  # student level
            "x1": (school * 10 + klass).astype(float),  # class level
        }
    )
    cols = ["Intercept", "treated", "x0", "x1"]
    # m = (1, 3 schools, 6 classes, 15 students); p = (1, 1, 1) at the three levels
    # df: schools 3 - 1 - 1 = 1, classes 6 - 3 - 1 = 2, students 15 - 6 - 1 = 8
    assert _between_within_df(data, cols, ["g0", "g1"]).tolist() == [8.0, 1.0, 8.0, 2.0]
    # a class-randomized treatment (varies within schools) sits at the class level
    data["treated"] = ((school * 10 + klass) % 2).astype(float)
    # p = (0, 2, 1): df schools 3 - 1 - 0 = 2 (unused), classes 6 - 3 - 2 = 1, students 8
    assert _between_within_df(data, cols, ["g0", "g1"]).tolist() == [8.0, 1.0, 8.0, 1.0]


# --------------------------------------------------------------------------- tidy table


def test_tidy_intervals_and_p_values_by_hand():
    out = _tidy(["a", "b"], np.array([1.5, -0.2]), np.array([0.5, 0.4]), np.array([4.0, np.nan]),
                0.9)  # fmt: skip
    t4 = stats.t.ppf(0.95, 4)
    z = stats.norm.ppf(0.95)
    assert out["ci_low"].tolist() == pytest.approx([1.5 - t4 * 0.5, -0.2 - z * 0.4], abs=1e-12)
    assert out["ci_high"].tolist() == pytest.approx([1.5 + t4 * 0.5, -0.2 + z * 0.4], abs=1e-12)
    expected = [2 * stats.t.sf(3.0, 4), 2 * stats.norm.sf(0.5)]
    assert out["p_value"].tolist() == pytest.approx(expected, rel=1e-12)
    assert out["term"].tolist() == ["a", "b"] and np.isnan(out["df"][1])


# --------------------------------------------------------------------------- mixed model


def _gls(frame, cols, groups, components, residual):
    """GLS fixed effects and covariance for random intercepts: V_g = sum_k s_k^2 Z_k Z_k' + r I."""
    x = np.column_stack([np.ones(len(frame))] + [frame[c].to_numpy(float) for c in cols])
    y = frame["posttest"].to_numpy(float)
    xtvx = np.zeros((x.shape[1], x.shape[1]))
    xtvy = np.zeros(x.shape[1])
    for _, rows in frame.groupby(groups[0]).indices.items():
        n = len(rows)
        v = residual * np.eye(n)
        for col, s2 in zip(groups, components, strict=True):
            lab = frame[col].to_numpy()[rows] if col == groups[0] else (
                frame[groups[0]].astype(str) + "/" + frame[col].astype(str)
            ).to_numpy()[rows]  # fmt: skip
            v += s2 * (lab[:, None] == lab[None, :])
        vi = np.linalg.inv(v)
        xtvx += x[rows].T @ vi @ x[rows]
        xtvy += x[rows].T @ vi @ y[rows]
    cov = np.linalg.inv(xtvx)
    return cov @ xtvy, np.sqrt(np.diag(cov))


def test_random_intercept_model_is_the_gls_solution_with_unequal_clusters():
    rng = np.random.default_rng(31)
    sizes = [3, 12, 7, 25, 4, 9, 15, 2, 18, 6, 11]
    treated = [1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1]
    df = _two_level(rng, sizes, treated)
    r = mixed_model(df, covariates=["pretest"], levels=("class_id",), **ARMS)
    assert r.converged
    vc = r.variance_components.set_index("component")["variance"]
    beta, se = _gls(df.assign(treated=df["arm"].eq("T").astype(float)), ["treated", "pretest"],
                    ["class_id"], [vc["class_id"]], vc["residual"])  # fmt: skip
    coef = r.coefficients.set_index("term")
    assert coef["estimate"].tolist() == pytest.approx(beta.tolist(), rel=1e-6)
    # statsmodels takes the fixed effects' covariance from the inverse observed Hessian over all
    # parameters, nlme and lme4 from (X' V^-1 X)^-1: they differ by O(1 / clusters), 1.1% at most
    # here; 3% tells that apart from an SE of the wrong model (e.g. ignoring the clustering: -40%)
    assert coef["std_error"].tolist() == pytest.approx(se.tolist(), rel=0.03)
    # between-within df: 11 classes - 2 for the class-level arm; 112 - 11 - 1 for the rest
    assert coef["df"].tolist() == [100.0, 9.0, 100.0]
    te = r.treatment_effect
    q = stats.t.ppf(0.975, 9)
    assert (te["ci_low"], te["ci_high"]) == pytest.approx(
        (te["estimate"] - q * te["std_error"], te["estimate"] + q * te["std_error"]), rel=1e-12
    )
    shares = vc / vc.sum()
    assert r.icc == pytest.approx({"class_id": shares["class_id"]})
    assert r.variance_components["std_dev"].tolist() == pytest.approx(np.sqrt(vc).tolist())
    assert r.n_obs == 112 and r.n_groups == {"class_id": 11} and r.n_missing == 0


def test_nested_model_is_the_gls_solution_with_unequal_schools_and_classes():
    rng = np.random.default_rng(32)
    rows = []
    for s, (n_classes, arm) in enumerate([(2, "T"), (3, "C"), (1, "T"), (4, "C"), (2, "T"),
                                         (3, "C"), (2, "T"), (1, "C")]):  # fmt: skip
        u_s = rng.normal(0, 0.5)
        for c in range(n_classes):
            u_c = rng.normal(0, 0.4)
            for _ in range(rng.integers(3, 12)):
                pre = rng.standard_normal()
                y = 0.3 * (arm == "T") + 0.5 * pre + u_s + u_c + rng.normal(0, 0.7)
                rows.append((f"s{s}", f"c{c}", arm, pre, y))
    df = pd.DataFrame(rows, columns=["school_id", "class_id", "arm", "pretest", "posttest"])
    r = mixed_model(df, **ARMS)  # levels ("school_id", "class_id"), covariate pretest
    vc = r.variance_components.set_index("component")["variance"]
    beta, se = _gls(df.assign(treated=df["arm"].eq("T").astype(float)), ["treated", "pretest"],
                    ["school_id", "class_id"], [vc["school_id"], vc["class_id"]],
                    vc["residual"])  # fmt: skip
    coef = r.coefficients.set_index("term")
    assert coef["estimate"].tolist() == pytest.approx(beta.tolist(), rel=1e-5, abs=1e-8)
    assert coef["std_error"].tolist() == pytest.approx(se.tolist(), rel=0.03)  # as above
    n_classes = df.groupby(["school_id", "class_id"]).ngroups
    # school-randomized arm: 8 schools - 1 - 1; pretest and intercept: N - classes - 1
    assert coef.loc["arm[T]", "df"] == 6.0
    assert coef.loc["pretest", "df"] == len(df) - n_classes - 1
    assert r.n_groups == {"school_id": 8, "class_id": n_classes}


def test_mixed_model_options_and_messages():
    rng = np.random.default_rng(33)
    df = _two_level(rng, [4, 6, 5, 3, 7, 4], [1, 0, 1, 0, 1, 0])
    ml = mixed_model(df, covariates=(), levels=("class_id",), reml=False, **ARMS)
    assert "linear mixed model (ML): posttest ~ arm[T]; random intercepts for class_id" in ml.model
    assert ml.coefficients["term"].tolist() == ["Intercept", "arm[T]"]
    reml = mixed_model(df, covariates=(), levels=("class_id",), **ARMS)
    assert "(REML)" in reml.model and "df: between-within" in reml.model
    # ML variance components are smaller than REML's (no degrees-of-freedom correction)
    assert ml.variance_components["variance"].sum() < reml.variance_components["variance"].sum()
    for levels in ((), ("a", "b", "c")):
        with pytest.raises(ValueError, match="levels must name one or two clustering columns"):
            mixed_model(df, levels=levels, **ARMS)
    with pytest.raises(ValueError, match="df_method must be 'between-within' or 'normal'"):
        mixed_model(df, covariates=(), levels=("class_id",), df_method="kr", **ARMS)
    with pytest.raises(ValueError, match=r"level column 'school_id' is not in outcomes"):
        mixed_model(df, covariates=(), **ARMS)
    one = df[(df["arm"] == "C") | (df.index == 0)]
    with pytest.raises(ValueError, match="needs at least 2 students .* arm 'T' has 1"):
        mixed_model(one, covariates=(), levels=("class_id",), **ARMS)
    assert "observations; groups class_id: 6" in str(reml)
    nested = df.assign(school_id=np.where(df["class_id"] < "k03", "s1", "s2"))
    with pytest.raises(ValueError) as err:
        mixed_model(nested, covariates=(), levels=("school_id", "class_id"), **ARMS)
    assert str(err.value) == (
        "too few clusters: mixed_model needs at least 3 groups of 'school_id', got 2"
    )


# --------------------------------------------------------------------------- cluster means


def test_cluster_means_model_is_ols_on_cluster_means():
    rng = np.random.default_rng(34)
    sizes = [3, 12, 7, 25, 4, 9, 15, 2, 18]
    treated = [1, 0, 1, 0, 1, 0, 1, 1, 0]
    df = _two_level(rng, sizes, treated)
    means = df.groupby("class_id").agg(
        y=("posttest", "mean"), x=("pretest", "mean"), t=("arm", lambda a: float(a.iloc[0] == "T"))
    )
    # without covariates: the pooled two-sample t test of the cluster means
    r = cluster_means_model(df, cluster="class_id", **ARMS)
    tt = stats.ttest_ind(means.y[means.t == 1], means.y[means.t == 0])
    te = r.treatment_effect
    assert te["estimate"] == pytest.approx(
        means.y[means.t == 1].mean() - means.y[means.t == 0].mean(), abs=1e-12
    )
    assert te["estimate"] / te["std_error"] == pytest.approx(tt.statistic, rel=1e-10)
    assert te["p_value"] == pytest.approx(tt.pvalue, rel=1e-10)
    assert te["df"] == 7 and r.n_groups == {"class_id": 9} and r.n_obs == sum(sizes)
    # with the cluster-mean pretest: beta = (X'X)^-1 X'y, cov = s^2 (X'X)^-1, s^2 = RSS / (J - 3)
    r = cluster_means_model(df, cluster="class_id", covariates=["pretest"], **ARMS)
    x = np.column_stack([np.ones(9), means.t, means.x])
    beta = np.linalg.solve(x.T @ x, x.T @ means.y.to_numpy())
    rss = np.sum((means.y.to_numpy() - x @ beta) ** 2)
    se = np.sqrt(np.diag(rss / 6 * np.linalg.inv(x.T @ x)))
    coef = r.coefficients.set_index("term")
    assert coef["estimate"].tolist() == pytest.approx(beta.tolist(), abs=1e-10)
    assert coef["std_error"].tolist() == pytest.approx(se.tolist(), rel=1e-10)
    assert coef["df"].tolist() == [6.0] * 3
    assert r.model == "OLS on class_id means: posttest ~ arm[T] + pretest"


def test_cluster_means_model_messages():
    rng = np.random.default_rng(35)
    df = _two_level(rng, [3, 4, 5, 6], [1, 0, 1, 0])
    with pytest.raises(ValueError) as err:
        cluster_means_model(df, cluster="class_id", covariates=["pretest", "posttest"], **ARMS)
    assert str(err.value) == (
        "too few clusters: cluster_means_model with 4 clusters and 2 covariate(s) has 0 degrees "
        "of freedom (J - g - 2); it needs at least 5 clusters"
    )
    assert cluster_means_model(df, cluster="class_id", covariates=["pretest"], **ARMS)
    constant = df.assign(size=1.0)
    with pytest.raises(ValueError, match="rank deficient"):
        cluster_means_model(constant, cluster="class_id", covariates=["size"], **ARMS)
    gone = df.assign(posttest=np.where(df["arm"] == "T", np.nan, df["posttest"]))
    with pytest.raises(ValueError, match="needs clusters in each arm, got 0 in 'T'"):
        cluster_means_model(gone, cluster="class_id", **ARMS)
    gone = df.assign(posttest=np.where(df["arm"] == "C", np.nan, df["posttest"]))
    with pytest.raises(ValueError, match="needs clusters in each arm, got 0 in 'C'"):
        cluster_means_model(gone, cluster="class_id", **ARMS)


def test_cluster_means_model_with_two_covariates_is_ols_on_cluster_means():
    rng = np.random.default_rng(36)
    sizes = [3, 12, 7, 25, 4, 9, 15, 2, 18, 6]
    df = _two_level(rng, sizes, [1, 0, 1, 0, 1, 0, 1, 1, 0, 0])
    df["age"] = rng.normal(12, 1, len(df))
    means = df.groupby("class_id").agg(
        y=("posttest", "mean"),
        x=("pretest", "mean"),
        a=("age", "mean"),
        t=("arm", lambda a: float(a.iloc[0] == "T")),
    )
    r = cluster_means_model(df, cluster="class_id", covariates=["pretest", "age"], **ARMS)
    x = np.column_stack([np.ones(10), means.t, means.x, means.a])
    beta = np.linalg.solve(x.T @ x, x.T @ means.y.to_numpy())
    coef = r.coefficients.set_index("term")
    assert coef["estimate"].tolist() == pytest.approx(beta.tolist(), abs=1e-10)
    assert coef.index.tolist() == ["Intercept", "arm[T]", "pretest", "age"]
    assert coef["df"].tolist() == [6.0] * 4


# --------------------------------------------------------------------------- binary outcomes


def _binary(rng, sizes, treated):
    cls = np.repeat(np.arange(len(sizes)), sizes)
    logit = -0.5 + 0.8 * np.asarray(treated)[cls] + rng.normal(0, 0.7, len(sizes))[cls]
    pre = rng.random(cls.size)
    y = rng.random(cls.size) < 1 / (1 + np.exp(-(logit + pre)))
    return pd.DataFrame(
        {"class_id": cls, "arm": np.where(np.asarray(treated)[cls], "T", "C"), "pretest": pre,
         "dropped_out": y}
    )  # fmt: skip


def test_glm_cluster_robust_covariance_is_cr1():
    rng = np.random.default_rng(36)
    sizes = [5, 20, 8, 13, 30, 4, 11, 9]
    df = _binary(rng, sizes, [1, 0, 1, 0, 1, 0, 1, 0])
    r = binary_model(df, method="glm", **ARMS)
    beta = r.coefficients["estimate"].to_numpy()
    x = np.column_stack([np.ones(len(df)), df["arm"].eq("T"), df["pretest"]]).astype(float)
    y = df["dropped_out"].to_numpy(float)
    mu = 1 / (1 + np.exp(-(x @ beta)))
    assert x.T @ (y - mu) == pytest.approx(np.zeros(3), abs=1e-6)  # the score equations
    bread = np.linalg.inv(x.T @ (x * (mu * (1 - mu))[:, None]))
    scores = np.array([x[g].T @ (y[g] - mu[g]) for g in df.groupby("class_id").indices.values()])
    n, k, g = len(y), 3, len(sizes)
    cov = g / (g - 1) * (n - 1) / (n - k) * bread @ (scores.T @ scores) @ bread
    assert r.coefficients["std_error"].tolist() == pytest.approx(np.sqrt(np.diag(cov)), rel=1e-5)
    # the reported ICC is the one-way ANOVA estimate (Donner & Koval 1980), unequal sizes
    means = df.groupby("class_id")["dropped_out"].agg(["mean", "size", "sum"])
    grand = y.mean()
    msb = np.sum(means["size"] * (means["mean"] - grand) ** 2) / (g - 1)
    msw = np.sum((y - means["mean"].to_numpy()[df["class_id"]]) ** 2) / (n - g)
    n0 = (n - np.sum(means["size"] ** 2) / n) / (g - 1)
    icc = max(0.0, (msb - msw) / (msb + (n0 - 1) * msw))
    assert r.icc["class_id (ANOVA ICC of the outcome)"] == pytest.approx(icc, rel=1e-10)
    assert "logistic GLM, cluster-robust SE by class_id" in r.model


def test_binary_model_options_and_messages():
    rng = np.random.default_rng(37)
    df = _binary(rng, [6, 9, 7, 8, 10, 5], [1, 0, 1, 0, 1, 0])
    gee = binary_model(df, covariates=(), **ARMS)
    odds = binary_model(df, covariates=(), exponentiate=True, **ARMS)
    for col in ("estimate", "ci_low", "ci_high"):
        assert odds.coefficients[col].tolist() == pytest.approx(np.exp(gee.coefficients[col]))
    assert odds.coefficients["std_error"].tolist() == gee.coefficients["std_error"].tolist()
    te = gee.treatment_effect
    assert te["ci_high"] - te["estimate"] == pytest.approx(1.959964 * te["std_error"], rel=1e-6)
    assert np.isnan(gee.coefficients["df"]).all() and gee.n_groups == {"class_id": 6}
    assert gee.variance_components["component"].tolist() == ["class_id (working correlation)"]
    with pytest.raises(ValueError, match="cov_type must be 'robust' or 'bias_reduced'"):
        binary_model(df, cov_type="hc3", **ARMS)
    with pytest.raises(ValueError, match="method must be 'gee' or 'glm', got 'probit'"):
        binary_model(df, method="probit", **ARMS)
    two = df[df["class_id"].isin([0, 1])]
    with pytest.raises(ValueError, match="needs at least 3 clusters of 'class_id', got 2"):
        binary_model(two, **ARMS)
    assert binary_model(df[df["class_id"] < 3], covariates=(), **ARMS).n_groups == {"class_id": 3}


def test_smallest_designs_each_model_accepts():
    rng = np.random.default_rng(38)
    # three clusters, the least a mixed model takes
    df = _two_level(rng, [5, 6, 7], [1, 0, 1])
    r = mixed_model(df, covariates=(), levels=("class_id",), **ARMS)
    assert r.n_groups == {"class_id": 3} and r.treatment_effect["df"] == 1.0
    # one cluster in an arm is enough for OLS on cluster means (df = 4 - 0 - 2)
    df = _two_level(rng, [5, 6, 7, 8], [1, 0, 0, 0])
    assert cluster_means_model(df, cluster="class_id", **ARMS).treatment_effect["df"] == 2.0
    # df = 4 - 1 - 2 = 1 with one covariate
    one = cluster_means_model(df, cluster="class_id", covariates=["pretest"], **ARMS)
    assert one.treatment_effect["df"] == 1.0


def test_results_print_what_they_hold_and_are_frozen():
    rng = np.random.default_rng(39)
    df = _two_level(rng, [4, 6, 5, 3, 7, 4], [1, 0, 1, 0, 1, 0])
    df.loc[0, "posttest"] = np.nan
    r = mixed_model(df, covariates=(), levels=("class_id",), **ARMS)
    text = str(r).splitlines()
    assert text[1] == "28 observations; groups class_id: 6; 1 rows left out for missing values"
    assert "WARNING" not in str(r) and "residual" in str(r)  # the variance components, printed
    # the tables print without their row index: the first column is the term / component
    assert text[2].split() == [
        "term",
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
        "p_value",
        "df",
    ]
    assert text[3].split()[0] == "Intercept" and text[4].split()[0] == "arm[T]"
    assert text[5].split() == ["component", "variance", "std_dev", "share"]
    assert text[6].split()[0] == "class_id" and text[7].split()[0] == "residual"
    assert "WARNING: the optimizer did not report convergence" in str(
        dataclasses.replace(r, converged=False)
    )
    assert "fitted" not in repr(r) and r.n_missing == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.n_obs = 0  # type: ignore[misc]
    defaults = {f.name: f.default for f in dataclasses.fields(r)}
    assert defaults["confidence"] == 0.95 and defaults["fitted"] is None
    cm = cluster_means_model(df, cluster="class_id", **ARMS)
    assert cm.converged and cm.variance_components.empty and cm.icc == {}
    assert "residual" not in str(cm) and str(cm).splitlines()[1] == (
        "28 observations; groups class_id: 6; 1 rows left out for missing values"
    )
    te = cm.treatment_effect  # default level 95%, t on J - 2 = 4 df
    q = stats.t.ppf(0.975, 4)
    assert (te["ci_low"], te["ci_high"]) == pytest.approx(
        (te["estimate"] - q * te["std_error"], te["estimate"] + q * te["std_error"]), rel=1e-12
    )


def test_binary_model_needs_a_binary_outcome_in_both_arms():
    rng = np.random.default_rng(40)
    df = _binary(rng, [6, 9, 7, 8, 10, 5], [1, 0, 1, 0, 1, 0])
    assert binary_model(df, covariates=(), **ARMS).converged
    with pytest.raises(ValueError, match="outcome 'pretest' must be binary"):
        binary_model(df.assign(pretest=df["pretest"] * 3), "pretest", covariates=(), **ARMS)
    gone = df.assign(dropped_out=df["dropped_out"].astype("boolean"))
    gone.loc[gone["arm"] == "T", "dropped_out"] = pd.NA
    with pytest.raises(ValueError, match="needs at least 1 students .* arm 'T' has 0"):
        binary_model(gone, covariates=(), **ARMS)
