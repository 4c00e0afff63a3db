"""Figures of preferences and meshing: choice shares, spread across students, estimate vs truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from edstudy.plots._base import PALETTE, _need, _unique

__all__ = ["choice_heatmap", "estimate_vs_truth", "preference_spread"]


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
