"""Student models of :mod:`edstudy.kt` as the simulator's students (columns of the matrix).

:class:`KTStudentModel` wraps a fitted model of :mod:`edstudy.kt` (IRT, AFM, PFA, Best-LR, DAS3H,
BKT-ext, the BKT variants) under a column name. Its :meth:`~KTStudentModel.responder` is a
:class:`~edstudy.sim.responder.Responder` for :func:`edstudy.sim.simulate`: the model's own
simulated students (``model.simulator``, :mod:`edstudy.kt.simulation`) answer the engine's practice
questions, one opportunity at a time, each answer drawn from the student's history. The
curriculum, the strategy and the tutor's BKT estimate stay the engine's.

What the students are
    Skills are the curriculum's (``str`` of the model's skill ids, as
    :func:`~edstudy.sim.from_model.curriculum_from_model` names them). Every opportunity is an
    attempt on an *average item* of its skill (:data:`edstudy.kt.AVERAGE_ITEM`: the curriculum's
    items are synthetic, so no fitted item difficulty applies). A student's latent traits are
    drawn from the fitted population from their own Philox stream (:mod:`edstudy.sim._random`,
    keyed by the seed and the student's global index): the ability ``ability_sd_ * z`` of the
    models with one (IRT, AFM, DAS3H, Best-LR+ability, BKT-ext), BKT-ext's initial hidden states
    from each skill's prior. Times are the tutor time the student has used (DAS3H's windows).

Ground truth (what counts as *mastered*, the outcomes' ``mastered_true``, over- and
under-practice)
    Models with a hidden knowledge state (BKT-ext, the BKT variants): that true state; their
    learning / forgetting transitions use the engine's per-student uniforms. Logistic models
    (IRT, AFM, PFA, Best-LR, DAS3H) have no hidden state, so one rule is declared: **a skill
    counts as mastered when the model's P(correct) on an average item of it reaches a threshold
    per skill**; the Robust Evaluation Matrix uses ``1 - slip`` of the tutor's BKT model (what
    the tutor expects of a student who knows the skill), or one number
    (``MatrixSettings.kt_mastery``). The expected post-test is the mean over skills of that
    P(correct) at the end; the pre- and post-test answers are drawn from it (they are not
    recorded as practice).

Activities
    The kt models know no media or remediation: every opportunity, whatever its activity
    (a worked example, a hint), is an answered attempt on the skill and updates the student's
    history like any other. This is what the BKT columns assume by default too (remediation
    teaches like any opportunity, ``remediation_learn=1``); a different ``remediation_learn``
    changes the BKT columns only.

Reproducibility
    The same seed gives the same students and answers. For the logistic models and BKT-ext a
    student's answers depend only on their own stream and history, so a cohort simulated in
    chunks gives the same rows. The BKT variants (:class:`edstudy.kt.BKTModel`) are better
    simulated by the engine's own BKT: :meth:`KTStudentModel.student_model` gives their
    :class:`~edstudy.sim.from_model.StudentModel` (item-level guess and slip averaged per skill),
    which the matrix uses; their responder draws initial states from the kt simulator's seeded
    generator (reproducible, not chunk-independent).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri

from edstudy.kt import BKTExt, BKTModel, KTModel
from edstudy.sim._random import stream_key, uniforms
from edstudy.sim.curriculum import Curriculum
from edstudy.sim.from_model import StudentModel

__all__ = ["KTResponder", "KTStudentModel"]


@dataclass(frozen=True, eq=False)
class KTStudentModel:
    """A fitted :mod:`edstudy.kt` model as a column of the Robust Evaluation Matrix.

    Attributes
    ----------
    name : str
        Column name, e.g. ``"best_lr"``.
    model : KTModel
        The fitted estimator (``edstudy.kt.make_model(name).fit(log)``).
    description : str
    info : dict
        Fit details (rows, students, seconds, ...).
    """

    name: str
    model: KTModel
    description: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.model, KTModel):
            raise TypeError(f"model must be a fitted edstudy.kt model, got {type(self.model)}")
        self.model._fitted()
        object.__setattr__(self, "info", dict(self.info))

    @property
    def skills(self) -> tuple:
        """The model's skill ids (as in the log it was fitted on)."""
        return tuple(self.model.skills_)

    @property
    def hidden_state(self) -> bool:
        """Whether the model has a hidden knowledge state (BKT family) that defines mastery."""
        return isinstance(self.model, BKTModel | BKTExt)

    def student_model(self) -> StudentModel | None:
        """The BKT variants as the engine's own BKT students (None for the other models)."""
        if not isinstance(self.model, BKTModel):
            return None
        return StudentModel.from_bkt(self.model.estimator_, self.name, description=self.description)

    def score(self, log: pd.DataFrame, metrics: Iterable[str]) -> dict[str, float]:
        """The model's one-step-ahead metrics on a (held-out) log's scored rows."""
        return self.model.score(log, metrics=tuple(metrics))

    def responder(
        self,
        curriculum: Curriculum,
        student_ids: Sequence[int] | np.ndarray,
        *,
        seed: int | np.random.Generator | np.random.SeedSequence,
        mastery: float | Sequence[float] | np.ndarray | None = None,
    ) -> KTResponder:
        """Students of this model for ``simulate(cohort, curriculum, ..., responder=...)``.

        Parameters
        ----------
        curriculum : Curriculum
            Its skills (``str`` of the model's skill ids) must all be in the model.
        student_ids : int array (n,)
            The cohort's ``student_id`` (global indices): each student's traits are keyed by it.
        seed : int, SeedSequence or Generator
            Keys the students' traits; the same seed gives the same students (so every strategy
            of a matrix column teaches the same ones).
        mastery : float or array (K,), optional
            P(correct) on an average item at which a skill counts as mastered, per curriculum
            skill; needed for models without a hidden state (see the module docstring).
        """
        return KTResponder(self, curriculum, student_ids, seed=seed, mastery=mastery)


