"""Simulation-based calibration (Talts et al. 2018) of the hierarchical BKT model.

Each replicate draws the parameters from the model's prior, simulates a cohort from them, fits
the model, and records the rank of every true population parameter among thinned posterior
draws. A calibrated fit gives uniform ranks; it also gives central intervals that contain the
truth at their nominal rate, averaged over the prior.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import stats

from edstudy.bayes.hbkt import fit_hbkt
from edstudy.bayes.priors import HBKTPriors
from edstudy.bayes.settings import FitSettings
from edstudy.bayes.synthetic import draw_hbkt_truth, simulate_hbkt

__all__ = ["sbc_hbkt", "sbc_uniformity"]


def sbc_hbkt(
    *,
    n_replicates: int,
    n_students: int = 40,
    n_skills: int = 2,
    n_opportunities: int = 10,
    n_ranks: int = 99,
    draws: int = 300,
    tune: int = 300,
    chains: int = 2,
    interval: float = 0.9,
    priors: HBKTPriors | None = None,
    target_accept: float = 0.95,
    seed: int,
) -> pd.DataFrame:
    """Run simulation-based calibration of the population parameters.

    Parameters
    ----------
    n_replicates : int
        Number of (prior draw, simulated cohort, fit) replicates.
    n_students, n_skills, n_opportunities : int
        Size of each simulated cohort.
    n_ranks : int
        Posterior draws kept (evenly thinned) per replicate: ranks lie in ``0..n_ranks``.
    draws, tune, chains, target_accept : NUTS settings (``draws * chains >= n_ranks``).
    interval : float
        Central interval whose coverage is recorded.
    priors : HBKTPriors, optional
    seed : int

    Returns
    -------
    DataFrame, one row per (replicate, scalar parameter)
        ``replicate, parameter, truth, rank, covered, divergences, seconds``.
    """
    if draws * chains < n_ranks:
        raise ValueError(f"draws * chains ({draws * chains}) must be >= n_ranks ({n_ranks})")
    p = priors if priors is not None else HBKTPriors()
    rng = np.random.default_rng(seed)
    rows = []
    q = [(1 - interval) / 2, (1 + interval) / 2]
    for r in range(n_replicates):
        truth = draw_hbkt_truth(n_students=n_students, n_skills=n_skills, priors=p, seed=rng)
        log, _ = simulate_hbkt(
            n_students=n_students,
            n_skills=n_skills,
            n_opportunities=n_opportunities,
            truth=truth,
            seed=rng,
        )
        start = time.perf_counter()
        idata = fit_hbkt(
            log,
            settings=FitSettings(
                draws=draws, tune=tune, chains=chains, cores=1, target_accept=target_accept
            ),
            priors=p,
            seed=int(rng.integers(2**31)),
        )
        seconds = time.perf_counter() - start
        divergences = int(idata.sample_stats["diverging"].sum())
        total = draws * chains
        keep = np.linspace(0, total - 1, n_ranks).round().astype(int)
        for name, value in truth.population().items():
            x = idata.posterior[name].to_numpy().reshape(total, -1)
            values = np.atleast_1d(value)
            lo, hi = np.quantile(x, q, axis=0)
            for k, v in enumerate(values):
                label = name if np.ndim(value) == 0 else f"{name}[{k}]"
                rows.append(
                    {
                        "replicate": r,
                        "parameter": label,
                        "truth": float(v),
                        "rank": int((x[keep, k] < v).sum()),
                        "covered": bool(lo[k] <= v <= hi[k]),
                        "divergences": divergences,
                        "seconds": seconds,
                    }
                )
    return pd.DataFrame(rows)


def sbc_uniformity(ranks: pd.DataFrame, *, n_ranks: int = 99, bins: int = 10) -> pd.DataFrame:
    """Chi-square test of uniform ranks per parameter.

    Parameters
    ----------
    ranks : DataFrame
        From :func:`sbc_hbkt`.
    n_ranks : int
        As passed to :func:`sbc_hbkt` (ranks lie in ``0..n_ranks``).
    bins : int
        Equal-width bins over the ``n_ranks + 1`` rank values (should divide them).

    Returns
    -------
    DataFrame indexed by parameter: ``n, chi2, p_value, coverage`` (coverage of the interval).
    """
    out = {}
    for name, g in ranks.groupby("parameter", sort=False):
        counts = np.bincount(g["rank"].to_numpy() * bins // (n_ranks + 1), minlength=bins)
        chi2, p_value = stats.chisquare(counts)
        out[name] = {
            "n": len(g),
            "chi2": chi2,
            "p_value": p_value,
            "coverage": g["covered"].mean(),
        }
    return pd.DataFrame.from_dict(out, orient="index")
