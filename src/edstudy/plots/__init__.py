"""Figures shared by the notebooks, the widgets and the reports (matplotlib only).

Every function takes one of the tidy tables made by :mod:`edstudy.experiment`,
:mod:`edstudy.investigations` or :mod:`edstudy.monitor` (it only selects and orders rows for
display; no statistics are computed here) and returns a new :class:`matplotlib.figure.Figure`
built without pyplot, so nothing depends on a global figure state and a widget can redraw from a
callback. Show a figure in a notebook with ``png_image(fig)`` (from this package) or in a widget
with ``edstudy.widgets.show_figure``. A leaf: nothing here imports the rest of edstudy.

* :mod:`~edstudy.plots.study` – :func:`arm_intervals` (means with 95% intervals per arm, one panel
  per measure, one colour per scenario), :func:`effect_forest` (a forest plot of comparisons:
  Hedges' g, risk or model differences), :func:`sweep_tradeoff` (practice time against post-test
  and against dropout along a parameter sweep, :func:`edstudy.experiment.sweep`).
* :mod:`~edstudy.plots.power` – :func:`power_curves`: power and MDES against the number of
  randomized units, with simulated checks (:mod:`edstudy.stats.planning`).
* :mod:`~edstudy.plots.knowledge_tracing` – :func:`learning_curves`: P(correct) by practice
  opportunity, observed and predicted, per skill.
* :mod:`~edstudy.plots.preferences` – :func:`choice_heatmap` (shares in a grid, e.g. the medium
  chosen by the medium stated), :func:`preference_spread` (how much students' preferences
  differ, one box per option), :func:`estimate_vs_truth` (posterior intervals beside the
  simulator's truth).
* :mod:`~edstudy.plots.monitor` – :func:`mastery_heatmap`: the teacher dashboard's students x
  skills heatmap of a :class:`edstudy.monitor.ClassSnapshot`.
* :mod:`~edstudy.plots.real_cohort` – :func:`matrix_tradeoff`: practice opportunities against
  expected post-test mastery per strategy, one series per student model.
* :mod:`~edstudy.plots.trial` – a randomized trial's analysis (:mod:`edstudy.investigations.trial`):
  :func:`trial_forest` (effect sizes per finding and estimator), :func:`attrition_boundary_plot`
  (attrition against the WWC boundary curves), :func:`baseline_differences` (baseline effect
  sizes against the 0.05 / 0.25 SD rules), :func:`process_figure` (mastery trajectories and
  process measures from the tutor's log).
* :func:`figure_png`, :func:`png_image` – a figure as PNG bytes / as a notebook image.
"""

from edstudy.plots._base import PALETTE, figure_png, png_image
from edstudy.plots.knowledge_tracing import learning_curves
from edstudy.plots.monitor import mastery_heatmap
from edstudy.plots.power import power_curves
from edstudy.plots.preferences import choice_heatmap, estimate_vs_truth, preference_spread
from edstudy.plots.real_cohort import matrix_tradeoff
from edstudy.plots.study import arm_intervals, effect_forest, sweep_tradeoff
from edstudy.plots.trial import (
    attrition_boundary_plot,
    baseline_differences,
    process_figure,
    trial_forest,
)

__all__ = [
    "PALETTE",
    "arm_intervals",
    "attrition_boundary_plot",
    "baseline_differences",
    "choice_heatmap",
    "effect_forest",
    "estimate_vs_truth",
    "figure_png",
    "learning_curves",
    "mastery_heatmap",
    "matrix_tradeoff",
    "png_image",
    "power_curves",
    "preference_spread",
    "process_figure",
    "sweep_tradeoff",
    "trial_forest",
]
