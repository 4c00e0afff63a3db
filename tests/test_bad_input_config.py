"""Bad study, strategy and curriculum files: bounded, checked, named; nothing runs or is written.

Each case asserts the message names the file and the line or field, and that the disk is as it
was. The condition language is fuzzed: any text either parses or raises ConditionError.
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edstudy.cli import main
from edstudy.experiment import Study
from edstudy.sim import ConditionError, ConfigError, load_strategy, parse_condition
from edstudy.sim._config import MAX_EXPANDED_ENTRIES, parse_yaml
from edstudy.sim.rules import MAX_CONDITION_LENGTH, MAX_NESTING

BOMB = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
)

STUDY = """name: s
seed: 1
design: {n_students: 40, randomization: student}
arms:
  - {name: a, strategy: one_size}
  - {name: b, strategy: individualized}
"""


def run_cli(tmp_path, text: str | bytes, capsys) -> str:
    study = tmp_path / "study.yaml"
    if isinstance(text, bytes):
        study.write_bytes(text)
    else:
        study.write_text(text)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["run", str(study), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    return err


def test_an_alias_bomb_is_refused_in_milliseconds(tmp_path, capsys):
    assert len(BOMB) < 700
    err = run_cli(tmp_path, BOMB, capsys)
    assert "line 6: the document expands to more than" in err  # a5: 9**6 entries
    assert f"{MAX_EXPANDED_ENTRIES:,} entries through its anchors and aliases" in err


def test_a_repeated_key_is_refused_with_both_lines(tmp_path, capsys):
    err = run_cli(tmp_path, STUDY.replace("seed: 1\n", "seed: 1\nseed: 2\n"), capsys)
    assert "line 3: key 'seed' appears twice (first at line 2)" in err


def test_a_file_that_is_not_utf8_is_named(tmp_path, capsys):
    err = run_cli(tmp_path, STUDY.encode() + b"description: caf\xe9\n", capsys)
    assert f"{tmp_path / 'study.yaml'}, line 7: not UTF-8 text (byte 0xe9)" in err


def test_deep_nesting_and_bad_yaml_are_clear_errors(tmp_path, capsys):
    err = run_cli(tmp_path, "a: " + "[" * 3000 + "]" * 3000 + "\n", capsys)
    assert "nested too deeply to read" in err
    err = run_cli(tmp_path, "name: [unclosed\n", capsys)
    assert "not valid YAML" in err


def test_merge_keys_are_not_mistaken_for_repeats():
    data, _ = parse_yaml("base: &b {k: 1}\nx:\n  <<: *b\n  j: 2\n", name="f")
    assert data["x"] == {"k": 1, "j": 2}


def test_unknown_strategy_suggests_the_nearest(tmp_path, capsys):
    err = run_cli(tmp_path, STUDY.replace("individualized", "individualised"), capsys)
    assert "line 6, field 'arms.1.strategy': strategy file not found" in err
    assert "(did you mean 'individualized'?)" in err


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        ("mastery_threshold", 7, r"must be a number in \(0, 1\], got 7"),
        ("mastery_threshold", 0, r"must be a number in \(0, 1\], got 0"),
        ("remediate_after_errors", 1.5, r"must be a whole number in \[1, 10000\], got 1.5"),
        ("remediate_after_errors", -1, r"must be a whole number in \[1, 10000\], got -1"),
        ("max_opportunities", "many", r"must be a number like 15, got 'many'"),
    ],
)
def test_strategy_parameters_have_ranges(tmp_path, capsys, param, value, expected):
    text = STUDY.replace(
        "{name: b, strategy: individualized}",
        f"{{name: b, strategy: individualized, params: {{{param}: {value!r}}}}}",
    )
    err = run_cli(tmp_path, text, capsys)
    assert f"field 'arms.1.params.{param}'" in err
    assert re.search(expected, err), err


def test_a_rule_file_must_declare_its_own_parameters(tmp_path):
    rules = tmp_path / "mine.yaml"
    rules.write_text("name: mine\nparams:\n  patience: 3\nrules:\n  - do: advance\n")
    with pytest.raises(ConfigError, match=r"line 3, field 'params.patience': parameter "):
        load_strategy(rules)
    rules.write_text(
        "name: mine\nparams:\n  patience: {value: 3, min: 1, max: 9, whole: true}\n"
        "rules:\n  - when: streak >= patience\n    do: advance\n  - do: practice\n"
        "    medium: text\n"
    )
    s = load_strategy(rules)
    assert s.params == {"patience": 3}
    with pytest.raises(ConfigError, match=r"parameter 'patience' must be a whole number in "):
        s.with_params({"patience": 12})
    again = load_strategy(rules).with_params({"patience": 4})
    assert again.to_dict()["params"]["patience"] == {
        "value": 4,
        "min": 1,
        "max": 9,
        "whole": True,
    }


def test_long_and_deeply_nested_conditions_are_clear_errors():
    long = " and ".join(["mastery > 0.5"] * 200)
    with pytest.raises(ConditionError, match=r"characters is too long to read"):
        parse_condition(long)
    assert len(long) > MAX_CONDITION_LENGTH
    for deep in ("(" * 40 + "true" + ")" * 40, "not " * 40 + "true", "-" * 40 + "1 > 0"):
        with pytest.raises(ConditionError, match=f"nested more than {MAX_NESTING} levels deep"):
            parse_condition(deep)
    parse_condition("(" * MAX_NESTING + "true" + ")" * MAX_NESTING)  # the bound itself is fine


TOKENS = st.sampled_from(
    [
        "mastery", "streak", "errors", "opportunities", "stated_preference", "'video'",
        "alerted", "min(", "max(", "abs(", ",", "(", ")", "[", "]", "and", "or", "not", "in",
        "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "0", "1", "0.5", "1e9", "true",
        "false", "always", "x", "'", '"', "#", "@", "..",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(TOKENS, max_size=30).map(" ".join), st.text(string.printable)))
def test_any_text_parses_or_gives_a_condition_error(text):
    try:
        parse_condition(text)
    except ConditionError as err:
        assert str(err)  # a message, never another exception


def test_a_valid_study_file_still_runs(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(STUDY)
    assert Study.from_yaml(study).n_students == 40
