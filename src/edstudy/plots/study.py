"""Figures of a study's results: arms with intervals, forest plots, parameter-sweep trade-offs.

Each function takes a tidy table made by :mod:`edstudy.experiment` or
:mod:`edstudy.investigations.strategy_comparison` and returns a new
:class:`matplotlib.figure.Figure` built without pyplot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from edstudy.plots._base import PALETTE, _need, _unique

__all__ = ["arm_intervals", "effect_forest", "sweep_tradeoff"]


def arm_intervals(
    summary: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    ncols: int = 2,
    title: str | None = None,
    panel_size: tuple[float, float] = (4.8, 2.6),
) -> Figure:
    """Means with 95% intervals per arm; one panel per measure, one colour per scenario.

    Parameters
    ----------
    summary : DataFrame
        ``scenario, arm, metric, mean, ci_low, ci_high`` and optionally ``label`` (the axis
        label of the metric), as made by
        :func:`edstudy.investigations.strategy_comparison.arm_metrics`. Arms and scenarios are
        drawn in the order they first appear.
    metrics : sequence of str, optional
        The measures to draw, in order (default: all, in order of appearance).
    ncols : int
        Panels per row.
    title : str, optional

    Returns
    -------
    Figure
        One axes per metric (x: the measure, y: the arms); each holds one errorbar series per
        scenario.
    """
    _need(summary, ["arm", "metric", "mean", "ci_low", "ci_high"], "arm_intervals")
    table = summary if "scenario" in summary.columns else summary.assign(scenario="all")
    names = list(metrics) if metrics is not None else _unique(table["metric"])
    unknown = [m for m in names if m not in set(table["metric"].astype(str))]
    if unknown:
        raise ValueError(f"arm_intervals: no rows for metric(s) {unknown}")
    arms = _unique(table["arm"])
    scenarios = _unique(table["scenario"])
    ncols = max(1, min(ncols, len(names)))
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(
        figsize=(panel_size[0] * ncols, 0.6 + panel_size[1] * nrows * max(1.0, len(arms) / 7)),
        layout="constrained",
    )
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(names) :]:
        fig.delaxes(ax)
    offsets = (np.arange(len(scenarios)) - (len(scenarios) - 1) / 2) * (
        0.6 / max(len(scenarios), 1)
    )
    ypos = {a: i for i, a in enumerate(arms)}
    for ax, metric in zip(axes, names, strict=False):
        rows = table[table["metric"].astype(str) == metric]
        label = str(rows["label"].iloc[0]) if "label" in rows.columns else metric
        for k, scenario in enumerate(scenarios):
            r = rows[rows["scenario"].astype(str) == scenario]
            if r.empty:
                continue
            y = np.array([ypos[a] for a in r["arm"].astype(str)]) + offsets[k]
            mean = r["mean"].to_numpy(float)
            err = np.vstack(
                [mean - r["ci_low"].to_numpy(float), r["ci_high"].to_numpy(float) - mean]
            )
            ax.errorbar(
                mean,
                y,
                xerr=np.where(np.isfinite(err), err, 0.0),
                fmt="o",
                ms=4,
                capsize=2,
                color=PALETTE[k % len(PALETTE)],
                label=scenario,
            )
        ax.set_yticks(range(len(arms)), arms)
        ax.set_ylim(len(arms) - 0.5, -0.5)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    if len(scenarios) > 1:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="outside upper center",
            ncols=len(scenarios),
            title="scenario",
            frameon=False,
        )
    if title:
        fig.suptitle(title)
    return fig


def effect_forest(
    table: pd.DataFrame,
    *,
    estimate: str = "g",
    xlabel: str = "Hedges' g (95% CI)",
    title: str | None = None,
    percent: bool = False,
) -> Figure:
    """A forest plot: one row per comparison, one colour per scenario, a line at zero.

    Parameters
    ----------
    table : DataFrame
        ``arm, reference, <estimate>, ci_low, ci_high`` and optionally ``scenario``: the tables of
        :func:`~edstudy.investigations.strategy_comparison.effect_sizes` (``estimate="g"``),
        :func:`~edstudy.investigations.strategy_comparison.dropout_differences`
        (``"difference"``) or
        :func:`~edstudy.investigations.strategy_comparison.mixed_models` (``"estimate"``).
    estimate : str
        The column to draw.
    xlabel, title : str
    percent : bool
        Draw proportions as percentage points.

    Returns
    -------
    Figure
        One axes; y tick labels ``"arm vs reference"``.
    """
    _need(table, ["arm", "reference", estimate, "ci_low", "ci_high"], "effect_forest")
    t = table if "scenario" in table.columns else table.assign(scenario="all")
    pairs = list(dict.fromkeys(zip(t["arm"].astype(str), t["reference"].astype(str), strict=True)))
    scenarios = _unique(t["scenario"])
    scale = 100.0 if percent else 1.0
    fig = Figure(
        figsize=(7.0, 1.0 + 0.45 * len(pairs) * max(1, len(scenarios)) ** 0.5), layout="constrained"
    )
    ax = fig.subplots()
    offsets = (np.arange(len(scenarios)) - (len(scenarios) - 1) / 2) * (
        0.5 / max(len(scenarios), 1)
    )
    ypos = {p: i for i, p in enumerate(pairs)}
    for k, scenario in enumerate(scenarios):
        r = t[t["scenario"].astype(str) == scenario]
        y = (
            np.array(
                [
                    ypos[(a, b)]
                    for a, b in zip(r["arm"].astype(str), r["reference"].astype(str), strict=True)
                ]
            )
            + offsets[k]
        )
        est = r[estimate].to_numpy(float) * scale
        err = np.vstack(
            [est - r["ci_low"].to_numpy(float) * scale, r["ci_high"].to_numpy(float) * scale - est]
        )
        ax.errorbar(
            est,
            y,
            xerr=err,
            fmt="s",
            ms=5,
            capsize=3,
            color=PALETTE[k % len(PALETTE)],
            label=scenario,
        )
    ax.axvline(0.0, color="0.3", lw=1, ls="--")
    ax.set_yticks(range(len(pairs)), [f"{a} vs {b}" for a, b in pairs])
    ax.set_ylim(len(pairs) - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    if len(scenarios) > 1:
        ax.legend(title="scenario", loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def sweep_tradeoff(
    table: pd.DataFrame,
    *,
    parameter: str,
    x: str = "practice_minutes",
    outcomes: Sequence[tuple[str, str]] = (
        ("posttest", "post-test (proportion correct)"),
        ("dropped_out", "dropped out (share of students)"),
    ),
    xlabel: str = "practice time (minutes per student)",
    title: str | None = None,
) -> Figure:
    """The trade-off of a parameter sweep: practice time against each outcome.

    Parameters
    ----------
    table : DataFrame
        From :func:`edstudy.experiment.sweep`: ``<parameter>, <x>, <x>_low, <x>_high`` and for each
        outcome ``<outcome>, <outcome>_low, <outcome>_high``; optionally ``scenario``. Rows are
        connected in the order of the parameter's values.
    parameter : str
        The swept parameter (points are labelled with its value).
    x : str
        The horizontal measure.
    outcomes : sequence of (column, axis label)
        One panel each.
    xlabel, title : str

    Returns
    -------
    Figure
        One axes per outcome; each has one errorbar series per scenario and the parameter values
        as text annotations.
    """
    cols = [parameter, x, f"{x}_low", f"{x}_high"]
    for name, _ in outcomes:
        cols += [name, f"{name}_low", f"{name}_high"]
    _need(table, cols, "sweep_tradeoff")
    t = table if "scenario" in table.columns else table.assign(scenario="all")
    scenarios = _unique(t["scenario"])
    fig = Figure(figsize=(5.0 * len(outcomes), 4.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes)))
    for ax, (name, label) in zip(axes, outcomes, strict=True):
        for k, scenario in enumerate(scenarios):
            r = t[t["scenario"].astype(str) == scenario].sort_values(parameter, kind="stable")
            xs, ys = r[x].to_numpy(float), r[name].to_numpy(float)
            xerr = np.vstack(
                [xs - r[f"{x}_low"].to_numpy(float), r[f"{x}_high"].to_numpy(float) - xs]
            )
            yerr = np.vstack(
                [ys - r[f"{name}_low"].to_numpy(float), r[f"{name}_high"].to_numpy(float) - ys]
            )
            color = PALETTE[k % len(PALETTE)]
            ax.errorbar(
                xs,
                ys,
                xerr=xerr,
                yerr=yerr,
                fmt="o-",
                ms=4,
                capsize=2,
                lw=1,
                color=color,
                label=scenario,
            )
            for xv, yv, pv in zip(xs, ys, r[parameter], strict=True):
                ax.annotate(
                    f"{pv:g}" if isinstance(pv, int | float) else str(pv),
                    (xv, yv),
                    textcoords="offset points",
                    xytext=(4, 4),
                    fontsize=8,
                    color=color,
                )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.set_title(f"points labelled with {parameter}", fontsize=9, loc="left")
    if len(scenarios) > 1:
        axes[0].legend(title="scenario", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig
