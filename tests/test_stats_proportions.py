"""Risk differences and Newcombe's interval on unbalanced and clustered designs, against the
published formulas transcribed here (and, where one exists, an independent library).

- Wilson (1927) score interval, written in its closed form
  ``(2 n p + z^2 -/+ z sqrt(z^2 + 4 n p (1 - p))) / (2 (n + z^2))`` (the implementation uses the
  centre/half-width form, so the two share no expression);
- Newcombe (1998) method 10: ``L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)``,
  ``U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)``; its published Table II rows are in
  ``tests/test_analysis.py``;
- the pooled two-proportion z test, whose square is Pearson's chi-square of the 2x2 table
  (scipy, without continuity correction);
- the ratio-estimator variance of a proportion over clusters (Cochran 1977, sec. 6.11):
  ``M / (M - 1) * sum_j (y_j - p n_j)^2 / N^2``, and the design-effect adjustment of Donner &
  Klar (2000): effective size ``n / deff`` with ``deff = Var_cluster(p) / (p (1 - p) / n)``.

Everything is deterministic arithmetic, so agreement is asked to 1e-12 (relative 1e-10 for
p-values in the tails).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from edstudy.stats import newcombe_interval, risk_difference

Z95 = 1.959963984540054


def wilson(x: float, n: float, z: float) -> tuple[float, float]:
    p = x / n
    root = z * math.sqrt(z * z + 4 * n * p * (1 - p))
    return (2 * n * p + z * z - root) / (2 * (n + z * z)), (2 * n * p + z * z + root) / (
        2 * (n + z * z)
    )


def newcombe(x1, n1, x2, n2, z=Z95):
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt(
        (u1 - p1) ** 2 + (p2 - l2) ** 2
    )


def _table(events_t, n_t, events_c, n_c, cluster_t=None, cluster_c=None):
    y = [1] * events_t + [0] * (n_t - events_t) + [1] * events_c + [0] * (n_c - events_c)
    df = pd.DataFrame({"arm": ["T"] * n_t + ["C"] * n_c, "completed": y})
    if cluster_t is not None:
        df["class_id"] = list(cluster_t) + list(cluster_c)
    return df


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"),
    [(56, 70, 48, 80), (9, 10, 3, 10), (5, 56, 0, 29), (0, 10, 0, 20), (10, 10, 0, 20),
     (1, 3, 40, 41), (12.5, 30.2, 3.25, 7.5), (199, 1000, 3, 12)],
)  # fmt: skip
def test_newcombe_matches_the_transcribed_formula(x1, n1, x2, n2):
    assert newcombe_interval(x1, n1, x2, n2) == pytest.approx(newcombe(x1, n1, x2, n2), abs=1e-12)
    # other levels: z = Phi^-1(0.5 + level / 2)
    for level in (0.8, 0.9, 0.99):
        z = stats.norm.ppf(0.5 + level / 2)
        got = newcombe_interval(x1, n1, x2, n2, confidence=level)
        assert got == pytest.approx(newcombe(x1, n1, x2, n2, z), abs=1e-12)


def test_newcombe_published_example_by_hand():
    # Newcombe (1998) Table II example (a): 56/70 vs 48/80. Wilson limits, closed form:
    # p1 = 0.8: (112 + z^2 -/+ z sqrt(z^2 + 44.8)) / (2 (70 + z^2)) = 0.6918, 0.8770
    # p2 = 0.6: (96 + z^2 -/+ z sqrt(z^2 + 76.8)) / (2 (80 + z^2)) = 0.4905, 0.7004
    l1, u1 = wilson(56, 70, Z95)
    l2, u2 = wilson(48, 80, Z95)
    assert (l1, u1, l2, u2) == pytest.approx((0.6918, 0.8770, 0.4905, 0.7004), abs=5e-5)
    # L = 0.2 - sqrt(0.1082^2 + 0.1004^2) = 0.0524, U = 0.2 + sqrt(0.0770^2 + 0.1095^2) = 0.3339
    assert newcombe_interval(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=5e-5)


def test_newcombe_rejects_empty_arms():
    for n1, n2 in ((0, 5), (5, 0), (-1, 5)):
        with pytest.raises(ValueError, match="needs positive sample sizes"):
            newcombe_interval(0, n1, 0, n2)


def test_unbalanced_risk_difference_by_hand():
    # 18/25 completed in T, 30/75 in C
    r = risk_difference(_table(18, 25, 30, 75), "completed", treatment="T", control="C")
    p1, p2 = 18 / 25, 30 / 75
    assert r.estimate == pytest.approx(p1 - p2, abs=1e-15)
    assert (r.rate_treatment, r.rate_control) == (p1, p2)
    assert (r.events_treatment, r.n_treatment, r.events_control, r.n_control) == (18, 25, 30, 75)
    assert r.std_error == pytest.approx(math.sqrt(p1 * (1 - p1) / 25 + p2 * (1 - p2) / 75))
    assert (r.ci_low, r.ci_high) == pytest.approx(newcombe(18, 25, 30, 75), abs=1e-12)
    # pooled z test: z^2 is Pearson's chi-square of the 2x2 table
    chi2, p_chi2, _, _ = stats.chi2_contingency([[18, 7], [30, 45]], correction=False)
    pooled = 48 / 100
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / 25 + 1 / 75))
    assert z**2 == pytest.approx(chi2, rel=1e-12)
    assert r.p_value == pytest.approx(p_chi2, rel=1e-10)
    assert r.design_effect_treatment is None and r.cluster is None and r.n_missing == 0
    # Wald: d +/- z * the unpooled SE
    w = risk_difference(_table(18, 25, 30, 75), "completed", treatment="T", control="C",
                        method="wald", confidence=0.9)  # fmt: skip
    z90 = stats.norm.ppf(0.95)
    assert (w.ci_low, w.ci_high) == pytest.approx(
        (r.estimate - z90 * r.std_error, r.estimate + z90 * r.std_error), abs=1e-12
    )
    assert w.method == "wald" and w.confidence == 0.9 and w.p_value == r.p_value


def test_no_variation_gives_p_value_one():
    r = risk_difference(_table(0, 10, 0, 30), "completed", treatment="T", control="C")
    assert r.estimate == 0.0 and r.p_value == 1.0 and r.std_error == 0.0
    r = risk_difference(_table(10, 10, 30, 30), "completed", treatment="T", control="C")
    assert r.p_value == 1.0
    # all events in one arm: the pooled SE is positive, the unpooled one is 0
    r = risk_difference(_table(10, 10, 0, 30), "completed", treatment="T", control="C")
    assert r.std_error == 0.0 and r.p_value < 1e-6 and r.ci_high == pytest.approx(1.0)


def _cluster_rd(y, cluster, treated, method="newcombe", confidence=0.95):
    """The clustered risk difference from the transcribed formulas."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    out = {}
    for arm, mask in (("t", treated), ("c", ~treated)):
        ya, ca = y[mask], cluster[mask]
        labels = sorted(set(ca))
        m, n = len(labels), len(ya)
        p = ya.mean()
        totals = np.array([ya[ca == g].sum() for g in labels])
        sizes = np.array([(ca == g).sum() for g in labels])
        var = m / (m - 1) * np.sum((totals - p * sizes) ** 2) / n**2
        binom = p * (1 - p) / n
        deff = var / binom if binom > 0 else 1.0
        out[arm] = (p, n, var, deff)
    (p1, n1, v1, d1), (p2, n2, v2, d2) = out["t"], out["c"]
    se = math.sqrt(v1 + v2)
    if method == "wald":
        ci = (p1 - p2 - z * se, p1 - p2 + z * se)
    else:
        ne1 = n1 / d1 if d1 > 0 else n1
        ne2 = n2 / d2 if d2 > 0 else n2
        ci = newcombe(p1 * ne1, ne1, p2 * ne2, ne2, z)
    p_value = 2 * stats.norm.sf(abs(p1 - p2) / se) if se > 0 else 1.0
    return p1 - p2, se, ci, p_value, d1, d2


