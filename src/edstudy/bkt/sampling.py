"""Draw response logs from BKT parameters (vectorized over students and skills).

Every student practices every skill ``n_opportunities`` times, skills interleaved round-robin
(``order = opportunity * n_skills + skill position``). For KT-IDEM models each row's item is
drawn uniformly from the skill's items, for ``activity_learn`` models each row's activity from
the skill's activities (the activity of a row drives the learning transition that follows it).
Individualized models draw new students with logit effects ~ Normal(0, student_effect_sd^2),
unless ``student_prior`` / ``student_learn`` effects are given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from edstudy.bkt.params import BKTParams, SkillParams

__all__ = ["sample_log", "synthetic_log"]


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logit(p):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def _check_count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _effects(name, given, n_students, has, sd, rng):
    if given is not None:
        arr = np.asarray(given, dtype=float).reshape(-1)
        if arr.shape[0] != n_students or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be {n_students} finite logit effects")
        return arr
    if not has:
        return None
    return rng.normal(0.0, sd, n_students)


def sample_log(
    params: BKTParams,
    n_students: int,
    n_opportunities: int,
    *,
    seed: int | np.random.Generator | None = None,
    return_state: bool = False,
    student_prior: np.ndarray | None = None,
    student_learn: np.ndarray | None = None,
) -> pd.DataFrame:
    """Simulate a response log from BKT parameters.

    Parameters
    ----------
    params : BKTParams
    n_students, n_opportunities : int
        Students (ids ``0 .. n_students-1``) and opportunities per skill and student.
    seed : int, Generator or None
        Randomness; the same seed gives the same log.
    return_state : bool
        Add ``mastered`` (0/1): the hidden state when the answer was given.
    student_prior, student_learn : arrays (n_students,), optional
        Logit effects of the simulated students (default: drawn when the model has them).

    Returns
    -------
    DataFrame
        ``student_id, skill_id, order, correct`` (Int8), plus ``item_id`` / ``activity`` for
        item / activity models, sorted by student and order.
    """
    n_students = _check_count("n_students", n_students)
    n_opportunities = _check_count("n_opportunities", n_opportunities)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_sk = params.n_skills
    sd = params.student_effect_sd or 1.0
    c = _effects(
        "student_prior", student_prior, n_students, params.student_prior is not None, sd, rng
    )
    b = _effects(
        "student_learn", student_learn, n_students, params.student_learn is not None, sd, rng
    )

    def class_ranges(skill_of):
        start = np.searchsorted(skill_of, np.arange(n_sk), side="left")
        stop = np.searchsorted(skill_of, np.arange(n_sk), side="right")
        return start, stop - start

    gs_start, gs_n = class_ranges(np.asarray(params.gs_skill))
    tr_start, tr_n = class_ranges(np.asarray(params.tr_skill))
    guess, slip = np.asarray(params.guess), np.asarray(params.slip)
    learn, forget = np.asarray(params.learn), np.asarray(params.forget)
    learn_logit = _logit(learn)

    shape = (n_students, n_sk)
    p0 = np.broadcast_to(np.asarray(params.prior), shape)
    if c is not None:
        p0 = _sigmoid(_logit(p0) + c[:, None])
    state = rng.random(shape) < p0
    J = n_opportunities
    correct = np.empty((J, *shape), dtype=np.int8)
    mastered = np.empty((J, *shape), dtype=np.int8) if return_state else None
    gs_cls = np.empty((J, *shape), dtype=np.int64)
    tr_cls = np.empty((J, *shape), dtype=np.int64)
    for j in range(J):
        g = gs_start + np.floor(rng.random(shape) * gs_n).astype(np.int64)
        t = tr_start + np.floor(rng.random(shape) * tr_n).astype(np.int64)
        p_correct = np.where(state, 1.0 - slip[g], guess[g])
        correct[j] = rng.random(shape) < p_correct
        if mastered is not None:
            mastered[j] = state
        gs_cls[j] = g
        tr_cls[j] = t
        lr = learn[t] if b is None else _sigmoid(learn_logit[t] + b[:, None])
        u = rng.random(shape)
        state = np.where(state, u >= forget[t], u < lr)

    def flat(a):  # (J, S, K) -> rows sorted by student, then order = j * K + k
        return np.ascontiguousarray(a.transpose(1, 0, 2)).reshape(-1)

    n_rows = n_students * J * n_sk
    skills = np.array(params.skills, dtype=object)
    out = {
        "student_id": np.repeat(np.arange(n_students), J * n_sk),
        "skill_id": pd.Series(np.tile(skills, n_students * J).tolist()),
        "order": np.tile(np.arange(J * n_sk), n_students),
        "correct": pd.array(flat(correct), dtype="Int8"),
    }
    if params.item_guess_slip:
        labels = np.array(params.gs_label, dtype=object)
        out["item_id"] = pd.Series(labels[flat(gs_cls)].tolist())
    if params.activity_learn:
        labels = np.array(params.tr_label, dtype=object)
        out["activity"] = pd.Series(labels[flat(tr_cls)].tolist()).astype(str)
    if mastered is not None:
        out["mastered"] = flat(mastered)
    df = pd.DataFrame(out)
    assert len(df) == n_rows
    return df


def synthetic_log(
    n_students: int = 200,
    n_opportunities: int = 8,
    *,
    seed: int = 0,
    unscored_share: float = 0.05,
    drop_share: float = 0.15,
) -> pd.DataFrame:
    """A response log with awkward but valid ids, to exercise the pipeline without real data.

    Students are a mix of text ids with spaces and negative integers; skills are ``"skill one"``,
    ``-7`` and ``"fractions / decimals"``; every student's ``order`` has gaps (rows dropped at
    random, orders spread out); a few unscored rows (``correct`` missing) are added; rows are
    shuffled. The answers follow individualized BKT with known parameters (``attrs["truth"]``).
    """
    rng = np.random.default_rng(seed)
    truth = {
        "skill one": SkillParams(prior=0.35, learn=0.2, guess=0.2, slip=0.1),
        -7: SkillParams(prior=0.2, learn=0.12, guess=0.25, slip=0.12),
        "fractions / decimals": SkillParams(prior=0.5, learn=0.25, guess=0.15, slip=0.08),
    }
    params = BKTParams.from_skills(truth)
    eff_p = rng.normal(0, 0.7, n_students)
    eff_l = rng.normal(0, 0.5, n_students)
    log = sample_log(
        params, n_students, n_opportunities, seed=rng, student_prior=eff_p, student_learn=eff_l
    )
    names = np.array(
        [f"student {i} of class {i % 7}" if i % 2 else -(i + 1) for i in range(n_students)],
        dtype=object,
    )
    log["student_id"] = names[log["student_id"].to_numpy()]
    log["skill_id"] = log["skill_id"].astype(object)
    log["order"] = log["order"].to_numpy() * 3 + rng.integers(0, 3, len(log))
    log = log[rng.random(len(log)) >= drop_share]
    n_extra = int(unscored_share * len(log))
    extra = log.sample(n_extra, random_state=int(rng.integers(2**31))).copy()
    extra["order"] = extra["order"] + 1_000_000
    extra["correct"] = pd.array([pd.NA] * n_extra, dtype="Int8")
    log = pd.concat([log, extra]).sample(frac=1.0, random_state=int(rng.integers(2**31)))
    log = log.reset_index(drop=True)
    log.attrs["truth"] = {str(k): v for k, v in truth.items()}
    return log
