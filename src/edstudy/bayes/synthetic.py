"""Small numpy generators with known truth, for recovery tests, calibration and benchmarks.

They follow the Bayesian models' own generative assumptions exactly (the full cohort simulator is
:mod:`edstudy.sim`); each takes ``seed`` and returns the table(s) plus the true parameters.
No PyMC is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from edstudy.bayes.priors import HBKTPriors

__all__ = [
    "HBKTTruth",
    "MEDIA",
    "draw_hbkt_truth",
    "simulate_hbkt",
    "simulate_choices",
    "simulate_meshing",
]

MEDIA: tuple[str, ...] = ("video", "audio", "hands_on", "text")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class HBKTTruth:
    """True parameters of a hierarchical BKT cohort.

    Attributes
    ----------
    mu_prior, mu_learn : arrays, shape (n_skills,)
        Skill-level logit P(initially mastered) and logit P(learn) of the median student.
    sigma_prior, sigma_learn : float
        SD of the student random effects (logit scale).
    z_prior, z_learn : arrays, shape (n_students,)
        Standardized student effects (the effect is ``sigma * z``).
    guess, slip : arrays, shape (n_skills,)
    """

    mu_prior: np.ndarray
    mu_learn: np.ndarray
    sigma_prior: float
    sigma_learn: float
    z_prior: np.ndarray
    z_learn: np.ndarray
    guess: np.ndarray
    slip: np.ndarray

    def population(self) -> dict[str, np.ndarray | float]:
        """The population-level parameters, keyed by their names in the PyMC model."""
        return {
            "mu_prior": self.mu_prior,
            "mu_learn": self.mu_learn,
            "sigma_prior": self.sigma_prior,
            "sigma_learn": self.sigma_learn,
            "guess": self.guess,
            "slip": self.slip,
        }


def draw_hbkt_truth(
    *, n_students: int, n_skills: int, priors: object | None = None, seed: int | np.random.Generator
) -> HBKTTruth:
    """Draw hierarchical BKT parameters from the model's prior (for simulation-based calibration).

    Parameters
    ----------
    n_students, n_skills : int
    priors : HBKTPriors, optional
        Defaults to :class:`edstudy.bayes.hbkt.HBKTPriors` ``()``.
    seed : int or Generator
    """
    p = priors if priors is not None else HBKTPriors()
    assert isinstance(p, HBKTPriors)
    rng = np.random.default_rng(seed)
    return HBKTTruth(
        mu_prior=rng.normal(p.prior_logit_mean, p.prior_logit_sd, n_skills),
        mu_learn=rng.normal(p.learn_logit_mean, p.learn_logit_sd, n_skills),
        sigma_prior=float(abs(rng.normal(0.0, p.student_sd_scale))),
        sigma_learn=float(abs(rng.normal(0.0, p.student_sd_scale))),
        z_prior=rng.normal(size=n_students),
        z_learn=rng.normal(size=n_students),
        guess=p.guess_max * rng.beta(*p.guess_beta, size=n_skills),
        slip=p.slip_max * rng.beta(*p.slip_beta, size=n_skills),
    )


def simulate_hbkt(
    *,
    n_students: int,
    n_skills: int,
    n_opportunities: int,
    truth: HBKTTruth | None = None,
    mu_prior: Sequence[float] | float = -1.0,
    mu_learn: Sequence[float] | float = -1.5,
    sigma_prior: float = 0.8,
    sigma_learn: float = 0.6,
    guess: Sequence[float] | float = 0.2,
    slip: Sequence[float] | float = 0.1,
    seed: int | np.random.Generator,
) -> tuple[pd.DataFrame, HBKTTruth]:
    """Simulate a response log from the hierarchical BKT model (no forgetting).

    Student ``i`` on skill ``k``: ``P(L0) = sigmoid(mu_prior[k] + sigma_prior z_prior[i])``,
    ``P(T) = sigmoid(mu_learn[k] + sigma_learn z_learn[i])``; each opportunity emits a correct
    answer with ``1 - slip[k]`` when mastered and ``guess[k]`` otherwise, then an unmastered
    student learns with ``P(T)``.

    Parameters
    ----------
    n_students, n_skills, n_opportunities : int
        Every student practices every skill ``n_opportunities`` times.
    truth : HBKTTruth, optional
        Use these parameters (e.g. from :func:`draw_hbkt_truth`) instead of the keyword values.
    mu_prior, mu_learn, guess, slip : float or sequence of length n_skills
    sigma_prior, sigma_learn : float
    seed : int or Generator

    Returns
    -------
    log : DataFrame, shape (n_students * n_skills * n_opportunities, 4)
        ``student_id`` (``s000``...), ``skill_id`` (``k0``...), ``order``, ``correct``.
    truth : HBKTTruth
    """
    rng = np.random.default_rng(seed)
    if truth is None:
        truth = HBKTTruth(
            mu_prior=np.broadcast_to(np.asarray(mu_prior, float), (n_skills,)).copy(),
            mu_learn=np.broadcast_to(np.asarray(mu_learn, float), (n_skills,)).copy(),
            sigma_prior=float(sigma_prior),
            sigma_learn=float(sigma_learn),
            z_prior=rng.normal(size=n_students),
            z_learn=rng.normal(size=n_students),
            guess=np.broadcast_to(np.asarray(guess, float), (n_skills,)).copy(),
            slip=np.broadcast_to(np.asarray(slip, float), (n_skills,)).copy(),
        )
    if truth.z_prior.shape != (n_students,) or truth.mu_prior.shape != (n_skills,):
        raise ValueError("truth does not match n_students / n_skills")
    l0 = _sigmoid(truth.mu_prior[None, :] + truth.sigma_prior * truth.z_prior[:, None])
    learn = _sigmoid(truth.mu_learn[None, :] + truth.sigma_learn * truth.z_learn[:, None])
    mastered = rng.random((n_students, n_skills)) < l0
    correct = np.empty((n_students, n_skills, n_opportunities), dtype=np.int8)
    for t in range(n_opportunities):
        p = np.where(mastered, 1.0 - truth.slip[None, :], truth.guess[None, :])
        correct[:, :, t] = rng.random((n_students, n_skills)) < p
        mastered = mastered | (rng.random((n_students, n_skills)) < learn)
    width = len(str(max(n_students - 1, 1)))
    students = np.array([f"s{i:0{width}d}" for i in range(n_students)])
    skills = np.array([f"k{k}" for k in range(n_skills)])
    ii, kk, tt = np.meshgrid(
        np.arange(n_students), np.arange(n_skills), np.arange(n_opportunities), indexing="ij"
    )
    log = pd.DataFrame(
        {
            "student_id": students[ii.ravel()],
            "skill_id": skills[kk.ravel()],
            "order": (kk * n_opportunities + tt).ravel().astype(np.int64),
            "correct": correct.ravel(),
        }
    )
    return log, truth


def simulate_choices(
    *,
    n_classes: int,
    students_per_class: int,
    choices_per_student: int,
    media: Sequence[str] = MEDIA,
    baseline: Sequence[float] | None = None,
    stated_effect: float = 1.0,
    sigma_class: float = 0.3,
    sigma_student: float = 0.5,
    seed: int | np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, object]]:
    """Simulate media choices and a preference survey (multinomial logit with class pooling).

    The survey answer (stated preference) is drawn uniformly; each student's utilities are
    ``baseline[m] + class_effect[c, m] + student_effect[i, m] + stated_effect [stated_i == m]``
    (effects zero-sum over media) and choices are drawn by softmax. This is the generative model
    of :func:`edstudy.bayes.fit_preferences`, so ``stated_effect`` is the coefficient it should
    recover: how much the survey answer predicts choices beyond class and population.

    Returns
    -------
    log : DataFrame
        One row per choice: ``student_id, skill_id, order, correct (<NA>), activity, chosen
        (True), class_id``.
    outcomes : DataFrame
        One row per student: ``student_id, class_id, stated_preference``.
    truth : dict
        ``baseline`` (n_media,), ``stated_effect``, ``sigma_class``, ``sigma_student``,
        ``class_effect`` (n_classes, n_media), ``student_effect`` (n_students, n_media),
        ``choice_prob`` (n_students, n_media).
    """
    rng = np.random.default_rng(seed)
    media = list(media)
    m = len(media)
    base = np.zeros(m) if baseline is None else np.asarray(baseline, float)
    base = base - base.mean()
    n = n_classes * students_per_class
    klass = np.repeat(np.arange(n_classes), students_per_class)

    def zero_sum(shape: tuple[int, int], sd: float) -> np.ndarray:
        # as pymc.ZeroSumNormal(sigma=sd): normal draws minus their mean over media
        x = rng.normal(0.0, sd, shape)
        return x - x.mean(axis=1, keepdims=True)

    class_eff = zero_sum((n_classes, m), sigma_class)
    student_eff = zero_sum((n, m), sigma_student)
    util = base[None, :] + class_eff[klass] + student_eff
    stated = rng.integers(0, m, n)
    util_choice = util + stated_effect * (np.arange(m)[None, :] == stated[:, None])
    prob = np.exp(util_choice - util_choice.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    picks = np.stack([rng.choice(m, size=choices_per_student, p=prob[i]) for i in range(n)])
    width = len(str(max(n - 1, 1)))
    sid = np.array([f"s{i:0{width}d}" for i in range(n)])
    cid = np.array([f"c{c}" for c in range(n_classes)])
    log = pd.DataFrame(
        {
            "student_id": np.repeat(sid, choices_per_student),
            "skill_id": "k0",
            "order": np.tile(np.arange(choices_per_student), n).astype(np.int64),
            "correct": pd.array([pd.NA] * (n * choices_per_student), dtype="Int8"),
            "activity": np.asarray(media)[picks.ravel()],
            "chosen": True,
            "class_id": np.repeat(cid[klass], choices_per_student),
        }
    )
    outcomes = pd.DataFrame(
        {"student_id": sid, "class_id": cid[klass], "stated_preference": np.asarray(media)[stated]}
    )
    truth = {
        "baseline": base,
        "stated_effect": float(stated_effect),
        "sigma_class": float(sigma_class),
        "sigma_student": float(sigma_student),
        "class_effect": class_eff,
        "student_effect": student_eff,
        "choice_prob": prob,
    }
    return log, outcomes, truth


def simulate_meshing(
    *,
    n_students: int,
    activities_per_student: int = 12,
    media: Sequence[str] = MEDIA,
    match_effect: float = 0.0,
    medium_effects: Sequence[float] | None = None,
    pretest_slope: float = -0.3,
    noise_sd: float = 0.08,
    n_classes: int = 5,
    class_sd: float = 0.02,
    seed: int | np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, object]]:
    """Simulate a meshing study: learning gain depends on the share of instruction in the preferred
    medium.

    Each student states a preferred medium and is randomized to a mix of media: half of the
    students get all activities in one randomly drawn medium (the classic crossover), the others a
    random mix. The gain is ``0.15 + medium_effects . share + match_effect * share[preferred]
    + pretest_slope * (pretest - 0.4) + class effect + noise``.

    Returns
    -------
    log : DataFrame
        ``student_id, skill_id, order, correct (<NA>), activity, class_id``.
    outcomes : DataFrame
        ``student_id, class_id, pretest, posttest, stated_preference``; ``posttest`` is
        ``pretest + gain`` clipped to [0, 1] (the default settings rarely reach the bounds).
    truth : dict
        ``match_effect``, ``medium_effects``, ``share`` (n_students, n_media), ``gain``.
    """
    rng = np.random.default_rng(seed)
    media = list(media)
    m = len(media)
    eff = np.zeros(m) if medium_effects is None else np.asarray(medium_effects, float)
    pref = rng.integers(0, m, n_students)
    single = rng.random(n_students) < 0.5
    act = np.where(
        single[:, None],
        rng.integers(0, m, n_students)[:, None].repeat(activities_per_student, axis=1),
        rng.integers(0, m, (n_students, activities_per_student)),
    )
    share = np.stack([(act == j).mean(axis=1) for j in range(m)], axis=1)
    klass = rng.integers(0, n_classes, n_students)
    class_eff = rng.normal(0.0, class_sd, n_classes)
    pretest = np.clip(rng.normal(0.4, 0.12, n_students), 0.02, 0.9)
    gain = (
        0.15
        + share @ eff
        + match_effect * share[np.arange(n_students), pref]
        + pretest_slope * (pretest - 0.4)
        + class_eff[klass]
        + rng.normal(0.0, noise_sd, n_students)
    )
    posttest = np.clip(pretest + gain, 0.0, 1.0)
    width = len(str(max(n_students - 1, 1)))
    sid = np.array([f"s{i:0{width}d}" for i in range(n_students)])
    cid = np.array([f"c{c}" for c in range(n_classes)])
    log = pd.DataFrame(
        {
            "student_id": np.repeat(sid, activities_per_student),
            "skill_id": "k0",
            "order": np.tile(np.arange(activities_per_student), n_students).astype(np.int64),
            "correct": pd.array([pd.NA] * (n_students * activities_per_student), dtype="Int8"),
            "activity": np.asarray(media)[act.ravel()],
            "class_id": np.repeat(cid[klass], activities_per_student),
        }
    )
    outcomes = pd.DataFrame(
        {
            "student_id": sid,
            "class_id": cid[klass],
            "pretest": pretest,
            "posttest": posttest,
            "stated_preference": np.asarray(media)[pref],
        }
    )
    truth = {
        "match_effect": float(match_effect),
        "medium_effects": eff,
        "share": share,
        "gain": gain,
    }
    return log, outcomes, truth
