"""Figures shared by the notebooks, the widgets and the reports (matplotlib only).

Every function takes one of the tidy tables made by :mod:`edstudy.experiment` (it only selects and
orders rows for display; no statistics are computed here) and returns a new
:class:`matplotlib.figure.Figure` built without pyplot, so nothing depends on a global figure
state and a widget can redraw from a callback. Show a figure in a notebook with
``edstudy.widgets.png_image(fig)`` or in a widget with ``edstudy.widgets.show_figure``.

* :func:`arm_intervals` – means with 95% intervals per arm, one panel per measure, one colour
  per scenario (:func:`edstudy.investigations.strategy_comparison.arm_metrics`).
* :func:`effect_forest` – a forest plot of comparisons (Hedges' g, risk or model differences).
* :func:`sweep_tradeoff` – practice time against post-test and against dropout along a parameter
  sweep (:func:`edstudy.experiment.sweep`).
* :func:`power_curves` – power and MDES against the number of randomized units, with simulated
  checks (:mod:`edstudy.stats.planning`).
* :func:`learning_curves` – P(correct) by practice opportunity, observed and predicted, per skill
  (:func:`edstudy.investigations.knowledge_tracing.learning_curves`).
* :func:`choice_heatmap` – shares in a grid, e.g. the medium chosen by the medium stated.
* :func:`preference_spread` – how much students' preferences differ, one box per option.
* :func:`estimate_vs_truth` – posterior intervals beside the simulator's truth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "arm_intervals",
    "choice_heatmap",
    "effect_forest",
    "estimate_vs_truth",
    "learning_curves",
    "power_curves",
    "preference_spread",
    "sweep_tradeoff",
]

#: Colour of each series (colour-blind safe, Okabe & Ito 2008).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

_PARAMETER_LABEL = {
    "n": "students randomized",
    "n_clusters": "clusters randomized",
    "n_schools": "schools randomized",
    "cluster_size": "students per cluster",
    "class_size": "students per class",
    "classes_per_school": "classes per school",
}


def _need(table: pd.DataFrame, columns: Sequence[str], func: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{func}: expected a DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"{func}: the table has no column(s) {missing}; it has {list(map(str, table.columns))}"
        )
    if table.empty:
        raise ValueError(f"{func}: the table has no rows")


def _unique(values: pd.Series) -> list[str]:
    return list(dict.fromkeys(values.astype(str)))


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


def power_curves(
    curves: pd.DataFrame,
    *,
    checks: pd.DataFrame | None = None,
    target_power: float = 0.80,
    effect: float | None = None,
    title: str | None = None,
) -> Figure:
    """Power (left) and minimum detectable effect (right) against a design's size.

    Parameters
    ----------
    curves : DataFrame
        ``design, parameter, value, power, mdes`` (one or several designs stacked), from
        :func:`edstudy.stats.planning.power_curve`.
    checks : DataFrame, optional
        ``value, simulated, ci_low, ci_high`` and optionally ``design`` (matching a curve's
        label), from :func:`edstudy.stats.planning.simulation_check`: drawn as points with
        their Monte Carlo intervals on the power panel.
    target_power : float
        Drawn as a horizontal line on the power panel.
    effect : float, optional
        Drawn as a horizontal line on the MDES panel (the effect the power is for).
    title : str, optional

    Returns
    -------
    Figure
        Two axes: one line per design on each, plus one errorbar series per checked design.
    """
    _need(curves, ["design", "parameter", "value", "power", "mdes"], "power_curves")
    if checks is not None:
        _need(checks, ["value", "simulated", "ci_low", "ci_high"], "power_curves")
    parameter = str(curves["parameter"].iloc[0])
    fig = Figure(figsize=(10.0, 3.8), layout="constrained")
    ax_p, ax_m = fig.subplots(1, 2)
    designs = _unique(curves["design"])
    for k, design in enumerate(designs):
        r = curves[curves["design"].astype(str) == design].sort_values("value")
        color = PALETTE[k % len(PALETTE)]
        ax_p.plot(r["value"], r["power"], "-", color=color, label=design)
        ax_m.plot(r["value"], r["mdes"], "-", color=color, label=design)
        if checks is not None:
            c = (
                checks
                if "design" not in checks.columns
                else checks[checks["design"].astype(str) == design]
            )
            if len(c) and ("design" in checks.columns or k == 0):
                sim = c["simulated"].to_numpy(float)
                err = np.vstack(
                    [sim - c["ci_low"].to_numpy(float), c["ci_high"].to_numpy(float) - sim]
                )
                ax_p.errorbar(
                    c["value"].to_numpy(float),
                    sim,
                    yerr=err,
                    fmt="o",
                    ms=4,
                    capsize=3,
                    color=color,
                    mfc="white",
                    label=f"{design}: simulated" if len(designs) > 1 else "simulated",
                )
    ax_p.axhline(target_power, color="0.4", ls="--", lw=1)
    ax_p.set_ylim(0, 1.02)
    ax_p.set_ylabel("power")
    if effect is not None:
        ax_m.axhline(effect, color="0.4", ls="--", lw=1)
    ax_m.set_ylabel(f"minimum detectable effect (SD, power {target_power:g})")
    for ax in (ax_p, ax_m):
        ax.set_xlabel(_PARAMETER_LABEL.get(parameter, parameter))
        ax.grid(alpha=0.3)
    ax_p.legend(fontsize="small", loc="lower right")
    if title:
        fig.suptitle(title)
    return fig


def learning_curves(
    curves: pd.DataFrame,
    *,
    ncols: int = 2,
    title: str | None = None,
    panel_size: tuple[float, float] = (4.4, 2.8),
) -> Figure:
    """P(correct) by practice opportunity: observed points and one line per model, per skill.

    Parameters
    ----------
    curves : DataFrame
        ``skill, opportunity, series, p_correct`` and optionally ``n_students``, as made by
        :func:`edstudy.investigations.knowledge_tracing.learning_curves`; the series
        ``"observed"`` is drawn as points (sized by ``n_students`` when present), every other
        series as a line.
        Skills are drawn in the order they first appear.
    ncols : int
        Panels per row.
    title : str, optional

    Returns
    -------
    Figure
        One axes per skill.
    """
    _need(curves, ["skill", "opportunity", "series", "p_correct"], "learning_curves")
    skills = _unique(curves["skill"])
    series = [s for s in _unique(curves["series"]) if s != "observed"]
    ncols = max(1, min(ncols, len(skills)))
    nrows = math.ceil(len(skills) / ncols)
    fig = Figure(figsize=(panel_size[0] * ncols, 0.5 + panel_size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
    for ax in axes[len(skills) :]:
        fig.delaxes(ax)
    for ax, skill in zip(axes, skills, strict=False):
        rows = curves[curves["skill"].astype(str) == skill]
        obs = rows[rows["series"] == "observed"].sort_values("opportunity")
        if len(obs):
            size = 12.0
            if "n_students" in obs.columns:
                n = obs["n_students"].to_numpy(float)
                size = 8.0 + 40.0 * n / max(n.max(), 1.0)
            ax.scatter(
                obs["opportunity"],
                obs["p_correct"],
                s=size,
                color="0.2",
                label="observed",
                zorder=3,
            )
        for k, name in enumerate(series):
            r = rows[rows["series"] == name].sort_values("opportunity")
            ax.plot(
                r["opportunity"],
                r["p_correct"],
                "-",
                lw=1.5,
                color=PALETTE[k % len(PALETTE)],
                label=name,
            )
        ax.set_title(skill if len(skill) <= 42 else skill[:40] + "...", fontsize=9)
        ax.set_xlabel("practice opportunity")
        ax.grid(alpha=0.3)
    for ax in axes[::ncols]:
        ax.set_ylabel("P(correct)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=len(labels), frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def choice_heatmap(
    table: pd.DataFrame,
    *,
    row: str = "stated",
    column: str = "chosen",
    value: str = "share",
    xlabel: str = "medium chosen",
    ylabel: str = "medium stated in the survey",
    title: str | None = None,
) -> Figure:
    """A heatmap of shares with the values written in the cells (e.g. stated x chosen medium).

    Parameters
    ----------
    table : DataFrame
        Long table ``<row>, <column>, <value>``; rows and columns in order of appearance.
    row, column, value : str
    xlabel, ylabel, title : str

    Returns
    -------
    Figure
        One axes with an image and one text label per cell.
    """
    _need(table, [row, column, value], "choice_heatmap")
    rows, cols = _unique(table[row]), _unique(table[column])
    grid = (
        table.assign(_r=table[row].astype(str), _c=table[column].astype(str))
        .pivot_table(index="_r", columns="_c", values=value, aggfunc="first")
        .reindex(index=rows, columns=cols)
        .to_numpy(float)
    )
    fig = Figure(figsize=(1.2 + 1.1 * len(cols), 0.9 + 0.6 * len(rows)), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(grid, cmap="Blues", vmin=0.0, vmax=max(float(np.nanmax(grid)), 1e-9))
    for i in range(len(rows)):
        for j in range(len(cols)):
            if np.isfinite(grid[i, j]):
                dark = grid[i, j] > 0.6 * np.nanmax(grid)
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.2f}",
                    ha="center",
                    va="center",
                    color="white" if dark else "black",
                    fontsize=9,
                )
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(image, ax=ax, shrink=0.8, label=value)
    if title:
        ax.set_title(title)
    return fig


def preference_spread(
    table: pd.DataFrame,
    *,
    group: str = "activity",
    value: str = "preference",
    share: str | None = "share",
    xlabel: str = "P(choose it), one value per student",
    title: str | None = None,
) -> Figure:
    """How much students differ in their preferences: a box plot per option across students.

    Parameters
    ----------
    table : DataFrame
        Long table ``<group>, <value>`` (one row per student and option) and optionally
        ``<share>`` (the option's share of all choices, drawn as a diamond).
    group, value, share : str
    xlabel, title : str

    Returns
    -------
    Figure
        One axes, one box per option.
    """
    _need(table, [group, value], "preference_spread")
    groups = _unique(table[group])
    data = [table.loc[table[group].astype(str) == g, value].to_numpy(float) for g in groups]
    fig = Figure(figsize=(6.5, 0.9 + 0.5 * len(groups)), layout="constrained")
    ax = fig.subplots()
    ax.boxplot(data, orientation="horizontal", widths=0.6, showfliers=False)
    for i, d in enumerate(data, start=1):
        jitter = (np.arange(d.size) % 7 - 3) * 0.03
        ax.scatter(d, i + jitter, s=4, alpha=0.3, color=PALETTE[0])
    if share is not None and share in table.columns:
        s = [float(table.loc[table[group].astype(str) == g, share].iloc[0]) for g in groups]
        ax.scatter(
            s,
            range(1, len(groups) + 1),
            marker="D",
            color=PALETTE[1],
            zorder=3,
            label="share of all choices",
        )
        ax.legend(loc="lower right", fontsize="small")
    ax.set_yticks(range(1, len(groups) + 1), groups)
    ax.set_ylim(len(groups) + 0.5, 0.5)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    return fig


def estimate_vs_truth(
    table: pd.DataFrame,
    *,
    estimate: str = "estimate",
    lower: str = "lower",
    upper: str = "upper",
    truth: str = "true_match",
    xlabel: str = "match effect (gain, proportion correct)",
    title: str | None = None,
) -> Figure:
    """Posterior intervals beside the known truth, one row per table row (index as labels).

    Parameters
    ----------
    table : DataFrame
        ``<estimate>, <lower>, <upper>, <truth>``; the index labels the rows.
    estimate, lower, upper, truth : str
    xlabel, title : str

    Returns
    -------
    Figure
        One axes: an errorbar series (estimates), a point series (truth) and a line at zero.
    """
    _need(table, [estimate, lower, upper, truth], "estimate_vs_truth")
    labels = [str(i) for i in table.index]
    y = np.arange(len(labels))
    est = table[estimate].to_numpy(float)
    err = np.vstack([est - table[lower].to_numpy(float), table[upper].to_numpy(float) - est])
    fig = Figure(figsize=(6.5, 1.2 + 0.55 * len(labels)), layout="constrained")
    ax = fig.subplots()
    ax.errorbar(
        est,
        y,
        xerr=err,
        fmt="s",
        ms=5,
        capsize=3,
        color=PALETTE[0],
        label="posterior mean and interval",
    )
    ax.scatter(
        table[truth].to_numpy(float),
        y,
        marker="x",
        s=60,
        color=PALETTE[1],
        zorder=3,
        label="truth (simulator)",
    )
    ax.axvline(0.0, color="0.3", lw=1, ls="--")
    ax.set_yticks(y, labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return fig
