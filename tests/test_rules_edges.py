"""Edges of the condition language: exact errors and columns, nesting bounds, media on either side
of a comparison, constants in lists, the API's keyword-only arguments and frozen results."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edstudy.sim import ConditionError, ConditionFunction, parse_condition
from edstudy.sim.rules import MAX_CONDITION_LENGTH, MAX_NESTING

MEDIA = ("video", "audio", "hands_on", "text")
ENV = {
    "mastery": np.array([0.2, 0.9, 0.5]),
    "streak": np.array([0.0, 4.0, 2.0]),
    "stated_preference": np.array([0, 1, 3]),
    "estimated_best": np.array([0, 2, 3]),
    "alerted": np.array([False, True, False]),
}


def run(text, params=None, functions=None):
    cond = parse_condition(text, params=params or {}, functions=functions)
    return cond.compile(params=params or {}, media=MEDIA, functions=functions)(ENV.__getitem__, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mastery >", "condition ends too early at column 10 of 'mastery >'"),
        ("1 +", "condition ends too early at column 4 of '1 +'"),
        ("min(", "condition ends too early at column 5 of 'min('"),
        ("(mastery > 0.9", "expected ')', found the end at column 15 of '(mastery > 0.9'"),
        ("mastery in [1", "expected ']', found the end at column 14 of 'mastery in [1'"),
        ("max(1, 2", "expected ')', found the end at column 9 of 'max(1, 2'"),
        ("mastery > 0.9)", "unexpected ')' at column 14 of 'mastery > 0.9)'"),
        ("mastery ! 1", "unexpected character '!' (use 'and', 'or', 'not') at column 9"),
        ("alerted | true", "unexpected character '|' (use 'and', 'or', 'not') at column 9"),
        ("  ", "empty condition"),
        ("mastery > 1 > 0", "chained comparisons are not allowed; join them with 'and' at "
                            "column 13"),
        ("mastery == 1 != 0", "chained comparisons are not allowed"),
        ("abs(1, 2) > 0", "abs() takes one argument(s) at column 1"),
        ("min() > 0", "min() takes one or more argument(s) at column 1"),
        ("max(alerted) > 0", "max() needs numbers at column 5"),
        ("-alerted", "'-' needs a number, got a bool at column 2"),
        ("alerted + 1 > 0", "'+' needs numbers, got a bool at column 1"),
        ("mastery * alerted > 0", "'*' needs numbers, got a bool at column 11"),
        ("alerted or 1", "'or' joins true/false conditions, got a number at column 12"),
        ("alerted < true", "'<' compares numbers, got a bool at column 1"),
        ("mastery in [1] or stated_preference in [1]", "cannot look for a medium in a list of "
                                                       "number at column 37"),
        ("mastery in mastery", "'in' needs a list on its right, e.g. ['video', 'audio'] at "
                               "column 12"),
        ("streek > 1", "unknown name 'streek' (did you mean 'streak'?) at column 1"),
        ("mni(1) > 0", "unknown function 'mni' (did you mean 'min'?) at column 1"),
        ("1 + 2", "a condition must be true or false, but this is a number at column 1"),
    ],
)  # fmt: skip
def test_errors_and_their_columns(text, message):
    with pytest.raises(ConditionError) as err:
        parse_condition(text)
    assert message in str(err.value)


def test_error_attributes():
    with pytest.raises(ConditionError) as err:
        parse_condition("mastery >")
    assert (err.value.reason, err.value.text, err.value.column) == (
        "condition ends too early", "mastery >", 10,
    )  # fmt: skip
    with pytest.raises(ConditionError) as err:
        parse_condition(3)  # type: ignore[arg-type]
    assert str(err.value) == "a condition must be text, got 3" and err.value.column is None


def test_length_and_nesting_bounds():
    ok = "mastery > 0.5" + " " * (MAX_CONDITION_LENGTH - 13)
    assert len(ok) == MAX_CONDITION_LENGTH and parse_condition(ok).names == {"mastery"}
    with pytest.raises(ConditionError, match="a condition of 2,001 characters is too long"):
        parse_condition(ok + " ")
    # depth counts what is open, not what was opened: any number of siblings is fine
    siblings = " and ".join(["(mastery > 0.1)"] * (MAX_NESTING + 10))
    assert run(siblings).tolist() == [True, True, True]
    deep = "(" * MAX_NESTING + "alerted" + ")" * MAX_NESTING
    for text in (deep, f"(true) and (true) and {deep}", f"{deep} and {deep}"):
        assert run(text).tolist() == [False, True, False]
    too_deep = "(" * (MAX_NESTING + 1) + "alerted" + ")" * (MAX_NESTING + 1)
    for text in (too_deep, f"(true) and (true) and {too_deep}", "not " * (MAX_NESTING + 1) + "true",
                 "-" * (MAX_NESTING + 1) + "1 > 0"):  # fmt: skip
        with pytest.raises(ConditionError, match=f"nested more than {MAX_NESTING} levels deep"):
            parse_condition(text)
    assert run("not " * MAX_NESTING + "alerted").tolist() == [False, True, False]
    assert run("-" * MAX_NESTING + "1 > 0").tolist() == [True] * 3


def test_media_on_either_side_and_by_parameter():
    assert run("stated_preference == 'audio'").tolist() == [False, True, False]
    assert run("'audio' == stated_preference").tolist() == [False, True, False]
    assert run("'text' != stated_preference").tolist() == [True, True, False]
    assert run("fav == stated_preference", {"fav": "video"}).tolist() == [True, False, False]
    assert run("stated_preference != fav", {"fav": "video"}).tolist() == [False, True, True]
    assert run("estimated_best == stated_preference").tolist() == [True, False, True]
    assert run("estimated_best != stated_preference").tolist() == [False, True, False]
    assert run("stated_preference in ['text', 'video']").tolist() == [True, False, True]
    assert run("stated_preference not in ['text']").tolist() == [True, True, False]
    with pytest.raises(ConditionError, match="unknown medium 'podcast'"):
        run("stated_preference in ['video', 'podcast']")
    with pytest.raises(ConditionError, match="unknown medium 'radio'"):
        run("'radio' == estimated_best")
    # text against text is allowed (a parameter against a literal)
    assert run("mode == 'strict'", {"mode": "strict"}).tolist() == [True] * 3
    assert run("'a' != 'b'").tolist() == [True] * 3


def test_lists_hold_constants_and_parameters():
    assert run("streak in [2, top]", {"top": 4}).tolist() == [False, True, True]
    assert run("streak not in [0, top]", {"top": 4}).tolist() == [False, False, True]
    with pytest.raises(ConditionError, match="list items must be constants"):
        run("streak in [mastery, 2]")
    assert run("'x' in []").tolist() == [False] * 3  # an empty list holds text


def test_parameters_of_each_type():
    params = {"flag": True, "n": 2, "x": 0.5, "name": "video"}
    assert run("flag and streak >= n and mastery > x", params).tolist() == [False, True, False]
    with pytest.raises(TypeError, match=r"parameter values must be numbers, true/false or text, "
                                        r"got \[1\]"):  # fmt: skip
        parse_condition("bad > 0", params={"bad": [1]})
    assert parse_condition("flag", params=params).names == frozenset()


def test_registered_functions_are_checked():
    with pytest.raises(TypeError, match="ConditionFunction.fn must be callable"):
        ConditionFunction(fn=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ConditionFunction.returns must be 'number' or 'bool'"):
        ConditionFunction(fn=abs, returns="text")
    any_args = {"total": ConditionFunction(lambda *a: sum(a), returns="number")}
    assert run("total(streak, 1, mastery) > 4", functions=any_args).tolist() == [False, True, False]
    check = {"f": ConditionFunction(lambda a: a > 1, returns="bool", n_args=1)}
    with pytest.raises(ConditionError, match=r"f\(\) takes 1 argument\(s\), got 2"):
        parse_condition("f(1, 2)", functions=check)
    with pytest.raises(ConditionError, match="unknown name 'nope'"):
        parse_condition("f(nope)", functions=check)  # its arguments are type-checked too
    assert run("f(streak) and not f(1)", functions=check).tolist() == [False, True, True]


def test_api_is_keyword_only_and_results_are_frozen():
    with pytest.raises(TypeError):
        parse_condition("true", {})  # type: ignore[misc]
    cond = parse_condition("mastery > 0.5")
    with pytest.raises(TypeError):
        cond.compile({}, MEDIA)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cond.text = "false"  # type: ignore[misc]
    assert hash(cond) == hash(parse_condition("mastery > 0.5"))
    assert {cond, parse_condition("mastery > 0.5")} == {cond}
    assert parse_condition(True).text == "true" and parse_condition(False).text == "false"
    assert run("True and not False").tolist() == [True] * 3


def test_documented_bounds_and_keywords_out_of_place():
    # the documented bounds themselves, not only the constants' names
    assert MAX_NESTING == 32 and MAX_CONDITION_LENGTH == 2000
    parse_condition("(" * 32 + "true" + ")" * 32)
    with pytest.raises(ConditionError, match="nested more than 32 levels deep"):
        parse_condition("(" * 33 + "true" + ")" * 33)
    for text in ("and", "or > 1", "in", "not"):
        with pytest.raises(ConditionError, match="unexpected|ends too early"):
            parse_condition(text)
    # surrounding blanks are not part of the condition
    for text in ("  true  ", "true ", "\tnot alerted\n"):
        assert parse_condition(text).text == text
    assert run(" mastery > 0.5 ").tolist() == [False, True, False]


def test_errors_without_a_place_and_constructed_by_keyword():
    with pytest.raises(ConditionError) as err:
        run("streak in [mastery]")
    assert str(err.value) == "list items must be constants"  # no column without the text
    e = ConditionError("bad", text="x > ", column=4)
    assert str(e) == "bad at column 4 of 'x > '"
    assert str(ConditionError("bad", column=4)) == "bad" and str(ConditionError("bad")) == "bad"
    with pytest.raises(TypeError):
        ConditionError("bad", "x > ", 4)  # type: ignore[misc]
    f = ConditionFunction(abs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.returns = "bool"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_condition("mastery > 1").tree.op = "<"  # type: ignore[union-attr]


def test_a_state_variable_name_means_the_state_variable():
    # strategies refuse parameters named like state variables; the language itself resolves a
    # name to the state variable first, also on the text side of a medium comparison
    params = {"estimated_best": "video"}
    cond = parse_condition("stated_preference == estimated_best", params=params)
    test = cond.compile(params=params, media=MEDIA)
    assert test(ENV.__getitem__, 3).tolist() == [True, False, True]
