"""Group means, contrasts and paired differences against formulas transcribed here.

- The cluster-robust (CR1) standard error of a mean with G clusters of unequal sizes:
  ``SE^2 = G / (G - 1) * sum_g (sum_{i in g} (y_i - ybar))^2 / n^2``, written with explicit loops;
  with one student per cluster it is the classical ``s / sqrt(n)`` (scipy's ``sem``).
- Intervals ``mean +/- t_{0.975, G - 1} SE``; a difference of independent arms combines the two
  SEs with ``min(G_a, G_b) - 1`` degrees of freedom; paired designs take per-student differences.
- ``paired_differences``: Bonferroni over the ``k (k - 1) / 2`` pairs of ``k`` arms, t quantile on
  ``n - 1`` df.

All closed forms: agreement to 1e-12.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from edstudy.stats import contrast, paired_differences, summarize


def _cr1(y, clusters):
    ybar = sum(y) / len(y)
    total = 0.0
    labels = sorted(set(clusters))
    for g in labels:
        s = sum(v - ybar for v, c in zip(y, clusters, strict=True) if c == g)
        total += s * s
    big_g = len(labels)
    return ybar, math.sqrt(big_g / (big_g - 1) * total / len(y) ** 2), big_g


def _outcomes(rng):
    """Two scenarios x two arms, classes of unequal sizes, two replications, some NaN."""
    rows = []
    sid = 0
    for scenario in ("s1", "s2"):
        for rep in (0, 1):
            for arm, shift, sizes in (("P", 0.1, [3, 9, 4]), ("I", 0.0, [6, 2, 5, 7])):
                for j, size in enumerate(sizes):
                    u = rng.normal(0, 0.1)
                    for _ in range(size):
                        rows.append((scenario, rep, arm, f"{arm}{j}", sid,
                                     0.5 + shift + u + rng.normal(0, 0.1)))  # fmt: skip
                        sid += 1
    df = pd.DataFrame(
        rows, columns=["scenario", "replication", "arm", "class_id", "student_id", "posttest"]
    )
    df.loc[[4, 40], "posttest"] = np.nan
    return df


def test_summary_means_and_cluster_robust_intervals():
    df = _outcomes(np.random.default_rng(1))
    out = summarize(df, metrics=["posttest", "absent"])
    assert list(out.columns) == ["scenario", "arm", "metric", "n_students", "n_units", "mean",
                                 "ci_low", "ci_high"]  # fmt: skip
    assert len(out) == 4 and set(out["metric"]) == {"posttest"}
    for row in out.itertuples():
        g = df[(df.scenario == row.scenario) & (df.arm == row.arm) & df.posttest.notna()]
        # clusters are (replication, class): the same class label in two replications differs
        keys = list(zip(g.replication, g.class_id, strict=True))
        mean, se, big_g = _cr1(g.posttest.tolist(), keys)
        q = stats.t.ppf(0.975, big_g - 1)
        assert (row.n_students, row.n_units) == (len(g), big_g)
        assert row.mean == pytest.approx(mean, abs=1e-12)
        assert (row.ci_low, row.ci_high) == pytest.approx((mean - q * se, mean + q * se), abs=1e-12)


def test_one_student_per_unit_is_the_classical_standard_error():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"arm": ["A"] * 7 + ["B"] * 12, "student_id": range(19),
                       "posttest": rng.random(19)})  # fmt: skip
    out = summarize(df, metrics=["posttest"], by=("arm",), unit="student_id").set_index("arm")
    for arm, n in (("A", 7), ("B", 12)):
        y = df.loc[df.arm == arm, "posttest"]
        half = stats.t.ppf(0.975, n - 1) * stats.sem(y)
        assert out.loc[arm, "ci_high"] - out.loc[arm, "mean"] == pytest.approx(half, rel=1e-12)
        assert out.loc[arm, "mean"] - out.loc[arm, "ci_low"] == pytest.approx(half, rel=1e-12)
    # one unit: no interval
    one = summarize(df.assign(class_id="k"), metrics=["posttest"], by=("arm",))
    assert one["n_units"].tolist() == [1, 1] and one["ci_low"].isna().all()
    assert one["ci_high"].isna().all() and one["mean"].notna().all()


def test_contrast_of_independent_arms_with_unequal_clusters():
    df = _outcomes(np.random.default_rng(3))
    out = contrast(df, "P", "I").set_index("scenario")
    assert list(out.columns) == ["arm", "reference", "metric", "difference", "ci_low", "ci_high"]
    for scenario in ("s1", "s2"):
        parts = []
        for arm in ("P", "I"):
            g = df[(df.scenario == scenario) & (df.arm == arm) & df.posttest.notna()]
            parts.append(_cr1(g.posttest.tolist(), list(zip(g.replication, g.class_id,
                                                            strict=True))))  # fmt: skip
        (ma, sa, ga), (mb, sb, gb) = parts
        d, se = ma - mb, math.sqrt(sa**2 + sb**2)
        q = stats.t.ppf(0.975, min(ga, gb) - 1)  # 6 and 8 clusters: 5 df
        assert min(ga, gb) == 6
        row = out.loc[scenario]
        assert row["difference"] == pytest.approx(d, abs=1e-12)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((d - q * se, d + q * se), abs=1e-12)
    # swapping the arms mirrors the interval
    back = contrast(df, "I", "P").set_index("scenario")
    assert back["difference"].tolist() == pytest.approx((-out["difference"]).tolist())
    assert back["ci_low"].tolist() == pytest.approx((-out["ci_high"]).tolist())
    with pytest.raises(KeyError, match="no arm 'X' in the results"):
        contrast(df, "X", "I")
    with pytest.raises(KeyError, match="no arm 'Y' in the results"):
        contrast(df, "P", "Y")


def test_paired_contrast_takes_differences_per_student():
    rng = np.random.default_rng(4)
    n = 30
    base = pd.DataFrame(
        {"scenario": "s", "replication": np.repeat([0, 1], n // 2),
         "student_id": np.arange(n) % 15, "class_id": np.arange(n) % 4}
    )  # fmt: skip
    a = base.assign(arm="A", posttest=rng.random(n))
    b = base.assign(arm="B", posttest=a["posttest"] - 0.1 + rng.normal(0, 0.05, n))
    df = pd.concat([b, a], ignore_index=True)  # order of rows does not matter
    out = contrast(df, "A", "B", paired=True)
    d = (a["posttest"] - b["posttest"]).tolist()
    mean, se, big_g = _cr1(d, list(zip(base.replication, base.class_id, strict=True)))
    q = stats.t.ppf(0.975, big_g - 1)
    assert big_g == 8
    assert out.loc[0, "difference"] == pytest.approx(mean, abs=1e-12)
    assert (out.loc[0, "ci_low"], out.loc[0, "ci_high"]) == pytest.approx(
        (mean - q * se, mean + q * se), abs=1e-12
    )
    # without grouping columns the whole table is one group
    whole = contrast(df.drop(columns="scenario"), "A", "B", paired=True, by=())
    assert whole.loc[0, "difference"] == pytest.approx(mean, abs=1e-12)
    plain = contrast(df.drop(columns="scenario"), "A", "B", by=())
    assert plain.loc[0, "difference"] == pytest.approx(mean, abs=1e-12)  # same means


def test_paired_differences_bonferroni_by_hand():
    rng = np.random.default_rng(5)
    rows = []
    for model in ("m1", "m2"):
        for student in range(9):
            for arm, shift in (("x", 0.0), ("y", 0.2), ("z", -0.1)):
                rows.append((model, 0, student, arm, shift + rng.normal(0, 0.3)))
    df = pd.DataFrame(rows, columns=["model", "replication", "student_id", "arm", "score"])
    df = df.drop(index=[5])  # student 1 of m1 lacks arm z: that pair has 8 students
    out = paired_differences(df, ["x", "y", "z"], ["score"], confidence=0.9)
    assert len(out) == 2 * 6  # every ordered pair, per model
    alpha = 0.1 / 3  # three pairs among three arms
    for row in out.itertuples():
        g = df[df.model == row.model].pivot(index="student_id", columns="arm", values="score")
        d = (g[row.strategy] - g[row.other]).dropna()
        q = stats.t.ppf(1 - alpha / 2, len(d) - 1)
        se = d.std(ddof=1) / math.sqrt(len(d))
        assert row.n_students == len(d)
        assert row.difference == pytest.approx(d.mean(), abs=1e-12)
        assert (row.ci_low, row.ci_high) == pytest.approx(
            (d.mean() - q * se, d.mean() + q * se), abs=1e-12
        )
    assert sorted(out.loc[out.model == "m1", "n_students"]) == [8, 8, 8, 8, 9, 9]
    # one student: a mean without an interval; two arms: one pair, no correction
    one = paired_differences(df[df.student_id == 0], ["x", "y"], ["score"])
    assert one["n_students"].tolist() == [1] * 4 and one["ci_low"].isna().all()
    two = paired_differences(df[df.model == "m2"], ["x", "y"], ["score"], confidence=0.95)
    g = df[df.model == "m2"].pivot(index="student_id", columns="arm", values="score")
    d = g["x"] - g["y"]
    half = stats.t.ppf(0.975, 8) * d.std(ddof=1) / 3
    assert two.loc[0, "ci_high"] - two.loc[0, "difference"] == pytest.approx(half, rel=1e-12)


def test_two_units_is_the_smallest_interval():
    # G = 2: SE^2 = 2 * sum_g (sum (y - ybar))^2 / n^2 with a t quantile on 1 df
    df = pd.DataFrame({"arm": "A", "class_id": ["a", "a", "b"], "posttest": [1.0, 2.0, 6.0]})
    out = summarize(df, metrics=["posttest"], by=("arm",))
    mean, se, big_g = _cr1([1.0, 2.0, 6.0], ["a", "a", "b"])
    assert big_g == 2 and mean == 3.0
    q = stats.t.ppf(0.975, 1)
    assert (out.loc[0, "ci_low"], out.loc[0, "ci_high"]) == pytest.approx(
        (mean - q * se, mean + q * se), abs=1e-12
    )
    two = pd.concat([df, df.assign(arm="B", posttest=[0.0, 1.0, 2.0])], ignore_index=True)
    c = contrast(two, "A", "B", by=())  # min(2, 2) - 1 = 1 df
    _, se_b, _ = _cr1([0.0, 1.0, 2.0], ["a", "a", "b"])
    half = q * math.sqrt(se**2 + se_b**2)
    assert (c.loc[0, "ci_low"], c.loc[0, "ci_high"]) == pytest.approx((2.0 - half, 2.0 + half))


def test_paired_differences_of_one_or_no_student_are_quiet():
    df = pd.DataFrame(
        {"model": "m", "replication": 0, "student_id": [1, 1, 2], "arm": ["x", "y", "z"],
         "score": [0.5, 0.25, 0.75]}
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "degrees of freedom <= 0" or "mean of empty slice"
        out = paired_differences(df, ["x", "y", "z"], ["score"]).set_index(["strategy", "other"])
    assert out.loc[("x", "y"), "difference"] == 0.25 and out.loc[("x", "y"), "n_students"] == 1
    assert np.isnan(out.loc[("x", "y"), "ci_low"]) and np.isnan(out.loc[("x", "y"), "ci_high"])
    assert out.loc[("x", "z"), "n_students"] == 0 and np.isnan(out.loc[("x", "z"), "difference"])
    # one arm: no pairs, no rows
    assert paired_differences(df, ["x"], ["score"]).empty


def test_groups_in_order_of_appearance_and_unused_categories_left_out():
    df = pd.DataFrame(
        {
            "arm": pd.Categorical(["b", "b", "b", "a", "a", "a"], categories=["a", "b", "z"]),
            "class_id": [1, 1, 2, 3, 4, 4],
            "posttest": [1.0, 2.0, 4.0, 3.0, 4.0, 6.0],
            "pretest": [0.5] * 6,
        }
    )
    out = summarize(df, metrics=["absent", "posttest", "pretest"], by=("arm",))
    assert out["arm"].tolist() == ["b", "a", "b", "a"] and out.index.tolist() == [0, 1, 2, 3]
    assert out["metric"].tolist() == ["posttest", "posttest", "pretest", "pretest"]
    assert out["n_units"].tolist() == [2, 2, 2, 2] and out["n_students"].tolist() == [3] * 4
    row = out.iloc[0]
    mean, se, _ = _cr1([1.0, 2.0, 4.0], [1, 1, 2])
    q = stats.t.ppf(0.975, 1)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((mean - q * se, mean + q * se))
    with pytest.raises(TypeError):
        summarize(df, ["posttest"])  # type: ignore[misc]
    with pytest.raises(TypeError):
        contrast(df, "a", "b", "posttest")  # type: ignore[misc]


def test_paired_differences_defaults_and_order():
    rng = np.random.default_rng(6)
    rows = [
        (model, 0, s, arm, rng.normal())
        for model in ("m2", "m1")
        for s in range(2 if model == "m2" else 6)
        for arm in ("x", "y")
    ]
    df = pd.DataFrame(rows, columns=["model", "replication", "student_id", "arm", "score"])
    df["arm"] = pd.Categorical(df["arm"], categories=["x", "y", "w"])
    out = paired_differences(df, ["x", "y"], ["score"])  # confidence 0.95, one pair
    assert out["model"].tolist() == ["m1", "m1", "m2", "m2"]  # the pivot table sorts groups
    for row in out.itertuples():
        g = df[df.model == row.model].pivot(index="student_id", columns="arm", values="score")
        d = (g[row.strategy] - g[row.other]).dropna()
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
        assert row.ci_high - row.difference == pytest.approx(half, rel=1e-12)  # n = 2 too
    with pytest.raises(TypeError):
        paired_differences(df, ["x", "y"], ["score"], 0.9)  # type: ignore[misc]