def _clustered(rng, sizes_t, sizes_c, rate_t, rate_c, spread=3.0):
    """Beta-binomial clusters of the given sizes: within-cluster correlation 1 / (spread + 1)."""
    rows = []
    for arm, sizes, rate in (("T", sizes_t, rate_t), ("C", sizes_c, rate_c)):
        for j, size in enumerate(sizes):
            p = rng.beta(rate * spread, (1 - rate) * spread)
            rows += [(arm, f"{arm}{j}", int(v)) for v in rng.random(size) < p]
    return pd.DataFrame(rows, columns=["arm", "class_id", "completed"])


@pytest.mark.parametrize("method", ["newcombe", "wald"])
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_clustered_risk_difference_with_unequal_arms_and_clusters(method, confidence):
    rng = np.random.default_rng(17)
    df = _clustered(rng, [3, 8, 15, 30, 4], [12, 2, 9, 20, 25, 7, 40, 5], 0.55, 0.35)
    r = risk_difference(df, "completed", treatment="T", control="C", cluster="class_id",
                        method=method, confidence=confidence)  # fmt: skip
    y = df["completed"].to_numpy(float)
    d, se, ci, p_value, d1, d2 = _cluster_rd(
        y, df["class_id"].to_numpy(), (df["arm"] == "T").to_numpy(), method, confidence
    )
    assert r.estimate == pytest.approx(d, abs=1e-14)
    assert r.std_error == pytest.approx(se, rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx(ci, abs=1e-12)
    assert r.p_value == pytest.approx(p_value, rel=1e-10)
    assert (r.design_effect_treatment, r.design_effect_control) == pytest.approx((d1, d2))
    assert d1 != 1.0 and d2 != 1.0  # the adjustment is exercised in both arms
    label = "newcombe (design-effect adjusted)" if method == "newcombe" else "wald (cluster-robust)"
    assert r.method == label and r.cluster == "class_id"
    assert (r.n_treatment, r.n_control) == (60, 120)
    assert "clustered by 'class_id': design effects" in str(r)


def test_clustered_arm_without_variation():
    # every cluster of C has rate 0: its variance and binomial variance are 0, deff taken as 1
    df = pd.DataFrame(
        {
            "arm": ["T"] * 9 + ["C"] * 6,
            "class_id": ["a"] * 3 + ["b"] * 4 + ["c"] * 2 + ["d"] * 3 + ["e"] * 3,
            "completed": [1, 1, 0, 0, 0, 0, 1, 1, 1] + [0] * 6,
        }
    )
    r = risk_difference(df, "completed", treatment="T", control="C", cluster="class_id")
    y = df["completed"].to_numpy(float)
    d, se, ci, p_value, d1, d2 = _cluster_rd(
        y, df["class_id"].to_numpy(), (df["arm"] == "T").to_numpy()
    )
    assert r.design_effect_control == 1.0 == d2
    assert (r.ci_low, r.ci_high) == pytest.approx(ci, abs=1e-12)
    assert r.std_error == pytest.approx(se) and r.p_value == pytest.approx(p_value)
    # both arms constant: SE 0, p-value 1
    flat = df.assign(completed=[1] * 9 + [0] * 6)
    r = risk_difference(flat, "completed", treatment="T", control="C", cluster="class_id")
    assert r.std_error == 0.0 and r.p_value == 1.0 and r.estimate == 1.0


def test_clustered_errors_name_the_arm():
    df = _table(3, 6, 2, 6, ["a"] * 3 + ["b"] * 3, ["c"] * 6)
    with pytest.raises(ValueError) as err:
        risk_difference(df, "completed", treatment="T", control="C", cluster="class_id")
    assert str(err.value) == (
        "too few clusters: risk_difference with cluster='class_id' needs at least 2 clusters in "
        "each arm, got 1 in arm 'C'"
    )
    df = _table(3, 6, 2, 6, ["a"] * 6, ["c"] * 3 + ["d"] * 3)
    with pytest.raises(ValueError, match="got 1 in arm 'T'"):
        risk_difference(df, "completed", treatment="T", control="C", cluster="class_id")
    with pytest.raises(ValueError, match="method must be 'newcombe' or 'wald', got 'exact'"):
        risk_difference(df, "completed", treatment="T", control="C", method="exact")


@settings(max_examples=60, deadline=None)
@given(
    counts=st.tuples(st.integers(1, 40), st.integers(1, 40)).flatmap(
        lambda n: st.tuples(
            st.just(n[0]), st.integers(0, n[0]), st.just(n[1]), st.integers(0, n[1])
        )  # fmt: skip
    ),
    method=st.sampled_from(["newcombe", "wald"]),
)
def test_swapping_the_arms_negates_the_difference(counts, method):
    n_t, x_t, n_c, x_c = counts
    df = _table(x_t, n_t, x_c, n_c)
    a = risk_difference(df, "completed", treatment="T", control="C", method=method)
    b = risk_difference(df, "completed", treatment="C", control="T", method=method)
    assert b.estimate == -a.estimate
    assert (b.ci_low, b.ci_high) == pytest.approx((-a.ci_high, -a.ci_low), abs=1e-12)
    assert b.std_error == pytest.approx(a.std_error) and b.p_value == pytest.approx(a.p_value)
    assert (b.n_treatment, b.events_treatment) == (a.n_control, a.events_control)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), method=st.sampled_from(["newcombe", "wald"]))
