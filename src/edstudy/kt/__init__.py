"""Student models beyond BKT, with BKT's estimator API, and a leakage-safe benchmark.

Models (all in :data:`MODELS`, by name; :func:`make_model` builds one)
    ``bkt``, ``bkt_forgets``, ``bkt_idem`` (KT-IDEM), ``ibkt`` (individualized):
    :class:`BKTModel`, the variants of :class:`edstudy.bkt.BKT`;
    ``bkt_ext``: :class:`BKTExt`, BKT with forgetting, student ability and item difficulty
    (Khajah, Lindsey & Mozer 2016);
    ``irt`` (:class:`IRT`, Rasch), ``afm`` (:class:`AFM`), ``pfa`` (:class:`PFA`), ``das3h``
    (:class:`DAS3H`), ``best_lr`` and ``best_lr_plus`` (:class:`BestLR`, Gervet et al. 2020 and
    edstudy's extension): logistic models on sparse online features fitted by scikit-learn.

Every model: ``fit(log)`` returns self; ``predict_proba(log)`` one step ahead in the log's row
order; ``score(log, metrics)``; ``cross_validate(log, folds, seed)`` with whole students held out;
``to_json(path)`` / ``from_json(path)`` (readable JSON, validated on load); ``params_`` (tidy);
``coverage(log)`` (rows with entities unseen in fit); ``simulator(n, seed)`` / ``simulate``
(students drawn from the model, see :mod:`edstudy.kt.simulation`). Everything random is seeded.

No leakage
    The prediction of a row uses only the student's rows with a smaller ``order``. Rows sharing an
    ``order`` (the skill rows of one multi-skill problem) never see each other's answers, and
    student abilities are inferred online from earlier answers, never taken from a fit that saw
    the student's later answers.

Multi-skill problems (one declared policy)
    The log keeps one row per (attempt, skill), the rows of one attempt sharing its ``order`` (as
    :func:`edstudy.datasets.load_assistments2009` loads them). The logistic models build one
    design row per *attempt*: its skills' columns are summed (Gervet et al.'s Q-matrix), counts
    come from earlier attempts only, and every row of the attempt gets the same prediction; each
    attempt weighs one in the fit however many skills it has. BKT models predict each skill row
    from the earlier rows of its own skill. :func:`benchmark` scores rows (``level="row"``: an
    attempt counts once per skill) or attempts (``level="attempt"``: the mean of its rows'
    predictions, Gervet's item-level protocol), or both.

The duplicated-row trap
    Some public ASSISTments 2009 copies repeat a multi-skill problem once per skill *as if they
    were consecutive attempts* (different order/row positions); a model that predicts the second
    copy from the first sees its answer, which inflates AUC (DKT about .82 with the duplicates,
    .75 without; the .83 of BKT+forgets on the pyBKT examples rides on them). Here rows of one
    attempt share one ``order`` and cannot see each other, so the trap cannot arise; a log whose
    copies carry different orders must be collapsed first (``load_assistments2009`` does it).

Unseen entities at prediction
    Students: never an error (abilities are inferred online from their earlier rows). Items and
    skills (``handle_unknown="average"``, the default here): an unseen item takes the average
    (training-row weighted) of its skill's items, an unseen skill the average of all skills;
    ``handle_unknown="error"`` raises, naming them. ``coverage(log)`` counts such rows.
"""

from edstudy.kt._base import KTModel, NotFittedError, student_folds
from edstudy.kt.benchmark import benchmark
from edstudy.kt.bkt_ext import BKTExt
from edstudy.kt.bkt_family import BKTModel
from edstudy.kt.models import AFM, DAS3H, DAS3H_WINDOWS, IRT, PFA, BestLR
from edstudy.kt.published import PUBLISHED, published_beside
from edstudy.kt.registry import DEFAULT_BENCHMARK, MODELS, ModelSpec, make_model
from edstudy.kt.simulation import AVERAGE_ITEM, Simulation

__all__ = [
    "AFM",
    "AVERAGE_ITEM",
    "BKTExt",
    "BKTModel",
    "BestLR",
    "DAS3H",
    "DAS3H_WINDOWS",
    "DEFAULT_BENCHMARK",
    "IRT",
    "KTModel",
    "MODELS",
    "ModelSpec",
    "NotFittedError",
    "PFA",
    "PUBLISHED",
    "Simulation",
    "benchmark",
    "make_model",
    "published_beside",
    "student_folds",
]
