"""The engine and its numba kernel against a plain per-student reference (``sim_reference.py``).

The reference runs one student at a time with Python scalars, from the documented model, and
draws the same random numbers (the student's own Philox streams, by purpose and counter). So the
response log must agree row for row: every column exactly, ``duration_s`` to 1e-12 relative (an
``exp``/``log``/``cos`` of numba's libm against Python's ``math``; any modelling difference moves a
duration by far more, or changes a later answer). Same for every outcome column (floats to
1e-12). Cohorts are small (a few dozen students) so that the file runs in seconds; the strategies
and parameters are chosen so that every branch of the kernel and of the engine's rule loop is
taken (the asserts at the end of each case say which were).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sim_reference import reference_simulate

from edstudy.sim import (
    Budget,
    Curriculum,
    PopulationSpec,
    Skill,
    builtin_strategy,
    default_curriculum,
    draw_cohort,
    simulate,
)
from edstudy.sim.curriculum import Activity
from edstudy.sim.strategies import strategy_from_dict

CUR = default_curriculum()
STRATEGIES = ("one_size", "differentiated", "individualized", "personalized", "blended", "adaptive")
NAMES = ("skill_id", "item_id", "activity")


def assert_same(cohort, curriculum, strategy, *, seed, budget=None, responders=None):
    """Simulate with the engine and the reference; compare log and outcomes; return both."""
    kw = {} if responders is None else {"responder": responders()}
    log, out = simulate(cohort, curriculum, strategy, seed=seed, budget=budget, **kw)
    kw = {} if responders is None else {"responder": responders()}
    rows, outs = reference_simulate(cohort, curriculum, strategy, seed=seed, budget=budget, **kw)
    ref = pd.DataFrame(rows, columns=[c for c in log.columns if c != "arm"])
    assert len(log) == len(ref), "number of log rows"
    for col in ref.columns:
        got = log[col].astype(str) if col in NAMES else log[col]
        if col == "duration_s":
            np.testing.assert_allclose(got.to_numpy(float), ref[col], rtol=1e-12, atol=0)
        else:
            np.testing.assert_array_equal(np.asarray(got, dtype=object), ref[col].to_numpy(object),
                                          err_msg=col)  # fmt: skip
    ref_out = pd.DataFrame(outs)
    for col in ref_out.columns:
        got = out[col].to_numpy()
        if got.dtype.kind == "f":
            np.testing.assert_allclose(got, ref_out[col].to_numpy(float), rtol=1e-12, atol=1e-15,
                                       err_msg=col)  # fmt: skip
        else:
            np.testing.assert_array_equal(got.astype(object), ref_out[col].to_numpy(object),
                                          err_msg=col)  # fmt: skip
    return log, out


@pytest.fixture(scope="module")
def cohort():
    # meshing on (the best-medium bonus and matched share), dropout high enough to be taken
    spec = PopulationSpec(meshing_effect=0.8, dropout_per_hour=0.6)
    return draw_cohort(spec, CUR, 40, seed=4, class_size=7, classes_per_school=2)


@pytest.mark.parametrize("name", STRATEGIES)
def test_shipped_strategies_row_for_row(cohort, name):
    log, out = assert_same(cohort, CUR, builtin_strategy(name), seed=9)
    assert len(log) > 500
    results = set(out["final_result"])
    assert "dropped_out" in results and results - {"dropped_out"}
    if name in ("individualized", "blended", "adaptive"):
        assert (out["remediations"] > 0).any() and (out["teacher_alerts"] > 0).any()
        assert (out["skills_placed_out"] > 0).any()
    if name == "personalized":
        assert log["chosen"].all()
    if name in ("blended", "personalized", "adaptive"):
        assert 0 < out["true_matched_share"].mean() < 1


def test_out_of_time_and_out_of_steps(cohort):
    s = builtin_strategy("individualized")
    _, out = assert_same(cohort, CUR, s, seed=2, budget=Budget(minutes=45))
    assert "out_of_time" in set(out["final_result"])
    _, out = assert_same(cohort, CUR, s, seed=2, budget=Budget(minutes=10_000, max_steps=7))
    assert "out_of_steps" in set(out["final_result"]) and out["opportunities"].max() == 7


def test_time_variables_are_in_minutes():
    """Rules that read the clocks (in minutes) early in a session, where seconds or hours would
    fire at once or never; 200 students, so that some decision falls within a few seconds of
    each threshold (a clock off by 1/60 moves a stop)."""
    spec = PopulationSpec(meshing_effect=0.8, dropout_per_hour=0.6)
    cohort = draw_cohort(spec, CUR, 200, seed=5, class_size=10, classes_per_school=2)
    s = strategy_from_dict(
        {
            "rules": [
                {"when": "time_used >= 12.5", "do": "stop"},
                {"when": "time_on_skill >= 4.5 or opportunities >= 6", "do": "advance"},
                {"when": "time_left < 40.5", "do": "practice", "medium": "text"},
            ]
        }
    )
    log, out = assert_same(cohort, CUR, s, seed=3, budget=Budget(minutes=50))
    stopped = out[out["final_result"] == "stopped"]
    assert set(out["final_result"]) == {"stopped", "dropped_out"} and len(stopped) > 150
    minutes = stopped["time_on_task"] / 60
    assert minutes.min() >= 12.5 and minutes.max() < 25  # the last activity can be long
    assert {"text", "video"} <= set(log["activity"].astype(str))


def test_thompson_sampling_with_a_wide_prior(cohort):
    """A prior sd of 0.8 (precision 1.5625): the posterior's prior weight matters for every
    student's first answers in each medium."""
    s = strategy_from_dict(
        {
            "rules": [
                {"when": "opportunities >= 5", "do": "advance"},
                {
                    "when": "True",
                    "do": "practice",
                    "medium": "thompson",
                    "stated_prior": 0.3,
                    "prior_sd": 0.8,
                },
            ]
        }
    )
    log, _ = assert_same(cohort, CUR, s, seed=8)
    assert log["activity"].astype(str).nunique() >= 3


