"""Power checks with the study runner: does a simulated study detect what its formula promises?

:func:`edstudy.stats.pilot.pilot_estimates` reads the effect, ICC and covariate R² off a pilot
run; :func:`study_trial` turns a :class:`~edstudy.experiment.study.Study` into a generator for
:func:`edstudy.stats.power.simulated_power`, and :func:`study_power_check` sets the analytic power
of the pilot's design beside the share of simulated studies that detect the effect.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from edstudy.experiment.runner import run_study
from edstudy.experiment.study import Study
from edstudy.stats.models import cluster_means_model
from edstudy.stats.pilot import PilotEstimates
from edstudy.stats.planning import describe_design
from edstudy.stats.power import power, simulated_power

__all__ = ["study_p_value", "study_power_check", "study_trial", "two_arm_study"]


def two_arm_study(
    study: Study, *, treatment: str, control: str, scenario: str | None = None
) -> Study:
    """The study reduced to two arms and one scenario (the first by default)."""
    arms = {a.name: a for a in study.arms}
    for name in (treatment, control):
        if name not in arms:
            raise ValueError(f"unknown arm {name!r}; the study has {sorted(arms)}")
    name = scenario or study.scenario_names[0]
    if study.scenarios and name not in study.scenarios:
        raise ValueError(f"unknown scenario {name!r}; the study has {list(study.scenarios)}")
    scenarios = {name: study.scenarios[name]} if study.scenarios else {}
    return study.with_changes(
        arms=(arms[treatment], arms[control]), contrasts=(), scenarios=scenarios
    )


def study_trial(
    study: Study, *, treatment: str, control: str, scenario: str | None = None
) -> Callable[[np.random.Generator], pd.DataFrame]:
    """A generator for :func:`~edstudy.stats.power.simulated_power` that runs the study.

    Each call draws a study seed from the Generator it is given, runs the two arms (one
    scenario, the first by default) and returns their outcomes with unique cluster labels.
    """
    two = two_arm_study(study, treatment=treatment, control=control, scenario=scenario)

    def simulate(rng: np.random.Generator) -> pd.DataFrame:
        seed = int(rng.integers(0, 2**31 - 1))
        result = run_study(two.with_changes(seed=seed), keep_log=False, progress=False)
        return result.analysis_frame()

    return simulate


def study_p_value(
    *, treatment: str, control: str, cluster: str = "class_id", covariate: str = "pretest"
) -> Callable[[pd.DataFrame], float]:
    """OLS on cluster means of the post-test with the pretest mean (the formula's analysis)."""

    def analyze(frame: pd.DataFrame) -> float:
        fit = cluster_means_model(
            frame,
            "posttest",
            treatment=treatment,
            control=control,
            cluster=cluster,
            covariates=[covariate],
        )
        return float(fit.treatment_effect["p_value"])

    return analyze


def study_power_check(
    study: Study,
    *,
    treatment: str,
    control: str,
    pilot: PilotEstimates,
    n_sims: int = 50,
    seed: int = 0,
    alpha: float = 0.05,
    step: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """Analytic power of the study's two-arm design (parameters from ``pilot``) next to the share
    of ``n_sims`` simulated runs of the study whose cluster-means analysis detects the effect.

    The study must randomize classes; its ``n_students`` and ``class_size`` fix the design.

    Returns
    -------
    DataFrame
        One row: ``design, effect, analytic, simulated, ci_low, ci_high, n_sims``.
    """
    if study.randomization != "class":
        raise ValueError(
            f"study_power_check needs a class-randomized study, got {study.randomization!r}"
        )
    n_clusters = -(-study.n_students // study.class_size) * study.replications
    design = pilot.design(n_clusters, study.class_size)
    generate = study_trial(study, treatment=treatment, control=control)

    def simulate(rng: np.random.Generator) -> pd.DataFrame:
        frame = generate(rng)
        if step is not None:
            step()
        return frame

    est = simulated_power(
        simulate,
        study_p_value(treatment=treatment, control=control),
        n_sims=n_sims,
        seed=seed,
        alpha=alpha,
    )
    return pd.DataFrame(
        [
            {
                "design": describe_design(design),
                "effect": pilot.effect,
                "analytic": power(design, pilot.effect, alpha=alpha),
                "simulated": est.power,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "n_sims": est.n_sims,
            }
        ]
    )
