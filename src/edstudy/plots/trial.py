"""Figures of a randomized trial's analysis (:mod:`edstudy.investigations.trial`).

- :func:`trial_forest`: the effect sizes of every finding, one marker per estimator.
- :func:`attrition_boundary_plot`: each finding's overall and differential attrition against the
  WWC boundary curves (the table is passed in, so this module stays a leaf).
- :func:`baseline_differences`: baseline effect sizes per covariate against the 0.05 and 0.25 SD
  lines of the WWC baseline-equivalence rules.
- :func:`process_figure`: mastery trajectories and per-arm process measures from the log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from edstudy.plots._base import PALETTE, _need, _unique

__all__ = [
    "attrition_boundary_plot",
    "baseline_differences",
    "process_figure",
    "trial_forest",
]

_ESTIMATOR_LABEL = {
    "hedges_g": "Hedges' g",
    "hedges_g_cluster": "cluster-adjusted g",
    "mixed_model_g": "model-adjusted g",
}
_METRIC_LABEL = {
    "opportunities": "practice opportunities",
    "minutes": "minutes on task",
    "first_attempt_accuracy": "first-attempt accuracy",
    "hints_per_opportunity": "hints per opportunity",
    "final_mastery": "final P(mastered)",
}


def trial_forest(effects: pd.DataFrame, *, confidence: float = 0.95) -> Figure:
    """Effect sizes (g scale) per finding with their intervals, one marker per estimator.

    Parameters
    ----------
    effects : DataFrame
        ``outcome, treatment, control, estimator, estimate, ci_low, ci_high, scale`` (the
        trial's effects table); only rows on the ``g`` scale are drawn.
    confidence : float
        For the axis label.

    Returns
    -------
    Figure
        One axes; y tick labels ``"outcome: treatment vs control"``.
    """
    _need(
        effects,
        ["outcome", "treatment", "control", "estimator", "estimate", "ci_low", "ci_high", "scale"],
        "trial_forest",
    )
    g = effects[effects["scale"] == "g"]
    if g.empty:
        raise ValueError("trial_forest: no rows on the g scale")
    keys = list(
        dict.fromkeys(
            f"{o}: {t} vs {c}"
            for o, t, c in zip(g["outcome"], g["treatment"], g["control"], strict=True)
        )
    )
    estimators = [e for e in _ESTIMATOR_LABEL if e in set(g["estimator"])]
    height = 1.6 + 0.55 * len(keys) * max(1, len(estimators)) ** 0.5
    fig = Figure(figsize=(7.5, height), layout="constrained")
    ax = fig.subplots()
    offsets = (np.arange(len(estimators)) - (len(estimators) - 1) / 2) * 0.22
    ypos = {k: len(keys) - 1 - i for i, k in enumerate(keys)}
    markers = ("o", "s", "D")
    for j, est in enumerate(estimators):
        r = g[g["estimator"] == est]
        labels = [
            f"{o}: {t} vs {c}"
            for o, t, c in zip(r["outcome"], r["treatment"], r["control"], strict=True)
        ]
        y = np.array([ypos[k] for k in labels]) + offsets[j]
        x = r["estimate"].to_numpy(float)
        err = np.vstack([x - r["ci_low"].to_numpy(float), r["ci_high"].to_numpy(float) - x])
        ax.errorbar(
            x,
            y,
            xerr=err,
            fmt=markers[j % len(markers)],
            color=PALETTE[j % len(PALETTE)],
            capsize=3,
            ms=5,
            label=_ESTIMATOR_LABEL[est],
        )
    ax.axvline(0.0, color="0.3", lw=1)
    for ref in (-0.25, 0.25):
        ax.axvline(ref, color="0.75", lw=0.8, ls=":")
    ax.set_yticks(list(ypos.values()), list(ypos.keys()))
    ax.set_xlabel(f"effect size g ({round(100 * confidence)}% interval)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(
        fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False
    )
    return fig


def attrition_boundary_plot(
    attrition: pd.DataFrame, boundaries: pd.DataFrame, *, boundary: str = "cautious"
) -> Figure:
    """Overall vs differential attrition of each finding, against the WWC boundary curves.

    Parameters
    ----------
    attrition : DataFrame
        ``outcome, treatment, level, overall, differential`` (proportions).
    boundaries : DataFrame
        ``overall_pct, cautious_pct, optimistic_pct`` (:func:`edstudy.stats.wwc_boundary_table`).
    boundary : str
        The boundary the trial uses (drawn solid; the other dashed).

    Returns
    -------
    Figure
        One axes in percent; the region below the chosen curve is low attrition.
    """
    _need(attrition, ["outcome", "treatment", "level", "overall", "differential"], "attrition")
    _need(boundaries, ["overall_pct", "cautious_pct", "optimistic_pct"], "attrition")
    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.subplots()
    x = boundaries["overall_pct"].to_numpy(float)
    for name, color in (("cautious", PALETTE[0]), ("optimistic", PALETTE[1])):
        y = boundaries[f"{name}_pct"].to_numpy(float)
        ax.plot(x, y, color=color, lw=2 if name == boundary else 1,
                ls="-" if name == boundary else "--", label=f"{name} boundary")  # fmt: skip
        if name == boundary:
            ok = ~np.isnan(y)
            ax.fill_between(x[ok], 0, y[ok], color=color, alpha=0.12, label="low attrition")
    levels = _unique(attrition["level"])
    for k, level in enumerate(levels):
        r = attrition[attrition["level"].astype(str) == level]
        ax.scatter(
            100 * r["overall"].to_numpy(float),
            100 * r["differential"].to_numpy(float),
            marker="o" if level == "student" else "s",
            color=PALETTE[(k + 2) % len(PALETTE)],
            zorder=3,
            label=f"{level} level",
        )
        seen: set[tuple[float, float]] = set()
        for o, xo, yo in zip(r["outcome"], r["overall"], r["differential"], strict=True):
            where = (round(100 * xo, 1), round(100 * yo, 1))
            if where in seen:  # one label per point drawn
                continue
            seen.add(where)
            ax.annotate(f"{o} ({level})", (100 * xo, 100 * yo), fontsize=7, xytext=(4, 3 + 9 * k),
                        textcoords="offset points")  # fmt: skip
    top = max(12.0, 100 * float(attrition["differential"].max()) * 1.15)
    ax.set_xlim(0, max(66.0, 100 * float(attrition["overall"].max()) * 1.05))
    ax.set_ylim(0, top)
    ax.set_xlabel("overall attrition (%)")
    ax.set_ylabel("differential attrition (percentage points)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper right")
    return fig


def baseline_differences(baseline: pd.DataFrame) -> Figure:
    """Baseline effect sizes per covariate with the WWC 0.05 and 0.25 SD lines.

    Parameters
    ----------
    baseline : DataFrame
        ``covariate, effect_size, outcome, treatment`` (one row per analysis sample and
        covariate).

    Returns
    -------
    Figure
        One axes; shaded band ``|es| <= 0.05`` (satisfied), dotted lines at 0.25.
    """
    _need(baseline, ["covariate", "effect_size", "outcome", "treatment"], "baseline_differences")
    covs = _unique(baseline["covariate"])
    samples = list(dict.fromkeys(zip(baseline["outcome"], baseline["treatment"], strict=True)))
    fig = Figure(figsize=(7.0, 1.3 + 0.45 * len(covs)), layout="constrained")
    ax = fig.subplots()
    ax.axvspan(-0.05, 0.05, color=PALETTE[2], alpha=0.15, label="|es| <= 0.05: satisfied")
    for ref in (-0.25, 0.25):
        ax.axvline(ref, color=PALETTE[1], ls=":", lw=1)
    ax.axvline(0.0, color="0.3", lw=0.8)
    offsets = (np.arange(len(samples)) - (len(samples) - 1) / 2) * (0.5 / max(len(samples), 1))
    ypos = {c: len(covs) - 1 - i for i, c in enumerate(covs)}
    for k, (o, t) in enumerate(samples):
        r = baseline[(baseline["outcome"] == o) & (baseline["treatment"] == t)]
        ax.scatter(
            r["effect_size"].to_numpy(float),
            np.array([ypos[c] for c in r["covariate"].astype(str)]) + offsets[k],
            color=PALETTE[k % len(PALETTE)],
            label=f"sample of {o} ({t})",
            zorder=3,
        )
    lim = max(0.3, float(np.nanmax(np.abs(baseline["effect_size"].to_numpy(float)))) * 1.15)
    ax.set_xlim(-lim, lim)
    ax.set_yticks(list(ypos.values()), list(ypos.keys()))
    ax.set_xlabel("baseline difference (g; Cox index if binary)")
    ax.legend(fontsize="small", loc="best")
    ax.grid(axis="x", alpha=0.3)
    return fig


def process_figure(summary: pd.DataFrame, trajectories: pd.DataFrame) -> Figure:
    """Mastery trajectories per arm (left) and per-arm process measures (right).

    Parameters
    ----------
    summary : DataFrame
        ``metric, arm, mean, ci_low, ci_high``.
    trajectories : DataFrame
        ``arm, opportunity, mastery``.

    Returns
    -------
    Figure
        The trajectory axes and one small axes per metric.
    """
    _need(summary, ["metric", "arm", "mean", "ci_low", "ci_high"], "process_figure")
    _need(trajectories, ["arm", "opportunity", "mastery"], "process_figure")
    metrics = _unique(summary["metric"])
    arms = _unique(summary["arm"])
    fig = Figure(figsize=(10.0, 1.2 + 1.3 * max(2, len(metrics))), layout="constrained")
    grid = fig.add_gridspec(len(metrics), 2, width_ratios=[1.4, 1.0])
    ax = fig.add_subplot(grid[:, 0])
    for k, arm in enumerate(arms):
        r = trajectories[trajectories["arm"].astype(str) == arm].sort_values("opportunity")
        ax.plot(r["opportunity"], r["mastery"], "-o", ms=3, color=PALETTE[k % len(PALETTE)],
                label=arm)  # fmt: skip
    ax.set_xlabel("opportunity on a skill")
    ax.set_ylabel("mean P(mastered), BKT")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    for i, metric in enumerate(metrics):
        a = fig.add_subplot(grid[i, 1])
        r = summary[summary["metric"] == metric]
        y = np.arange(len(r))[::-1]
        m = r["mean"].to_numpy(float)
        err = np.vstack([m - r["ci_low"].to_numpy(float), r["ci_high"].to_numpy(float) - m])
        colors = [PALETTE[arms.index(str(a_)) % len(PALETTE)] for a_ in r["arm"]]
        a.barh(y, m, xerr=np.nan_to_num(err), color=colors, alpha=0.8, capsize=3)
        a.set_yticks(y, list(r["arm"].astype(str)))
        a.set_title(_METRIC_LABEL.get(metric, metric), fontsize="small")
        a.tick_params(labelsize="small")
    return fig
