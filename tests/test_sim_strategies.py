"""Strategy files: the shipped rule files parse; mistakes name file, line, rule and field."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from edstudy.sim import (
    STRATEGY_NAMES,
    ConditionFunction,
    ConfigError,
    PopulationSpec,
    Rule,
    Strategy,
    builtin_strategy,
    default_curriculum,
    draw_cohort,
    load_strategy,
    parse_condition,
    simulate,
    strategy_from_dict,
)

CUR = default_curriculum()


def write(tmp_path, text, name="strategy.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_shipped_strategies_load_and_bind(name):
    s = load_strategy(name)
    assert s.name == name and s.rules and s.params
    s.check(CUR)
    again = strategy_from_dict(s.to_dict())
    assert again == s


def test_params_override_and_type_check():
    s = builtin_strategy("individualized", mastery_threshold=0.9)
    assert s.params["mastery_threshold"] == 0.9
    with pytest.raises(
        ConfigError,
        match=r"has no parameter 'mastery_treshold' \(did you mean 'mastery_threshold'\?\)",
    ):
        builtin_strategy("individualized", mastery_treshold=0.9)
    with pytest.raises(
        ConfigError,
        match=r"field 'params.teacher_medium': parameter 'teacher_medium' must be a text",
    ):
        builtin_strategy("individualized", teacher_medium=3)


BASE = """\
name: test
params:
  threshold: {value: 0.9, min: 0.5, max: 1}
rules:
  - when: mastery >= threshold
    do: advance
  - do: practice
    medium: video
"""


def test_valid_file_parses(tmp_path):
    s = load_strategy(write(tmp_path, BASE))
    assert [r.action for r in s.rules] == ["advance", "practice"]
    assert s.rules[0].line == 5


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            ("mastery >= threshold", "mastry >= threshold"),
            r"line 5, rule 1, field 'when': unknown name 'mastry' \(did you mean 'mastery'\?\)",
        ),
        (
            ("do: advance", "do: advnce"),
            r"line 6, rule 1, field 'do': unknown action 'advnce' \(did you mean 'advance'\?\)",
        ),
        (
            ("medium: video", "medium: video\n    colour: red"),
            r"line 9, rule 2, field 'colour': unknown key 'colour'",
        ),
        (
            ("  - do: practice\n    medium: video\n", "  - do: practice\n"),
            r"line 7, rule 2, field 'medium': 'practice' needs 'medium'",
        ),
        (
            ("value: 0.9", "value: [1, 2]"),
            r"line 3, field 'params.threshold': parameter 'threshold' must be a number in "
            r"\[0.5, 1\], got \[1, 2\]",
        ),
        (
            ("value: 0.9", "value: 7"),
            r"line 3, field 'params.threshold': parameter 'threshold' must be a number in "
            r"\[0.5, 1\], got 7",
        ),
        (
            ("threshold: {value: 0.9, min: 0.5, max: 1}", "threshold: 0.9"),
            r"line 3, field 'params.threshold': parameter 'threshold' has no declared range; "
            r"declare it as threshold: \{value: 0.9, min: ..., max: ...\}",
        ),
        (
            ("rules:", "rulez:"),
            r"line 4, field 'rulez': unknown key 'rulez' \(did you mean 'rules'\?\)",
        ),
        (
            ("mastery >= threshold", "mastery >= 'high'"),
            r"rule 1, field 'when': '>=' compares numbers, got a text",
        ),
    ],
)
def test_errors_name_file_line_rule_and_field(tmp_path, change, expected):
    p = write(tmp_path, BASE.replace(*change))
    with pytest.raises(ConfigError, match=expected) as err:
        load_strategy(p)
    assert str(err.value).startswith(str(p))


def test_unknown_medium_is_found_before_anything_runs(tmp_path):
    s = load_strategy(write(tmp_path, BASE.replace("medium: video", "medium: podcast")))
    cohort = draw_cohort(PopulationSpec(), CUR, 20, seed=1)
    with pytest.raises(
        ConfigError, match=r"line 8, rule 2, field 'medium': unknown medium 'podcast'"
    ):
        simulate(cohort, CUR, s, seed=1)


def test_offer_choice_size_must_be_a_whole_number(tmp_path):
    p = write(
        tmp_path, BASE.replace("do: practice\n    medium: video", "do: offer_choice\n    size: 1.5")
    )
    with pytest.raises(
        ConfigError, match=r"rule 2, field 'size': size must be a whole number >= 1"
    ):
        load_strategy(p)


def test_python_callables_extend_rules():
    cohort = draw_cohort(PopulationSpec(), CUR, 200, seed=1)

    def stuck(state):  # a researcher's own rule, over the tutor state
        return (state("errors") >= 2) & (state("mastery") < 0.3)

    s = Strategy(
        name="research",
        rules=(
            Rule("advance", when=stuck),
            Rule("advance", when=parse_condition("opportunities >= 3")),
            Rule("practice", args={"medium": "audio"}),
        ),
    )
    log, out = simulate(cohort, CUR, s, seed=2)
    per_skill = log.groupby(["student_id", "skill_id"], observed=True).size()
    assert per_skill.max() <= 3
    assert set(log["activity"].astype(str)) == {"audio"}
    fns = {"late": ConditionFunction(lambda t: t > 60, returns="bool", n_args=1)}
    s2 = strategy_from_dict(
        {
            "name": "x",
            "rules": [
                {"when": "late(time_used)", "do": "stop"},
                {"do": "practice", "medium": "text"},
            ],
        },
        functions=fns,
    )
    _, out2 = simulate(cohort, CUR, s2, seed=2)
    assert (out2["final_result"] == "stopped").mean() > 0.5
    assert out2.loc[out2["final_result"] == "stopped", "time_on_task"].min() > 60 * 60


def test_alert_teacher_is_a_side_effect():
    cohort = draw_cohort(PopulationSpec(), CUR, 300, seed=1)
    s = strategy_from_dict(
        {
            "name": "alerts",
            "rules": [
                {"when": "error_streak >= 2 and not alerted", "do": "alert_teacher"},
                {"when": "opportunities >= 4", "do": "advance"},
                {"do": "practice", "medium": "text"},
            ],
        }
    )
    log, out = simulate(cohort, CUR, s, seed=3)
    assert out["teacher_alerts"].sum() > 0
    assert out["teacher_alerts"].max() <= 10  # at most once per skill
    assert log.groupby(["student_id", "skill_id"], observed=True).size().max() == 4


def test_accelerate_and_stop_cost_no_practice():
    cohort = draw_cohort(PopulationSpec(), CUR, 100, seed=1)
    s = strategy_from_dict({"name": "skip", "rules": [{"do": "accelerate"}]})
    log, out = simulate(cohort, CUR, s, seed=1)
    assert len(log) == 0
    assert (out["skills_placed_out"] == 10).all() and (out["opportunities"] == 0).all()
    assert (out["final_result"] == "completed").all()
    assert np.array_equal(out["under_practice"], 10 - out["true_prior_mastered"])


def test_overridden_parameters_are_checked_before_running():
    with pytest.raises(
        ConfigError,
        match=r"field 'params.choice_set_size': parameter 'choice_set_size' must be a whole "
        r"number in \[1, 10000\], got 2.5",
    ):
        builtin_strategy("personalized", choice_set_size=2.5)
    with pytest.raises(
        ConfigError,
        match=r"parameter 'mastery_threshold' must be a number in \(0, 1\], got 7",
    ):
        builtin_strategy("individualized", mastery_threshold=7)
    s = builtin_strategy("individualized", teacher_medium="podcast")
    with pytest.raises(ConfigError, match=r"field 'medium': unknown medium 'podcast'"):
        s.check(CUR)