class KTResponder:
    """A cohort of a kt model's simulated students answering the engine (see
    :mod:`edstudy.sim.responder` for the protocol and the module docstring for the rules)."""

    def __init__(
        self,
        column: KTStudentModel,
        curriculum: Curriculum,
        student_ids: Sequence[int] | np.ndarray,
        *,
        seed: int | np.random.Generator | np.random.SeedSequence,
        mastery: float | Sequence[float] | np.ndarray | None = None,
    ) -> None:
        model = column.model
        ids = np.asarray(student_ids, dtype=np.int64).reshape(-1)
        n, k = ids.size, len(curriculum.skills)
        text = {str(s): s for s in model.skills_}
        missing = [s for s in curriculum.skill_ids if s not in text]
        if missing:
            raise KeyError(f"curriculum skills not in model {column.name!r}: {missing[:5]}")
        self.column = column
        self.skill_ids = np.empty(k, dtype=object)
        self.skill_ids[:] = [text[s] for s in curriculum.skill_ids]
        self.model_col = pd.Index(list(model.skills_), dtype=object).get_indexer(self.skill_ids)
        self.hidden = column.hidden_state
        if mastery is None:
            if not self.hidden:
                raise ValueError(
                    f"model {column.name!r} has no hidden knowledge state: give the mastery "
                    "threshold (P(correct) at which a skill counts as mastered)"
                )
            self.threshold = None
        else:
            thr = np.broadcast_to(np.asarray(mastery, dtype=float), (k,)).copy()
            if not np.all((thr > 0) & (thr < 1)):
                raise ValueError(f"mastery thresholds must be in (0, 1), got {thr}")
            self.threshold = thr
        key = stream_key(seed)
        rng = np.random.default_rng([int(key[0]), int(key[1])])
        self.time_windows = bool(getattr(model, "time_windows_", ()))
        if isinstance(model, BKTModel):
            self.sim = model.simulator(n, rng)
            return
        sd = float(getattr(model, "ability_sd_", 0.0) or 0.0)
        z = ndtri(uniforms(key, ids, "model_ability", 1)[0])
        abilities = sd * z if sd > 0 else np.zeros(n)
        if isinstance(model, BKTExt):
            prior = model.skill_params_["prior"].to_numpy()
            u = uniforms(key, ids, "model_known0", prior.size).T  # (n, K of the model)
            self.sim = model.simulator(n, rng, abilities=abilities, known=u < prior[None, :])
        else:
            self.sim = model.simulator(n, rng, abilities=abilities)

    def _times(self, times: np.ndarray) -> np.ndarray | None:
        return np.asarray(times, dtype=float) if self.time_windows else None

    def _known(self, students: np.ndarray, skills: np.ndarray, p: np.ndarray) -> np.ndarray:
        if self.hidden:
            all_known = self.sim.mastered(None, students=students)  # (m, K), model order
            return all_known[np.arange(students.size), self.model_col[skills]]
        return p >= self.threshold[skills]

    def skill_state(self) -> tuple[np.ndarray, np.ndarray]:
        """P(correct) on an average item of every curriculum skill and mastery, (n, K)."""
        skills = list(self.skill_ids)
        p = self.sim.p_skills(skills)
        if self.hidden:
            known = self.sim.mastered(None, skills)
        else:
            known = p >= self.threshold[None, :]
        return p, known

    def p_correct(
        self, students: np.ndarray, skills: np.ndarray, times: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """P(correct) of each student's next answer (an average item of the skill) and whether
        the skill counts as mastered now; nothing is recorded."""
        p = self.sim.p_next(
            self.skill_ids[skills], None, students=students, times=self._times(times)
        )
        return p, self._known(students, skills, p)

    def observe(
        self,
        students: np.ndarray,
        skills: np.ndarray,
        correct: np.ndarray,
        times: np.ndarray,
        uniforms: np.ndarray,
    ) -> None:
        """Record the answers; hidden states move with the engine's ``uniforms``."""
        self.sim.observe(
            self.skill_ids[skills],
            np.asarray(correct).astype(np.int8),
            None,
            students=students,
            times=self._times(times),
            uniforms=uniforms if self.hidden else None,
        )
