"""Trials simulated from the model behind a power formula, to check the formula by simulation.

:func:`simulate_trial` draws one trial whose data follow the formula's own model exactly;
:func:`trial_p_value` analyses it the way the formula assumes (OLS on cluster means with the
covariate's cluster mean, :func:`edstudy.stats.cluster_means_model`), and
:func:`simulation_check` sets the analytic power beside the share of simulated trials that detect
the effect (:func:`edstudy.stats.power.simulated_power`).

Simulated trials (standardized outcome, total variance 1)
--------------------------------------------------------
Two levels (``ClusterDesign``; ``J`` clusters of ``n``, ``rho`` the ICC)::

    post_ij = effect T_j + sqrt(rho) (sqrt(R2_2) z_j + sqrt(1 - R2_2) v_j)
                         + sqrt(1 - rho) (sqrt(R2_1) x_ij + sqrt(1 - R2_1) w_ij)

Three levels (``ThreeLevelDesign``) add a school term the same way, and an individual design
has one level. The pretest is ``sum_l c_l z_l`` over the levels with ``c_l = sqrt(rho_l R2_l) / b``
and one common slope ``b``, so one pretest explains exactly ``R2_l`` of each level's variance:
the model behind the PowerUp! formulas with ``g = 1`` covariate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from edstudy.stats.designs import (
    UNIT_FIELD,
    ClusterDesign,
    Design,
    IndividualDesign,
    ThreeLevelDesign,
    check_design,
)
from edstudy.stats.models import cluster_means_model
from edstudy.stats.power import power, simulated_power

__all__ = ["simulate_trial", "simulation_check", "trial_p_value"]


def _levels(design: Design) -> list[tuple[float, float]]:
    """(variance share, R²) per level, student level first."""
    if isinstance(design, IndividualDesign):
        return [(1.0, design.r2)]
    if isinstance(design, ClusterDesign):
        return [(1.0 - design.icc, design.r2_level1), (design.icc, design.r2_level2)]
    return [
        (1.0 - design.icc_class - design.icc_school, design.r2_level1),
        (design.icc_class, design.r2_level2),
        (design.icc_school, design.r2_level3),
    ]


def _whole(value: float, name: str) -> int:
    if value != int(value):
        raise ValueError(f"simulate_trial needs a whole {name}, got {value}")
    return int(value)


def simulate_trial(rng: np.random.Generator, design: Design, effect: float) -> pd.DataFrame:
    """One simulated trial whose data follow the model behind the design's power formula.

    Parameters
    ----------
    rng : numpy Generator
        The only source of randomness.
    design : IndividualDesign, ClusterDesign or ThreeLevelDesign
        Sizes must be whole numbers; ``round(p_treated * units)`` units are treated.
    effect : float
        True standardized effect.

    Returns
    -------
    DataFrame
        One row per student: ``student_id, class_id, school_id, arm`` (``"treatment"`` /
        ``"control"``), ``pretest_z, posttest_z`` (the outcome has total variance 1 within arms).
    """
    check_design(design)
    if isinstance(design, IndividualDesign):
        sizes = [_whole(design.n, "n")]
    elif isinstance(design, ClusterDesign):
        sizes = [
            _whole(design.cluster_size, "cluster_size"),
            _whole(design.n_clusters, "n_clusters"),
        ]
    else:
        sizes = [
            _whole(design.class_size, "class_size"),
            _whole(design.classes_per_school, "classes_per_school"),
            _whole(design.n_schools, "n_schools"),
        ]
    n_total = int(np.prod(sizes))
    levels = _levels(design)
    # counts of units at each level, student level first: e.g. [J*n, J] or [K*J*n, K*J, K]
    counts = [int(np.prod(sizes[i:])) for i in range(len(sizes))]
    # index of each student's unit at each level
    index = [np.arange(n_total) // int(np.prod(sizes[:i])) for i in range(len(sizes))]
    top = counts[-1]
    treated_units = np.zeros(top, dtype=bool)
    treated_units[: int(round(design.p_treated * top))] = True
    treated = rng.permutation(treated_units)[index[-1]]
    slopes = [math.sqrt(share * r2) for share, r2 in levels]
    b = next((s for s in slopes if s > 0), 0.0)
    post = effect * treated.astype(float)
    pre = np.zeros(n_total)
    for (share, r2), slope, count, idx in zip(levels, slopes, counts, index, strict=True):
        z = rng.standard_normal(count)
        w = rng.standard_normal(count)
        post = post + math.sqrt(share) * (math.sqrt(r2) * z + math.sqrt(1.0 - r2) * w)[idx]
        if b > 0:
            pre = pre + (slope / b) * z[idx]
    if b == 0:
        pre = rng.standard_normal(n_total)
    class_id = index[1] if len(sizes) >= 2 else np.arange(n_total)
    school_id = index[2] if len(sizes) == 3 else class_id
    return pd.DataFrame(
        {
            "student_id": np.arange(n_total),
            "class_id": class_id,
            "school_id": school_id,
            "arm": np.where(treated, "treatment", "control"),
            "pretest_z": pre,
            "posttest_z": post,
        }
    )


def trial_p_value(design: Design) -> Callable[[pd.DataFrame], float]:
    """The analysis the design's formula assumes, as ``analyze(frame) -> p-value``.

    OLS on the means of the randomized units (students, classes or schools), with the unit means
    of ``pretest_z`` when the design has a covariate (``n_covariates >= 1``).
    """
    check_design(design)
    if design.n_covariates > 1:
        raise ValueError("simulated trials have one covariate (the pretest); n_covariates <= 1")
    cluster = {
        IndividualDesign: "student_id",
        ClusterDesign: "class_id",
        ThreeLevelDesign: "school_id",
    }[type(design)]
    covariates = ["pretest_z"] if design.n_covariates == 1 else []

    def analyze(frame: pd.DataFrame) -> float:
        fit = cluster_means_model(
            frame,
            "posttest_z",
            treatment="treatment",
            control="control",
            cluster=cluster,
            covariates=covariates,
        )
        return float(fit.treatment_effect["p_value"])

    return analyze


def simulation_check(
    design: Design,
    values: Sequence[float],
    *,
    effect: float,
    vary: str | None = None,
    n_sims: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
    step: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """Analytic power next to simulated power (:func:`simulated_power`) at each value of a field.

    Parameters
    ----------
    design, values, effect, vary
        As in :func:`power_curve`.
    n_sims : int
        Simulated trials per value.
    seed : int
        Value ``i`` simulates with ``SeedSequence([seed, i])``.
    step : callable, optional
        Called after every simulated trial (a progress bar).

    Returns
    -------
    DataFrame
        ``parameter, value, analytic, exact, simulated, ci_low, ci_high, n_sims``: ``analytic``
        is the formula (covariate R² treated as known), ``exact`` averages over the estimated
        slope (:func:`edstudy.stats.power.exact_power`), the figure the simulation targets.
    """
    check_design(design)
    field = vary or UNIT_FIELD[type(design)]
    analyze = trial_p_value(design)
    rows = []
    for i, v in enumerate(values):
        d = replace(design, **{field: v})

        def simulate(rng: np.random.Generator, _d: Design = d) -> pd.DataFrame:
            frame = simulate_trial(rng, _d, effect)
            if step is not None:
                step()
            return frame

        est = simulated_power(
            simulate,
            analyze,
            n_sims=n_sims,
            seed=np.random.SeedSequence([seed, i]),
            alpha=alpha,
        )
        rows.append(
            {
                "parameter": field,
                "value": v,
                "analytic": power(d, effect, alpha=alpha),
                "exact": power(d, effect, alpha=alpha, exact=True),
                "simulated": est.power,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "n_sims": est.n_sims,
            }
        )
    return pd.DataFrame(rows)
