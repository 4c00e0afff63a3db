"""The simulator's compiled kernel at its boundaries, one student, random numbers chosen by hand.

``test_sim_reference.py`` compares whole simulations with a per-student reference fed the same
random numbers; a comparison moved by one step (``u < p`` against ``u <= p``) changes nothing
there, because a uniform draw equals a given probability with chance 2**-53. Here the kernel is
called directly with the draws set exactly on each boundary, so the documented convention is
pinned: an event of probability ``p`` happens when ``u < p`` (so probability 0 never happens and
probability 1 always does), the session ends when the time used reaches the budget, and the
dropout hazard is the documented ``rate * hours * exp(-slope * (engagement - 0.5))``.

The arguments are those of a real engine call (captured from a small simulation, so every array
has the engine's dtype and shape), cut to the first student of the first tick and then edited.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest

from edstudy.sim import PopulationSpec, builtin_strategy, default_curriculum, draw_cohort, simulate
from edstudy.sim import engine as engine_module
from edstudy.sim._kernels import practice_kernel

NAMES = list(inspect.signature(practice_kernel.py_func).parameters)
ROW_ARGS = (
    "p",
    "act",
    "chosen",
    "est_before",
    "o_skill",
    "o_order",
    "o_correct",
    "o_item",
    "o_dur",
)


@pytest.fixture(scope="module")
def first_call() -> dict:
    """The arguments of the engine's first kernel call (before the kernel changed them)."""
    calls = []

    def record(*args):
        if not calls:
            calls.append(copy.deepcopy(dict(zip(NAMES, args, strict=True))))
        return practice_kernel(*args)

    cur = default_curriculum()
    spec = PopulationSpec(dropout_per_hour=0.6)
    cohort = draw_cohort(spec, cur, 3, seed=2)
    mp = pytest.MonkeyPatch()
    mp.setattr(engine_module, "practice_kernel", record)
    try:
        simulate(cohort, cur, builtin_strategy("individualized"), seed=1)
    finally:
        mp.undo()
    return calls[0]


def run(first_call: dict, *, u=(0.5, 0.5, 0.5, 0.5, 0.999), **changes) -> dict:
    """Call the kernel for the first student only, with ``changes`` applied; return every array.

    ``u`` are the five draws of the opportunity: answer, learning, two for the duration, dropout.
    Scalars in ``changes`` replace scalar arguments; arrays are given per student (row 0).
    """
    args = copy.deepcopy(first_call)
    for name in ROW_ARGS:
        args[name] = args[name][:1]
    args["u"] = np.array(u, dtype=float).reshape(5, 1)
    args["p_answer"] = args["p_answer"][:1] if args["p_answer"].size else args["p_answer"]
    i, a = int(args["p"][0]), int(args["act"][0])
    k = int(args["cur"][i])
    for name, value in changes.items():
        if name in ("known", "guess", "slip", "learn_log", "forget", "interest"):
            args[name][i, k] = value
        elif name in ("p_answer",):
            args[name] = np.array([value], dtype=float)
        elif name in ("act",):
            args[name][0] = value
        elif isinstance(args[name], np.ndarray) and args[name].ndim == 1 and name not in ROW_ARGS:
            args[name][i] = value
        else:
            args[name] = type(args[name])(value)
    practice_kernel(*(args[n] for n in NAMES))
    return {"i": i, "k": k, "a": a, **args}


def test_first_call_is_one_student_on_a_medium(first_call):
    out = run(first_call)
    assert out["a"] < out["n_media"]  # a medium, not a remediation activity
    assert out["o_skill"][0] == out["k"] and out["o_order"][0] == 0


@pytest.mark.parametrize(
    ("known", "parameter", "value", "u", "correct"),
    [
        (False, "guess", 0.25, 0.25, False),  # a guess happens when u < guess
        (False, "guess", 0.25, np.nextafter(0.25, 0), True),
        (False, "guess", 0.0, 0.0, False),  # guess 0: never, even for u = 0
        (True, "slip", 0.25, 0.25, True),  # a slip happens when u < slip
        (True, "slip", 0.25, np.nextafter(0.25, 0), False),
        (True, "slip", 0.0, 0.0, True),  # slip 0: never
    ],
)
def test_an_answer_is_correct_exactly_as_documented(
    first_call, known, parameter, value, u, correct
):
    out = run(first_call, u=(u, 0.5, 0.5, 0.5, 0.999), known=known, **{parameter: value})
    assert bool(out["o_correct"][0]) is correct
    assert out["streak"][out["i"]] == (1 if correct else 0)
    assert out["err_streak"][out["i"]] == (0 if correct else 1)
    assert out["errors"][out["i"]] == (0 if correct else 1)


