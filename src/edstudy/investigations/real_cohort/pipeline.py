"""The whole real-cohort comparison in one call: select, fit, score, matrix, thresholds.

:func:`run_real_cohort_pipeline` validates the log once, then chains
:func:`~edstudy.datasets.select_log`, :func:`~.student_models.fit_student_models` and
:func:`~.student_models.fit_kt_models` (the kt columns, e.g. Best-LR and PFA),
:func:`~.student_models.score_student_models`, :func:`~.matrix.robust_evaluation_matrix` and
:func:`~.thresholds.mastery_threshold_analysis` (BKT-family models only), timing each step. Its
settings are one frozen :class:`RealCohortSettings`. :meth:`RealCohortResult.headline` says which
strategies win and whether they hold under the model that predicts held-out students best, kt
columns included.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from edstudy._format import markdown_table
from edstudy.bayes.settings import FitSettings
from edstudy.datasets.select import select_validated, split_students
from edstudy.investigations.real_cohort.matrix import (
    MatrixSettings,
    RobustEvaluationMatrix,
    robust_evaluation_matrix,
)
from edstudy.investigations.real_cohort.student_models import (
    MODEL_NAMES,
    _fit_kt_validated,
    _fit_validated,
    _score_validated,
)
from edstudy.investigations.real_cohort.thresholds import mastery_threshold_analysis
from edstudy.schema import validate_log
from edstudy.sim.from_kt import KTStudentModel
from edstudy.sim.from_model import StudentModel

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["RealCohortResult", "RealCohortSettings", "run_real_cohort_pipeline"]


@dataclass(frozen=True)
class RealCohortSettings:
    """Everything :func:`run_real_cohort_pipeline` can be told, with working defaults.

    Parameters
    ----------
    skills : tuple, optional
        Keep these skills (ids as in the log); else the ``top_skills`` most-practised ones.
    top_skills : int, optional
    fit_students : int, optional
        A random sample of this many students (all when None).
    min_responses : int
        Students with fewer scored rows on the kept skills are dropped.
    test_fraction : float
        Students held out to score the models (0: no scoring).
    models : tuple of str
        The BKT-family student models (:data:`~.student_models.MODEL_NAMES`).
    kt_models : tuple of str
        Models of :mod:`edstudy.kt` added as columns (names in :data:`edstudy.kt.MODELS`;
        default Best-LR and PFA), fitted on the same training students with
        :func:`edstudy.kt.make_model` and scored on the same held-out ones.
    kt_options : mapping
        ``{kt model: {option: value}}`` for :func:`edstudy.kt.make_model`.
    bkt_options : mapping
        Options of :class:`edstudy.bkt.BKT` for the EM-fitted models.
    hbkt : FitSettings
        How the hierarchical model is fitted (default ADVI, 200 draws).
    matrix : MatrixSettings
        Strategies, cohort sizes, tutor and budget of the Robust Evaluation Matrix.
    thresholds : tuple of float
        Mastery thresholds of the threshold analysis.
    threshold_students : int
        Students simulated per model for the threshold analysis.
    """

    skills: tuple[Any, ...] | None = None
    top_skills: int | None = 5
    fit_students: int | None = None
    min_responses: int = 1
    test_fraction: float = 0.2
    models: tuple[str, ...] = MODEL_NAMES
    kt_models: tuple[str, ...] = ("best_lr", "pfa")
    kt_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    bkt_options: Mapping[str, Any] = field(default_factory=dict)
    hbkt: FitSettings = field(default_factory=FitSettings.fast)
    matrix: MatrixSettings = field(default_factory=MatrixSettings)
    thresholds: tuple[float, ...] = (0.8, 0.9, 0.95, 0.98)
    threshold_students: int = 1000

    def __post_init__(self) -> None:
        if self.skills is not None:
            object.__setattr__(self, "skills", tuple(self.skills))
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "kt_models", tuple(self.kt_models))
        both = sorted(set(self.models) & set(self.kt_models))
        if both:
            raise ValueError(
                f"{both} named in both models and kt_models: a column name must be unique"
            )
        object.__setattr__(self, "thresholds", tuple(float(t) for t in self.thresholds))
        if not 0 <= self.test_fraction < 1:
            raise ValueError(f"test_fraction must be in [0, 1), got {self.test_fraction!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports (strategies by name, the hierarchical fit's settings inline)."""
        out = asdict(self)
        out["matrix"]["strategies"] = [getattr(s, "name", s) for s in self.matrix.strategies]
        tutor = self.matrix.tutor
        out["matrix"]["tutor"] = tutor if isinstance(tutor, str) else tutor.name
        return out


