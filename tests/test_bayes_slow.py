"""Slow calibration checks of the Bayesian models (``pytest -m slow``, run by ``make bench``).

- Simulation-based calibration (Talts et al. 2018) of the hierarchical BKT population parameters:
  uniform ranks and nominal 90 % coverage over parameters drawn from the prior.
- Repeated simulations at a fixed truth: population parameters inside their 90 % intervals at
  about the nominal rate.
- The meshing test over repeated studies: with no effect the 90 % interval covers 0 at about the
  nominal rate; with a true effect it covers the truth and excludes 0.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("pymc")

pytestmark = pytest.mark.slow


def _binomial_floor(n: int, p: float = 0.9, alpha: float = 0.001) -> int:
    """Smallest count of hits that a nominal-rate procedure falls below with prob. < alpha."""
    return int(stats.binom.ppf(alpha, n, p))


def test_sbc_hierarchical_bkt_population_parameters():
    from edstudy.bayes.sbc import sbc_hbkt, sbc_uniformity

    n_rep = 60
    ranks = sbc_hbkt(n_replicates=n_rep, n_ranks=99, seed=7)
    table = sbc_uniformity(ranks, n_ranks=99, bins=5)
    # ten parameters: Bonferroni at an overall 0.5 % level. Ranks of a spread parameter whose
    # true value is near 0 pile up at 0 (the data cannot tell 0.01 from 0.2), balanced by fewer
    # low ranks elsewhere; with 60 replicates that makes its histogram the noisiest.
    assert (table["p_value"] > 0.005 / len(table)).all(), table
    n = len(ranks)
    assert ranks["covered"].sum() >= _binomial_floor(n), ranks["covered"].mean()
    assert ranks["covered"].mean() <= 0.97


def test_repeated_recovery_at_fixed_truth_has_nominal_coverage():
    from edstudy.bayes import FitSettings
    from edstudy.bayes.hbkt import fit_hbkt
    from edstudy.bayes.synthetic import simulate_hbkt

    rng = np.random.default_rng(3)
    hits = []
    for _ in range(12):
        log, truth = simulate_hbkt(
            n_students=200,
            n_skills=3,
            n_opportunities=15,
            mu_prior=[-1.0, -0.3, 0.4],
            mu_learn=[-1.2, -2.0, -1.6],
            sigma_prior=0.8,
            sigma_learn=0.5,
            guess=[0.15, 0.25, 0.3],
            slip=[0.05, 0.1, 0.15],
            seed=rng,
        )
        idata = fit_hbkt(
            log,
            settings=FitSettings(draws=400, tune=400, chains=2, cores=1),
            seed=int(rng.integers(2**31)),
        )
        for name, value in truth.population().items():
            x = idata.posterior[name].to_numpy().reshape(-1, *np.shape(value))
            lo, hi = np.quantile(x, [0.05, 0.95], axis=0)
            hits.extend(np.atleast_1d((lo <= value) & (value <= hi)).tolist())
    assert sum(hits) >= _binomial_floor(len(hits)), np.mean(hits)


def test_meshing_over_repeated_studies():
    from edstudy.bayes import FitSettings
    from edstudy.bayes.meshing import fit_meshing, meshing_summary
    from edstudy.bayes.synthetic import simulate_meshing

    rng = np.random.default_rng(11)
    n_rep = 12
    for effect in (0.0, 0.08):
        covers_truth = excludes_zero = 0
        for _ in range(n_rep):
            log, outcomes, _ = simulate_meshing(n_students=300, match_effect=effect, seed=rng)
            idata = fit_meshing(
                log,
                outcomes,
                settings=FitSettings(draws=300, tune=300, chains=2, cores=1, target_accept=0.95),
                seed=int(rng.integers(2**31)),
            )
            row = meshing_summary(idata, interval=0.9).loc["match_effect"]
            covers_truth += int(row["lower"] <= effect <= row["upper"])
            excludes_zero += int(not row["lower"] <= 0 <= row["upper"])
        assert covers_truth >= _binomial_floor(n_rep), (effect, covers_truth)
        if effect > 0:
            assert excludes_zero >= n_rep - 1, excludes_zero
