"""One call from a trial file to a standards-based verdict: :func:`analyze_trial`.

For every comparison (each treatment arm against the control) and every outcome, a *finding*:

1. **Analysis sample**: the students of the two arms whose outcome, every baseline covariate and
   the design columns are present. Students left out for a missing baseline count as attrition
   (the impact model adjusts for the covariates, so it cannot use them); the caveats say how many.
2. **Attrition** (:func:`edstudy.stats.attrition_from_counts`): overall and differential, from
   randomized vs analysed students, against the WWC boundary the trial file names; for cluster
   designs also at the cluster level (a cluster is lost when none of its students is analysed),
   and the student level is then counted within the remaining clusters.
3. **Baseline equivalence** (:func:`edstudy.stats.baseline_equivalence`) of the analysis sample
   per covariate: Hedges' g, or the Cox index for a binary covariate, against the 0.05 / 0.25 SD
   rules. Every baseline covariate is in the impact model, so a difference that "requires
   statistical adjustment" gets it.
4. **Impacts** (:mod:`.effects`): Hedges' g, the cluster-adjusted g for cluster designs, and the
   design-respecting model in outcome units and as g; the improvement index beside every g;
   Benjamini-Hochberg adjusted p-values within each outcome domain and estimator, across
   comparisons (the WWC's family: the findings of one domain).
5. **Rating** (:func:`edstudy.stats.wwc.wwc_rating`) with its reasons.

Then the moderators (:func:`edstudy.stats.moderation.moderation`) and, with a response log, the
process measures (:mod:`.process`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edstudy.investigations.trial.data import (
    TrialData,
    attach_arms,
    check_trial_data,
    load_trial_data,
)
from edstudy.investigations.trial.effects import finding_effects
from edstudy.investigations.trial.process import process_measures
from edstudy.investigations.trial.result import TrialResult
from edstudy.investigations.trial.spec import OutcomeSpec, TrialSpec, load_trial
from edstudy.stats.attrition import (
    AttritionResult,
    attrition_from_counts,
    baseline_equivalence,
)
from edstudy.stats.moderation import moderation
from edstudy.stats.wwc import RatingInput, benjamini_hochberg, wwc_rating

__all__ = ["analyze_trial"]

#: Fewer randomized clusters than this draws the "few clusters" caveat.
FEW_CLUSTERS = 20
_HANDBOOK = (
    "WWC Standards Handbook v4.1 (2020), Table II.1 (attrition boundaries, as transcribed by the R "
    "package baselinr; v5.0 keeps them) and sec. II (ratings); Procedures Handbook v4.1 "
    "(effect sizes, improvement index, Benjamini-Hochberg, default ICCs)"
)
_ROUNDING = (
    "overall attrition rounded to the nearest whole percent (halves up) to find the table row; "
    "differential attrition not rounded, low when at or below the row's boundary"
)


def _analysed_mask(spec: TrialSpec, frame: pd.DataFrame, outcome: str) -> np.ndarray:
    needed = [outcome, *spec.baseline, *(c for c in (spec.cluster, spec.block) if c)]
    return frame[needed].notna().all(axis=1).to_numpy()


def _attrition_record(result: AttritionResult, level: str) -> dict[str, Any]:
    rec = {"level": level, **result.to_frame().iloc[0].to_dict()}
    rec["boundary_source"] = "WWC Standards Handbook v4.1 Table II.1 (baselinr transcription)"
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()}


def _attrition(
    spec: TrialSpec, pair: pd.DataFrame, kept: np.ndarray, treatment: str
) -> list[dict[str, Any]]:
    t = (pair[spec.arm] == treatment).to_numpy()
    kw = dict(boundary=spec.boundary, treatment=treatment, control=spec.control)
    if not spec.cluster_assigned:
        res = attrition_from_counts(
            int(t.sum()), int((kept & t).sum()), int((~t).sum()), int((kept & ~t).sum()), **kw
        )
        return [_attrition_record(res, "student")]
    cl = pair[spec.cluster].to_numpy()
    retained = set(cl[kept])
    in_kept_cluster = np.isin(cl, list(retained))
    clusters = pd.DataFrame({"cluster": cl, "t": t}).drop_duplicates("cluster")
    ct = clusters["t"].to_numpy()
    kept_c = clusters["cluster"].isin(retained).to_numpy()
    res_c = attrition_from_counts(
        int(ct.sum()), int((kept_c & ct).sum()), int((~ct).sum()), int((kept_c & ~ct).sum()), **kw
    )
    m_t, m_c = int((in_kept_cluster & t).sum()), int((in_kept_cluster & ~t).sum())
    if m_t == 0 or m_c == 0:
        raise ValueError(
            f"no cluster of arm {(treatment if m_t == 0 else spec.control)!r} has an analysed "
            "student; the comparison cannot be made"
        )
    res_s = attrition_from_counts(m_t, int((kept & t).sum()), m_c, int((kept & ~t).sum()), **kw)
    return [_attrition_record(res_c, "cluster"), _attrition_record(res_s, "student")]


def _baseline(
    spec: TrialSpec, sample: pd.DataFrame, treatment: str
) -> tuple[pd.DataFrame, str, list[str], list[str]]:
    if not spec.baseline:
        return pd.DataFrame(), "not assessed", [], []
    be = baseline_equivalence(
        sample, list(spec.baseline), spec.arm, treatment=treatment, control=spec.control
    )
    table = be.table.rename(columns={"term": "covariate", "estimate": "effect_size"})
    table["adjusted_in_model"] = True
    failing = list(table.loc[table["category"].isin(["not satisfied", "undefined"]), "covariate"])
    return table, be.overall, be.adjust_for, failing


def _finding(
    spec: TrialSpec, frame: pd.DataFrame, outcome: OutcomeSpec, treatment: str
) -> dict[str, Any]:
    pair = frame[frame[spec.arm].isin([treatment, spec.control])].reset_index(drop=True)
    kept = _analysed_mask(spec, pair, outcome.name)
    present = pair[outcome.name].notna().to_numpy()
    attrition = _attrition(spec, pair, kept, treatment)
    sample = pair.loc[kept].reset_index(drop=True)
    baseline, overall, needs, failing = _baseline(spec, sample, treatment)
    student = next(a for a in attrition if a["level"] == "student")
    cluster = next((a for a in attrition if a["level"] == "cluster"), None)
    rating = wwc_rating(
        RatingInput(
            design=spec.randomization,
            low_attrition=bool(student["low_attrition"]),
            boundary=spec.boundary,
            cluster_level=spec.cluster_assigned,
            low_cluster_attrition=None if cluster is None else bool(cluster["low_attrition"]),
            baseline=overall,
            adjusted=list(spec.baseline),
            needs_adjustment=needs,
            failing=failing,
        )
    )
    effects = finding_effects(spec, sample, outcome, treatment)
    return {
        "outcome": outcome.name,
        "treatment": treatment,
        "control": spec.control,
        "domain": outcome.domain,
        "sample": sample,
        "effects": effects,
        "attrition": attrition,
        "baseline": baseline,
        "baseline_overall": overall,
        "rating": rating.rating,
        "reasons": rating.reasons,
        "missing_baseline": int((present & ~kept).sum()),
        "transcription_sensitive": any(a["transcription_sensitive"] for a in attrition),
    }


def _bh(effects: pd.DataFrame, alpha: float) -> pd.DataFrame:
    out = effects.copy()
    out["p_value_bh"] = np.nan
    out["significant_bh"] = False
    for _, idx in out.groupby(["estimator", "domain"], sort=False).groups.items():
        adj, sig = benjamini_hochberg(out.loc[idx, "p_value"].to_numpy(float), alpha)
        out.loc[idx, "p_value_bh"] = adj
        out.loc[idx, "significant_bh"] = sig
    return out


def _moderators(spec: TrialSpec, findings: list[dict[str, Any]]) -> pd.DataFrame:
    parts = []
    for f in findings:
        for m in spec.moderators:
            res = moderation(
                f["sample"],
                f["outcome"],
                spec.arm,
                treatment=f["treatment"],
                control=spec.control,
                moderator=m,
                covariates=list(spec.baseline),
                cluster=spec.cluster if spec.cluster_assigned else None,
                confidence=spec.confidence,
            )
            parts.append(res.to_frame().assign(treatment=f["treatment"], control=spec.control))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _caveats(
    spec: TrialSpec, data: TrialData, findings: list[dict[str, Any]], effects: pd.DataFrame
) -> list[str]:
    out = []
    if spec.cluster_assigned:
        assert spec.cluster is not None
        pair = data.outcomes[data.outcomes[spec.arm].isin([*spec.treatments, spec.control])]
        m = int(pair[spec.cluster].nunique())
        model_df = effects.loc[effects["estimator"] == "mixed_model", "df"].min()
        if m < FEW_CLUSTERS:
            out.append(
                f"few clusters: {m} clusters ({spec.cluster}) were randomized; the model's "
                f"treatment test has {model_df:g} degrees of freedom, so intervals are wide and "
                "rest on the normality of cluster means"
            )
        if spec.icc == "estimated":
            out.append(
                f"estimated ICC: the cluster-adjusted g uses an ICC estimated from {m} clusters, "
                "itself uncertain; its interval is a t interval on clusters - 2 df "
                f"({spec.interval}), which keeps coverage near 95% at 4 + 4 clusters where the "
                "normal interval gives about 92%"
                if spec.interval == "t_clusters"
                else f"estimated ICC: the cluster-adjusted g uses an ICC estimated from {m} "
                f"clusters with a {spec.interval} interval, which under-covers with few clusters"
            )
        out.append(
            "joiners (students who entered a cluster after assignment) cannot be identified from "
            "the outcomes file and were not assessed"
        )
    if not spec.baseline:
        out.append(
            "missing baseline: no baseline covariate was declared, so baseline equivalence cannot "
            "be assessed and a finding with high attrition cannot meet the standards"
        )
    for f in findings:
        if f["missing_baseline"]:
            out.append(
                f"missing baseline: {f['missing_baseline']} students of {f['treatment']} vs "
                f"{f['control']} with a {f['outcome']} outcome lack a baseline covariate and were "
                "counted as attrition (the impact model cannot use them)"
            )
        if f["transcription_sensitive"]:
            out.append(
                f"{f['outcome']}, {f['treatment']} vs {f['control']}: the attrition verdict "
                "would change under the other public transcription of the optimistic boundary "
                "(R package WWCr, from 13% overall attrition on); check the Handbook table"
            )
    out.append(
        "not judged from the data: whether randomization was intact, confounding factors (e.g. "
        "one teacher or school per arm) and the outcome measures' validity and reliability"
    )
    return out


def _standards(spec: TrialSpec, findings: list[dict[str, Any]], caveats: list[str]) -> dict:
    entries = []
    for f in findings:
        base = f["baseline"]
        entries.append(
            {
                "outcome": f["outcome"],
                "treatment": f["treatment"],
                "control": f["control"],
                "attrition": f["attrition"],
                "baseline_equivalence": {
                    "overall": f["baseline_overall"],
                    "covariates": _records(base),
                },
                "rating": f["rating"],
                "reasons": f["reasons"],
            }
        )
    return {
        "trial": spec.name,
        "design": spec.design_text(),
        "attrition_boundary": spec.boundary,
        "sources": _HANDBOOK,
        "rounding": _ROUNDING,
        "findings": entries,
        "caveats": caveats,
    }


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    if table.empty:
        return []
    keep = [
        "covariate",
        "measure",
        "effect_size",
        "category",
        "mean_treatment",
        "mean_control",
        "n_treatment",
        "n_control",
        "adjusted_in_model",
    ]
    out = []
    for rec in table[keep].to_dict("records"):
        clean = {}
        for k, v in rec.items():
            v = v.item() if hasattr(v, "item") else v
            clean[k] = None if isinstance(v, float) and math.isnan(v) else v
        out.append(clean)
    return out


def analyze_trial(
    trial: TrialSpec | str | Path,
    *,
    outcomes: pd.DataFrame | None = None,
    log: pd.DataFrame | None = None,
    process: bool = True,
    seed: int = 0,
) -> TrialResult:
    """Analyse a randomized trial end to end: attrition, baseline equivalence, impacts, rating.

    Parameters
    ----------
    trial : TrialSpec, or path of a trial file
        See :mod:`edstudy.investigations.trial.spec`.
    outcomes : DataFrame, optional
        The outcomes table, instead of the file the trial names (checked the same way; not
        modified).
    log : DataFrame, optional
        A response log (edstudy's schema), instead of the file the trial names; each student's
        arm is taken from the outcomes table.
    process : bool
        Compute the process measures when there is a log (fits BKT on the log).
    seed : int
        Seed of the BKT fit's restarts.

    Returns
    -------
    TrialResult

    Raises
    ------
    ConfigError
        The trial file has a mistake (file, line, field).
    TrialDataError
        The data cannot be analysed honestly as declared (the reason names the file, column,
        line and value).
    """
    spec = trial if isinstance(trial, TrialSpec) else load_trial(trial)
    if outcomes is not None:
        frame = check_trial_data(spec, outcomes, "outcomes")
        data = TrialData(outcomes=frame, log=None, label="outcomes")
    else:
        data = load_trial_data(spec)
    if log is not None:
        data = TrialData(data.outcomes, attach_arms(spec, data.outcomes, log, "log"), data.label)
    findings = [_finding(spec, data.outcomes, o, t) for t in spec.treatments for o in spec.outcomes]
    effects = _bh(pd.concat([f["effects"] for f in findings], ignore_index=True), spec.alpha)
    attrition = pd.DataFrame(
        [{"outcome": f["outcome"], **a} for f in findings for a in f["attrition"]]
    )
    baseline = pd.concat(
        [
            f["baseline"].assign(outcome=f["outcome"], treatment=f["treatment"])
            for f in findings
            if not f["baseline"].empty
        ]
        or [pd.DataFrame()],
        ignore_index=True,
    )
    caveats = _caveats(spec, data, findings, effects)
    proc = None
    if process and data.log is not None:
        proc = process_measures(data.log, spec.control, list(spec.treatments), seed=seed)
    return TrialResult(
        spec=spec,
        effects=effects,
        attrition=attrition,
        baseline=baseline,
        moderators=_moderators(spec, findings),
        ratings=pd.DataFrame(
            [
                {
                    "outcome": f["outcome"],
                    "treatment": f["treatment"],
                    "control": f["control"],
                    "rating": f["rating"],
                    "reasons": "; ".join(f["reasons"]),
                }
                for f in findings
            ]
        ),
        standards=_standards(spec, findings, caveats),
        caveats=caveats,
        process=proc,
        n_randomized=int(data.outcomes[spec.arm].isin([*spec.treatments, spec.control]).sum()),
    )
