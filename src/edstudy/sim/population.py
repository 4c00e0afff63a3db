"""Student populations with known ground truth.

A :class:`PopulationSpec` holds the distributions a researcher sets; :func:`draw_cohort` draws a
:class:`Cohort` from it: per student and skill the *true* initial knowledge and BKT guess/slip, per
student a learning speed, a **stated** media preference and interests (what a survey would report),
the **true** best medium, a self-set mastery goal, an engagement baseline and a time multiplier.

Clustering
    A latent general ability ``a = sqrt(icc_school) z_school + sqrt(icc_class) z_class
    + sqrt(1 - icc_school - icc_class) z_student`` (standard normal, so its intraclass correlations
    are exactly ``icc_school`` and ``icc_school + icc_class``) shifts every student's prior
    knowledge (logit scale) and learning speed (log scale).

Meshing (the "learning styles" hypothesis) is one knob
    Each student has a true best medium: their stated preference with probability
    ``preference_validity``, otherwise another medium at random. An opportunity in the true best
    medium multiplies the learning rate by ``1 + meshing_effect``. ``meshing_effect = 0``
    reproduces the research consensus (matching media to preferences does nothing); values > 0
    make the vendors' claim true in the simulated world.

Engagement and dropout (used by :mod:`edstudy.sim.engine`)
    Engagement moves towards a target that rises with choice (``choice_boost``) and interest in
    the current skill (``interest_boost``) and falls with boredom (practising a skill already
    mastered) and frustration (consecutive errors). It changes the dropout hazard
    (``dropout_per_hour * exp(-dropout_engagement * (engagement - 0.5))``), not the learning per
    opportunity, so any effect of engagement on the post-test runs through how much a student
    practises.

Seeds and per-student streams
    A student is identified by its global index ``i`` (its ``student_id``): class ``i //
    class_size``, school ``class // classes_per_school``. Every trait is drawn from the student's
    own counter-based stream (Philox4x32-10, :mod:`edstudy.sim._random`) keyed by the seed, ``i``
    and the trait (school and class effects by the school and class index), never from a shared
    sequential generator. So students ``[0, N)`` drawn at once, or in chunks ``[a, b)`` with
    ``first_id=a``, or any subset with :func:`draw_students`, are the same students; and two
    scenarios that change one knob (say ``preference_validity``) keep every other trait.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from scipy.special import betaincinv, ndtri

from edstudy.sim._random import stream_key, uniforms
from edstudy.sim.curriculum import Curriculum

__all__ = ["PopulationSpec", "Cohort", "draw_cohort", "draw_students", "as_generator"]


def as_generator(
    seed: int | np.random.Generator | np.random.SeedSequence | None,
) -> np.random.Generator:
    """A numpy Generator from an int, a SeedSequence or a Generator (returned as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError("seed is required (an int, SeedSequence or numpy Generator)")
    return np.random.default_rng(seed)


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class PopulationSpec:
    """Distributions of student traits (all keyword arguments; every field has a default).

    Knowledge and learning
        prior_sd : sd of a student's deviation of logit P(knows skill at start) from the skill's
            prior (0 = every student draws from the skill's prior).
        prior_general : share (0..1) of that deviation that is general ability (shared by skills).
        learning_speed_sd : sd of log learning speed (multiplies the skill's learn rate).
        speed_ability_corr : correlation of log learning speed with general ability.
        guess_sd, slip_sd : sd of logit guess / slip around the skill's values.
    Clustering
        icc_class, icc_school : intraclass correlations of general ability (sum < 1).
    Media
        preference_shares : medium -> share of students who state it (None: equal shares).
        preference_validity : P(true best medium == stated preference).
        meshing_effect : learning-rate bonus (``1 + meshing_effect``) in the true best medium.
    Interest and goals
        interest_concentration : interests per skill ~ Beta(c, c), in [0, 1].
        goal_low, goal_high : a student's self-set mastery goal ~ Uniform(goal_low, goal_high).
    Engagement
        engagement_mean, engagement_sd : baseline engagement (clipped to [0.05, 0.95]).
        choice_boost, interest_boost, boredom, frustration : shifts of the engagement target.
        engagement_inertia : weight of the previous engagement in each update (0..1).
    Dropout and time
        dropout_per_hour : hazard of quitting per hour of work at engagement 0.5.
        dropout_engagement : how strongly engagement lowers the hazard.
        time_sd : sd of a student's log time multiplier; activity_time_sd : per opportunity.
    """

    prior_sd: float = 0.8
    prior_general: float = 0.6
    learning_speed_sd: float = 0.3
    speed_ability_corr: float = 0.5
    guess_sd: float = 0.3
    slip_sd: float = 0.3
    icc_class: float = 0.10
    icc_school: float = 0.05
    preference_shares: Mapping[str, float] | None = None
    preference_validity: float = 0.7
    meshing_effect: float = 0.0
    interest_concentration: float = 2.0
    goal_low: float = 0.80
    goal_high: float = 0.95
    engagement_mean: float = 0.6
    engagement_sd: float = 0.15
    choice_boost: float = 0.15
    interest_boost: float = 0.2
    boredom: float = 0.15
    frustration: float = 0.08
    engagement_inertia: float = 0.7
    dropout_per_hour: float = 0.05
    dropout_engagement: float = 4.0
    time_sd: float = 0.25
    activity_time_sd: float = 0.3

    def __post_init__(self) -> None:
        nonneg = (
            "prior_sd learning_speed_sd guess_sd slip_sd meshing_effect interest_concentration "
            "engagement_sd choice_boost interest_boost boredom frustration dropout_per_hour "
            "dropout_engagement time_sd activity_time_sd"
        ).split()
        for name in nonneg:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0:
                raise ValueError(f"population {name} must be a number >= 0, got {v!r}")
        unit = (
            "prior_general preference_validity icc_class icc_school goal_low goal_high "
            "engagement_mean engagement_inertia"
        ).split()
        for name in unit:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
                raise ValueError(f"population {name} must be a number in [0, 1], got {v!r}")
        if not -1 <= self.speed_ability_corr <= 1:
            raise ValueError("population speed_ability_corr must be in [-1, 1]")
        if self.icc_class + self.icc_school >= 1:
            raise ValueError("population icc_class + icc_school must be < 1")
        if self.goal_low > self.goal_high:
            raise ValueError("population goal_low must be <= goal_high")
        if self.interest_concentration == 0:
            raise ValueError("population interest_concentration must be > 0")
        if self.preference_shares is not None:
            shares = dict(self.preference_shares)
            if (
                any((not isinstance(v, int | float)) or v < 0 for v in shares.values())
                or not sum(shares.values()) > 0
            ):
                raise ValueError(
                    "population preference_shares must be numbers >= 0 with a positive sum"
                )
            object.__setattr__(self, "preference_shares", shares)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if not f.name.startswith("_"))

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        if d["preference_shares"] is not None:
            d["preference_shares"] = dict(d["preference_shares"])
        return d

    def shares_for(self, media: tuple[str, ...]) -> np.ndarray:
        """Stated-preference probabilities over ``media`` (code order)."""
        if self.preference_shares is None:
            return np.full(len(media), 1.0 / len(media))
        unknown = sorted(set(self.preference_shares) - set(media))
        if unknown:
            raise ValueError(
                f"population preference_shares names unknown media {unknown}; "
                f"the curriculum has {list(media)}"
            )
        p = np.array([float(self.preference_shares.get(m, 0.0)) for m in media])
        return p / p.sum()


