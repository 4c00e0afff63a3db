"""Planning a study: the design a planner describes, power curves, MDES and sample-size tables.

:mod:`edstudy.stats.power` holds the formulas (Bloom 2005; PowerUp!) for one design at a time.
This module lays them out the way a researcher plans: the design of a few numbers
(:func:`make_design`) and its power, MDES and units needed (:func:`plan_power`), how power grows
with the number of clusters (:func:`power_curve`) and what the common designs need
(:func:`sample_size_table`). Whether the formulas can be trusted for a design is checked by
simulation in :mod:`edstudy.stats.trial_simulation`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from edstudy._format import markdown_table
from edstudy.stats.designs import (
    UNIT_FIELD,
    ClusterDesign,
    Design,
    IndividualDesign,
    ThreeLevelDesign,
    check_design,
)
from edstudy.stats.power import mdes, power, sample_size

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "DESIGN_KINDS",
    "PowerPlan",
    "make_design",
    "plan_power",
    "common_designs",
    "curve_table",
    "describe_design",
    "icc_designs",
    "mdes_table",
    "power_curve",
    "sample_size_table",
]

_KIND = {
    IndividualDesign: "individual",
    ClusterDesign: "two-level",
    ThreeLevelDesign: "three-level",
}


def describe_design(design: Design) -> str:
    """A short label, e.g. ``two-level, 40 clusters x 25, ICC 0.15, R² 0.5``."""
    check_design(design)
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


#: What each kind of design randomizes.
DESIGN_KINDS: dict[str, str] = {
    "two-level": "classes",
    "three-level": "schools",
    "individual": "students",
}


def make_design(
    kind: str,
    units: int,
    *,
    cluster_size: int = 25,
    classes_per_school: int = 4,
    icc: float = 0.15,
    icc_school: float = 0.05,
    r2: float = 0.0,
) -> Design:
    """The design a planner describes in a few numbers.

    One modelling choice is made here, for every planner: the pretest explains the same share
    ``r2`` of the variance at every level, as one covariate (none when ``r2 == 0``).

    Parameters
    ----------
    kind : {"two-level", "three-level", "individual"}
        Classes, schools or students randomized.
    units : int
        Units randomized (classes, schools or students), both arms together.
    cluster_size, classes_per_school : int
        Students per class; classes per school (three-level).
    icc : float
        Share of the variance between classes (within schools for three levels).
    icc_school : float
        Share between schools (three-level designs).
    r2 : float

    Raises
    ------
    ValueError
        For an unknown kind or an impossible design (naming the field).
    """
    g = 1 if r2 > 0 else 0
    if kind == "individual":
        return IndividualDesign(n=int(units), r2=r2, n_covariates=g)
    if kind == "two-level":
        return ClusterDesign(
            n_clusters=int(units),
            cluster_size=int(cluster_size),
            icc=float(icc),
            r2_level1=r2,
            r2_level2=r2,
            n_covariates=g,
        )
    if kind == "three-level":
        return ThreeLevelDesign(
            n_schools=int(units),
            classes_per_school=int(classes_per_school),
            class_size=int(cluster_size),
            icc_school=float(icc_school),
            icc_class=float(icc),
            r2_level1=r2,
            r2_level2=r2,
            r2_level3=r2,
            n_covariates=g,
        )
    raise ValueError(f"kind must be one of {list(DESIGN_KINDS)}, got {kind!r}")


@dataclass(frozen=True)
class PowerPlan:
    """Power, MDES and the units needed for one design and effect, with the power curve.

    Attributes
    ----------
    design : Design
    effect, target_power, alpha : float
    power : float
        At the design's number of units (the formula: covariate R² treated as known).
    exact_power : float
        The same with the covariates' slopes estimated (:func:`edstudy.stats.power.exact_power`);
        lower than ``power`` with few units and a covariate.
    mdes : float
        At the target power.
    required_units : int or None
        Smallest number of units with MDES <= effect at the target power; None when no number
        of units reaches it (the cluster level limits the MDES).
    curve : DataFrame
        :func:`power_curve` from 4 units to twice the design's (or past the units needed).
    """

    design: Design
    effect: float
    target_power: float
    alpha: float
    power: float
    mdes: float
    required_units: int | None
    curve: pd.DataFrame
    exact_power: float = float("nan")

    @property
    def unit_name(self) -> str:
        """``"students"``, ``"classes"`` or ``"schools"``."""
        return {IndividualDesign: "students", ClusterDesign: "classes"}.get(
            type(self.design), "schools"
        )

    def to_frame(self) -> pd.DataFrame:
        """``quantity, value`` rows (text) for display."""
        unit = self.unit_name
        need = (
            f"{self.required_units} {unit}"
            if self.required_units is not None
            else f"more {unit} cannot reach it (the cluster level limits the MDES)"
        )
        return pd.DataFrame(
            {
                "quantity": [
                    "design",
                    f"power to detect {self.effect:g} SD",
                    f"MDES at power {self.target_power:g}",
                    f"{unit} needed for {self.effect:g} SD",
                    "design effect",
                    "power with the covariate's slope estimated (exact)",
                ],
                "value": [
                    describe_design(self.design),
                    f"{self.power:.3f}",
                    f"{self.mdes:.3f}",
                    need,
                    f"{self.design.design_effect:.2f}",
                    f"{self.exact_power:.3f}",
                ],
            }
        )

    def to_markdown(self) -> str:
        """The :meth:`to_frame` table as markdown."""
        return markdown_table(self.to_frame())

    def plot(self, checks: pd.DataFrame | None = None) -> Figure:
        """Power and MDES against the number of units (and simulation checks, if given)."""
        from edstudy.plots import power_curves

        return power_curves(
            self.curve, checks=checks, target_power=self.target_power, effect=self.effect
        )


def plan_power(
    design: Design,
    effect: float,
    *,
    target_power: float = 0.80,
    alpha: float = 0.05,
    max_units: int = 100_000,
) -> PowerPlan:
    """Power, MDES, units needed and the power curve of ``design`` for a standardized effect.

    Parameters
    ----------
    design : IndividualDesign, ClusterDesign or ThreeLevelDesign
    effect : float
        The standardized effect to detect.
    target_power, alpha : float
        Two-sided test.
    max_units : int
        Search limit for the units needed.
    """
    check_design(design)
    pw = power(design, effect, alpha=alpha)
    md = mdes(design, power=target_power, alpha=alpha)
    try:
        need: int | None = sample_size(
            design, effect, power=target_power, alpha=alpha, max_value=max_units
        )
    except ValueError:
        need = None
    n = int(getattr(design, UNIT_FIELD[type(design)]))
    top = max(2 * n, int(1.3 * (need or 0)), 10)
    values = sorted({int(v) for v in np.linspace(4, top, 60).round()} | {n})
    curve = power_curve(
        design,
        values,
        effect=effect,
        target_power=target_power,
        alpha=alpha,
        label=describe_design(design).split(",")[0],
    )
    return PowerPlan(
        design=design,
        effect=float(effect),
        target_power=float(target_power),
        alpha=float(alpha),
        power=pw,
        mdes=md,
        required_units=need,
        curve=curve,
        exact_power=power(design, effect, alpha=alpha, exact=True),
    )


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
    check_design(design)
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
        check_design(design)
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
