"""Figures of the real-cohort comparison (the Robust Evaluation Matrix of
:mod:`edstudy.investigations.real_cohort`)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from edstudy.plots._base import PALETTE, _need, _unique

__all__ = ["matrix_tradeoff"]

#: Marker of each student model (with the colour, so the series stay apart in grey print).
MARKERS = "osD^v<>"


def matrix_tradeoff(
    table: pd.DataFrame,
    *,
    x: str = "opportunities",
    y: str = "posttest_mastery",
    xlabel: str = "practice opportunities per student",
    ylabel: str = "expected post-test mastery",
    title: str | None = None,
) -> Figure:
    """Practice against outcome per strategy: one point series per student model.

    Each point is a strategy's mean under one student model (a cell of the matrix), labelled with
    the strategy's name; a strategy that moves far between the series depends on the model.

    Parameters
    ----------
    table : DataFrame
        Long table ``strategy, model, metric, mean`` (other columns are ignored), as
        :attr:`edstudy.investigations.real_cohort.RobustEvaluationMatrix.table`; it needs rows
        for the metrics ``x`` and ``y``. Models are drawn in the order they first appear.
    x, y : str
        The metrics on the horizontal and vertical axes.
    xlabel, ylabel, title : str

    Returns
    -------
    Figure
        One axes with one scatter series per model (legend titled "student model") and one text
        annotation per point.

    Raises
    ------
    TypeError, ValueError
        When ``table`` is not a DataFrame, lacks a column, has no rows, or has no rows for ``x``
        or ``y``.
    """
    _need(table, ["strategy", "model", "metric", "mean"], "matrix_tradeoff")
    metrics = set(table["metric"].astype(str))
    unknown = [m for m in (x, y) if m not in metrics]
    if unknown:
        raise ValueError(
            f"matrix_tradeoff: no rows for metric(s) {unknown}; the table has {sorted(metrics)}"
        )
    t = table.assign(
        strategy=table["strategy"].astype(str),
        model=table["model"].astype(str),
        metric=table["metric"].astype(str),
    )
    means = t[t["metric"].isin([x, y])].pivot_table(
        index=["model", "strategy"], columns="metric", values="mean", aggfunc="mean"
    )
    fig = Figure(figsize=(6.5, 4.0), layout="constrained")
    ax = fig.subplots()
    for k, model in enumerate(_unique(t["model"])):
        if model not in means.index.get_level_values("model"):
            continue
        m = means.xs(model, level="model").dropna()
        color = PALETTE[k % len(PALETTE)]
        ax.scatter(m[x], m[y], marker=MARKERS[k % len(MARKERS)], color=color, label=model, zorder=3)
        for strategy, row in m.iterrows():
            ax.annotate(
                str(strategy),
                (row[x], row[y]),
                textcoords="offset points",
                xytext=(3, 3),
                fontsize=7,
                color=color,
            )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(title="student model", fontsize=8)
    if title:
        ax.set_title(title)
    return fig