@dataclass(frozen=True)
class RealCohortResult:
    """What :func:`run_real_cohort_pipeline` produced, with the time each step took.

    ``models`` holds every column: the BKT-family :class:`StudentModel` s, then the
    :class:`KTStudentModel` s."""

    log: pd.DataFrame
    models: dict[str, StudentModel | KTStudentModel]
    scores: pd.DataFrame
    matrix: RobustEvaluationMatrix
    thresholds: pd.DataFrame
    timings: dict[str, float]
    settings: RealCohortSettings
    seed: int = 0

    def skill_parameters(self) -> pd.DataFrame:
        """Fitted per-skill BKT parameters of every BKT-family model (tidy: model, skill_id,
        parameter...); the kt models have their own ``params_``."""
        parts = [
            m.skill_table().reset_index().assign(model=name)
            for name, m in self.models.items()
            if isinstance(m, StudentModel)
        ]
        out = pd.concat(parts, ignore_index=True)
        return out[["model", "skill_id", "prior", "learn", "guess", "slip", "forget"]]

    def summary(self) -> str:
        """One line: rows, students, skills, models, strategies and timings."""
        sel = self.log.attrs.get("selection", {})
        t = ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items())
        return (
            f"{sel.get('rows_kept', len(self.log)):,} rows, "
            f"{sel.get('students_kept', self.log['student_id'].nunique()):,} students, "
            f"{sel.get('skills_kept', self.log['skill_id'].nunique())} skills; "
            f"models {', '.join(self.models)}; strategies {', '.join(self.matrix.strategies)}; "
            f"timings: {t}"
        )

    def best_predicting_model(self) -> str | None:
        """The student model with the highest held-out AUC (None without scores)."""
        if self.scores.empty or "auc" not in self.scores:
            return None
        return str(self.scores["auc"].idxmax())

    def headline(self) -> str:
        """One sentence: which strategies rank first under most student models, and whether that
        verdict holds under the model that predicts the held-out students best."""
        ranks = self.matrix.ranks
        models = list(self.matrix.models)
        first = {m: sorted(ranks.index[ranks[m] == 1]) for m in models}
        counts = pd.Series([s for v in first.values() for s in v]).value_counts()
        top = int(counts.max())
        winners = sorted(counts.index[counts == top])
        who = winners[0] if len(winners) == 1 else ", ".join(winners[:-1]) + " and " + winners[-1]
        if top == len(models):
            text = f"Under every student model ({', '.join(models)}) {who} rank first"
        else:
            text = f"{who} rank first under {top} of {len(models)} student models"
        text += " on expected post-test mastery"
        best = self.best_predicting_model()
        if best is not None and best in first:
            holds = set(winners) <= set(first[best])
            text += (
                f"; under {best}, the model that predicts held-out students best (AUC "
                f"{self.scores.loc[best, 'auc']:.3f}), {', '.join(first[best])} rank first: the "
                f"verdict {'holds' if holds else 'does not hold'}"
            )
        return text + "."

    def to_frame(self) -> pd.DataFrame:
        """The Robust Evaluation Matrix as a tidy table."""
        return self.matrix.to_frame()

    def to_markdown(self) -> str:
        """The models' held-out accuracy, then the matrix with its ranks and notes."""
        lines = [self.summary(), ""]
        if len(self.scores):
            lines += [
                "**held-out accuracy of the student models**",
                "",
                markdown_table(self.scores.round(3).reset_index()),
                "",
            ]
        return "\n".join(lines) + self.matrix.to_markdown()

    def plot(self) -> Figure:
        """The matrix's post-test mastery and opportunities per strategy and model."""
        return self.matrix.plot()


def run_real_cohort_pipeline(
    log: pd.DataFrame, settings: RealCohortSettings | None = None, *, seed: int = 0
) -> RealCohortResult:
    """Select, fit, score, build the Robust Evaluation Matrix and the threshold analysis.

    Parameters
    ----------
    log : DataFrame
        Any response log; validated here, once.
    settings : RealCohortSettings, optional
        Default ``RealCohortSettings()``: the 5 most-practised skills, the four BKT-family models
        and Best-LR and PFA, every shipped strategy on 300 students per model.
    seed : int

    Returns
    -------
    RealCohortResult
        ``timings`` in seconds per step: ``select, fit_<model>, score, matrix, thresholds,
        total``.
    """
    st = settings if settings is not None else RealCohortSettings()
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    sel = select_validated(
        validate_log(log),
        skills=st.skills,
        top_skills=None if st.skills is not None else st.top_skills,
        n_students=st.fit_students,
        min_responses=st.min_responses,
        seed=seed,
    )
    train, test = split_students(sel, st.test_fraction, seed=seed)
    timings["select"] = time.perf_counter() - t0
    fitted = _fit_validated(train, st.models, seed=seed, bkt_options=st.bkt_options, hbkt=st.hbkt)
    kt = _fit_kt_validated(train, st.kt_models, seed=seed, options=st.kt_options)
    columns: dict[str, StudentModel | KTStudentModel] = {**fitted, **kt}
    for name, m in columns.items():
        timings[f"fit_{name}"] = float(m.info["fit_seconds"])
    t = time.perf_counter()
    scores = _score_validated(columns, test) if len(test) else pd.DataFrame()
    timings["score"] = time.perf_counter() - t
    t = time.perf_counter()
    matrix = robust_evaluation_matrix(columns, st.matrix, seed=seed, log=train)
    timings["matrix"] = time.perf_counter() - t
    t = time.perf_counter()
    thr = mastery_threshold_analysis(
        fitted,
        log=train,
        thresholds=st.thresholds,
        n_students=st.threshold_students,
        seed=seed,
    )
    timings["thresholds"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return RealCohortResult(
        log=sel,
        models=columns,
        scores=scores,
        matrix=matrix,
        thresholds=thr,
        timings=timings,
        settings=st,
        seed=seed,
    )
