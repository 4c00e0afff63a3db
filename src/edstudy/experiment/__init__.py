"""Simulated experiments: a study's configuration, its runner and its results.

- :class:`Study` / :class:`Arm` (:mod:`~edstudy.experiment.study`): the frozen configuration,
  read from and written to YAML.
- :func:`run_study` / :func:`run_study_file` (:mod:`~edstudy.experiment.runner`): run it locally
  or on Dask, with a progress bar or a progress callback.
- :class:`StudyResult` (:mod:`~edstudy.experiment.result`): tidy outcomes and log, summaries,
  files.
- :func:`sweep` (:mod:`~edstudy.experiment.sweep`): a strategy's parameters swept on the same
  students.
- :mod:`~edstudy.experiment.power_check`: does a simulated study detect what its power formula
  promises?

Statistics come from :mod:`edstudy.stats`; research questions built on experiments live in
:mod:`edstudy.investigations`. Importing this package does not import Dask.
"""

from edstudy.experiment.result import DEFAULT_METRICS, StudyResult, analysis_frame
from edstudy.experiment.runner import run_study, run_study_file
from edstudy.experiment.study import RANDOMIZATION_UNITS, SHIPPED_STUDIES, Arm, Study, study_file
from edstudy.experiment.sweep import sweep, sweep_headline

__all__ = [
    "DEFAULT_METRICS",
    "RANDOMIZATION_UNITS",
    "SHIPPED_STUDIES",
    "Arm",
    "Study",
    "StudyResult",
    "analysis_frame",
    "run_study",
    "run_study_file",
    "study_file",
    "sweep",
    "sweep_headline",
]