def test_swapping_clustered_arms_negates_the_difference(seed, method):
    rng = np.random.default_rng(seed)
    sizes_t = rng.integers(1, 15, rng.integers(2, 6))
    sizes_c = rng.integers(1, 15, rng.integers(2, 6))
    df = _clustered(rng, sizes_t, sizes_c, 0.6, 0.3)
    kw = dict(cluster="class_id", method=method)
    a = risk_difference(df, "completed", treatment="T", control="C", **kw)
    b = risk_difference(df, "completed", treatment="C", control="T", **kw)
    assert b.estimate == -a.estimate
    assert (b.ci_low, b.ci_high) == pytest.approx((-a.ci_high, -a.ci_low), abs=1e-12)
    assert (b.design_effect_treatment, b.design_effect_control) == pytest.approx(
        (a.design_effect_control, a.design_effect_treatment)
    )


def test_table_and_text():
    df = _table(18, 25, 30, 75)
    df.loc[len(df)] = ["T", None]
    r = risk_difference(df.astype({"completed": "Int8"}), "completed", treatment="T", control="C")
    assert r.n_missing == 1 and r.n_treatment == 25
    frame = r.to_frame()
    assert frame.loc[0, "term"] == "risk_difference" and frame.loc[0, "n_control"] == 75
    assert frame.loc[0, "estimate"] == r.estimate and frame.loc[0, "rate_control"] == 0.4
    text = str(r)
    assert text.splitlines()[1] == "completed: T 18/25 = 0.720 vs C 30/75 = 0.400"
    assert "(newcombe), p " in text.splitlines()[0]