@dataclass(frozen=True, eq=False)
class Cohort:
    """A drawn cohort: ground truth and survey answers, arrays over students (n) and skills (K).

    Arrays are read-only. ``media`` gives the names of medium codes.

    Attributes
    ----------
    student_id, class_id, school_id : int64 (n,)
    ability : float (n,) general ability (standard normal)
    known0 : bool (n, K) true initial knowledge
    p_known0 : float (n, K) the probability it was drawn from
    learning_speed : float (n,) multiplier of the skills' learn rates
    guess, slip : float (n, K)
    stated_preference, true_best_medium : int (n,) medium codes
    interest : float (n, K) stated interest in each skill
    goal : float (n,) self-set mastery goal
    engagement0 : float (n,) baseline engagement
    time_multiplier : float (n,)
    media : tuple of str
    spec : PopulationSpec
    learn : float (n, K) or None
        Per-student per-skill P(learn) per opportunity replacing the curriculum's skill rate in
        the engine (``learning_speed``, activity multipliers, meshing and prerequisites still
        scale it); None uses the curriculum's rates. Set by cohorts drawn from fitted models
        (:mod:`edstudy.sim.from_model`), whose individualized students have their own rates.
    forget : float (n, K) or None
        Per-student per-skill P(forget) of a known skill after each opportunity on it (the BKT
        forgets model); None means no forgetting.
    """

    student_id: np.ndarray
    class_id: np.ndarray
    school_id: np.ndarray
    ability: np.ndarray
    known0: np.ndarray
    p_known0: np.ndarray
    learning_speed: np.ndarray
    guess: np.ndarray
    slip: np.ndarray
    stated_preference: np.ndarray
    true_best_medium: np.ndarray
    interest: np.ndarray
    goal: np.ndarray
    engagement0: np.ndarray
    time_multiplier: np.ndarray
    media: tuple[str, ...]
    spec: PopulationSpec
    learn: np.ndarray | None = None
    forget: np.ndarray | None = None

    _ARRAYS = (
        "student_id class_id school_id ability known0 p_known0 learning_speed guess slip "
        "stated_preference true_best_medium interest goal engagement0 time_multiplier"
    ).split()

    def __post_init__(self) -> None:
        n = len(self.student_id)
        for name in self._ARRAYS:
            a = np.array(getattr(self, name), copy=True)
            if a.shape[0] != n:
                raise ValueError(f"cohort array {name} has {a.shape[0]} rows, expected {n}")
            a.flags.writeable = False
            object.__setattr__(self, name, a)
        if len(np.unique(self.student_id)) != n:
            raise ValueError("cohort student_id values must be unique")
        for name in ("learn", "forget"):
            v = getattr(self, name)
            if v is None:
                continue
            a = np.array(v, dtype=float, copy=True)
            if a.shape != self.known0.shape or not np.all((a >= 0) & (a <= 1)):
                raise ValueError(
                    f"cohort {name} must be probabilities of shape {self.known0.shape}"
                )
            a.flags.writeable = False
            object.__setattr__(self, name, a)

    @property
    def n_students(self) -> int:
        return int(self.student_id.shape[0])

    @property
    def n_skills(self) -> int:
        return int(self.known0.shape[1])

    def subset(self, index: np.ndarray) -> Cohort:
        """The students at positions (or boolean mask) ``index``, as a new cohort."""
        idx = np.asarray(index)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        kwargs = {name: getattr(self, name)[idx] for name in self._ARRAYS}
        for name in ("learn", "forget"):
            v = getattr(self, name)
            kwargs[name] = None if v is None else v[idx]
        return Cohort(**kwargs, media=self.media, spec=self.spec)

    def with_spec(self, spec: PopulationSpec) -> Cohort:
        """Same students, a different spec for the engine-time knobs (meshing, engagement, dropout).

        Traits already drawn (knowledge, preferences, true best medium) are kept, so two worlds
        that differ only in ``meshing_effect`` can be compared on identical students.
        """
        kwargs = {name: getattr(self, name) for name in self._ARRAYS}
        return Cohort(**kwargs, media=self.media, spec=spec, learn=self.learn, forget=self.forget)