def test_placement_by_the_skill_s_pretest_share(cohort):
    """pretest_skill is the share of a skill's pretest items answered correctly (with two items a
    skill: 0, 0.5 or 1; 0.5 places out a student who got one of two)."""
    s = strategy_from_dict(
        {
            "rules": [
                {"when": "pretest_skill >= 0.5 and opportunities == 0", "do": "accelerate"},
                {"when": "opportunities >= 3", "do": "advance"},
            ]
        }
    )
    _, out = assert_same(cohort, CUR, s, seed=9)
    assert out["skills_placed_out"].sum() > 0


def test_students_with_scattered_ids(cohort):
    """Streams are keyed by student_id: a subset with gaps in its ids."""
    sub = cohort.subset(np.array([3, 17, 18, 31, 39]))
    assert_same(sub, CUR, builtin_strategy("adaptive"), seed=5)


# every rule action and medium word, every state variable in a condition
EVERYTHING = {
    "name": "everything",
    "params": {
        "few": {"value": 3, "min": 1, "max": 4},
        "pref_pick": {"value": "random", "choices": ["random", "preference"]},
        "medium_param": {"value": "audio", "choices": ["audio", "text"]},
    },
    "sequence": "interest",
    "use_pretest": False,
    "rules": [
        {"when": "time_left < 20 or skills_left <= 1 and skills_done >= 4", "do": "stop"},
        {"when": "opportunities >= 9 or errors >= 5 and remediations >= 1", "do": "advance"},
        {"when": "mastery > 0.9 and time_on_skill > 8", "do": "accelerate"},
        {"when": "error_streak >= 3 and not alerted", "do": "alert_teacher"},
        {"when": "alerted and error_streak >= 3", "do": "remediate", "activity": "hint"},
        {"when": "error_streak == 2", "do": "remediate", "activity": "worked_example"},
        {
            "when": "total_opportunities < 10 and interest > 0.5",
            "do": "offer_choice",
            "size": 2,
            "pick": "pref_pick",
        },
        {"when": "total_opportunities < 14", "do": "offer_choice", "size": "few"},
        {"when": "streak >= 2 and goal < 0.9", "do": "practice", "medium": "random"},
        {"when": "estimated_best == stated_preference", "do": "practice", "medium": "medium_param"},
        {
            "when": "time_used > 30 and pretest_skill <= pretest + 0.5",
            "do": "practice",
            "medium": "estimated_best",
        },
        {
            "when": "stated_preference in ['video', 'hands_on']",
            "do": "practice",
            "medium": "thompson",
            "stated_prior": 0.2,
            "prior_sd": 0.3,
        },
    ],
}


def test_every_action_medium_and_state_variable(cohort):
    strategy = strategy_from_dict(EVERYTHING)
    log, out = assert_same(cohort, CUR, strategy, seed=13)
    acts = set(log["activity"].astype(str))
    assert {"hint", "worked_example", "video", "audio", "hands_on", "text"} <= acts
    assert {"stopped", "dropped_out"} <= set(out["final_result"])
    assert (out["skills_placed_out"] > 0).any() and (out["teacher_alerts"] > 0).any()
    assert (log["hints"] == 1).any() and log["chosen"].any() and not log["chosen"].all()


def test_no_rule_fires_practises_the_first_medium(cohort):
    s = strategy_from_dict({"rules": [{"when": "opportunities >= 2", "do": "advance"}]})
    log, _ = assert_same(cohort, CUR, s, seed=1)
    assert set(log["activity"].astype(str)) == {"video"}


