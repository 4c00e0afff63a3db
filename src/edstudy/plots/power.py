"""Power and minimum detectable effect against a design's size (:mod:`edstudy.stats.planning`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from edstudy.plots._base import PALETTE, _need, _unique

__all__ = ["power_curves"]


_PARAMETER_LABEL = {
    "n": "students randomized",
    "n_clusters": "clusters randomized",
    "n_schools": "schools randomized",
    "cluster_size": "students per cluster",
    "class_size": "students per class",
    "classes_per_school": "classes per school",
}


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
        label), from :func:`edstudy.stats.trial_simulation.simulation_check`: drawn as points with
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