def draw_cohort(
    spec: PopulationSpec,
    curriculum: Curriculum,
    n_students: int,
    *,
    seed: int | np.random.Generator | np.random.SeedSequence,
    class_size: int = 25,
    classes_per_school: int = 4,
    first_id: int = 0,
) -> Cohort:
    """Draw ``n_students`` students (in classes and schools) with their ground truth.

    Parameters
    ----------
    spec : PopulationSpec
    curriculum : Curriculum
        Supplies the skills' generating BKT parameters and the media.
    n_students : int
    seed : int, SeedSequence or Generator
        All randomness comes from it: the same seed gives the same cohort.
    class_size, classes_per_school : int
        Student ``i`` (its global index, ``student_id``) is in class ``i // class_size``, class
        ``c`` in school ``c // classes_per_school``; the last class or school may be smaller.
    first_id : int
        ``student_id`` (global index) of the first student: the students are
        ``first_id .. first_id + n_students - 1``, and drawing ``[0, N)`` at once or in pieces
        ``[a, b)`` with ``first_id=a`` gives the same students (see :func:`draw_students`).

    Returns
    -------
    Cohort
    """
    if int(n_students) != n_students or n_students < 1:
        raise ValueError("n_students must be a whole number >= 1")
    if int(first_id) != first_id or first_id < 0:
        raise ValueError("first_id must be a whole number >= 0")
    ids = np.arange(int(first_id), int(first_id) + int(n_students), dtype=np.int64)
    return draw_students(
        spec,
        curriculum,
        ids,
        seed=seed,
        class_size=class_size,
        classes_per_school=classes_per_school,
    )


