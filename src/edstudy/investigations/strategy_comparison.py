"""The comparisons of a simulated study as tidy tables: arm metrics, effect sizes, models, dropout.

A :class:`~edstudy.experiment.StudyResult` holds one row per (scenario, replication, student,
arm). The analysis functions of :mod:`edstudy.stats` take one outcomes table and two arms; this
module runs them over every scenario and every comparison of interest (``Study.comparisons()``)
on :func:`edstudy.experiment.analysis_frame` (cluster labels unique across replications, derived
per-student measures added) and stacks the answers, so a notebook, a widget and a report show the
same numbers:

* :func:`arm_metrics` – means with 95% intervals (cluster-robust at the randomization unit) of
  the outcome and process measures, per scenario and arm.
* :func:`effect_sizes` – Hedges' g (cluster-adjusted, Hedges 2007) of each comparison.
* :func:`mixed_models` – ``posttest ~ arm + pretest`` with random intercepts for schools and
  classes within schools, one fit per scenario and comparison (the treatment row and the ICCs).
* :func:`dropout_differences` – risk differences in dropout with Newcombe intervals adjusted for
  clustering.
* :func:`what_this_shows` – those tables in plain language (markdown), with the interval
  deciding every verdict.

Nothing here draws; :mod:`edstudy.plots` draws these tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from edstudy.experiment.result import StudyResult
from edstudy.stats.descriptive import summarize
from edstudy.stats.effect_sizes import hedges_g
from edstudy.stats.models import ModelResult, mixed_model
from edstudy.stats.proportions import risk_difference

__all__ = [
    "ARM_METRICS",
    "arm_metrics",
    "dropout_differences",
    "effect_sizes",
    "headline",
    "mixed_model_fit",
    "mixed_models",
    "what_this_shows",
]

#: The measures compared per arm (column -> axis label), in display order.
ARM_METRICS: dict[str, str] = {
    "posttest": "post-test (proportion correct)",
    "minutes_per_skill_learned": "time to mastery (min per skill learned)",
    "opportunities": "practice opportunities",
    "over_practice": "over-practice (opps on known skills)",
    "under_practice": "under-practice (skills left unknown)",
    "engagement": "engagement (0-1)",
    "dropped_out": "dropped out (share)",
}


def arm_metrics(
    result: StudyResult, metrics: Sequence[str] | Mapping[str, str] = tuple(ARM_METRICS)
) -> pd.DataFrame:
    """Means with 95% intervals of each measure, per scenario and arm.

    Intervals are cluster-robust at the randomization unit (:func:`edstudy.stats.summarize`).

    Parameters
    ----------
    result : StudyResult
    metrics : sequence of str
        Outcome or derived columns (default :data:`ARM_METRICS`).

    Returns
    -------
    DataFrame
        ``scenario, arm, metric, label, n_students, n_units, mean, ci_low, ci_high``, scenarios and
        arms in the study's order.
    """
    frame = result.analysis_frame()
    names = list(metrics)
    unknown = [m for m in names if m not in frame.columns]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; available: {sorted(frame.columns)}")
    s = summarize(frame, metrics=names, unit=result.study.unit_column)
    labels = {**ARM_METRICS, **(dict(metrics) if isinstance(metrics, Mapping) else {})}
    s.insert(s.columns.get_loc("metric") + 1, "label", s["metric"].map(lambda m: labels.get(m, m)))
    s["scenario"] = s["scenario"].astype(str)
    s["arm"] = s["arm"].astype(str)
    scen = {n: i for i, n in enumerate(result.study.scenario_names)}
    arms = {n: i for i, n in enumerate(result.study.arm_names)}
    metric_rank = {m: i for i, m in enumerate(names)}
    keys = pd.DataFrame(
        {
            "m": s["metric"].map(metric_rank),
            "s": s["scenario"].map(scen).fillna(len(scen)),
            "a": s["arm"].map(arms).fillna(len(arms)),
        }
    )
    order = np.lexsort((keys["a"].to_numpy(), keys["s"].to_numpy(), keys["m"].to_numpy()))
    return s.iloc[order].reset_index(drop=True)


def _pairs(
    result: StudyResult, comparisons: Sequence[tuple[str, str]] | None
) -> list[tuple[str, str]]:
    pairs = list(comparisons) if comparisons is not None else list(result.study.comparisons())
    names = set(result.study.arm_names)
    present = set(result.outcomes["arm"].astype(str))
    out = []
    for a, b in pairs:
        for name in (a, b):
            if name not in names:
                raise ValueError(f"comparison names unknown arm {name!r}; arms: {sorted(names)}")
        if a != b and a in present and b in present:
            out.append((a, b))
    return out


def _scenarios(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    if "scenario" not in frame.columns:
        return [("base", frame)]
    return [(str(s), g) for s, g in frame.groupby("scenario", sort=False, observed=True)]


def effect_sizes(
    result: StudyResult,
    outcome: str = "posttest",
    *,
    comparisons: Sequence[tuple[str, str]] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Hedges' g of ``outcome`` for every scenario and comparison (arm minus reference).

    Cluster-randomized studies use the cluster-adjusted ``g_T`` of Hedges (2007) at the
    randomization unit with the ICC estimated within arms.

    Returns
    -------
    DataFrame
        ``scenario, arm, reference, outcome, g, ci_low, ci_high, p_value, n_arm, n_reference,
        mean_arm, mean_reference, icc``.
    """
    frame = result.analysis_frame()
    unit = result.study.cluster_column
    rows = []
    for scenario, sub in _scenarios(frame):
        for a, b in _pairs(result, comparisons):
            es = hedges_g(sub, outcome, treatment=a, control=b, cluster=unit, confidence=confidence)
            rows.append(
                {
                    "scenario": scenario,
                    "arm": a,
                    "reference": b,
                    "outcome": outcome,
                    "g": es.estimate,
                    "ci_low": es.ci_low,
                    "ci_high": es.ci_high,
                    "p_value": es.p_value,
                    "n_arm": es.n_treatment,
                    "n_reference": es.n_control,
                    "mean_arm": es.mean_treatment,
                    "mean_reference": es.mean_control,
                    "icc": es.icc if es.icc is not None else np.nan,
                }
            )
    return pd.DataFrame(rows)