def test_clusters_with_equal_rates_have_no_between_cluster_variance():
    # every T cluster has rate 1/2: Var_cluster = 0 while p (1 - p) / n > 0, so deff = 0 and
    # Newcombe uses the plain n (an effective size n / 0 would be infinite)
    df = pd.DataFrame(
        {
            "arm": ["T"] * 8 + ["C"] * 6,
            "class_id": ["a", "a", "b", "b", "c", "c", "c", "c"] + ["d"] * 3 + ["e"] * 3,
            "completed": [1, 0, 0, 1, 1, 1, 0, 0] + [1, 0, 0, 1, 1, 0],
        }
    )
    r = risk_difference(df, "completed", treatment="T", control="C", cluster="class_id")
    y = df["completed"].to_numpy(float)
    d, se, ci, p_value, d1, d2 = _cluster_rd(
        y, df["class_id"].to_numpy(), (df["arm"] == "T").to_numpy()
    )
    assert r.design_effect_treatment == 0.0 == d1 and r.design_effect_control == pytest.approx(d2)
    assert (r.ci_low, r.ci_high) == pytest.approx(ci, abs=1e-12)
    assert (r.ci_low, r.ci_high) != pytest.approx((-1.0, 1.0))


def test_one_student_in_an_arm_and_the_printed_lines():
    r = risk_difference(_table(1, 1, 3, 9), "completed", treatment="T", control="C")
    assert (r.n_treatment, r.rate_treatment) == (1, 1.0)
    assert (r.ci_low, r.ci_high) == pytest.approx(newcombe(1, 1, 3, 9), abs=1e-12)
    r = risk_difference(_table(18, 25, 30, 75), "completed", treatment="T", control="C",
                        confidence=0.9)  # fmt: skip
    lo, hi = newcombe(18, 25, 30, 75, stats.norm.ppf(0.95))
    assert str(r).splitlines()[0] == (
        f"risk difference = 0.320 [90% CI {lo:.3f}, {hi:.3f}] (newcombe), p {r.p_value:.3f}"
    )
    rng = np.random.default_rng(17)
    df = _clustered(rng, [3, 8, 15, 30, 4], [12, 2, 9, 20, 25, 7, 40, 5], 0.55, 0.35)
    c = risk_difference(df, "completed", treatment="T", control="C", cluster="class_id")
    assert str(c).splitlines()[2] == (
        f"clustered by 'class_id': design effects {c.design_effect_treatment:.2f} (T), "
        f"{c.design_effect_control:.2f} (C)"
    )
    frame = c.to_frame()
    assert frame.loc[0, "method"] == "newcombe (design-effect adjusted)"
    assert (frame.loc[0, "ci_low"], frame.loc[0, "p_value"]) == (c.ci_low, c.p_value)
    assert (frame.loc[0, "n_treatment"], frame.loc[0, "rate_treatment"]) == (60, c.rate_treatment)


