"""Experiment designs, the study runner and the statistics that turn outcomes into conclusions.

``Study`` (design), ``run_study_file`` / ``StudyResult`` (runner) and ``sweep`` are importable from
here; the analysis modules (``edstudy.study.analysis``, ``edstudy.study.power``) are imported
from their own modules. Importing this package does not import Dask.
"""

from edstudy.study.design import RANDOMIZATION_UNITS, Arm, Study
from edstudy.study.runner import DEFAULT_METRICS, StudyResult, contrast, run_study_file, summarize
from edstudy.study.sweep import sweep

__all__ = [
    "DEFAULT_METRICS",
    "RANDOMIZATION_UNITS",
    "Arm",
    "Study",
    "StudyResult",
    "contrast",
    "run_study_file",
    "summarize",
    "sweep",
]