def _normals(key: tuple[int, int], ids: np.ndarray, purpose: str, n: int) -> np.ndarray:
    """Standard normals (len(ids), n) by the inverse CDF (``scipy.special.ndtri``)."""
    return ndtri(uniforms(key, ids, purpose, n)).T


def _beta_symmetric(key: tuple[int, int], ids: np.ndarray, c: float, k: int) -> np.ndarray:
    """Beta(c, c) draws (len(ids), k).

    A whole ``c`` up to 10 uses the exact order statistic (the ``c``-th smallest of ``2c - 1``
    uniforms is Beta(c, c)); any other ``c`` the inverse CDF ``scipy.special.betaincinv``.
    """
    if float(c).is_integer() and 1 <= c <= 10:
        c = int(c)
        u = uniforms(key, ids, "interest", (2 * c - 1) * k).reshape(2 * c - 1, k, -1)
        return np.partition(u, c - 1, axis=0)[c - 1].T
    return betaincinv(c, c, uniforms(key, ids, "interest", k)).T


def draw_students(
    spec: PopulationSpec,
    curriculum: Curriculum,
    student_ids: np.ndarray,
    *,
    seed: int | np.random.Generator | np.random.SeedSequence,
    class_size: int = 25,
    classes_per_school: int = 4,
) -> Cohort:
    """Draw the students with global indices ``student_ids`` (any set, e.g. one arm's chunk).

    Every trait of student ``i`` is a function of the seed and ``i`` alone (per-student Philox
    streams, :mod:`edstudy.sim._random`): its school and class effects are keyed by the school
    and class index, its own traits by ``i``, one purpose per trait. So a student is the same
    whichever other students are drawn with it. Distributions: normals by the inverse normal CDF
    (``scipy.special.ndtri``), Bernoulli and categorical traits by comparing uniforms with the
    (cumulative) probabilities, interests Beta(c, c) by an exact order statistic (whole ``c`` up
    to 10) or the inverse CDF (``scipy.special.betaincinv``).

    Parameters
    ----------
    spec : PopulationSpec
    curriculum : Curriculum
    student_ids : int array (n,)
        Distinct global indices >= 0; they become ``student_id``.
    seed : int, SeedSequence or Generator
    class_size, classes_per_school : int

    Returns
    -------
    Cohort
    """
    if class_size < 1 or classes_per_school < 1:
        raise ValueError("class_size and classes_per_school must be >= 1")
    ids = np.asarray(student_ids, dtype=np.int64).reshape(-1)
    if ids.size < 1:
        raise ValueError("a cohort needs at least one student")
    if ids.min() < 0:
        raise ValueError("student ids (global indices) must be >= 0")
    key = stream_key(seed)
    n = ids.size
    media = curriculum.media
    m = len(media)
    bkt = curriculum.bkt_arrays()
    k = len(curriculum.skills)

    class_id = ids // class_size
    school_id = class_id // classes_per_school
    schools, school_at = np.unique(school_id, return_inverse=True)
    classes, class_at = np.unique(class_id, return_inverse=True)
    z_school = _normals(key, schools, "school_effect", 1)[:, 0][school_at]
    z_class = _normals(key, classes, "class_effect", 1)[:, 0][class_at]
    z_student = _normals(key, ids, "student_effect", 1)[:, 0]
    ability = (
        np.sqrt(spec.icc_school) * z_school
        + np.sqrt(spec.icc_class) * z_class
        + np.sqrt(1.0 - spec.icc_school - spec.icc_class) * z_student
    )

    g = spec.prior_general
    dev = np.sqrt(g) * ability[:, None] + np.sqrt(1 - g) * _normals(key, ids, "prior_deviation", k)
    p_known0 = _expit(_logit(bkt["prior"])[None, :] + spec.prior_sd * dev)
    known0 = uniforms(key, ids, "known0", k).T < p_known0

    r = spec.speed_ability_corr
    z_speed = _normals(key, ids, "speed", 1)[:, 0]
    log_speed = spec.learning_speed_sd * (r * ability + np.sqrt(1 - r * r) * z_speed)
    learning_speed = np.exp(log_speed)

    if spec.guess_sd == 0:
        guess = np.broadcast_to(bkt["guess"], (n, k)).copy()
    else:
        z = _normals(key, ids, "guess", k)
        guess = np.clip(_expit(_logit(bkt["guess"])[None, :] + spec.guess_sd * z), 1e-3, 0.5)
    if spec.slip_sd == 0:
        slip = np.broadcast_to(bkt["slip"], (n, k)).copy()
    else:
        z = _normals(key, ids, "slip", k)
        slip = np.clip(_expit(_logit(bkt["slip"])[None, :] + spec.slip_sd * z), 1e-3, 0.5)

    cum = np.cumsum(spec.shares_for(media))
    u_stated = uniforms(key, ids, "stated_preference", 1)[0] * cum[-1]
    stated = np.minimum(np.searchsorted(cum, u_stated, side="right"), m - 1).astype(np.int64)
    valid = uniforms(key, ids, "preference_valid", 1)[0] < spec.preference_validity
    if m > 1:
        step = 1 + (uniforms(key, ids, "other_medium", 1)[0] * (m - 1)).astype(np.int64)
        other = (stated + step) % m
    else:
        other = stated
    true_best = np.where(valid, stated, other).astype(np.int64)

    interest = _beta_symmetric(key, ids, spec.interest_concentration, k)
    u_goal = uniforms(key, ids, "goal", 1)[0]
    goal = spec.goal_low + (spec.goal_high - spec.goal_low) * u_goal
    z_eng = _normals(key, ids, "engagement", 1)[:, 0]
    engagement0 = np.clip(spec.engagement_mean + spec.engagement_sd * z_eng, 0.05, 0.95)
    time_multiplier = np.exp(spec.time_sd * _normals(key, ids, "time_multiplier", 1)[:, 0])

    return Cohort(
        student_id=ids,
        class_id=class_id,
        school_id=school_id,
        ability=ability,
        known0=known0,
        p_known0=p_known0,
        learning_speed=learning_speed,
        guess=guess,
        slip=slip,
        stated_preference=stated,
        true_best_medium=true_best,
        interest=interest,
        goal=goal,
        engagement0=engagement0,
        time_multiplier=time_multiplier,
        media=media,
        spec=spec,
    )
