"""Exact power with an estimated covariate: the formula's overstatement with few randomized units,
and agreement of the exact figure with simulated trials (edstudy.stats.trial_simulation)."""

from __future__ import annotations

import math

import pytest

from edstudy.stats.power import (
    ClusterDesign,
    IndividualDesign,
    ThreeLevelDesign,
    covariate_inflation,
    exact_power,
    mdes,
    power,
    sample_size,
)
from edstudy.stats.trial_simulation import simulation_check


def _design(j: int, size: int = 20, p_treated: float = 0.5) -> ClusterDesign:
    return ClusterDesign(
        n_clusters=j,
        cluster_size=size,
        icc=0.2,
        r2_level1=0.5,
        r2_level2=0.5,
        n_covariates=1,
        p_treated=p_treated,
    )


@pytest.mark.parametrize(("j", "points"), [(40, 1), (10, 5), (6, 10), (5, 12)])
def test_formula_overstates_power_by_the_points_the_issue_measured(j, points):
    d = _design(j)
    effect = mdes(d)  # the formula's 80% effect
    gap = 100 * (power(d, effect) - exact_power(d, effect))
    assert gap == pytest.approx(points, abs=0.5)


def test_inflation_factor_and_no_change_without_covariates():
    assert covariate_inflation(_design(10)) == pytest.approx(7 / 6)  # (J - 3) / (J - 4)
    assert covariate_inflation(_design(40)) == pytest.approx(37 / 36)
    two = ClusterDesign(n_clusters=12, cluster_size=20, icc=0.2, r2_level2=0.5, n_covariates=2)
    assert covariate_inflation(two) == pytest.approx(9 / 7)  # (J - 3) / (J - g - 3)
    assert math.isinf(covariate_inflation(_design(4)))
    bare = ClusterDesign(n_clusters=6, cluster_size=20, icc=0.2)
    assert covariate_inflation(bare) == 1.0
    assert exact_power(bare, 0.8) == pytest.approx(power(bare, 0.8), abs=1e-12)
    assert power(_design(8), 0.9, exact=True) == exact_power(_design(8), 0.9)
    # individual and three-level designs count their own randomized units
    ind = IndividualDesign(n=12, r2=0.5, n_covariates=1)
    assert covariate_inflation(ind) == pytest.approx(9 / 8)
    three = ThreeLevelDesign(n_schools=8, classes_per_school=2, class_size=10, icc_school=0.1,
                             icc_class=0.1, r2_level3=0.5, n_covariates=1)  # fmt: skip
    assert exact_power(three, 0.6) < power(three, 0.6)


def test_exact_mdes_and_sample_size_reach_their_target():
    d = _design(10)
    m = mdes(d, exact=True)
    assert exact_power(d, m) == pytest.approx(0.80, abs=1e-6)
    assert m > mdes(d)
    assert sample_size(d, 0.6, exact=True) >= sample_size(d, 0.6)
    assert mdes(_design(40), exact=True) == pytest.approx(mdes(_design(40)), rel=0.02)


@pytest.mark.parametrize(("j", "p_treated"), [(5, 0.4), (6, 0.5)])
def test_exact_power_agrees_with_simulated_trials_where_the_formula_does_not(j, p_treated):
    """1000 trials simulated from the formula's own model (clusters of 4), analysed by OLS on
    cluster means with the pretest mean. Monte Carlo SE of a power near 0.65-0.7 is about 0.015:
    the exact figure must be within 3 SE (0.045) of the simulated share, the formula 10-12
    points above it at least 4 SE (0.06) away. (5 clusters: 2 treated, so the design says
    p_treated = 0.4, as simulated.)"""
    d = _design(j, size=4, p_treated=p_treated)
    effect = mdes(d)
    check = simulation_check(d, [j], effect=effect, n_sims=1000, seed=11).iloc[0]
    se = math.sqrt(check["simulated"] * (1 - check["simulated"]) / 1000)
    assert check["exact"] == pytest.approx(exact_power(d, effect))
    assert abs(check["simulated"] - check["exact"]) <= 3 * se
    assert check["analytic"] - check["simulated"] >= 4 * se
