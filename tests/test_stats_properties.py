"""Laws the study statistics must obey, on unbalanced and clustered designs (hypothesis).

- Hedges' g changes sign when treatment and control are swapped, and its interval is mirrored:
  with unequal arms, and cluster-adjusted (Hedges 2007) with unequal cluster sizes and an ICC
  above 0, given or estimated. (A formula with the arms' roles exchanged somewhere passes every
  test with equal arms and fails this one.)
- Power is symmetric in the sign of the effect (a one-sided test is in the direction of the
  effect), equals alpha at effect 0, rises with the size of the effect and with the number and
  size of the clusters, and a one-sided test is at least as powerful as a two-sided one.

These laws hold at any noncentrality ``effect / SE``: ``power`` used to return nan beyond about
8 (scipy's noncentral t cdf is nan in its far lower tail), so they were checked below 8 only;
the last test pins the fix (``tests/test_stats_reference.py`` compares that tail with the
integral of its definition).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edstudy.stats import ClusterDesign, IndividualDesign, ThreeLevelDesign, hedges_g, power

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def unbalanced(draw, clustered=False):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows = []
    for arm, shift in (("A", draw(st.floats(-1, 1))), ("B", 0.0)):
        if clustered:
            sizes = rng.integers(2, 12, draw(st.integers(2, 6)))
        else:
            sizes = [draw(st.integers(2, 40))]
        for j, size in enumerate(sizes):
            u = rng.normal(0, 0.5) if clustered else 0.0
            rows += [(arm, f"{arm}{j}", shift + u + e) for e in rng.standard_normal(size)]
    return pd.DataFrame(rows, columns=["arm", "class_id", "posttest"])


def _mirrored(a, b):
    assert b.estimate == pytest.approx(-a.estimate, rel=1e-12, abs=1e-15)
    assert (b.ci_low, b.ci_high) == pytest.approx((-a.ci_high, -a.ci_low), rel=1e-12, abs=1e-15)
    assert b.std_error == pytest.approx(a.std_error, rel=1e-12)
    assert b.p_value == pytest.approx(a.p_value, rel=1e-9, abs=1e-15)
    assert (b.n_treatment, b.n_control) == (a.n_control, a.n_treatment)


@SETTINGS
@given(df=unbalanced())
def test_hedges_g_changes_sign_with_the_arms(df):
    _mirrored(hedges_g(df, treatment="A", control="B"), hedges_g(df, treatment="B", control="A"))


@SETTINGS
@given(df=unbalanced(clustered=True), icc=st.sampled_from([None, 0.05, 0.2, 0.45]))
def test_cluster_adjusted_g_changes_sign_with_the_arms(df, icc):
    kw = dict(cluster="class_id", icc=icc)
    a = hedges_g(df, treatment="A", control="B", **kw)
    b = hedges_g(df, treatment="B", control="A", **kw)
    _mirrored(a, b)
    assert b.df == pytest.approx(a.df, rel=1e-12)
    assert (b.n_clusters_treatment, b.n_clusters_control) == (
        a.n_clusters_control, a.n_clusters_treatment,
    )  # fmt: skip


designs = st.one_of(
    st.builds(IndividualDesign, n=st.integers(8, 400), p_treated=st.sampled_from([0.3, 0.5])),
    st.builds(
        ClusterDesign,
        n_clusters=st.integers(6, 60),
        cluster_size=st.integers(2, 40),
        icc=st.floats(0.0, 0.4),
        p_treated=st.sampled_from([0.25, 0.5]),
    ),
    st.builds(
        ThreeLevelDesign,
        n_schools=st.integers(6, 40),
        classes_per_school=st.integers(1, 5),
        class_size=st.integers(2, 30),
        icc_school=st.floats(0.0, 0.2),
        icc_class=st.floats(0.0, 0.2),
    ),
)


@SETTINGS
@given(design=designs, effect=st.floats(0.01, 1.5), two_sided=st.booleans())
def test_power_is_symmetric_in_the_sign_of_the_effect(design, effect, two_sided):
    up = power(design, effect, two_sided=two_sided)
    assert power(design, -effect, two_sided=two_sided) == pytest.approx(up, rel=1e-12)
    assert 0.0 <= up <= 1.0
    assert power(design, 0.0, two_sided=two_sided) == pytest.approx(0.05, rel=1e-6)


@SETTINGS
@given(design=designs, effect=st.floats(0.01, 1.0), more=st.floats(0.01, 1.0))
def test_power_rises_with_the_effect(design, effect, more):
    for two_sided in (True, False):
        assert (
            power(design, effect + more, two_sided=two_sided)
            >= power(design, effect, two_sided=two_sided) - 1e-12
        )
    # a one-sided test puts all of alpha on the side of the effect
    assert power(design, effect, two_sided=False) >= power(design, effect) - 1e-12


@SETTINGS
@given(
    clusters=st.integers(6, 80),
    extra=st.integers(1, 40),
    size=st.integers(2, 40),
    icc=st.floats(0.0, 0.5),
    effect=st.floats(0.05, 0.8),
)
def test_power_rises_with_the_number_and_size_of_clusters(clusters, extra, size, icc, effect):
    design = ClusterDesign(n_clusters=clusters, cluster_size=size, icc=icc)
    more_clusters = ClusterDesign(n_clusters=clusters + extra, cluster_size=size, icc=icc)
    bigger = ClusterDesign(n_clusters=clusters, cluster_size=size + extra, icc=icc)
    base = power(design, effect)
    assert power(more_clusters, effect) >= base - 1e-12
    assert power(bigger, effect) >= base - 1e-12
    three = dict(classes_per_school=2, class_size=size, icc_school=icc / 2, icc_class=icc / 2)
    schools = ThreeLevelDesign(n_schools=clusters, **three)
    more_schools = ThreeLevelDesign(n_schools=clusters + extra, **three)
    assert power(more_schools, effect) >= power(schools, effect) - 1e-12


def test_power_of_a_large_effect_is_one():
    # noncentrality 11.4, where scipy's nct.cdf(-crit, 150, 11.4) is nan
    assert power(IndividualDesign(n=152, p_treated=0.3), 2.0) == pytest.approx(1.0, abs=1e-15)
    assert power(IndividualDesign(n=152, p_treated=0.3), -2.0, two_sided=False) == 1.0
