"""The result of :func:`~edstudy.investigations.trial.analyze_trial`: tables, verdicts, figures."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from edstudy._format import TableResult, markdown_table
from edstudy.investigations.trial.process import ProcessMeasures
from edstudy.investigations.trial.spec import TrialSpec
from edstudy.stats.attrition import wwc_boundary_table

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["EFFECT_COLUMNS", "MAIN_ESTIMATOR", "TrialResult"]

#: The columns of ``effects.csv``, in order (details follow them).
EFFECT_COLUMNS = (
    "outcome",
    "treatment",
    "control",
    "estimator",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treatment",
    "n_control",
)
#: The estimator a finding's headline reports: the design-respecting model, as g.
MAIN_ESTIMATOR = "mixed_model_g"
_DETAILS = (
    "scale",
    "improvement_index",
    "p_value_bh",
    "significant_bh",
    "percent_of_control_mean",
    "control_mean",
    "df",
    "icc",
    "icc_source",
    "domain",
    "binary",
    "method",
)


def _num(x: float, digits: int = 2, signed: bool = True) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    if abs(x) < 0.5 * 10.0**-digits:
        x = 0.0  # no "-0.00"
    return f"{x:+.{digits}f}" if signed and x != 0.0 else f"{x:.{digits}f}"


def _p(p: float) -> str:
    """``p = 0.021`` or ``p < 0.001``."""
    if p is None or math.isnan(p):
        return "p = NA"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


@dataclass(frozen=True, eq=False)
class TrialResult(TableResult):
    """Everything :func:`analyze_trial` found.

    Attributes
    ----------
    spec : TrialSpec
    effects : DataFrame
        One row per outcome, comparison and estimator (:data:`EFFECT_COLUMNS` then details:
        ``scale, improvement_index, p_value_bh, significant_bh, percent_of_control_mean, ...``).
    attrition : DataFrame
        One row per finding and level (``student``; ``cluster`` for cluster designs).
    baseline : DataFrame
        Baseline equivalence per finding and covariate.
    moderators : DataFrame
        Subgroup effects and interaction tests (empty without moderators).
    ratings : DataFrame
        ``outcome, treatment, control, rating, reasons``.
    standards : dict
        What ``standards.json`` holds.
    caveats : list of str
    process : ProcessMeasures or None
    n_randomized : int
        Students of the compared arms in the outcomes table.
    """

    spec: TrialSpec
    effects: pd.DataFrame
    attrition: pd.DataFrame
    baseline: pd.DataFrame
    moderators: pd.DataFrame
    ratings: pd.DataFrame
    standards: dict[str, Any]
    caveats: list[str] = field(default_factory=list)
    process: ProcessMeasures | None = None
    n_randomized: int = 0

    def effects_table(self) -> pd.DataFrame:
        """``effects.csv``: :data:`EFFECT_COLUMNS`, then the details."""
        cols = [*EFFECT_COLUMNS, *(c for c in _DETAILS if c in self.effects.columns)]
        return self.effects[cols].copy()

    def to_frame(self) -> pd.DataFrame:
        """The effects table (see :meth:`effects_table`)."""
        return self.effects_table()

    def main_effects(self) -> pd.DataFrame:
        """One row per finding: the design-respecting model as g and in outcome units."""
        e = self.effects
        g = e[e["estimator"] == MAIN_ESTIMATOR].set_index(["outcome", "treatment"])
        units = e[e["estimator"] == "mixed_model"].set_index(["outcome", "treatment"])
        out = g[["control", "estimate", "ci_low", "ci_high", "p_value", "p_value_bh"]].copy()
        out["improvement_index"] = g["improvement_index"]
        out["difference"] = units["estimate"]
        out["difference_ci_low"] = units["ci_low"]
        out["difference_ci_high"] = units["ci_high"]
        out["difference_scale"] = units["scale"]
        out["percent_of_control_mean"] = units["percent_of_control_mean"]
        ratings = self.ratings.set_index(["outcome", "treatment"])["rating"]
        out["rating"] = ratings
        return out.reset_index()

    def finding_sentences(self) -> list[str]:
        """One plain sentence per finding: the rating, then the main effect."""
        pct = round(100 * self.spec.confidence)
        out = []
        for r in self.main_effects().itertuples(index=False):
            units = "percentage points" if r.difference_scale == "risk difference" else "points"
            scale = 100.0 if r.difference_scale == "risk difference" else 1.0
            rel = (
                f", {_num(r.percent_of_control_mean, 0)}% of the control mean"
                if not math.isnan(r.percent_of_control_mean)
                else ""
            )
            out.append(
                f"{r.outcome}, {r.treatment} vs {r.control}: {r.rating}. Effect g = "
                f"{_num(r.estimate)} ({pct}% CI {_num(r.ci_low)} to {_num(r.ci_high)}; "
                f"improvement index {_num(r.improvement_index, 1)} percentile points), "
                f"{_num(scale * r.difference, 2)} {units} on {r.outcome}{rel}; {_p(r.p_value)}"
                f" ({_p(r.p_value_bh)} after the Benjamini-Hochberg correction)."
            )
        return out

    @property
    def headline(self) -> str:
        """The finding sentences as one paragraph."""
        return " ".join(self.finding_sentences())

    def to_markdown(self, digits: int = 3) -> str:
        """Rating and effect per finding, then the effects table."""
        lines = [f"## {self.spec.name}: {self.spec.design_text()}", ""]
        lines += [f"- {s}" for s in self.finding_sentences()]
        lines += ["", markdown_table(self.effects_table()[list(EFFECT_COLUMNS)].round(digits))]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()

    def plot(self, kind: str = "forest") -> Figure:
        """A figure: ``"forest"`` (effects), ``"attrition"`` (against the WWC boundary),
        ``"baseline"`` (baseline differences), ``"process"`` (needs a log)."""
        from edstudy.plots import trial as plots

        if kind == "forest":
            return plots.trial_forest(self.effects, confidence=self.spec.confidence)
        if kind == "attrition":
            return plots.attrition_boundary_plot(
                self.attrition, wwc_boundary_table(), boundary=self.spec.boundary
            )
        if kind == "baseline":
            return plots.baseline_differences(self.baseline)
        if kind == "process":
            if self.process is None:
                raise ValueError("no process measures: the trial has no response log")
            return plots.process_figure(self.process.summary, self.process.trajectories)
        raise ValueError(
            f"kind must be 'forest', 'attrition', 'baseline' or 'process', got {kind!r}"
        )

    def figure_kinds(self) -> list[str]:
        """The figures this result can draw."""
        kinds = ["forest", "attrition"]
        if not self.baseline.empty:
            kinds.append("baseline")
        if self.process is not None:
            kinds.append("process")
        return kinds