def test_edge_parameters_guess_slip_learn_forget(cohort):
    """Guess and slip 0 and near 1, learn 0 and 1, forgetting, a penalty of 0.1, one item."""
    n, k = cohort.n_students, cohort.n_skills
    rng = np.random.default_rng(0)
    guess = rng.choice([0.0, 0.3, 0.6], size=(n, k))
    slip = rng.choice([0.0, 0.1, 0.39], size=(n, k))
    learn = rng.choice([0.0, 0.05, 0.5, 1.0], size=(n, k))
    forget = rng.choice([0.0, 0.2, 1.0], size=(n, k))
    speed = rng.choice([0.05, 1.0, 3.0], size=n)
    edge = replace(cohort, guess=guess, slip=slip, learn=learn, forget=forget, learning_speed=speed)
    skills = tuple(replace(s, n_items=1 + j % 2) for j, s in enumerate(CUR.skills))
    cur = replace(CUR, skills=skills, prerequisite_penalty=0.1)
    log, out = assert_same(edge, cur, builtin_strategy("individualized"), seed=21)
    assert (out["mastered_true"] < out["true_prior_mastered"]).any(), "forgetting happened"


def test_learn_one_always_learns():
    """``learn = 1`` teaches in one opportunity whatever the rate multiplier (1 - 0^r = 1)."""
    cur = Curriculum(
        skills=(Skill("a", prior=0.0, learn=1.0, guess=0.0, slip=0.0, n_items=3),),
        prerequisite_penalty=0.5,
    )
    spec = PopulationSpec(prior_sd=0.0, learning_speed_sd=0.0, guess_sd=0.0, slip_sd=0.0,
                          dropout_per_hour=0.0)  # fmt: skip
    c = draw_cohort(spec, cur, 20, seed=1)
    slow = replace(c, learning_speed=np.full(20, 0.05))
    s = builtin_strategy("one_size", practice_count=2)
    log, out = assert_same(slow, cur, s, seed=3)
    # first answer wrong (unknown, guess 0), second right (learned with certainty, slip 0)
    np.testing.assert_array_equal(log["correct"].to_numpy(int), np.tile([0, 1], 20))
    assert (out["mastered_true"] == 1).all()


def test_population_extremes():
    """No time noise, engagement clipped at both ends, dropout certain or impossible."""
    small = Curriculum(
        skills=(Skill("a", n_items=4), Skill("b", prerequisites=("a",)), Skill("c")),
        activities=(Activity("video", duration_s=60.0), Activity("text", duration_s=90.0),
                    Activity("hint", kind="remediation", duration_s=30.0, learn_multiplier=2.0)),
        pretest_items=3,
        posttest_items=5,
    )  # fmt: skip
    s = builtin_strategy("blended")
    s = strategy_from_dict({**s.to_dict(), "rules": [
        {**r, "activity": "hint"} if r.get("do") == "remediate" else r
        for r in s.to_dict()["rules"]
    ]})  # fmt: skip
    for spec in (
        PopulationSpec(time_sd=0.0, activity_time_sd=0.0, boredom=2.0, frustration=0.0,
                       dropout_per_hour=0.0, engagement_inertia=0.0),
        PopulationSpec(choice_boost=3.0, interest_boost=3.0, frustration=1.0, boredom=0.0,
                       dropout_per_hour=50.0, dropout_engagement=0.0),
        PopulationSpec(meshing_effect=4.0, preference_validity=1.0, icc_class=0.0,
                       icc_school=0.0, engagement_inertia=1.0),
    ):  # fmt: skip
        c = draw_cohort(spec, small, 25, seed=8)
        assert_same(c, small, s, seed=4)


class CountingResponder:
    """A toy student model: P(correct) rises with the student's correct answers on the skill
    and with the time used; a hidden 'mastered' flag is set with the engine's uniform."""

    def __init__(self, n: int, k: int, seed: int):
        rng = np.random.default_rng(seed)
        self.base = rng.uniform(0.05, 0.5, size=(n, k))
        self.right = np.zeros((n, k))
        self.mastered = rng.uniform(size=(n, k)) < 0.2

    def _p(self, i, k, t):
        return np.minimum(self.base[i, k] + 0.12 * self.right[i, k] + t / 36_000, 0.97)

    def skill_state(self):
        return np.minimum(self.base + 0.12 * self.right, 0.97), self.mastered.copy()

    def p_correct(self, students, skills, times):
        return self._p(students, skills, times), self.mastered[students, skills]

    def observe(self, students, skills, correct, times, uniforms):
        self.right[students, skills] += correct
        self.mastered[students, skills] |= uniforms < 0.25 * correct


def test_responder_answers(cohort):
    n, k = cohort.n_students, cohort.n_skills
    log, out = assert_same(cohort, CUR, builtin_strategy("adaptive"), seed=6,
                           responders=lambda: CountingResponder(n, k, 1))  # fmt: skip
    assert (out["mastered_true"] > out["true_prior_mastered"]).any()
