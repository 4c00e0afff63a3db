"""The impact estimates of one finding (one outcome, one treatment vs the control).

Every estimate is a row of ``effects.csv``: ``outcome, treatment, control, estimator, estimate,
std_error, ci_low, ci_high, p_value, n_treatment, n_control`` and details. The estimators:

=====================  =========================================================================
``hedges_g``           Hedges' g of the analysis sample, ignoring clusters and covariates; for a
                       binary outcome the WWC's Cox index ``omega ln(OR) / 1.65``.
``hedges_g_cluster``   (cluster designs) Hedges' (2007) cluster-adjusted g, with the ICC and
                       interval the trial file chooses; for a binary outcome the Cox index with
                       its variance inflated by the clusters' design effect.
``mixed_model``        The design-respecting model in outcome units: OLS with the baseline
                       covariates (HC2) for students randomized individually; block indicators
                       (fixed) or a block random intercept for blocked designs; a random
                       intercept per cluster for cluster designs (between-within df). For a
                       binary outcome a linear probability model (an adjusted risk difference;
                       cluster-robust for cluster designs).
``mixed_model_g``      The same model's effect as g: the adjusted difference divided by the
                       standardizer of the g above (the pooled SD; for cluster designs Hedges'
                       total-variance SD) times the same small-sample factor, as the WWC computes
                       g from adjusted means. For a binary outcome, the Cox index of the adjusted
                       proportions (the control proportion, and it plus the adjusted risk
                       difference), with the interval and p-value of that difference.
=====================  =========================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from edstudy.investigations.trial.spec import OutcomeSpec, TrialSpec
from edstudy.stats.effect_sizes import EffectSize, hedges_g
from edstudy.stats.models import ModelResult, mixed_model
from edstudy.stats.proportions import risk_difference
from edstudy.stats.regression import adjusted_effect
from edstudy.stats.wwc import WWC_DEFAULT_ICC, cox_effect_size, improvement_index

__all__ = ["ESTIMATORS", "finding_effects", "is_binary"]

ESTIMATORS = ("hedges_g", "hedges_g_cluster", "mixed_model_g", "mixed_model")


def is_binary(values: pd.Series) -> bool:
    """Boolean, or numeric with values in {0, 1} only."""
    if pd.api.types.is_bool_dtype(values):
        return True
    seen = set(pd.unique(values.dropna()))
    return bool(seen) and seen <= {0, 1}


@dataclass(frozen=True)
class _Row:
    estimator: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    scale: str
    method: str
    df: float = math.nan
    icc: float = math.nan
    icc_source: str = ""


def _icc_for(spec: TrialSpec, outcome: OutcomeSpec) -> tuple[float | None, str]:
    if spec.icc == "estimated":
        return None, "estimated (one-way ANOVA within arms)"
    if spec.icc == "wwc":
        value = WWC_DEFAULT_ICC[outcome.kind]
        return value, f"WWC default for {outcome.kind} outcomes ({value:.2f})"
    return float(spec.icc), f"given in the trial file ({float(spec.icc):.2f})"


def _from_effect(es: EffectSize, method: str, *, source: str = "") -> _Row:
    return _Row(
        estimator=es.measure,
        estimate=es.estimate,
        std_error=es.std_error,
        ci_low=es.ci_low,
        ci_high=es.ci_high,
        p_value=es.p_value,
        scale="g",
        method=method,
        df=es.interval_df if es.interval_df is not None else math.nan,
        icc=es.icc if es.icc is not None else math.nan,
        icc_source=source if es.icc is not None else "",
    )


def _from_model(fit: ModelResult, estimator: str, scale: str, factor: float = 1.0) -> _Row:
    row = fit.treatment_effect
    return _Row(
        estimator=estimator,
        estimate=float(row["estimate"]) * factor,
        std_error=float(row["std_error"]) * abs(factor),
        ci_low=float(row["ci_low"]) * factor,
        ci_high=float(row["ci_high"]) * factor,
        p_value=float(row["p_value"]),
        scale=scale,
        method=fit.model,
        df=float(row["df"]),
    )


def _with_block_dummies(sample: pd.DataFrame, block: str) -> tuple[pd.DataFrame, list[str]]:
    levels = sorted(pd.unique(sample[block].astype(str)))
    labels = sample[block].astype(str)
    extra = {f"_block_{i}": (labels == lv).astype(float) for i, lv in enumerate(levels[1:])}
    return sample.assign(**extra), list(extra)


def _model(spec: TrialSpec, sample: pd.DataFrame, outcome: str, treatment: str) -> ModelResult:
    """The design-respecting model of a continuous outcome, in outcome units."""
    kw: dict[str, Any] = dict(treatment=treatment, control=spec.control)
    cov = list(spec.baseline)
    if not spec.cluster_assigned:
        if spec.block is not None and spec.blocks_as == "random":
            return mixed_model(
                sample, outcome, spec.arm, covariates=cov, levels=(spec.block,), **kw
            )
        return adjusted_effect(sample, outcome, spec.arm, covariates=cov, block=spec.block, **kw)
    assert spec.cluster is not None
    if spec.block is None:
        return mixed_model(sample, outcome, spec.arm, covariates=cov, levels=(spec.cluster,), **kw)
    if spec.blocks_as == "random":
        levels = (spec.block, spec.cluster)
        return mixed_model(sample, outcome, spec.arm, covariates=cov, levels=levels, **kw)
    data, dummies = _with_block_dummies(sample, spec.block)
    return mixed_model(
        data, outcome, spec.arm, covariates=[*cov, *dummies], levels=(spec.cluster,), **kw
    )


def _continuous(
    spec: TrialSpec, sample: pd.DataFrame, outcome: OutcomeSpec, treatment: str
) -> list[_Row]:
    kw: dict[str, Any] = dict(treatment=treatment, control=spec.control, confidence=spec.confidence)
    g = hedges_g(sample, outcome.name, spec.arm, **kw)
    rows = [_from_effect(g, "Hedges' g, pooled within-arm SD, normal interval")]
    reference = g
    if spec.cluster_assigned:
        icc, source = _icc_for(spec, outcome)
        gc = hedges_g(
            sample,
            outcome.name,
            spec.arm,
            cluster=spec.cluster,
            icc=icc,
            interval=spec.interval,
            **kw,
        )
        interval = {"z": "normal", "t_h": "t on Hedges' h df", "t_clusters": "t on clusters - 2 df"}
        method = (
            f"Hedges (2007) cluster-adjusted g, ICC {source}, {interval[spec.interval]} interval"
        )
        rows.append(_from_effect(gc, method, source=source))
        reference = gc
    fit = _model(spec, sample, outcome.name, treatment)
    assert reference.standardizer is not None
    factor = reference.correction / reference.standardizer
    model_g = _from_model(fit, "mixed_model_g", "g", factor)
    method = f"{fit.model}; adjusted difference / {reference.measure} standardizer"
    rows.append(replace(model_g, method=method))
    rows.append(_from_model(fit, "mixed_model", "outcome units"))
    return rows


def _binary(
    spec: TrialSpec, sample: pd.DataFrame, outcome: OutcomeSpec, treatment: str
) -> list[_Row]:
    name = outcome.name
    y = sample[name].astype(float).to_numpy()
    t = (sample[spec.arm] == treatment).to_numpy()
    a, n_t = float(y[t].sum()), int(t.sum())
    c, n_c = float(y[~t].sum()), int((~t).sum())
    est = cox_effect_size(a, n_t, c, n_c, confidence=spec.confidence)
    rows = [
        _cox_row("hedges_g", est, "Cox index omega ln(OR) / 1.65 (WWC), Woolf SE, normal interval")
    ]
    if spec.cluster_assigned:
        rd = risk_difference(
            sample.assign(**{name: y}),
            name,
            spec.arm,
            treatment=treatment,
            control=spec.control,
            cluster=spec.cluster,
        )
        deff_t = rd.design_effect_treatment or 1.0
        deff_c = rd.design_effect_control or 1.0
        p_t, p_c = a / n_t, c / n_c
        # Var(ln OR) = sum over arms of 1 / (n p (1 - p)), each inflated by its design effect
        v_t = 1.0 / (n_t * p_t * (1 - p_t)) if 0 < p_t < 1 else 0.0
        v_c = 1.0 / (n_c * p_c * (1 - p_c)) if 0 < p_c < 1 else 0.0
        deff = (deff_t * v_t + deff_c * v_c) / (v_t + v_c) if v_t + v_c > 0 else 1.0
        est_c = cox_effect_size(a, n_t, c, n_c, confidence=spec.confidence, design_effect=deff)
        rows.append(
            _cox_row(
                "hedges_g_cluster",
                est_c,
                f"Cox index, variance inflated by the clusters' design effect ({deff:.2f})",
            )
        )
    kw: dict[str, Any] = dict(
        treatment=treatment,
        control=spec.control,
        covariates=list(spec.baseline),
        block=spec.block,
        cluster=spec.cluster if spec.cluster_assigned else None,
        confidence=spec.confidence,
    )
    data = sample.assign(**{name: y})
    lpm = adjusted_effect(data, name, spec.arm, binary=True, **kw)
    rows.append(_adjusted_cox(lpm, c / n_c, n_t + n_c, spec.confidence))
    rows.append(_from_model(lpm, "mixed_model", "risk difference"))
    return rows


def _cox_from_rates(p_t: float, p_c: float, omega: float) -> float:
    if not (0.0 < p_t < 1.0 and 0.0 < p_c < 1.0):
        return math.nan
    return omega * (math.log(p_t / (1 - p_t)) - math.log(p_c / (1 - p_c))) / 1.65


def _adjusted_cox(lpm: ModelResult, p_c: float, n: int, confidence: float) -> _Row:
    """Cox index of the covariate-adjusted proportions, as the WWC computes it: the control
    group's proportion and that proportion plus the model's adjusted difference."""
    row = lpm.treatment_effect
    omega = 1.0 - 3.0 / (4.0 * n - 9.0)
    diff = float(row["estimate"])
    p_t = p_c + diff
    est = _cox_from_rates(p_t, p_c, omega)
    lo = _cox_from_rates(min(max(p_c + float(row["ci_low"]), 1e-9), 1 - 1e-9), p_c, omega)
    hi = _cox_from_rates(min(max(p_c + float(row["ci_high"]), 1e-9), 1 - 1e-9), p_c, omega)
    slope = omega / (1.65 * p_t * (1 - p_t)) if 0 < p_t < 1 else math.nan
    return _Row(
        estimator="mixed_model_g",
        estimate=est,
        std_error=slope * float(row["std_error"]),
        ci_low=lo,
        ci_high=hi,
        p_value=float(row["p_value"]),
        scale="g",
        method=(
            f"Cox index of the adjusted proportions (control {p_c:.3f}, treatment control + "
            f"adjusted difference); {lpm.model}; interval and p from the adjusted difference"
        ),
        df=float(row["df"]),
    )


def _cox_row(estimator: str, est: tuple[float, float, float, float], method: str) -> _Row:
    e, se, lo, hi = est
    p = float(2 * stats.norm.sf(abs(e / se))) if se > 0 and not math.isnan(e) else math.nan
    return _Row(estimator, e, se, lo, hi, p, "g", method)


def finding_effects(
    spec: TrialSpec, sample: pd.DataFrame, outcome: OutcomeSpec, treatment: str
) -> pd.DataFrame:
    """Every estimator's row for one outcome and one treatment vs the control.

    Parameters
    ----------
    spec : TrialSpec
    sample : DataFrame
        The analysis sample of this finding: students of the two arms with the outcome, every
        baseline covariate and the design columns present.
    outcome : OutcomeSpec
    treatment : str

    Returns
    -------
    DataFrame
        The ``effects.csv`` columns plus ``scale, improvement_index, percent_of_control_mean,
        df, icc, icc_source, method, domain, binary``.
    """
    binary = is_binary(sample[outcome.name])
    rows = (_binary if binary else _continuous)(spec, sample, outcome, treatment)
    t = (sample[spec.arm] == treatment).to_numpy()
    y = sample[outcome.name].astype(float).to_numpy()
    control_mean = float(np.mean(y[~t]))
    table = pd.DataFrame([r.__dict__ for r in rows])
    table.insert(0, "outcome", outcome.name)
    table.insert(1, "treatment", treatment)
    table.insert(2, "control", spec.control)
    table["n_treatment"] = int(t.sum())
    table["n_control"] = int((~t).sum())
    g_rows = table["scale"] == "g"
    table["improvement_index"] = np.where(
        g_rows, improvement_index(table["estimate"].to_numpy(float)), np.nan
    )
    table["percent_of_control_mean"] = np.where(
        ~g_rows & (control_mean != 0), 100.0 * table["estimate"] / control_mean, np.nan
    )
    table["control_mean"] = control_mean
    table["domain"] = outcome.domain
    table["binary"] = binary
    return table
