"""Does a video worked example beat a text one? The randomized ASSISTments experiment.

:func:`video_vs_text_check` analyses the randomized ASSISTments experiment that showed worked
examples as video or as text (:func:`edstudy.datasets.load_ab_video_vs_text`): the difference in
completion, raw and adjusted for the students' prior work (:func:`edstudy.stats.analyze_ab_test`).
It tests a medium's main effect for everybody, not meshing with a preference (no preferences were
measured): the one real causal check of a medium among the shipped datasets.
"""

from __future__ import annotations

import os

import pandas as pd

from edstudy.datasets import load_ab_video_vs_text
from edstudy.stats.ab_test import ABTestResult, analyze_ab_test

__all__ = ["video_vs_text_check"]


def video_vs_text_check(
    outcomes: pd.DataFrame | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    adjust: bool = True,
) -> ABTestResult:
    """The randomized video-vs-text worked-example test (ASSISTments): video's effect on completion.

    Parameters
    ----------
    outcomes : DataFrame, optional
        :func:`edstudy.datasets.load_ab_video_vs_text`; loaded (from ``path``) when omitted.
    adjust : bool
        Adjust for the nine ``student_prior_*`` covariates (Lin 2013 / logistic g-computation).

    Returns
    -------
    ABTestResult
        See :func:`edstudy.stats.analyze_ab_test`.
    """
    if outcomes is None:
        outcomes = load_ab_video_vs_text(path, verbose=False)
    covariates = [c for c in outcomes.columns if c.startswith("student_prior_")] if adjust else []
    return analyze_ab_test(
        outcomes, "completed", "arm", treatment="video", control="text", covariates=covariates
    )