def test_equal_rate_clusters_in_the_control_arm_and_empty_arms():
    df = pd.DataFrame(
        {
            "arm": ["C"] * 8 + ["T"] * 6,
            "class_id": ["a", "a", "b", "b", "c", "c", "c", "c"] + ["d"] * 3 + ["e"] * 3,
            "completed": [1, 0, 0, 1, 1, 1, 0, 0] + [1, 0, 0, 1, 1, 0],
        }
    )
    r = risk_difference(df, "completed", treatment="T", control="C", cluster="class_id")
    y = df["completed"].to_numpy(float)
    _, _, ci, _, _, d2 = _cluster_rd(y, df["class_id"].to_numpy(), (df["arm"] == "T").to_numpy())
    assert r.design_effect_control == 0.0 == d2
    assert (r.ci_low, r.ci_high) == pytest.approx(ci, abs=1e-12)
    # an arm whose outcomes are all missing has no students to compare
    gone = _table(3, 6, 2, 6).astype({"completed": "Int8"})
    gone.loc[gone["arm"] == "T", "completed"] = pd.NA
    with pytest.raises(ValueError) as err:
        risk_difference(gone, "completed", treatment="T", control="C")
    assert str(err.value) == (
        "risk_difference needs at least 1 students with a non-missing 'completed' in each arm; "
        "arm 'T' has 0"
    )


def test_result_objects_are_frozen_and_the_level_is_keyword_only():
    r = risk_difference(_table(18, 25, 30, 75), "completed", treatment="T", control="C")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.estimate = 0.0  # type: ignore[misc]
    built = dataclasses.replace(r)
    assert built == r
    fields = {f.name: f.default for f in dataclasses.fields(r)}
    assert fields["n_missing"] == 0 and fields["cluster"] is None
    with pytest.raises(TypeError):
        newcombe_interval(1, 2, 1, 2, 0.9)  # type: ignore[misc]


@pytest.mark.parametrize(("successes", "n"), [(0, 21), (0, 37), (16, 16), (40, 40)])
def test_wilson_bounds_are_exactly_0_and_1_where_rounding_would_push_them_out(successes, n):
    """At 0 successes the lower bound is 0 and at n the upper bound is 1; computed as centre -/+
    half width they come out as -1.1e-16 (0 of 21, 0 of 37) or 1 + 2.2e-16 (16 of 16, 40 of 40),
    which the interval clips."""
    from edstudy.stats.proportions import _wilson

    low, high = _wilson(successes, n, Z95)
    ref_low, ref_high = wilson(successes, n, Z95)
    if successes == 0:
        assert low == 0.0 and high == pytest.approx(ref_high, abs=1e-12)
    else:
        assert high == 1.0 and low == pytest.approx(ref_low, abs=1e-12)
