"""Student models fitted to a real log: the columns of the Robust Evaluation Matrix.

:func:`fit_student_models` fits standard BKT, BKT with forgets, individualized BKT (per-student
prior and learning rate, Yudelson et al. 2013) and the hierarchical Bayesian BKT of
:mod:`edstudy.bayes` (its fast ADVI path by default), each as a
:class:`~edstudy.sim.from_model.StudentModel` that the simulator can draw students from;
:func:`fit_kt_models` fits any model of :mod:`edstudy.kt` (Best-LR, PFA, AFM, IRT, DAS3H,
BKT-ext, ...) by name, each as a :class:`~edstudy.sim.from_kt.KTStudentModel` whose simulated
students answer the simulator; :func:`score_student_models` scores both kinds on held-out students
(one-step-ahead, row level, the same metrics).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from edstudy.bayes.settings import FitSettings, quiet_pymc
from edstudy.bkt import BKT, ConvergenceWarning
from edstudy.kt import MODELS, make_model
from edstudy.schema import validate_log
from edstudy.sim.from_kt import KTStudentModel
from edstudy.sim.from_model import StudentModel

__all__ = [
    "MODEL_LABELS",
    "MODEL_NAMES",
    "fit_kt_models",
    "fit_student_models",
    "score_student_models",
]

#: The student models fitted by default, in column order.
MODEL_NAMES: tuple[str, ...] = ("bkt", "bkt_forgets", "ibkt", "hbkt")
MODEL_LABELS: dict[str, str] = {
    "bkt": "standard BKT",
    "bkt_forgets": "BKT with forgets",
    "ibkt": "individualized BKT (per-student prior and learning rate)",
    "hbkt": "hierarchical Bayesian BKT (student random effects)",
}
#: BKT options of each EM-fitted model.
_BKT_VARIANTS: dict[str, dict[str, Any]] = {
    "bkt": {},
    "bkt_forgets": {"forgets": True},
    "ibkt": {"student_prior": True, "student_learn": True},
}


def _fit_one(
    name: str,
    log: pd.DataFrame,
    *,
    seed: int,
    bkt_options: Mapping[str, Any],
    hbkt: FitSettings,
) -> StudentModel:
    start = time.perf_counter()
    if name in _BKT_VARIANTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = BKT(**{**dict(bkt_options), **_BKT_VARIANTS[name]}, seed=seed).fit(log)
        model = StudentModel.from_bkt(est, name, description=MODEL_LABELS[name])
    else:
        from edstudy.bayes.hbkt import fit_hbkt  # PyMC: imported only when this model is asked for

        # Fit on integer codes so any ids (mixed types included) survive the model's coords.
        skill_codes, skill_ids = pd.factorize(log["skill_id"])
        student_codes, student_ids = pd.factorize(log["student_id"])
        coded = log.assign(skill_id=skill_codes, student_id=student_codes)
        with quiet_pymc():
            idata = fit_hbkt(coded, settings=hbkt, seed=seed)
        model = StudentModel.from_hbkt(idata, name, description=MODEL_LABELS[name])
        model = replace(
            model,
            skills=tuple(skill_ids[np.asarray(model.skills, dtype=np.int64)]),
            students=tuple(student_ids[np.asarray(model.students, dtype=np.int64)]),
        )
    model.info.update(
        fit_seconds=time.perf_counter() - start,
        rows=len(log),
        students=int(log["student_id"].nunique()),
    )
    return model


def _scored(log: pd.DataFrame) -> pd.DataFrame:
    return log[log["correct"].notna().to_numpy()]


def _fit_validated(
    log: pd.DataFrame,
    models: Sequence[str] = MODEL_NAMES,
    *,
    seed: int = 0,
    bkt_options: Mapping[str, Any] | None = None,
    hbkt: FitSettings | None = None,
) -> dict[str, StudentModel]:
    """:func:`fit_student_models` of a log already checked by the schema."""
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown:
        raise ValueError(f"unknown student model(s) {unknown}; available: {list(MODEL_NAMES)}")
    if not models:
        raise ValueError("models must name at least one student model")
    v = _scored(log)
    if len(v) == 0:
        raise ValueError("the log has no scored rows (correct is missing everywhere)")
    hbkt = hbkt if hbkt is not None else FitSettings.fast()
    return {
        name: _fit_one(name, v, seed=seed, bkt_options=bkt_options or {}, hbkt=hbkt)
        for name in models
    }


def fit_student_models(
    log: pd.DataFrame,
    models: Sequence[str] = MODEL_NAMES,
    *,
    seed: int = 0,
    bkt_options: Mapping[str, Any] | None = None,
    hbkt: FitSettings | None = None,
) -> dict[str, StudentModel]:
    """Fit student models to a scored response log.

    Parameters
    ----------
    log : DataFrame
        Response log (validated; unscored rows are left out).
    models : sequence of str
        Any of :data:`MODEL_NAMES`: ``bkt`` (standard BKT, EM), ``bkt_forgets``, ``ibkt``
        (individualized BKT: per-student logit effects on prior and learning rate, penalized EM),
        ``hbkt`` (hierarchical Bayesian BKT in PyMC).
    seed : int
    bkt_options : dict, optional
        Options of :class:`edstudy.bkt.BKT` (``restarts``, ``max_iter``, ``n_jobs``, ...).
    hbkt : FitSettings, optional
        How the hierarchical model is fitted. Default ``FitSettings.fast()`` (ADVI, 200 draws);
        ``method="map"`` is faster still but lets the spread of the student effects run off to
        extremes on real data; NUTS gives the full posterior.

    Returns
    -------
    dict of str to StudentModel
        In the order of ``models``; ``info`` holds rows, students and fit seconds.
    """
    return _fit_validated(validate_log(log), models, seed=seed, bkt_options=bkt_options, hbkt=hbkt)


def _fit_kt_validated(
    log: pd.DataFrame,
    models: Sequence[str],
    *,
    seed: int = 0,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, KTStudentModel]:
    """:func:`fit_kt_models` of a log already checked by the schema."""
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown kt model(s) {unknown}; available: {list(MODELS)}")
    v = _scored(log)
    if len(v) == 0 and models:
        raise ValueError("the log has no scored rows (correct is missing everywhere)")
    out = {}
    for name in models:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = make_model(name, **{"seed": seed, **dict((options or {}).get(name, {}))})
            est.fit(v)
        out[name] = KTStudentModel(
            name,
            est,
            description=MODELS[name].description,
            info={
                "fit_seconds": time.perf_counter() - start,
                "rows": len(v),
                "students": int(v["student_id"].nunique()),
            },
        )
    return out


def fit_kt_models(
    log: pd.DataFrame,
    models: Sequence[str] = ("best_lr", "pfa"),
    *,
    seed: int = 0,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, KTStudentModel]:
    """Fit models of :mod:`edstudy.kt` to a scored response log, as matrix columns.

    Parameters
    ----------
    log : DataFrame
        Response log (validated; unscored rows are left out, as for :func:`fit_student_models`).
    models : sequence of str
        Names in :data:`edstudy.kt.MODELS` (``best_lr``, ``pfa``, ``afm``, ``irt``, ``das3h``,
        ``bkt_ext``, ``bkt_idem``, ...), built with :func:`edstudy.kt.make_model`.
    seed : int
    options : dict, optional
        ``{model: {option: value}}`` passed to :func:`edstudy.kt.make_model`.

    Returns
    -------
    dict of str to KTStudentModel
        In the order of ``models``; ``info`` holds rows, students and fit seconds.
    """
    return _fit_kt_validated(validate_log(log), models, seed=seed, options=options)


_METRICS = ("auc", "rmse", "log_loss", "accuracy")


def _score_validated(
    models: Mapping[str, StudentModel | KTStudentModel], log: pd.DataFrame
) -> pd.DataFrame:
    """:func:`score_student_models` of a log already checked by the schema."""
    v = _scored(log)
    rows = {}
    for name, m in models.items():
        if len(v) == 0:
            rows[name] = {"n_rows": 0}
            continue
        if isinstance(m, KTStudentModel):
            res = m.score(v, _METRICS)
        else:
            est = BKT.from_params(m.to_bkt_params(), handle_unknown="average")
            res = est.score(v, metrics=_METRICS)
        res["n_rows"] = len(v)
        res["rows_unseen_skill"] = int((~v["skill_id"].isin(list(m.skills))).sum())
        students = getattr(m, "students", None)  # fitted per-student effects (BKT family)
        res["rows_unseen_student"] = (
            int((~v["student_id"].isin(list(students))).sum()) if students else 0
        )
        rows[name] = res
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    return out


def score_student_models(
    models: Mapping[str, StudentModel | KTStudentModel], log: pd.DataFrame
) -> pd.DataFrame:
    """One-step-ahead accuracy of each model on a (held-out) log, at the row level.

    Skills or students a model was not fitted on are predicted with averaged skill parameters /
    effect 0 (the median student); their rows are counted. kt models use their own predictions
    (abilities inferred online from each student's earlier answers, unseen items and skills
    averaged); ``rows_unseen_student`` counts only students missing from fitted per-student
    effects.

    Returns
    -------
    DataFrame indexed by model
        ``auc, rmse, log_loss, accuracy, n_rows, rows_unseen_skill, rows_unseen_student``.
    """
    return _score_validated(models, validate_log(log))
