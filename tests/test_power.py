"""Analytic and simulated power of edstudy.stats.power against published values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from edstudy.stats import cluster_means_model, mixed_model
from edstudy.stats.power import (
    ClusterDesign,
    IndividualDesign,
    PowerEstimate,
    ThreeLevelDesign,
    mdes,
    multiplier,
    power,
    sample_size,
    simulated_power,
)

# --------------------------------------------------------------------------------------------
# Published values
# --------------------------------------------------------------------------------------------


def test_individual_rct_64_per_group_has_80_percent_power():
    # Cohen (1988), Table 2.4.1: d = 0.5, two-sided alpha .05, power .80 needs n = 64 per group;
    # R's power.t.test(n = 64, delta = 0.5) gives 0.8014596 (noncentral t).
    design = IndividualDesign(n=128)
    assert power(design, 0.5) == pytest.approx(0.8014596, abs=1e-6)
    assert sample_size(IndividualDesign(n=10), 0.5) == 128


def test_bloom_multiplier():
    # Bloom (1995, 2005): with many degrees of freedom the MDES is 2.8 standard errors
    # (two-sided alpha .05, power .80); with few df the t quantiles raise it.
    assert multiplier(math.inf) == pytest.approx(1.959964 + 0.841621, abs=1e-6)
    assert multiplier(10) == pytest.approx(stats.t.ppf(0.975, 10) + stats.t.ppf(0.8, 10))
    assert multiplier(10) == pytest.approx(3.107, abs=1e-3)
    assert multiplier(math.inf, two_sided=False) == pytest.approx(1.644854 + 0.841621, abs=1e-6)


# PowerUpR's documented cross-check examples (Bulus, Dong, Kelcey & Spybrook, PowerUpR help pages
# "ira", "cra2r2", "cra3r3"), which implement the PowerUp! formulas of Dong & Maynard (2013),
# Table 3 / Appendix (IRA, CRA2_2r, CRA3_3r). Printed results rounded to 3 decimals.
POWERUP_EXAMPLES = [
    # design, MDES, standardized SE, df
    (IndividualDesign(n=250), 0.356, 0.126, 248),  # mdes.ira1r1(n=250)
    (ClusterDesign(n_clusters=20, cluster_size=15, icc=0.17), 0.629, 0.212, 18),  # mdes.cra2r2
    (
        ThreeLevelDesign(
            n_schools=60, classes_per_school=3, class_size=15, icc_school=0.06, icc_class=0.17
        ),
        0.269,
        0.094,
        58,
    ),  # mdes.cra3r3(rho3=.06, rho2=.17, n=15, J=3, K=60)
]


@pytest.mark.parametrize(("design", "expected", "se", "df"), POWERUP_EXAMPLES)
def test_mdes_matches_powerup_examples(design, expected, se, df):
    assert mdes(design) == pytest.approx(expected, abs=5e-4)
    assert design.standard_error == pytest.approx(se, abs=5e-4)
    assert design.df == df
    # power.cra2r2(es = .629, ...) -> .80: the noncentral-t power at the MDES is the target
    assert power(design, mdes(design)) == pytest.approx(0.80, abs=0.005)


def test_sample_size_against_powerup_mrss():
    # mrss.ira1r1(es=.356) -> 250
    assert sample_size(IndividualDesign(n=10), 0.356) == 250
    # mrss.cra2r2(es=.629, rho2=.17, n=15) -> 20 and mrss.cra3r3(es=.269, ...) -> 60: PowerUpR
    # rounds the solution to the nearest unit; we round up, so where the MDES at the PowerUpR
    # answer is a hair above the target (0.62901 > 0.629) we return one more unit.
    cra2 = ClusterDesign(n_clusters=4, cluster_size=15, icc=0.17)
    assert sample_size(cra2, 0.629) == 21
    assert sample_size(cra2, 0.6291) == 20
    cra3 = ThreeLevelDesign(
        n_schools=4, classes_per_school=3, class_size=15, icc_school=0.06, icc_class=0.17
    )
    assert sample_size(cra3, 0.2692) == 60
    # solving for another field
    j20 = ClusterDesign(n_clusters=20, cluster_size=1, icc=0.17)
    assert sample_size(j20, 0.6291, solve_for="cluster_size") == 15


def test_design_effect_and_covariates():
    plain = ClusterDesign(n_clusters=40, cluster_size=25, icc=0.15)
    assert plain.design_effect == pytest.approx(1 + 24 * 0.15)
    assert plain.standard_error == pytest.approx(
        IndividualDesign(n=1000).standard_error * math.sqrt(plain.design_effect)
    )
    adj = ClusterDesign(
        n_clusters=40, cluster_size=25, icc=0.15, r2_level1=0.5, r2_level2=0.5, n_covariates=1
    )
    assert adj.design_effect == pytest.approx(25 * 0.15 * 0.5 + 0.85 * 0.5)
    assert adj.df == 37
    assert mdes(adj) < mdes(plain)
    three = ThreeLevelDesign(
        n_schools=30, classes_per_school=4, class_size=20, icc_school=0.1, icc_class=0.1
    )
    assert three.design_effect == pytest.approx(1 + (20 - 1) * 0.1 + (80 - 1) * 0.1)
    assert IndividualDesign(n=100, r2=0.5).effective_sample_size == pytest.approx(200)


def test_power_properties():
    d = ClusterDesign(n_clusters=30, cluster_size=20, icc=0.2)
    assert power(d, 0.0) == pytest.approx(0.05, abs=1e-9)  # size of the test
    assert power(d, 0.0, two_sided=False) == pytest.approx(0.05, abs=1e-9)
    values = [power(d, e) for e in (0.1, 0.2, 0.3, 0.4)]
    assert values == sorted(values)
    assert power(d, -0.3) == pytest.approx(power(d, 0.3))
    assert power(d, 0.3, two_sided=False) > power(d, 0.3)
    assert mdes(d, power=0.9) > mdes(d) > mdes(d, alpha=0.1)


def test_design_errors():
    with pytest.raises(ValueError) as err:
        ClusterDesign(n_clusters=3, cluster_size=20, icc=0.2, n_covariates=1)
    assert str(err.value) == (
        "too few clusters: a two-level cluster design with 3 clusters and 1 covariate(s) has 0 "
        "degrees of freedom (J - g - 2); it needs at least 4 clusters"
    )
    with pytest.raises(ValueError, match=r"^too few clusters: a three-level design with 2 schools"):
        ThreeLevelDesign(
            n_schools=2, classes_per_school=2, class_size=10, icc_school=0.1, icc_class=0.1
        )
    with pytest.raises(ValueError, match=r"^icc must be in \[0, 1\), got 1.2"):
        ClusterDesign(n_clusters=10, cluster_size=20, icc=1.2)
    with pytest.raises(ValueError) as err:
        sample_size(
            ClusterDesign(n_clusters=10, cluster_size=5, icc=0.2), 0.5, solve_for="cluster_size"
        )
    assert str(err.value).startswith(
        "cannot reach an MDES of 0.5 by increasing cluster_size: "
        "with cluster_size=10000000 the MDES is still 0.90"
    )
    with pytest.raises(TypeError, match="design must be an IndividualDesign"):
        power({"n": 10}, 0.2)


# --------------------------------------------------------------------------------------------
# Simulation: a standard cluster-randomized design
# --------------------------------------------------------------------------------------------


def simulate_cluster_trial(
    rng: np.random.Generator,
    *,
    n_clusters: int = 40,
    cluster_size: int = 25,
    icc: float = 0.15,
    r2_level1: float = 0.5,
    r2_level2: float = 0.5,
    effect: float = 0.25,
) -> pd.DataFrame:
    """Schools randomized half/half; standardized scores with a pretest explaining R2 at each level.

    ``post = effect * T + u_j + e_ij`` with ``u_j = sqrt(icc) (sqrt(R2_2) z_j + sqrt(1-R2_2) v_j)``
    and ``e_ij = sqrt(1-icc) (sqrt(R2_1) x_ij + sqrt(1-R2_1) w_ij)``. The pretest
    ``a z_j + x_ij`` with ``a = sqrt(icc R2_2 / ((1-icc) R2_1))`` has the same slope at both
    levels, so one pretest covariate explains exactly ``R2_2`` of the between-school and
    ``R2_1`` of the within-school variance: the PowerUp! CRA2_2r model with ``g = 1``.
    """
    j, n = n_clusters, cluster_size
    treated = rng.permutation(np.repeat([False, True], j // 2))
    z, v = rng.standard_normal(j), rng.standard_normal(j)
    x, w = rng.standard_normal((j, n)), rng.standard_normal((j, n))
    u = math.sqrt(icc) * (math.sqrt(r2_level2) * z + math.sqrt(1 - r2_level2) * v)
    e = math.sqrt(1 - icc) * (math.sqrt(r2_level1) * x + math.sqrt(1 - r2_level1) * w)
    post = effect * treated[:, None] + u[:, None] + e
    pre = math.sqrt(icc * r2_level2 / ((1 - icc) * r2_level1)) * z[:, None] + x
    school = np.repeat(np.arange(j), n)
    return pd.DataFrame(
        {
            "student_id": np.arange(j * n),
            "school_id": school,
            "arm": np.where(treated[school], "personalized", "individualized"),
            "pretest_z": pre.ravel(),
            "posttest_z": post.ravel(),
        }
    )


def _cluster_means_p(frame: pd.DataFrame) -> float:
    result = cluster_means_model(
        frame,
        "posttest_z",
        treatment="personalized",
        control="individualized",
        cluster="school_id",
        covariates=["pretest_z"],
    )
    return float(result.treatment_effect["p_value"])


STANDARD_CRT = ClusterDesign(
    n_clusters=40, cluster_size=25, icc=0.15, r2_level1=0.5, r2_level2=0.5, n_covariates=1
)


def test_generator_has_the_stated_variance_structure():
    frame = simulate_cluster_trial(np.random.default_rng(0), n_clusters=2000, effect=0.0)
    # Tolerances are 3 SD: 300 seeds give SDs 0.0083, 0.0032 and 0.0061 (means 1.000, 0.500,
    # 0.150; were 0.03, 0.02, 0.02).
    post = frame["posttest_z"].to_numpy()
    assert post.var() == pytest.approx(1.0, abs=0.025)
    means = frame.groupby("school_id")[["posttest_z", "pretest_z"]].mean()
    within = frame[["posttest_z", "pretest_z"]] - means.loc[frame["school_id"]].to_numpy()
    r_within = np.corrcoef(within["posttest_z"], within["pretest_z"])[0, 1]
    assert r_within**2 == pytest.approx(0.5, abs=0.01)
    icc_post = means["posttest_z"].var() - within["posttest_z"].var() / 24
    assert icc_post == pytest.approx(0.15, abs=0.018)


def test_analytic_and_simulated_power_agree_on_a_cluster_randomized_design():
    # 40 schools x 25 students, ICC 0.15, pretest R2 0.5 at both levels, effect 0.25:
    # PowerUp! CRA2_2r power 0.718; 4000 simulations analysed by OLS on school means.
    analytic = power(STANDARD_CRT, 0.25)
    assert analytic == pytest.approx(0.7185, abs=5e-4)
    simulated = simulated_power(
        simulate_cluster_trial, _cluster_means_p, n_sims=4000, seed=20240607
    )
    # The simulated pretest is drawn, so the trials' power is the exact power (0.707, the
    # noncentral-t power averaged over the covariate's imbalance between arms), not the formula's,
    # which is 0.0115 higher: 60,000 simulations give 0.7079 (SE 0.0019). Tolerance: 3 binomial
    # SEs of 4000 simulations, 0.0216 (was 0.03 around the formula).
    exact = power(STANDARD_CRT, 0.25, exact=True)
    assert 0.0 < analytic - exact < 0.02
    se = math.sqrt(exact * (1 - exact) / simulated.n_sims)
    assert abs(simulated.power - exact) <= 3 * se
    # the interval is Clopper-Pearson's: each bound leaves exactly 2.5% in its tail
    k, n = simulated.n_rejected, simulated.n_sims
    assert stats.binom.sf(k - 1, n, simulated.ci_low) == pytest.approx(0.025, rel=1e-6)
    assert stats.binom.cdf(k, n, simulated.ci_high) == pytest.approx(0.025, rel=1e-6)
    assert simulated.n_failed == 0


def test_simulated_power_interval_covers_at_least_its_confidence():
    """Coverage of the interval computed exactly: for a true power p, the probability over the
    binomial number of rejections k that the interval from k contains p. Clopper-Pearson's is
    at least 95% for every p; a Wald interval or a 90% one falls below it."""
    n = 40
    bounds = []
    for k in range(n + 1):
        p_values = iter([0.0] * k + [1.0] * (n - k))
        # each "data set" is the iterator; its analysis takes the next p-value
        est = simulated_power(lambda rng, it=p_values: it, next, n_sims=n, seed=0)
        assert est.n_rejected == k
        bounds.append((est.ci_low, est.ci_high))
    low, high = np.array(bounds).T
    ks = np.arange(n + 1)
    for p in np.linspace(0.01, 0.99, 99):
        coverage = stats.binom.pmf(ks, n, p)[(low <= p) & (p <= high)].sum()
        assert coverage >= 0.95, p


def test_analytic_and_simulated_power_agree_on_an_individual_rct():
    def simulate(rng: np.random.Generator) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "arm": np.repeat(["video", "text"], 64),
                "score": np.concatenate([rng.normal(0.5, 1, 64), rng.normal(0, 1, 64)]),
            }
        )

    def analyze(frame: pd.DataFrame) -> float:
        return float(
            stats.ttest_ind(
                frame.loc[frame["arm"] == "video", "score"],
                frame.loc[frame["arm"] == "text", "score"],
            ).pvalue
        )

    simulated = simulated_power(simulate, analyze, n_sims=2000, seed=5)
    # the t-test's power is the noncentral-t probability exactly: 3 binomial SEs, 0.027 (was 0.03)
    analytic = power(IndividualDesign(n=128), 0.5)
    assert abs(simulated.power - analytic) <= 3 * math.sqrt(analytic * (1 - analytic) / 2000)


def test_simulated_power_under_the_null_is_alpha():
    sim = simulated_power(
        lambda rng: simulate_cluster_trial(rng, effect=0.0), _cluster_means_p, n_sims=1000, seed=3
    )
    assert sim.ci_low <= 0.05 <= sim.ci_high


def test_simulated_power_is_reproducible_and_reports():
    calls: list[float] = []

    def simulate(rng: np.random.Generator) -> pd.DataFrame:
        value = rng.random()
        calls.append(value)
        return pd.DataFrame({"p": [value]})

    a = simulated_power(simulate, lambda f: f["p"].iloc[0], n_sims=200, seed=42)
    b = simulated_power(simulate, lambda f: f["p"].iloc[0], n_sims=200, seed=42)
    assert a == b
    np.testing.assert_array_equal(a.p_values, b.p_values)
    # p ~ U(0, 1): the rejection rate estimates alpha; the interval is Clopper-Pearson
    ci = stats.binomtest(a.n_rejected, 200).proportion_ci(method="exact")
    assert (a.ci_low, a.ci_high) == pytest.approx((ci.low, ci.high))
    assert str(a).startswith(f"simulated power {a.power:.3f} [95% CI ")
    assert a.to_frame().loc[0, "term"] == "power"
    gen = simulated_power(
        simulate, lambda f: f["p"].iloc[0], n_sims=5, seed=np.random.default_rng(1)
    )
    assert isinstance(gen, PowerEstimate) and gen.seed is None


def test_simulated_power_nan_and_bad_p_values(capsys):
    values = iter([0.01, float("nan"), 0.5, float("nan")])
    with pytest.warns(RuntimeWarning, match="2 of 4 analyses returned NaN"):
        r = simulated_power(lambda rng: pd.DataFrame(), lambda f: next(values), n_sims=4, seed=1)
    assert (r.n_rejected, r.n_failed, r.power) == (1, 2, 0.25)
    with pytest.raises(
        ValueError, match=r"analyze must return a p-value in \[0, 1\], got 1.5 in simulation 0"
    ):
        simulated_power(lambda rng: pd.DataFrame(), lambda f: 1.5, n_sims=3, seed=1)
    simulated_power(lambda rng: pd.DataFrame(), lambda f: 0.5, n_sims=3, seed=1, progress=True)
    assert "simulated power" in capsys.readouterr().err


@pytest.mark.slow
def test_mixed_model_simulated_power_agrees_with_analytic():
    """The standard design analysed by the student-level mixed model (REML, df K - 2)."""

    def analyze(frame: pd.DataFrame) -> float:
        result = mixed_model(
            frame,
            "posttest_z",
            treatment="personalized",
            control="individualized",
            covariates=["pretest_z"],
            levels=("school_id",),
        )
        return float(result.treatment_effect["p_value"])

    simulated = simulated_power(simulate_cluster_trial, analyze, n_sims=1000, seed=11)
    assert abs(simulated.power - power(STANDARD_CRT, 0.25)) <= 0.04


def test_sample_size_needs_a_positive_effect():
    for effect in (0, 0.0, -0.2):
        with pytest.raises(ValueError) as err:
            sample_size(IndividualDesign(n=10), effect)
        assert str(err.value) == f"effect must be > 0, got {effect}"


def test_simulated_power_shows_progress_when_asked(capsys):
    def simulate(rng):
        return rng.normal(size=3)

    simulated_power(simulate, lambda x: 0.5, n_sims=3, seed=1, progress=True)
    assert "simulated power" in capsys.readouterr().err
    simulated_power(simulate, lambda x: 0.5, n_sims=3, seed=1)
    assert "simulated power" not in capsys.readouterr().err


def test_alpha_and_power_must_be_strictly_between_0_and_1():
    design = IndividualDesign(n=100)
    for value in (0.0, 1.0):
        with pytest.raises(ValueError) as err:
            power(design, 0.3, alpha=value)
        assert str(err.value) == f"alpha must be strictly between 0 and 1, got {value}"
        with pytest.raises(ValueError) as err:
            mdes(design, power=value)
        assert str(err.value) == f"power must be strictly between 0 and 1, got {value}"
    with pytest.raises(ValueError) as err:
        mdes(design, power=1.5)
    assert str(err.value) == "power must be strictly between 0 and 1, got 1.5"


def test_covariate_inflation_with_one_spare_unit():
    from edstudy.stats.power import covariate_inflation

    # J - g - 3 = 1: (J - 3) / (J - g - 3) = 2 / 1; with no spare unit it is infinite
    design = ClusterDesign(n_clusters=5, cluster_size=10, icc=0.2, n_covariates=1, r2_level2=0.5)
    assert covariate_inflation(design) == 2.0


def test_exact_mdes_is_the_root_of_the_exact_power():
    from edstudy.stats.power import exact_power

    design = ClusterDesign(n_clusters=20, cluster_size=10, icc=0.2, n_covariates=1, r2_level2=0.5)
    effect = mdes(design, exact=True)
    assert exact_power(design, effect) == pytest.approx(0.8, abs=1e-8)
    assert effect > mdes(design)  # the covariate's chance imbalance costs power


def test_sample_size_is_a_whole_number_and_the_smallest():
    for effect in (0.5, 0.3):
        n = sample_size(IndividualDesign(n=10), effect)
        assert type(n) is int
        assert mdes(IndividualDesign(n=n)) <= effect < mdes(IndividualDesign(n=n - 1))
    design = ClusterDesign(n_clusters=4, cluster_size=15, icc=0.17)
    clusters = sample_size(design, 0.4)
    assert type(clusters) is int and clusters == 47


def test_simulated_power_counts_p_equal_to_alpha_as_not_significant():
    est = simulated_power(lambda rng: None, lambda frame: 0.05, n_sims=4, seed=1)
    assert est.power == 0.0 and est.n_rejected == 0
    with pytest.raises(ValueError) as err:
        simulated_power(lambda rng: None, lambda frame: 0.05, n_sims=0, seed=1)
    assert str(err.value) == "n_sims must be a whole number >= 1, got 0"
