"""Learning curves of knowledge tracing: P(correct) by practice opportunity, per skill."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure

from edstudy.plots._base import PALETTE, _need, _unique

__all__ = ["learning_curves"]


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
