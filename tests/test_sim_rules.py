"""The condition language: parsing, type checking, vectorized evaluation, no eval."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edstudy.sim import ConditionError, ConditionFunction, parse_condition

MEDIA = ("video", "audio", "hands_on", "text")


def run(text, env, params=None, functions=None, n=None):
    cond = parse_condition(text, params=params or {}, functions=functions)
    f = cond.compile(params=params or {}, media=MEDIA, functions=functions)
    n = n or len(next(iter(env.values())))
    return f(env.__getitem__, n)


ENV = {
    "mastery": np.array([0.2, 0.96, 0.5, 0.99]),
    "opportunities": np.array([0, 3, 8, 12]),
    "error_streak": np.array([0, 1, 3, 0]),
    "stated_preference": np.array([0, 1, 2, 3]),
    "alerted": np.array([False, True, False, True]),
    "pretest_skill": np.array([1.0, 0.5, 0.0, 1.0]),
}


def test_evaluates_vectorized_with_params():
    out = run("mastery >= threshold and not alerted or error_streak >= 3", ENV, {"threshold": 0.95})
    np.testing.assert_array_equal(out, [False, False, True, False])


def test_arithmetic_functions_and_precedence():
    out = run(
        "opportunities >= max_opps - 3 * 1 and min(mastery, 0.5) < 0.5", ENV, {"max_opps": 11}
    )
    np.testing.assert_array_equal(out, [False, False, False, False])
    out = run("opportunities / 4 > abs(-1)", ENV)
    np.testing.assert_array_equal(out, [False, False, True, True])


def test_media_compare_by_name_and_in_lists():
    np.testing.assert_array_equal(
        run("stated_preference == 'audio'", ENV), [False, True, False, False]
    )
    np.testing.assert_array_equal(
        run("stated_preference not in ['video', \"text\"]", ENV), [False, True, True, False]
    )
    np.testing.assert_array_equal(
        run("stated_preference != m", ENV, {"m": "hands_on"}), [True, True, False, True]
    )


def test_constants_broadcast_and_yaml_booleans():
    np.testing.assert_array_equal(run(True, ENV), [True] * 4)
    np.testing.assert_array_equal(run("always", ENV), [True] * 4)
    np.testing.assert_array_equal(run("false", ENV), [False] * 4)


@pytest.mark.parametrize(
    "text, message",
    [
        ("mastry >= 0.9", "unknown name 'mastry' (did you mean 'mastery'?) at column 1"),
        ("mastery == 'video'", "cannot compare a number with a text"),
        ("streak and 3", "'and' joins true/false conditions, got a number"),
        ("not mastery", "'not' needs true/false, got a number"),
        ("mastery", "a condition must be true or false, but this is a number"),
        ("mastery = 0.9", "unexpected character '=' (use '==' to compare) at column 9"),
        ("mastery > 0.9 && streak > 2", "unexpected character '&' (use 'and', 'or', 'not')"),
        ("0.5 < mastery < 0.9", "chained comparisons are not allowed"),
        ("(mastery > 0.9", "expected ')', found the end"),
        ("mastery >", "condition ends too early"),
        ("", "empty condition"),
        ("stated_preference > 2", "'>' compares numbers, got a medium"),
        ("mastery in [0.5, 'x']", "a list must hold values of one type"),
        ("__import__('os')", "unknown function '__import__'"),
        ("mastery.real > 0", "unexpected character '.'"),
    ],
)
def test_errors_explain_what_and_where(text, message):
    with pytest.raises(ConditionError) as err:
        parse_condition(text)
    assert message in str(err.value)


def test_unknown_medium_is_caught_when_compiled_for_a_curriculum():
    cond = parse_condition("stated_preference == 'podcast'")
    with pytest.raises(ConditionError, match="unknown medium 'podcast'"):
        cond.compile(params={}, media=MEDIA)


def test_registered_functions_extend_the_language():
    fns = {"risk": ConditionFunction(lambda m, e: (1 - m) * e, returns="number", n_args=2)}
    out = run("risk(mastery, error_streak) > 1", ENV, functions=fns)
    np.testing.assert_array_equal(out, [False, False, True, False])
    with pytest.raises(ConditionError, match="takes 2 argument"):
        parse_condition("risk(mastery) > 1", functions=fns)


def test_names_used_are_reported():
    c = parse_condition("mastery > t and not alerted", params={"t": 0.9})
    assert c.names == {"mastery", "alerted"}


_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@settings(max_examples=60, deadline=None)
@given(
    a=st.lists(st.integers(-50, 50), min_size=1, max_size=8),
    k=st.integers(-5, 5),
    arith=st.sampled_from(["+", "-", "*"]),
    cmp=st.sampled_from(sorted(_OPS)),
)
def test_matches_python_semantics(a, k, arith, cmp):
    x = np.array(a, dtype=float)
    out = run(f"opportunities {arith} {k} {cmp} {k} * 2", {"opportunities": x})
    f = {"+": operator.add, "-": operator.sub, "*": operator.mul}[arith]
    expected = [_OPS[cmp](f(v, k), k * 2) for v in a]
    np.testing.assert_array_equal(out, expected)