@pytest.mark.parametrize(
    ("p_answer", "u", "correct"),
    [(0.4, 0.4, False), (0.4, np.nextafter(0.4, 0), True), (0.0, 0.0, False), (1.0, 0.999, True)],
)
def test_a_responder_s_probability_is_used_as_u_below_p(first_call, p_answer, u, correct):
    out = run(first_call, u=(u, 0.0, 0.5, 0.5, 0.999), p_answer=p_answer, use_p=True, known=False)
    assert bool(out["o_correct"][0]) is correct
    assert not out["known"][out["i"], out["k"]]  # a responder learns on its own: no transition


def _p_learn(out: dict) -> float:
    """The documented learning probability of this opportunity (no prerequisite, not best)."""
    rate = out["speed"][out["i"]] * out["act_mult"][out["a"]]
    if out["a"] == out["best"][out["i"]]:
        rate *= 1.0 + out["meshing"]
    return -np.expm1(rate * out["learn_log"][out["i"], out["k"]])


def test_learning_happens_when_u_is_below_the_learning_probability(first_call):
    probe = run(first_call, known=False, learn_log=np.log(0.7))
    p = _p_learn(probe)
    assert 0 < p < 1
    at = run(first_call, u=(0.9, p, 0.5, 0.5, 0.999), known=False, learn_log=np.log(0.7))
    below = run(first_call, u=(0.9, np.nextafter(p, 0), 0.5, 0.5, 0.999), known=False,
                learn_log=np.log(0.7))  # fmt: skip
    assert not at["known"][at["i"], at["k"]]
    assert below["known"][below["i"], below["k"]]
    never = run(first_call, u=(0.9, 0.0, 0.5, 0.5, 0.999), known=False, learn_log=0.0)
    assert not never["known"][never["i"], never["k"]]  # learn 0: log(1 - 0) = 0, never


def test_forgetting_happens_when_u_is_below_forget(first_call):
    at = run(first_call, u=(0.9, 0.2, 0.5, 0.5, 0.999), known=True, forget=0.2)
    below = run(first_call, u=(0.9, np.nextafter(0.2, 0), 0.5, 0.5, 0.999), known=True, forget=0.2)
    assert at["known"][at["i"], at["k"]]
    assert not below["known"][below["i"], below["k"]]
    assert at["over"][at["i"]] == 1  # practice of a known skill counts as over-practice


def _hazard(out: dict) -> float:
    e = out["eng"][out["i"]]
    hours = out["o_dur"][0] / 3600.0
    return out["dropout_rate"] * hours * np.exp(-out["dropout_eng"] * (e - 0.5))


def test_dropout_is_the_documented_hazard_of_the_opportunity_s_duration(first_call):
    probe = run(first_call, dropout_rate=0.6, dropout_eng=2.0)
    threshold = -np.expm1(-_hazard(probe))
    assert 1e-6 < threshold < 0.5
    at = run(first_call, u=(0.5, 0.5, 0.5, 0.5, threshold), dropout_rate=0.6, dropout_eng=2.0)
    below = run(first_call, u=(0.5, 0.5, 0.5, 0.5, np.nextafter(threshold, 0)),
                dropout_rate=0.6, dropout_eng=2.0)  # fmt: skip
    assert at["active"][at["i"]]
    assert not below["active"][below["i"]]
    assert below["final"][below["i"]] == below["final_dropped"]


def test_the_session_ends_when_the_time_used_reaches_the_budget(first_call):
    probe = run(first_call, time_used=10.0, dropout_rate=0.0)
    used = probe["time_used"][probe["i"]]
    assert used == pytest.approx(10.0 + probe["o_dur"][0])
    at = run(first_call, time_used=10.0, dropout_rate=0.0, budget_s=used)
    above = run(first_call, time_used=10.0, dropout_rate=0.0, budget_s=np.nextafter(used, np.inf))
    assert not at["active"][at["i"]] and at["final"][at["i"]] == at["final_time"]
    assert above["active"][above["i"]]


def test_a_remediation_counts_once_and_a_wrong_medium_answer_is_pending(first_call):
    remediation = first_call["n_media"]  # the first activity after the media
    out = run(first_call, u=(0.9, 0.5, 0.5, 0.5, 0.999), known=False, guess=0.1, act=remediation)
    assert out["remed_skill"][out["i"]] == 1 and out["remed_total"][out["i"]] == 1
    assert out["pending"][out["i"]] == -1  # a remediation's answer is not credited to a medium
    medium = run(first_call, u=(0.9, 0.5, 0.5, 0.5, 0.999), known=False, guess=0.1)
    assert medium["remed_skill"][medium["i"]] == 0
    assert medium["pending"][medium["i"]] == medium["a"]
