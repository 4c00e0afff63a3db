"""Your own trial, end to end: from a real experiment's files to a standards-based verdict.

A researcher writes a trial file (:mod:`.spec`) beside the data of a randomized experiment (a
school trial, a class-size study, an A/B test inside a tutor); :func:`analyze_trial` checks the
data against the declared design (:mod:`.data`), and for every outcome and comparison reports
attrition against the What Works Clearinghouse boundary, baseline equivalence, the impacts
(Hedges' g, cluster-adjusted g, the design-respecting model; the improvement index; the
Benjamini-Hochberg correction), moderators, process measures from a response log, and the WWC
rating with its reasons (:mod:`.analysis`). :func:`write_trial_results` writes ``report.html``,
``effects.csv`` and ``standards.json`` (the command ``edstudy analyze``).

>>> from edstudy.investigations.trial import analyze_trial  # doctest: +SKIP
>>> result = analyze_trial("video_vs_text")  # a shipped example; or your file  # doctest: +SKIP
>>> print(result.headline)  # doctest: +SKIP
"""

from edstudy.investigations.trial.analysis import analyze_trial
from edstudy.investigations.trial.data import TrialData, TrialDataError, load_trial_data
from edstudy.investigations.trial.output import run_trial_file, write_trial_results
from edstudy.investigations.trial.result import EFFECT_COLUMNS, TrialResult
from edstudy.investigations.trial.spec import TrialSpec, load_trial, trial_from_dict

__all__ = [
    "EFFECT_COLUMNS",
    "TrialData",
    "TrialDataError",
    "TrialResult",
    "TrialSpec",
    "analyze_trial",
    "load_trial",
    "load_trial_data",
    "run_trial_file",
    "trial_from_dict",
    "write_trial_results",
]
