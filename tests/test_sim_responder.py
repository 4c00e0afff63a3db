"""The engine's responder hook (edstudy.sim.responder): another student model answers.

Checked against computations that do not go through the engine's answer code: each row's answer
from the student's own Philox uniform and the responder's probability, over- and under-practice
and the ground-truth columns from the responder's mastery, a responder that re-implements BKT
giving the engine's own BKT tables exactly, chunks giving the same rows. Fast (seconds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edstudy.sim import (
    Budget,
    PopulationSpec,
    builtin_strategy,
    default_curriculum,
    draw_cohort,
    simulate,
)
from edstudy.sim._random import stream_key, uniforms
from edstudy.sim.from_model import StudentModel, cohort_from_model, curriculum_from_model
from edstudy.sim.responder import Responder

MODEL = StudentModel(
    name="m",
    skills=("a", "b", "c"),
    prior=[0.3, 0.2, 0.5],
    learn=[0.2, 0.1, 0.3],
    guess=[0.2, 0.25, 0.15],
    slip=[0.1, 0.12, 0.08],
    forget=[0.0, 0.0, 0.0],
)
CUR = curriculum_from_model(MODEL)
LONG = Budget(minutes=100_000)


class FixedResponder:
    """P(correct) fixed per (student, skill); a skill counts as mastered after ``need`` correct
    answers on it (students with ``head_start`` start with them on skill 0)."""

    def __init__(self, p: np.ndarray, need: int = 2, head_start=None) -> None:
        self.p = np.asarray(p, dtype=float)
        self.need = need
        self.wins = np.zeros(self.p.shape, dtype=np.int64)
        if head_start is not None:
            self.wins[head_start, 0] = need
        self.calls: list[tuple] = []

    def skill_state(self):
        return self.p.copy(), self.wins >= self.need

    def p_correct(self, students, skills, times):
        return self.p[students, skills], self.wins[students, skills] >= self.need

    def observe(self, students, skills, correct, times, u):
        self.calls.append((students.copy(), skills.copy(), correct.copy(), times.copy(), u.copy()))
        self.wins[students, skills] += correct.astype(np.int64)


def _p_table(n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.uniform(0.05, 0.95, size=(n, len(CUR.skills)))


def test_a_responder_satisfies_the_protocol():
    assert isinstance(FixedResponder(np.full((2, 3), 0.5)), Responder)


def test_answers_come_from_the_responder_and_the_students_own_uniforms():
    n, seed = 300, 4
    cohort = cohort_from_model(MODEL, CUR, n, seed=1)
    p = _p_table(n)
    r = FixedResponder(p)
    log, out = simulate(
        cohort, CUR, builtin_strategy("one_size", practice_count=5), seed=seed, budget=LONG,
        responder=r,
    )  # fmt: skip
    assert len(log) == n * 3 * 5
    # every answer is u < p with u the student's own "practice" uniform at that opportunity
    st = log["student_id"].to_numpy(dtype=np.int64)
    k = log["skill_id"].cat.codes.to_numpy()
    u = uniforms(stream_key(seed), st, "practice", 5, counters=log["order"].to_numpy())
    np.testing.assert_array_equal(log["correct"].to_numpy(dtype=int), (u[0] < p[st, k]).astype(int))
    # the frequencies follow the probabilities
    freq = log.assign(p=p[st, k]).groupby(pd.cut(p[st, k], [0, 0.3, 0.6, 1.0]), observed=True)
    means = freq.agg(y=("correct", "mean"), p=("p", "mean"))
    np.testing.assert_allclose(means["y"], means["p"], atol=0.03)
    # observe got every row once, with the kernel's learning uniform and the time used before
    assert sum(c[0].size for c in r.calls) == len(log)
    seen = pd.DataFrame(
        {
            "student_id": np.concatenate([c[0] for c in r.calls]),
            "skill": np.concatenate([c[1] for c in r.calls]),
            "correct": np.concatenate([c[2] for c in r.calls]).astype(int),
            "time": np.concatenate([c[3] for c in r.calls]),
            "u": np.concatenate([c[4] for c in r.calls]),
        }
    )
    seen["order"] = seen.groupby("student_id").cumcount()
    seen = seen.sort_values(["student_id", "order"]).reset_index(drop=True)
    np.testing.assert_array_equal(seen["skill"], k)
    np.testing.assert_array_equal(seen["correct"], log["correct"].to_numpy(dtype=int))
    np.testing.assert_array_equal(seen["u"], u[1])
    before = log.groupby("student_id")["duration_s"].cumsum() - log["duration_s"]
    np.testing.assert_allclose(seen["time"], before.to_numpy(), rtol=1e-12, atol=1e-9)


def test_ground_truth_columns_follow_the_responders_mastery():
    n, seed, need, count = 200, 2, 2, 4
    cohort = cohort_from_model(MODEL, CUR, n, seed=3)
    p = _p_table(n)
    head = np.arange(0, n, 5)
    log, out = simulate(
        cohort, CUR, builtin_strategy("one_size", practice_count=count), seed=seed,
        budget=LONG, responder=FixedResponder(p, need, head_start=head),
    )  # fmt: skip
    # independent bookkeeping from the log: wins before each row on its (student, skill)
    y = log["correct"].to_numpy(dtype=int)
    g = log.assign(y=y).groupby(["student_id", "skill_id"], observed=True)["y"]
    wins_before = (g.cumsum() - y).to_numpy()
    start = np.zeros(len(log), dtype=int)
    is_head = np.isin(log["student_id"], head) & (log["skill_id"].cat.codes.to_numpy() == 0)
    start[is_head] = need
    known_before = wins_before + start >= need
    over = pd.Series(known_before, index=log["student_id"]).groupby(level=0).sum()
    o = out.set_index("student_id")
    np.testing.assert_array_equal(o.loc[over.index, "over_practice"], over.to_numpy())
    wins = log.assign(y=y).pivot_table(
        index="student_id", columns="skill_id", values="y", aggfunc="sum", observed=True
    )
    wins = wins.to_numpy() + np.where(
        np.isin(wins.index, head)[:, None] & (np.arange(3) == 0), need, 0
    )
    mastered = (wins >= need).sum(axis=1)
    np.testing.assert_array_equal(o["mastered_true"].to_numpy(), mastered)
    # one_size leaves every skill after `count` opportunities: under = skills not mastered then
    np.testing.assert_array_equal(o["under_practice"].to_numpy(), 3 - mastered)
    np.testing.assert_array_equal(o["true_prior_mastered"].to_numpy(), np.isin(o.index, head))
    np.testing.assert_allclose(o["true_expected_posttest"].to_numpy(), p.mean(axis=1))
    # the pre- and post-test answers are the students' own uniforms against the responder's p
    key, ids = stream_key(seed), o.index.to_numpy(dtype=np.int64)
    for col, purpose, items in (
        ("pretest", "pretest", CUR.pretest_items),
        ("posttest", "posttest", CUR.posttest_items),
    ):
        u = uniforms(key, ids, purpose, 3 * items).reshape(3, items, -1)
        right = (u < p.T[:, None, :]).sum(axis=(0, 1)) / (3 * items)
        np.testing.assert_allclose(o[col].to_numpy(), right)


class BKTResponder:
    """The engine's own BKT students re-implemented as a responder (no meshing, speed 1,
    remediation teaching like practice, no prerequisites: the curricula from fitted models)."""

    def __init__(self, cohort, curriculum) -> None:
        self.known = cohort.known0.copy()
        self.guess, self.slip = cohort.guess, cohort.slip
        learn = curriculum.bkt_arrays()["learn"] if cohort.learn is None else cohort.learn
        self.learn = np.broadcast_to(learn, self.known.shape)
        self.forget = np.zeros(self.known.shape) if cohort.forget is None else cohort.forget

    def skill_state(self):
        return np.where(self.known, 1.0 - self.slip, self.guess), self.known.copy()

    def p_correct(self, s, k, times):
        kn = self.known[s, k]
        return np.where(kn, 1.0 - self.slip[s, k], self.guess[s, k]), kn

    def observe(self, s, k, correct, times, u):
        kn = self.known[s, k]
        self.known[s, k] = np.where(kn, u >= self.forget[s, k], u < self.learn[s, k])


def test_a_bkt_responder_matches_the_engines_own_bkt_in_distribution():
    """Not row for row: the engine's BKT answers a known skill with ``u >= slip``, a responder
    with ``u < 1 - slip`` (the same probability, other uniforms). Every ground-truth mean
    agrees within sampling error."""
    model = StudentModel(
        name="f", skills=("a", "b", "c"), prior=[0.3, 0.2, 0.5], learn=[0.2, 0.1, 0.3],
        guess=[0.2, 0.25, 0.15], slip=[0.1, 0.12, 0.08], forget=[0.02, 0.05, 0.0],
    )  # fmt: skip
    cur = curriculum_from_model(model)
    cohort = cohort_from_model(model, cur, 4000, seed=6)
    strategy = builtin_strategy("individualized")
    a = simulate(cohort, cur, strategy, seed=8, budget=Budget(minutes=150))
    b = simulate(
        cohort, cur, strategy, seed=8, budget=Budget(minutes=150),
        responder=BKTResponder(cohort, cur),
    )  # fmt: skip
    assert not a.log["correct"].equals(b.log["correct"])
    cols = ["opportunities", "mastered_true", "over_practice", "under_practice", "posttest",
            "pretest", "true_expected_posttest", "true_prior_mastered"]  # fmt: skip
    for col in cols:
        x, y = a.outcomes[col].astype(float), b.outcomes[col].astype(float)
        se = np.sqrt(x.var() / len(x) + y.var() / len(y))
        assert abs(x.mean() - y.mean()) < 4 * se + 1e-12, col
    assert abs(a.log["correct"].mean() - b.log["correct"].mean()) < 0.01


def test_without_a_responder_the_bkt_path_is_unchanged():
    """Numbers pinned from the engine before the responder hook existed."""
    cur = default_curriculum()
    c = draw_cohort(PopulationSpec(meshing_effect=0.5, dropout_per_hour=0.3), cur, 60, seed=11)
    pinned = {
        "individualized": (1542, 796, 707, 16, 391, 38.8, 380143.592, 39),
        "adaptive": (1542, 806, 719, 16, 393, 38.975, 378925.692, 39),
    }
    for name, want in pinned.items():
        log, o = simulate(c, cur, builtin_strategy(name), seed=3)
        got = (
            len(log),
            int(log["correct"].sum()),
            int(o["over_practice"].sum()),
            int(o["under_practice"].sum()),
            int(o["mastered_true"].sum()),
            round(float(o["posttest"].sum()), 9),
            round(float(log["duration_s"].sum()), 3),
            int(o["dropped_out"].sum()),
        )
        assert got[:6] == want[:6] and got[7] == want[7], name
        assert got[6] == pytest.approx(want[6], abs=1e-2), name


def test_with_a_responder_chunks_give_the_same_rows():
    n = 120
    cohort = cohort_from_model(MODEL, CUR, n, seed=9)
    p = _p_table(n)
    strategy = builtin_strategy("individualized")
    whole = simulate(cohort, CUR, strategy, seed=1, responder=FixedResponder(p))
    parts = [
        simulate(cohort.subset(idx), CUR, strategy, seed=1, responder=FixedResponder(p[idx]))
        for idx in (np.arange(0, 45), np.arange(45, n))
    ]
    log = pd.concat([x.log for x in parts], ignore_index=True)
    out = pd.concat([x.outcomes for x in parts], ignore_index=True)
    pd.testing.assert_frame_equal(whole.log, log)
    pd.testing.assert_frame_equal(whole.outcomes, out)


def test_a_malformed_responder_is_refused():
    cohort = cohort_from_model(MODEL, CUR, 10, seed=9)

    class Bad(FixedResponder):
        def p_correct(self, students, skills, times):
            return np.full(students.size, 1.5), np.zeros(students.size, dtype=bool)

    with pytest.raises(ValueError, match="outside"):
        simulate(
            cohort, CUR, builtin_strategy("one_size"), seed=1, responder=Bad(np.full((10, 3), 0.5))
        )
    with pytest.raises(ValueError, match="students x skills"):
        simulate(
            cohort, CUR, builtin_strategy("one_size"), seed=1,
            responder=FixedResponder(np.full((9, 3), 0.5)),
        )  # fmt: skip
