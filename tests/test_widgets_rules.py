"""The pathway-rule editor: live validation messages, threshold sliders and sweeps, no browser."""

from __future__ import annotations

import pandas as pd
import pytest

from edstudy.sim import ConfigError, load_strategy, parse_rules
from edstudy.widgets.rule_editor import RuleEditor, parse_values, rule_editor

PNG = b"\x89PNG"


@pytest.fixture
def editor() -> RuleEditor:
    return rule_editor("individualized", n_students=100)


def line_of(text: str, fragment: str) -> int:
    """1-based line of the first line containing ``fragment``."""
    return next(i for i, ln in enumerate(text.splitlines(), start=1) if fragment in ln)


def test_shipped_rules_are_valid(editor):
    assert editor.valid and editor.message == ""
    assert editor.strategy == load_strategy("individualized")
    assert "7 rules" in editor.status.value
    assert editor.validation.widget.layout.display == "none"
    assert editor.mastery.value == 0.95 and not editor.mastery.disabled
    assert editor.remediation.value == 2 and not editor.remediation.disabled
    assert editor.sweep_parameter.value == "mastery_threshold"
    assert editor.sweep_values.value == "0.8, 0.85, 0.9, 0.95, 0.98"


def test_a_typo_in_a_condition_names_line_rule_and_field(editor):
    good = editor.text.value
    bad = good.replace("when: mastery >= mastery_threshold", "when: mastry >= mastery_threshold")
    editor.text.value = bad
    line = line_of(bad, "mastry")
    assert editor.message == (
        f"individualized.yaml, line {line}, rule 2, field 'when': unknown name 'mastry' "
        "(did you mean 'mastery'?) at column 1 of 'mastry >= mastery_threshold'"
    )
    assert not editor.valid and editor.strategy is None
    assert editor.validation.widget.layout.display == "block"
    assert "mastry" in editor.validation.widget.value
    assert editor.status.value == ""
    editor.text.value = good
    assert editor.valid and editor.message == ""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("do: remediate", "do: remediat", "rule 6, field 'do': unknown action 'remediat'"),
        (
            "    activity: worked_example",
            "    activity: worked_exampel",
            "rule 6, field 'activity': unknown activity 'worked_exampel'",
        ),
        (
            "    medium: teacher_medium",
            "    medium: teacher_medium\n    colour: red",
            "rule 7, field 'colour': unknown key 'colour'",
        ),
        (
            "  teacher_medium: text",
            "  teacher_medium: radio",
            "rule 7, field 'medium': unknown medium 'radio'",
        ),
        (
            "when: streak >= accelerate_after",
            "when: streak = accelerate_after",
            "rule 3, field 'when': unexpected character '=' (use '==' to compare)",
        ),
    ],
)
def test_rule_errors_name_rule_and_field(editor, old, new, expected):
    editor.text.value = editor.text.value.replace(old, new)
    assert expected in editor.message
    assert editor.message.startswith("individualized.yaml, line ")


def test_yaml_syntax_error_gives_the_line(editor):
    editor.text.value = "name: x\nrules:\n  - do: practice\n   medium: text\n"
    assert editor.message.startswith("individualized.yaml, line 4: not valid YAML")
    editor.text.value = "just text"
    assert "must be a YAML/JSON mapping with 'rules'" in editor.message


def test_sliders_override_the_text(editor):
    editor.mastery.value = 0.9
    editor.remediation.value = 3
    assert editor.strategy.params["mastery_threshold"] == 0.9
    assert editor.strategy.params["remediate_after_errors"] == 3
    assert "0.9" in editor.params_html.value
    # an edit of the text resets the sliders to the text's values
    editor.text.value = editor.text.value.replace(
        "mastery_threshold: 0.95", "mastery_threshold: 0.85"
    )
    assert editor.mastery.value == 0.85
    assert editor.strategy.params["mastery_threshold"] == 0.85
    assert editor.source.value == ""  # edited


def test_loading_a_strategy_without_the_thresholds_disables_them(editor):
    editor.source.value = "personalized"
    assert editor.valid
    assert editor.mastery.disabled and editor.remediation.disabled
    assert editor.strategy == load_strategy("personalized")
    assert set(editor.sweep_parameter.options) == {"choice_set_size", "max_opportunities"}
    editor.sweep_parameter.value = "max_opportunities"
    assert editor.sweep_values.value == "13, 14, 15, 16, 17"


def test_sweep_table_figure_and_progress(editor):
    editor.sweep_values.value = "0.8, 0.95"
    table = editor.run_sweep()
    assert editor.errors.message == ""
    assert isinstance(table, pd.DataFrame) and table is editor.sweep_table
    assert list(table["mastery_threshold"]) == [0.8, 0.95]
    assert {"practice_minutes", "posttest", "dropped_out", "posttest_low"} <= set(table.columns)
    assert editor.figure_png.startswith(PNG)
    assert "practice_minutes" in editor.table_html.value
    assert editor.progress.bar.max == 2 and not editor.progress.visible


def test_sweep_errors_are_readable(editor):
    editor.sweep_values.value = "0.8, lots"
    assert editor.run_sweep() is None
    assert editor.errors.message == (
        "sweep values must be numbers separated by commas; 'lots' is not a number"
    )
    editor.text.value = editor.text.value.replace("do: advance", "do: advanse", 1)
    editor.sweep_values.value = "0.9"
    assert editor.run_sweep() is None
    assert editor.errors.message.startswith("fix the rules first: individualized.yaml, line ")


def test_parse_helpers():
    text = "rules:\n  - do: practice\n    medium: video\n"
    assert parse_rules(text).rules[0].action == "practice"
    with pytest.raises(ConfigError, match=r"^mine.yaml, line 3, rule 1, field 'medium'"):
        parse_rules(text.replace("video", "vidoe"), name="mine.yaml")
    assert parse_values("0.8, 0.9 1") == [0.8, 0.9, 1]
    with pytest.raises(ValueError, match="at least one number"):
        parse_values(" , ")
    with pytest.raises(FileNotFoundError, match="shipped strategies"):
        rule_editor("no_such_strategy")
