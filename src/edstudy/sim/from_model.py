"""Simulated cohorts whose students are drawn from a student model fitted to real data.

Real logs record one instructional policy, so comparing strategies on real students is
model-based: fit student models to the log (:mod:`edstudy.investigations.real_cohort`), then let
every strategy teach students drawn from each fitted model. This module is the bridge from a fitted
model to the simulator's two inputs.

:class:`StudentModel`
    One fitted student model in a common form: per skill ``prior, learn, guess, slip, forget``
    and, for individualized models, one logit effect per fitted student on the prior and on the
    learning rate (``logit P_ik = logit P_k + effect_i``). Built from a fitted
    :class:`edstudy.bkt.BKT` (standard, forgets, individualized) with :meth:`StudentModel.from_bkt`
    or from the posterior of the hierarchical Bayesian BKT (:func:`edstudy.bayes.fit_hbkt`) with
    :meth:`StudentModel.from_hbkt` (posterior means on the logit scale).
:func:`curriculum_from_model`
    Skills with the model's parameters as the *generating* ones, in a given order (see
    :func:`skill_order`), no prerequisites (real logs do not tell them), and **one neutral medium**
    (``text``; real logs have no media, so strategies that choose media run with one medium and
    meshing 0). Remediation activities (``worked_example``, ``hint``) exist so that every named
    strategy runs, but teach like any other opportunity (``learn_multiplier=1``) unless told
    otherwise: the log says nothing about their effect. The tutor's beliefs can be another model
    (by default the standard BKT fit, as a deployed tutor would use).
:func:`cohort_from_model`
    Students drawn from the model: every skill keeps its fitted parameters; students of an
    individualized model are fitted students resampled (each block of as many simulated students
    as fitted ones is a random permutation of them) and keep their own prior and learning rate;
    the forgets model's P(forget) is used by the engine (a known skill is forgotten with that
    probability after an opportunity on it). Guess and slip are the skill's (no model here has
    per-student ones), the learning-speed multiplier is 1, and nothing else about the student
    (survey answers, interest, engagement) comes from the data: those are drawn as in
    :func:`edstudy.sim.draw_cohort` with a neutral :data:`REAL_COHORT_POPULATION` (no meshing, no
    dropout). Like there, every draw is keyed by the seed and the student's global index.

Models of :mod:`edstudy.kt` (Best-LR, PFA, IRT, AFM, DAS3H, BKT-ext) have no such parameters:
their students answer the engine through a responder, :mod:`edstudy.sim.from_kt`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from edstudy.bkt.params import ALL, BKTParams
from edstudy.sim._random import stream_key, uniforms
from edstudy.sim.curriculum import Activity, Curriculum, Skill
from edstudy.sim.population import Cohort, PopulationSpec, as_generator, draw_students

__all__ = [
    "REAL_COHORT_POPULATION",
    "StudentModel",
    "cohort_from_model",
    "curriculum_from_model",
    "skill_order",
]

#: Population knobs for cohorts drawn from fitted models: every learning trait comes from the model
#: (so the population's own spreads are 0), media do not matter (meshing 0), nobody quits (the logs
#: say nothing about how quitting depends on the strategy).
REAL_COHORT_POPULATION = PopulationSpec(
    prior_sd=0.0,
    learning_speed_sd=0.0,
    guess_sd=0.0,
    slip_sd=0.0,
    meshing_effect=0.0,
    preference_validity=1.0,
    dropout_per_hour=0.0,
)

_PARAMS = ("prior", "learn", "guess", "slip", "forget")
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _ro(a: Any, n: int, name: str) -> np.ndarray:
    arr = np.array(a, dtype=float, copy=True).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"{name} must have {n} values, got {arr.shape[0]}")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class StudentModel:
    """A fitted student model in the form the simulator needs.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"bkt"``, ``"bkt_forgets"``, ``"ibkt"``, ``"hbkt"``.
    skills : tuple
        Skill ids as in the log, length K.
    prior, learn, guess, slip, forget : float arrays (K,)
        Per-skill BKT parameters (for individualized models: the student with effect 0, i.e. the
        median student of the hierarchical model).
    students : tuple or None
        Ids of the fitted students (individualized models).
    student_prior, student_learn : float arrays (n_students,) or None
        Logit effects of each fitted student on every skill's prior / learning rate.
    description : str
        What the model is, in words.
    info : dict
        Fit details (rows, seconds, method, ...).
    """

    name: str
    skills: tuple
    prior: np.ndarray
    learn: np.ndarray
    guess: np.ndarray
    slip: np.ndarray
    forget: np.ndarray
    students: tuple | None = None
    student_prior: np.ndarray | None = None
    student_learn: np.ndarray | None = None
    description: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        skills = tuple(self.skills)
        k = len(skills)
        if k == 0:
            raise ValueError("a student model needs at least one skill")
        if len(set(skills)) != k:
            raise ValueError("student model skills must be unique")
        object.__setattr__(self, "skills", skills)
        for name in _PARAMS:
            arr = _ro(getattr(self, name), k, name)
            if not np.all((arr >= 0) & (arr <= 1)):
                raise ValueError(f"{name} must be probabilities in [0, 1]")
            object.__setattr__(self, name, arr)
        if self.students is not None:
            students = tuple(self.students)
            object.__setattr__(self, "students", students)
            for name in ("student_prior", "student_learn"):
                v = getattr(self, name)
                if v is not None:
                    arr = _ro(v, len(students), name)
                    if not np.all(np.isfinite(arr)):
                        raise ValueError(f"{name} must be finite logit effects")
                    object.__setattr__(self, name, arr)
        elif self.student_prior is not None or self.student_learn is not None:
            raise ValueError("student effects need the ids of the fitted students")
        object.__setattr__(self, "info", dict(self.info))

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_bkt(cls, estimator: Any, name: str, *, description: str = "") -> StudentModel:
        """From a fitted :class:`edstudy.bkt.BKT` (item or activity classes are averaged per skill,
        weighted by their training rows)."""
        params = estimator.model_
        table = params.skill_table()
        effects = params.student_prior is not None or params.student_learn is not None
        info = {
            "log_likelihood": float(getattr(estimator, "log_likelihood_", np.nan)),
            "converged": bool(getattr(estimator, "converged_", True)),
        }
        return cls(
            name=name,
            skills=tuple(params.skills),
            **{p: table[p].to_numpy() for p in _PARAMS},
            students=tuple(params.students) if effects else None,
            student_prior=params.student_prior,
            student_learn=params.student_learn,
            description=description,
            info=info,
        )

    @classmethod
    def from_hbkt(cls, idata: Any, name: str = "hbkt", *, description: str = "") -> StudentModel:
        """From the posterior of :func:`edstudy.bayes.fit_hbkt` (any method): posterior means of
        ``mu_prior, mu_learn`` (logit scale), ``guess, slip`` and of each student's effects
        ``sigma * z``."""
        post = idata.posterior

        def mean(x: Any) -> np.ndarray:
            return np.asarray(x.mean(("chain", "draw")).to_numpy(), dtype=float)

        k = post.sizes["skill"]
        return cls(
            name=name,
            skills=tuple(post["skill"].to_numpy().tolist()),
            prior=_sigmoid(mean(post["mu_prior"])),
            learn=_sigmoid(mean(post["mu_learn"])),
            guess=mean(post["guess"]),
            slip=mean(post["slip"]),
            forget=np.zeros(k),
            students=tuple(post["student"].to_numpy().tolist()),
            student_prior=mean(post["sigma_prior"] * post["z_prior"]),
            student_learn=mean(post["sigma_learn"] * post["z_learn"]),
            description=description,
            info={
                "method": idata.attrs.get("method"),
                "sigma_prior": float(mean(post["sigma_prior"])),
                "sigma_learn": float(mean(post["sigma_learn"])),
            },
        )

    # ---------------------------------------------------------------- views
    @property
    def n_skills(self) -> int:
        return len(self.skills)

    @property
    def individualized(self) -> bool:
        return self.students is not None

    def skill_table(self) -> pd.DataFrame:
        """One row per skill: ``prior, learn, guess, slip, forget`` (index ``skill_id``)."""
        return pd.DataFrame(
            {p: getattr(self, p) for p in _PARAMS},
            index=pd.Index(list(self.skills), name="skill_id"),
        )

    def student_table(self) -> pd.DataFrame:
        """One row per fitted student: ``prior_effect, learn_effect`` (logit; empty if none)."""
        if self.students is None:
            return pd.DataFrame(columns=["prior_effect", "learn_effect"])
        return pd.DataFrame(
            {
                "prior_effect": self.student_prior if self.student_prior is not None else 0.0,
                "learn_effect": self.student_learn if self.student_learn is not None else 0.0,
            },
            index=pd.Index(list(self.students), name="student_id"),
        )

    def subset(self, skills: Sequence[Any]) -> StudentModel:
        """The same model restricted to (and ordered by) ``skills``."""
        pos = pd.Index(list(self.skills)).get_indexer(list(skills))
        if (pos < 0).any():
            missing = [s for s, p in zip(skills, pos, strict=True) if p < 0]
            raise KeyError(f"skills not in model {self.name!r}: {missing[:5]}")
        return replace(
            self,
            skills=tuple(skills),
            **{p: getattr(self, p)[pos] for p in _PARAMS},
        )

    def to_bkt_params(self) -> BKTParams:
        """The model as :class:`edstudy.bkt.BKTParams` (to predict or trace with
        :class:`edstudy.bkt.BKT`); guess and slip are capped so ``guess + slip < 1``."""
        k = self.n_skills
        has = self.students is not None
        return BKTParams(
            skills=self.skills,
            prior=self.prior,
            tr_skill=np.arange(k),
            tr_label=(ALL,) * k,
            learn=self.learn,
            forget=self.forget,
            gs_skill=np.arange(k),
            gs_label=(ALL,) * k,
            guess=self.guess,
            slip=self.slip,
            students=self.students if has else None,
            student_prior=self.student_prior if has else None,
            student_learn=self.student_learn if has else None,
            student_effect_sd=1.0 if has else None,
        )

    def draw_students(
        self,
        n: int,
        seed: int | np.random.Generator | np.random.SeedSequence,
        *,
        first_id: int = 0,
    ) -> dict[str, np.ndarray]:
        """Per-student per-skill parameters of ``n`` students drawn from the model.

        Individualized models resample the ``S`` fitted students in blocks of ``S`` simulated
        students (global indices ``b S .. (b + 1) S - 1``): block ``b`` is a random permutation of
        the fitted students, keyed by the seed and ``b`` (a per-block Philox stream). So the
        first ``n <= S`` students are drawn without replacement, ``n > S`` students hold every
        fitted student ``n // S`` times plus a sample without replacement of the rest, and
        students ``first_id .. first_id + n - 1`` are the same whether drawn at once or in
        pieces. Other models give every student the skill's parameters.

        Returns
        -------
        dict
            ``source`` (object (n,), fitted student id or None), ``p_known0, learn, guess, slip,
            forget`` (float (n, K)).
        """
        k = self.n_skills
        shape = (int(n), k)
        out: dict[str, np.ndarray] = {
            p: np.broadcast_to(getattr(self, p), shape).copy() for p in ("guess", "slip", "forget")
        }
        if self.students is None:
            out["p_known0"] = np.broadcast_to(self.prior, shape).copy()
            out["learn"] = np.broadcast_to(self.learn, shape).copy()
            out["source"] = np.full(int(n), None, dtype=object)
            return out
        s = len(self.students)
        ids = np.arange(int(first_id), int(first_id) + int(n), dtype=np.int64)
        blocks, block_at = np.unique(ids // s, return_inverse=True)
        u = uniforms(stream_key(seed), blocks, "model_students", s)  # (S, blocks)
        perm = np.argsort(u, axis=0, kind="stable")  # a permutation of S per block
        idx = perm[ids % s, block_at].astype(np.int64)
        zp = self.student_prior[idx] if self.student_prior is not None else np.zeros(int(n))
        zl = self.student_learn[idx] if self.student_learn is not None else np.zeros(int(n))
        out["p_known0"] = _sigmoid(_logit(self.prior)[None, :] + zp[:, None])
        out["learn"] = _sigmoid(_logit(self.learn)[None, :] + zl[:, None])
        out["source"] = np.array(self.students, dtype=object)[idx]
        return out


def skill_order(
    log: pd.DataFrame | None = None,
    model: StudentModel | None = None,
    *,
    by: str = "first_appearance",
) -> list:
    """Skills in curriculum order.

    Parameters
    ----------
    log : DataFrame, optional
        Response log (needed for ``first_appearance``).
    model : StudentModel, optional
        Needed for ``difficulty``; with ``first_appearance`` only its skills are kept (skills of
        the model absent from the log go last, in model order).
    by : {"first_appearance", "difficulty"}
        ``first_appearance``: by the median, over the students who practised it, of the ``order``
        at which a student first met the skill (ties by first row in the log). ``difficulty``:
        easiest first, by the model's P(correct) at the first opportunity
        ``prior (1 - slip) + (1 - prior) guess``.
    """
    if by == "difficulty":
        if model is None:
            raise ValueError("skill_order(by='difficulty') needs the model")
        p = model.prior * (1 - model.slip) + (1 - model.prior) * model.guess
        return [model.skills[i] for i in np.argsort(-p, kind="stable")]
    if by != "first_appearance":
        raise ValueError(f"by must be 'first_appearance' or 'difficulty', got {by!r}")
    if log is None:
        if model is None:
            raise ValueError("skill_order needs a log or a model")
        return list(model.skills)
    first = log.groupby(["skill_id", "student_id"], sort=False, observed=True)["order"].min()
    med = first.groupby(level="skill_id", sort=False, observed=True).median()
    row = pd.Series(np.arange(len(med)), index=med.index)  # first row in the log (groupby order)
    table = pd.DataFrame({"median": med, "row": row}).sort_values(["median", "row"], kind="stable")
    order = list(table.index)
    if model is not None:
        in_model = set(model.skills)
        order = [s for s in order if s in in_model]
        seen = set(order)
        order += [s for s in model.skills if s not in seen]
    return order


def curriculum_from_model(
    model: StudentModel,
    *,
    order: Sequence[Any] | None = None,
    tutor: StudentModel | None = None,
    medium: str = "text",
    duration_s: float = 240.0,
    remediation_learn: float = 1.0,
    n_items: int = 10,
    pretest_items: int = 2,
    posttest_items: int = 3,
    name: str | None = None,
) -> Curriculum:
    """A curriculum whose skills generate answers with the model's parameters.

    Parameters
    ----------
    model : StudentModel
        Supplies each skill's generating ``prior, learn, guess, slip``.
    order : sequence, optional
        Skills in curriculum order (a subset is allowed); default the model's order.
    tutor : StudentModel, optional
        What the tutor believes (``prior, learn, guess, slip`` per skill); default ``model``.
    medium : str
        Name of the one neutral medium (``text``: ASSISTments problems are text).
    duration_s : float
        Mean seconds per opportunity (also the base of the remediation activities' durations).
    remediation_learn : float
        ``learn_multiplier`` of ``worked_example`` and ``hint`` (1: no known extra effect).
    n_items, pretest_items, posttest_items : int

    Returns
    -------
    Curriculum
        Skill ids are ``str(skill)``; no prerequisites.
    """
    order = list(model.skills) if order is None else list(order)
    m = model.subset(order)
    t = (tutor or model).subset(order)
    ids = [str(s) for s in order]
    if len(set(ids)) != len(ids):
        raise ValueError("skill ids must stay distinct as text (e.g. not both 1 and '1')")
    skills = []
    for j, sid in enumerate(ids):
        guess = float(np.clip(m.guess[j], 0.0, 1.0))
        slip = float(np.clip(m.slip[j], 0.0, 1.0 - guess - _EPS))
        tutor_params = (
            float(np.clip(t.prior[j], _EPS, 1 - _EPS)),
            float(np.clip(t.learn[j], _EPS, 1 - _EPS)),
            float(np.clip(t.guess[j], _EPS, 1 - _EPS)),
            float(np.clip(t.slip[j], _EPS, 1 - _EPS)),
        )
        skills.append(
            Skill(
                id=sid,
                n_items=n_items,
                prior=float(m.prior[j]),
                learn=float(m.learn[j]),
                guess=guess,
                slip=slip,
                tutor=tutor_params,
                title=sid,
            )
        )
    activities = (
        Activity(medium, "medium", duration_s, 1.0),
        Activity("worked_example", "remediation", 1.25 * duration_s, remediation_learn),
        Activity("hint", "remediation", 0.5 * duration_s, remediation_learn),
    )
    return Curriculum(
        skills=tuple(skills),
        activities=activities,
        pretest_items=pretest_items,
        posttest_items=posttest_items,
        prerequisite_penalty=1.0,
        name=name or f"fitted-{model.name}",
        description=(
            f"{len(skills)} skills with the parameters of the fitted model {model.name!r}; "
            f"tutor: {(tutor or model).name!r}; one neutral medium ({medium})"
        ),
    )


def cohort_from_model(
    model: StudentModel,
    curriculum: Curriculum,
    n_students: int,
    *,
    seed: int | np.random.Generator | np.random.SeedSequence,
    population: PopulationSpec | Mapping[str, Any] | None = None,
    class_size: int = 25,
    classes_per_school: int = 4,
    return_sources: bool = False,
    first_id: int = 0,
) -> Cohort | tuple[Cohort, np.ndarray]:
    """Draw ``n_students`` students from a fitted model for ``curriculum``.

    Parameters
    ----------
    model : StudentModel
    curriculum : Curriculum
        Its skills (``str`` of the model's skill ids, see :func:`curriculum_from_model`) must all
        be in the model.
    n_students : int
    seed : int, SeedSequence or Generator
    population : PopulationSpec or dict, optional
        The non-learning traits (engagement, dropout, time); default
        :data:`REAL_COHORT_POPULATION`; a dict overrides some of its fields. Its learning spreads
        are ignored: learning traits come from the model.
    class_size, classes_per_school : int
    return_sources : bool
        Also return, per simulated student, the id of the fitted student it copies (None for
        models without student parameters).
    first_id : int
        Global index of the first student: like :func:`edstudy.sim.draw_cohort`, every student's
        draws are keyed by the seed and its index, so a cohort drawn in pieces is the same.

    Returns
    -------
    Cohort (and the sources)
    """
    if isinstance(population, PopulationSpec):
        spec = population
    else:
        spec = replace(REAL_COHORT_POPULATION, **dict(population or {}))
    text_ids = {str(s): s for s in model.skills}
    missing = [s for s in curriculum.skill_ids if s not in text_ids]
    if missing:
        raise KeyError(f"curriculum skills not in model {model.name!r}: {missing[:5]}")
    sub = model.subset([text_ids[s] for s in curriculum.skill_ids])
    ss = seed if isinstance(seed, np.random.SeedSequence) else None
    if ss is None:
        rng = as_generator(seed)
        ss = np.random.SeedSequence(rng.integers(0, 2**63 - 1, size=4).tolist())
    base_seed, draw_seed, known_seed = ss.spawn(3)
    ids = np.arange(int(first_id), int(first_id) + int(n_students), dtype=np.int64)
    base = draw_students(
        spec,
        curriculum,
        ids,
        seed=base_seed,
        class_size=class_size,
        classes_per_school=classes_per_school,
    )
    drawn = sub.draw_students(n_students, draw_seed, first_id=first_id)
    u_known = uniforms(stream_key(known_seed), ids, "model_known0", sub.n_skills).T
    known0 = u_known < drawn["p_known0"]
    kwargs = {name: getattr(base, name) for name in Cohort._ARRAYS}
    kwargs.update(
        known0=known0,
        p_known0=drawn["p_known0"],
        learning_speed=np.ones(base.n_students),
        guess=drawn["guess"],
        slip=drawn["slip"],
    )
    forget = drawn["forget"] if np.any(drawn["forget"] > 0) else None
    cohort = Cohort(**kwargs, media=base.media, spec=spec, learn=drawn["learn"], forget=forget)
    if return_sources:
        return cohort, drawn["source"]
    return cohort
