"""Planning a study: power curves, MDES and sample-size tables, and their check by simulation.

:mod:`edstudy.stats.power` holds the formulas (Bloom 2005; PowerUp!) for one design at a time.
This module lays them out the way a researcher plans: how power grows with the number of
clusters (:func:`power_curve`), what the common designs need (:func:`sample_size_table`), and
whether the formulas can be trusted for a given design (:func:`simulation_check`), by simulating
trials whose data follow the formula's own model exactly (:func:`simulate_trial`) and analysing
each with the analysis the formula assumes (:func:`trial_p_value`: OLS on cluster means with the
covariate's cluster mean, :func:`edstudy.stats.cluster_means_model`).

For a check against the simulated cohorts themselves, :func:`pilot_estimates` reads the effect,
ICC and covariate R² off a pilot run of a :class:`~edstudy.experiment.study.Study`, and
:func:`study_trial` turns the study into a generator for :func:`~edstudy.stats.power.
simulated_power`, so the analytic power of the pilot's design can be compared with the share of
simulated studies that detect the effect.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from edstudy.stats.effect_sizes import hedges_g
from edstudy.stats.models import cluster_means_model, mixed_model
from edstudy.stats.power import (
    ClusterDesign,
    Design,
    IndividualDesign,
    ThreeLevelDesign,
    mdes,
    power,
    sample_size,
    simulated_power,
)

__all__ = [
    "UNIT_FIELD",
    "PilotEstimates",
    "common_designs",
    "curve_table",
    "describe_design",
    "icc_designs",
    "mdes_table",
    "pilot_estimates",
    "power_curve",
    "sample_size_table",
    "simulate_trial",
    "simulation_check",
    "trial_p_value",
]

#: Field of each design that counts the randomized units.
UNIT_FIELD: dict[type, str] = {
    IndividualDesign: "n",
    ClusterDesign: "n_clusters",
    ThreeLevelDesign: "n_schools",
}
_KIND = {
    IndividualDesign: "individual",
    ClusterDesign: "two-level",
    ThreeLevelDesign: "three-level",
}


def _check(design: object) -> None:
    if not isinstance(design, IndividualDesign | ClusterDesign | ThreeLevelDesign):
        raise TypeError(
            "design must be an IndividualDesign, ClusterDesign or ThreeLevelDesign, "
            f"got {type(design).__name__}"
        )


def describe_design(design: Design) -> str:
    """A short label, e.g. ``two-level, 40 clusters x 25, ICC 0.15, R² 0.5``."""
    _check(design)
    if isinstance(design, IndividualDesign):
        text = f"individual, {design.n} students"
        r2 = design.r2
    elif isinstance(design, ClusterDesign):
        text = (
            f"two-level, {design.n_clusters} clusters x {design.cluster_size:g}, "
            f"ICC {design.icc:.2g}"
        )
        r2 = max(design.r2_level1, design.r2_level2)
    else:
        text = (
            f"three-level, {design.n_schools} schools x {design.classes_per_school:g} classes x "
            f"{design.class_size:g}, ICC school {design.icc_school:.2g} / "
            f"class {design.icc_class:.2g}"
        )
        r2 = max(design.r2_level1, design.r2_level2, design.r2_level3)
    return text + (f", R² {r2:.2g}" if r2 > 0 else "")


def power_curve(
    design: Design,
    values: Sequence[float],
    *,
    effect: float,
    vary: str | None = None,
    target_power: float = 0.80,
    alpha: float = 0.05,
    label: str | None = None,
) -> pd.DataFrame:
    """Power and MDES of ``design`` as one field takes each of ``values``.

    Parameters
    ----------
    design : IndividualDesign, ClusterDesign or ThreeLevelDesign
    values : sequence
        Values of the varied field (e.g. numbers of clusters).
    effect : float
        The true standardized effect for the power column.
    vary : str, optional
        The field; default the randomized unit (:data:`UNIT_FIELD`).
    target_power, alpha : float
        For the MDES column (two-sided test).
    label : str, optional
        The ``design`` column; default :func:`describe_design` without the varied count.

    Returns
    -------
    DataFrame
        ``design, parameter, value, effect, power, mdes`` (one row per value; values that make an
        invalid design, e.g. too few clusters for the degrees of freedom, are left out).
    """
    _check(design)
    field = vary or UNIT_FIELD[type(design)]
    names = {f.name for f in fields(design)}
    if field not in names:
        raise ValueError(f"vary must be a field of {type(design).__name__}: {sorted(names)}")
    rows = []
    for v in values:
        try:
            d = replace(design, **{field: v})
        except ValueError:
            continue
        rows.append(
            {
                "design": label or _KIND[type(design)],
                "parameter": field,
                "value": v,
                "effect": effect,
                "power": power(d, effect, alpha=alpha),
                "mdes": mdes(d, power=target_power, alpha=alpha),
            }
        )
    return pd.DataFrame(rows, columns=["design", "parameter", "value", "effect", "power", "mdes"])


def icc_designs(
    kind: str,
    iccs: Sequence[float],
    *,
    class_size: int = 25,
    classes_per_school: int = 4,
    r2: float = 0.0,
    school_share: float = 1 / 3,
) -> dict[str, Design]:
    """One design per ICC, keyed ``"ICC 0.1"``: classes (``kind="two-level"``) or schools
    (``"three-level"``, ``school_share`` of the ICC between schools) randomized.

    The pretest explains ``r2`` at every level (one covariate when ``r2 > 0``). The number of
    units is a placeholder (10) for :func:`curve_table` and :func:`mdes_table` to vary.
    """
    g = 1 if r2 > 0 else 0
    out: dict[str, Design] = {}
    for icc in iccs:
        if kind == "two-level":
            d: Design = ClusterDesign(
                n_clusters=10,
                cluster_size=class_size,
                icc=icc,
                r2_level1=r2,
                r2_level2=r2,
                n_covariates=g,
            )
        elif kind == "three-level":
            d = ThreeLevelDesign(
                n_schools=10,
                classes_per_school=classes_per_school,
                class_size=class_size,
                icc_school=icc * school_share,
                icc_class=icc * (1 - school_share),
                r2_level1=r2,
                r2_level2=r2,
                r2_level3=r2,
                n_covariates=g,
            )
        else:
            raise ValueError(f"kind must be 'two-level' or 'three-level', got {kind!r}")
        out[f"ICC {icc:g}"] = d
    return out


def curve_table(
    designs: Mapping[str, Design],
    units: Sequence[int],
    *,
    effect: float,
    target_power: float = 0.80,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """:func:`power_curve` of every design over ``units`` randomized units, stacked."""
    return pd.concat(
        [
            power_curve(
                d, units, effect=effect, target_power=target_power, alpha=alpha, label=label
            )
            for label, d in designs.items()
        ],
        ignore_index=True,
    )


def mdes_table(
    designs: Mapping[str, Design],
    units: Sequence[int],
    *,
    target_power: float = 0.80,
    alpha: float = 0.05,
    digits: int = 3,
) -> pd.DataFrame:
    """MDES of every design (columns) at each number of randomized units (rows), rounded."""
    table = curve_table(designs, units, effect=0.0, target_power=target_power, alpha=alpha)
    field = str(table["parameter"].iloc[0]) if len(table) else "units"
    wide = table.pivot(index="value", columns="design", values="mdes")
    wide = wide.reindex(columns=list(designs)).round(digits)
    wide.index.name = field
    wide.columns.name = None
    return wide.reset_index()


def common_designs(
    *,
    class_size: int = 25,
    classes_per_school: int = 4,
    iccs: Sequence[float] = (0.10, 0.20),
    r2: Sequence[float] = (0.0, 0.5),
    school_share: float = 1 / 3,
) -> dict[str, Design]:
    """The designs of most school studies, keyed by a label (one row each of a sample-size table).

    Students randomized individually; whole classes randomized (two levels); whole schools
    randomized (three levels, ``school_share`` of the ICC between schools and the rest between
    classes); each at every ICC and covariate R² (the pretest explains ``R²`` at every level).
    """
    out: dict[str, Design] = {}
    for r in r2:
        g = 1 if r > 0 else 0
        tag = f", pretest R² {r:g}" if r > 0 else ", no covariate"
        out[f"students randomized{tag}"] = IndividualDesign(n=100, r2=r, n_covariates=g)
        for icc in iccs:
            out[f"classes of {class_size} randomized, ICC {icc:g}{tag}"] = ClusterDesign(
                n_clusters=10,
                cluster_size=class_size,
                icc=icc,
                r2_level1=r,
                r2_level2=r,
                n_covariates=g,
            )
            out[f"schools of {classes_per_school} classes randomized, ICC {icc:g}{tag}"] = (
                ThreeLevelDesign(
                    n_schools=10,
                    classes_per_school=classes_per_school,
                    class_size=class_size,
                    icc_school=icc * school_share,
                    icc_class=icc * (1 - school_share),
                    r2_level1=r,
                    r2_level2=r,
                    r2_level3=r,
                    n_covariates=g,
                )
            )
    return out


def _students_per_unit(design: Design) -> float:
    if isinstance(design, IndividualDesign):
        return 1.0
    if isinstance(design, ClusterDesign):
        return float(design.cluster_size)
    return float(design.classes_per_school * design.class_size)


def sample_size_table(
    designs: Mapping[str, Design],
    effects: Sequence[float] = (0.20, 0.25, 0.30),
    *,
    target_power: float = 0.80,
    alpha: float = 0.05,
    cluster_unit: str = "classes",
    wide: bool = False,
) -> pd.DataFrame:
    """Units (students, classes or schools) each design needs to detect each effect.

    Parameters
    ----------
    designs : mapping of label to design
        E.g. :func:`common_designs`; only the design's other fields matter (its unit count is
        solved for).
    effects : sequence of float
        Standardized effects to detect.
    target_power, alpha : float
        Two-sided test.
    cluster_unit : str
        What the clusters of a two-level design are called (``"classes"``, ``"schools"``).
    wide : bool
        One row per design and one column per effect, cells ``"units (students)"`` as text.

    Returns
    -------
    DataFrame
        ``design, unit, effect, units, students`` (``units`` is the smallest whole number of
        randomized units with MDES <= effect, both arms together; ``students`` the total).
    """
    unit_name = {
        IndividualDesign: "students",
        ClusterDesign: cluster_unit,
        ThreeLevelDesign: "schools",
    }
    rows = []
    for label, design in designs.items():
        _check(design)
        for e in effects:
            units = sample_size(design, e, power=target_power, alpha=alpha)
            rows.append(
                {
                    "design": label,
                    "unit": unit_name[type(design)],
                    "effect": e,
                    "units": units,
                    "students": int(round(units * _students_per_unit(design))),
                }
            )
    table = pd.DataFrame(rows)
    if not wide:
        return table
    table["cell"] = [
        f"{u} {unit} ({s} students)" if unit != "students" else f"{s} students"
        for u, unit, s in zip(table["units"], table["unit"], table["students"], strict=True)
    ]
    out = table.pivot(index="design", columns="effect", values="cell")
    out = out.reindex(index=list(designs)).reset_index()
    out.columns = ["design", *(f"effect {e:g}" for e in out.columns[1:])]
    return out


# --- simulated trials --------------------------------------------------------------------------


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
    _check(design)
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
    _check(design)
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
        ``parameter, value, analytic, simulated, ci_low, ci_high, n_sims``.
    """
    _check(design)
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
                "simulated": est.power,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "n_sims": est.n_sims,
            }
        )
    return pd.DataFrame(rows)


# --- a pilot's design parameters ----------------------------------------------------------------


@dataclass(frozen=True)
class PilotEstimates:
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
