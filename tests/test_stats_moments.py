"""Exact sufficient statistics of cluster-robust means: split, merged, and still the same bits."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edstudy.stats import (
    cluster_moments,
    combine_moments,
    contrast,
    moments_summary,
    summarize,
    summary_from_moments,
)
from edstudy.stats.moments import _expansion_of, _round

BY = ["scenario", "arm"]


def frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = pd.DataFrame(
        {
            "scenario": rng.choice(["a", "b"], n),
            "replication": rng.integers(0, 2, n),
            "arm": rng.choice(["x", "y", "z"], n),
            "class_id": rng.integers(0, 60, n),
            "posttest": rng.random(n),
            "time_on_task": 14_400 + 50 * rng.standard_normal(n),
        }
    )
    f.loc[::7, "posttest"] = np.nan
    return f.sort_values("class_id", kind="stable", ignore_index=True)


def two_pass(f: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The textbook computation: residuals from the group mean, summed per cluster."""
    d = f[np.isfinite(f[metric])].copy()
    d["_r"] = d[metric] - d.groupby(BY)[metric].transform("mean")
    s = d.groupby([*BY, "replication", "class_id"])["_r"].sum() ** 2
    g = s.groupby(BY).agg(["size", "sum"])
    n = d.groupby(BY)[metric].size()
    se = np.sqrt(g["size"] / (g["size"] - 1) * g["sum"]) / n
    return pd.DataFrame({"mean": d.groupby(BY)[metric].mean(), "se": se, "n_units": g["size"]})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e300, 1e300, allow_nan=False), min_size=0, max_size=40))
def test_expansions_round_like_fsum(values):
    e = _expansion_of(np.array(values, dtype=float))
    assert _round(e, len(e)) == math.fsum(values)


@pytest.mark.parametrize("metric", ["posttest", "time_on_task"])
def test_the_same_numbers_as_the_textbook_computation(metric):
    f = frame()
    ours = summarize(f, metrics=[metric], unit="class_id").set_index(BY)
    ref = two_pass(f, metric).loc[ours.index]
    np.testing.assert_allclose(ours["mean"], ref["mean"], rtol=1e-14)
    half = ours["ci_high"] - ours["mean"]
    from scipy.stats import t

    np.testing.assert_allclose(
        half, t.ppf(0.975, ref["n_units"] - 1) * ref["se"], rtol=1e-9, atol=1e-12
    )
    assert (ours["n_units"] == ref["n_units"]).all()


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 59), max_size=6, unique=True), seed=st.integers(0, 1000))
def test_pieces_merge_to_the_same_bits(cuts, seed):
    f = frame(800, seed)
    metrics = ["posttest", "time_on_task"]
    whole = cluster_moments(f, metrics, by=BY, unit="class_id")
    edges = [0, *sorted(cuts), 60]
    pieces = [
        f[(f["class_id"] >= a) & (f["class_id"] < b)]
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    parts = [cluster_moments(p, metrics, by=BY, unit="class_id") for p in pieces]
    merged = combine_moments(parts, BY)
    pd.testing.assert_frame_equal(
        summary_from_moments(merged),
        summarize(f, metrics=metrics, unit="class_id"),
        check_exact=True,
    )
    # in reverse order too: the same numbers (rows in another order)
    back = summary_from_moments(combine_moments(parts[::-1], BY))
    key = [*BY, "metric"]
    pd.testing.assert_frame_equal(
        back.sort_values(key, ignore_index=True),
        summary_from_moments(whole).sort_values(key, ignore_index=True),
        check_exact=True,
    )


def test_constant_values_have_no_spread_and_contrasts_agree():
    f = frame(500).assign(posttest=0.25)
    s = moments_summary(cluster_moments(f, ["posttest"], by=BY, unit="class_id"))
    assert (s["se"] == 0).all() and (s["mean"] == 0.25).all()
    s = moments_summary(
        cluster_moments(f.assign(posttest=0.1), ["posttest"], by=BY, unit="class_id")
    )
    assert ((s["se"] >= 0) & (s["se"] < 1e-16)).all()  # only the rounding of 0.1 and the sums
    g = frame(900)
    c = contrast(g, "y", "x", unit="class_id")
    ours = summarize(g, metrics=["posttest"], unit="class_id").set_index(BY)["mean"]
    np.testing.assert_array_equal(
        c.set_index("scenario")["difference"],
        [ours[(s, "y")] - ours[(s, "x")] for s in c["scenario"]],
    )
