"""ipywidgets front ends of edstudy, built by factories.

Each factory returns a small object with the widget to display (``.widget``), its controls as
attributes and its rendered state as plain attributes, so tests drive it without a browser
(``dash.threshold.value = 0.8`` then look at ``dash.snapshot`` or ``dash.flag_count_text``). No
computation lives here: the widgets call :mod:`edstudy.monitor`, :mod:`edstudy.bkt` and
:mod:`edstudy.sim`. Importing this package imports ipywidgets; the models never do.

* :func:`teacher_dashboard` – mastery heatmap, flagged students, recommendations, class summary.
* :func:`study_designer` – cohort, meshing and arms controls; runs a study and shows the comparison.
* :func:`rule_editor` – a strategy's YAML with live validation, threshold sliders and a sweep.
* :func:`power_planner` – power curves, MDES and sample size for (cluster) randomized designs.
* :func:`trial_picker` – a trial file and its columns; analyses a real trial and shows the verdict.
* :class:`ProgressBar`, :class:`ErrorBox`, :func:`show_figure`, :func:`html_table` – the shared
  pieces. Figures come from :mod:`edstudy.plots` (notebooks show them with
  :func:`edstudy.plots.png_image`).
"""

from edstudy.widgets.base import (
    READABLE_ERRORS,
    ErrorBox,
    ProgressBar,
    html_table,
    show_figure,
)
from edstudy.widgets.dashboard import ALL_STUDENTS, TeacherDashboard, teacher_dashboard
from edstudy.widgets.power_planner import PowerPlanner, power_planner
from edstudy.widgets.rule_editor import RuleEditor, rule_editor
from edstudy.widgets.study_designer import StudyDesigner, study_designer
from edstudy.widgets.trial_picker import TrialPicker, trial_picker

__all__ = [
    "ALL_STUDENTS",
    "READABLE_ERRORS",
    "ErrorBox",
    "PowerPlanner",
    "ProgressBar",
    "RuleEditor",
    "StudyDesigner",
    "TeacherDashboard",
    "TrialPicker",
    "html_table",
    "power_planner",
    "rule_editor",
    "show_figure",
    "study_designer",
    "teacher_dashboard",
    "trial_picker",
]