def dropout_differences(
    result: StudyResult,
    outcome: str = "dropped_out",
    *,
    comparisons: Sequence[tuple[str, str]] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Risk differences of a binary outcome (arm minus reference) per scenario and comparison.

    Newcombe's hybrid score interval, with each arm's size replaced by its effective size under
    clustering at the randomization unit (:func:`edstudy.stats.risk_difference`).

    Returns
    -------
    DataFrame
        ``scenario, arm, reference, outcome, rate_arm, rate_reference, difference, ci_low,
        ci_high, p_value``.
    """
    frame = result.analysis_frame()
    unit = result.study.cluster_column
    rows = []
    for scenario, sub in _scenarios(frame):
        for a, b in _pairs(result, comparisons):
            rd = risk_difference(
                sub, outcome, treatment=a, control=b, cluster=unit, confidence=confidence
            )
            rows.append(
                {
                    "scenario": scenario,
                    "arm": a,
                    "reference": b,
                    "outcome": outcome,
                    "rate_arm": rd.rate_treatment,
                    "rate_reference": rd.rate_control,
                    "difference": rd.estimate,
                    "ci_low": rd.ci_low,
                    "ci_high": rd.ci_high,
                    "p_value": rd.p_value,
                }
            )
    return pd.DataFrame(rows)


def mixed_models(
    result: StudyResult,
    outcome: str = "posttest",
    *,
    comparisons: Sequence[tuple[str, str]] | None = None,
    covariates: Sequence[str] = ("pretest",),
    levels: Sequence[str] = ("school_id", "class_id"),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """``outcome ~ arm + covariates`` with random intercepts, per scenario and comparison.

    Each fit is :func:`edstudy.stats.mixed_model` on the students of the two arms
    (REML, between-within degrees of freedom).

    Returns
    -------
    DataFrame
        ``scenario, arm, reference, estimate, std_error, ci_low, ci_high, p_value, df,
        icc_school_id, icc_class_id, n_obs, converged`` (the ICCs are conditional on the
        covariates; one column per level).

    Raises
    ------
    ValueError
        For a study with randomization ``none`` (the same students in every arm: compare them
        with paired differences instead).
    """
    if result.study.randomization == "none":
        raise ValueError(
            "mixed_models needs randomized arms; this study gives every arm the same students "
            "(randomization: none)"
        )
    frame = result.analysis_frame()
    rows = []
    for scenario, sub in _scenarios(frame):
        for a, b in _pairs(result, comparisons):
            m = mixed_model(
                sub,
                outcome,
                treatment=a,
                control=b,
                covariates=covariates,
                levels=levels,
                confidence=confidence,
            )
            row = {"scenario": scenario, "arm": a, "reference": b}
            te = m.treatment_effect
            for k in ("estimate", "std_error", "ci_low", "ci_high", "p_value", "df"):
                row[k] = float(te[k])
            for level in levels:
                row[f"icc_{level}"] = m.icc.get(level, np.nan)
            row["n_obs"] = m.n_obs
            row["converged"] = m.converged
            rows.append(row)
    return pd.DataFrame(rows)


def mixed_model_fit(
    result: StudyResult,
    arm: str,
    reference: str,
    *,
    scenario: str | None = None,
    outcome: str = "posttest",
    covariates: Sequence[str] = ("pretest",),
    levels: Sequence[str] = ("school_id", "class_id"),
) -> ModelResult:
    """One mixed model of :func:`mixed_models` in full (coefficients and variance components).

    ``scenario`` defaults to the study's first.
    """
    frame = result.analysis_frame()
    name = scenario or result.study.scenario_names[0]
    if "scenario" in frame.columns:
        if name not in set(frame["scenario"].astype(str)):
            raise ValueError(
                f"unknown scenario {name!r}; the study has {list(result.study.scenario_names)}"
            )
        frame = frame[frame["scenario"].astype(str) == name]
    return mixed_model(
        frame, outcome, treatment=arm, control=reference, covariates=covariates, levels=levels
    )


def _verdict(low: float, high: float, higher: str, lower: str) -> str:
    if low > 0:
        return higher
    if high < 0:
        return lower
    return "no detectable difference"


def what_this_shows(
    effects: pd.DataFrame,
    dropout: pd.DataFrame | None = None,
    *,
    n_students: int | None = None,
) -> str:
    """The comparisons in plain language, as markdown: one bullet per scenario and comparison.

    A difference is called higher or lower only when its 95% interval excludes 0; otherwise the
    text says "no detectable difference" (which is not the same as "no effect").

    Parameters
    ----------
    effects : DataFrame
        From :func:`effect_sizes`.
    dropout : DataFrame, optional
        From :func:`dropout_differences` (same scenarios and comparisons).
    n_students : int, optional
        Students per replication, quoted in the caveat.
    """
    lines = []
    drop = {}
    if dropout is not None and len(dropout):
        drop = {(r.scenario, r.arm, r.reference): r for r in dropout.itertuples(index=False)}
    for scenario, group in effects.groupby("scenario", sort=False):
        lines.append(f"**Scenario `{scenario}`**")
        lines.append("")
        for r in group.itertuples(index=False):
            verdict = _verdict(
                r.ci_low, r.ci_high, "higher post-test scores", "lower post-test scores"
            )
            if verdict == "no detectable difference":
                verdict += " in post-test scores"
            text = (
                f"- `{r.arm}` vs `{r.reference}`: {verdict} "
                f"(mean {r.mean_arm:.3f} vs {r.mean_reference:.3f}; Hedges' g {r.g:+.2f}, "
                f"95% CI {r.ci_low:+.2f} to {r.ci_high:+.2f})"
            )
            d = drop.get((scenario, r.arm, r.reference))
            if d is not None:
                dv = _verdict(d.ci_low, d.ci_high, "more dropout", "less dropout")
                if dv == "no detectable difference":
                    dv += " in dropout"
                text += (
                    f"; {dv} ({100 * d.rate_arm:.1f}% vs {100 * d.rate_reference:.1f}%, "
                    f"difference {100 * d.difference:+.1f} points, 95% CI "
                    f"{100 * d.ci_low:+.1f} to {100 * d.ci_high:+.1f})"
                )
            lines.append(text + ".")
        lines.append("")
    if n_students is not None:
        lines.append(
            f"These are simulated students ({n_students} per replication); an interval that "
            "includes 0 means this sample cannot tell the arms apart, not that they are equal."
        )
    return "\n".join(lines).strip() + "\n"


def headline(
    effects: pd.DataFrame, arm: str = "personalized", reference: str = "individualized"
) -> str:
    """One sentence: how ``arm`` compares with ``reference`` on the post-test in each scenario.

    The comparison the study is about (the vendors' claim, by default); when the study lacks
    it, its first comparison. The verdict is decided by the 95% interval, as in
    :func:`what_this_shows`.
    """
    rows = effects[(effects["arm"] == arm) & (effects["reference"] == reference)]
    if rows.empty:
        if effects.empty:
            return "The study has a single arm: nothing was compared."
        first = effects.iloc[0]
        arm, reference = str(first["arm"]), str(first["reference"])
        rows = effects[(effects["arm"] == arm) & (effects["reference"] == reference)]
    parts = []
    for r in rows.itertuples(index=False):
        verdict = _verdict(r.ci_low, r.ci_high, "higher", "lower")
        parts.append(
            f"in `{r.scenario}`, {verdict} (Hedges' g {r.g:+.2f}, 95% CI {r.ci_low:+.2f} to "
            f"{r.ci_high:+.2f})"
        )
    return f"**{arm}** vs **{reference}** on the post-test: " + "; ".join(parts) + "."
