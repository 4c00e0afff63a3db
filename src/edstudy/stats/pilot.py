"""Design parameters read off a pilot: effect, ICC and the pretest's R² at each level.

:func:`pilot_estimates` fits random-intercept models with and without the covariate
(:func:`edstudy.stats.mixed_model`) to a pilot's outcomes and returns :class:`PilotEstimates`,
whose :meth:`~PilotEstimates.design` is the two-level design a power formula needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from edstudy._format import TableResult
from edstudy.stats.designs import ClusterDesign
from edstudy.stats.effect_sizes import hedges_g
from edstudy.stats.models import mixed_model

__all__ = ["PilotEstimates", "pilot_estimates"]


@dataclass(frozen=True)
class PilotEstimates(TableResult):
    """Design parameters read off a pilot run of a simulated study.

    Attributes
    ----------
    effect : float
        Treatment effect on the post-test in SD units (the pretest-adjusted mixed-model estimate
        over the within-arm SD).
    hedges_g : float
        The cluster-adjusted Hedges' g (unadjusted for the pretest), for reference.
    icc : float
        Share of the post-test variance between clusters (mixed model without the pretest).
    r2_level1, r2_level2 : float
        Shares of the within- and between-cluster variance the pretest explains.
    n_students, n_clusters : int
        Size of the pilot.
    """

    effect: float
    hedges_g: float
    icc: float
    r2_level1: float
    r2_level2: float
    n_students: int
    n_clusters: int

    def design(self, n_clusters: int, cluster_size: int) -> ClusterDesign:
        """The two-level design with these parameters (one covariate, the pretest)."""
        return ClusterDesign(
            n_clusters=n_clusters,
            cluster_size=cluster_size,
            icc=self.icc,
            r2_level1=self.r2_level1,
            r2_level2=self.r2_level2,
            n_covariates=1,
        )

    def to_frame(self, digits: int = 3) -> pd.DataFrame:
        """``parameter, value`` (floats rounded to ``digits``, counts as whole numbers)."""
        values = [getattr(self, f.name) for f in fields(self)]
        return pd.DataFrame(
            {
                "parameter": [f.name for f in fields(self)],
                "value": pd.Series(
                    [round(v, digits) if isinstance(v, float) else v for v in values],
                    dtype=object,
                ),
            }
        )


def pilot_estimates(
    outcomes: pd.DataFrame,
    *,
    treatment: str,
    control: str,
    cluster: str = "class_id",
    covariate: str = "pretest",
    outcome: str = "posttest",
) -> PilotEstimates:
    """Effect, ICC and covariate R² of a pilot (random-intercept models with and without the
    covariate, :func:`edstudy.stats.mixed_model`).

    ``outcomes`` must have cluster labels unique across replications
    (:func:`edstudy.investigations.strategy_comparison.analysis_frame`).
    """
    kw: dict[str, Any] = {
        "treatment": treatment,
        "control": control,
        "levels": (cluster,),
        "df_method": "normal",
    }
    plain = mixed_model(outcomes, outcome, covariates=(), **kw)
    adjusted = mixed_model(outcomes, outcome, covariates=(covariate,), **kw)

    def components(m: Any) -> tuple[float, float]:
        vc = m.variance_components.set_index("component")["variance"]
        return float(vc[cluster]), float(vc["residual"])

    tau0, sigma0 = components(plain)
    tau1, sigma1 = components(adjusted)
    total = tau0 + sigma0
    g = hedges_g(outcomes, outcome, treatment=treatment, control=control, cluster=cluster)

    def share(after: float, before: float) -> float:
        return float(min(max(1.0 - after / before, 0.0), 0.99)) if before > 1e-12 else 0.0

    return PilotEstimates(
        effect=float(adjusted.treatment_effect["estimate"]) / math.sqrt(total),
        hedges_g=g.estimate,
        icc=min(max(tau0 / total, 0.0), 0.99),
        r2_level1=share(sigma1, sigma0),
        r2_level2=share(tau1, tau0),
        n_students=int(plain.n_obs),
        n_clusters=int(plain.n_groups[cluster]),
    )
