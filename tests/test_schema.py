"""The response log and outcomes table: canonical dtypes, exact error messages, sequences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edstudy.schema import SchemaError, to_sequences, validate_log, validate_outcomes


def small_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "student_id": ["s2", "s1", "s1", "s2", "s1"],
            "skill_id": ["add", "add", "add", "sub", "sub"],
            "order": [0, 3, 1, 1, 2],
            "correct": [1, 0, 1, 0, 1],
        }
    )


def test_valid_log_gets_canonical_dtypes_and_is_a_copy():
    log = small_log()
    out = validate_log(log)
    assert str(out["order"].dtype) == "int64"
    assert str(out["correct"].dtype) == "Int8"
    out.loc[0, "correct"] = 0
    assert log.loc[0, "correct"] == 1  # caller's frame untouched


def test_every_problem_is_listed_with_column_row_and_value():
    log = small_log()
    log["correct"] = [1, 2, 0, 2, 2]
    log.loc[3, "order"] = 3
    log.loc[3, "skill_id"] = "add"
    log.loc[3, "student_id"] = "s1"
    with pytest.raises(SchemaError) as err:
        validate_log(log)
    assert err.value.problems == [
        "(student_id, skill_id, order) must be unique: 2 rows share their key with another row, "
        "first at index 1",
        "correct must be 0 or 1: 3 rows, first at index 1 (value 2)",
    ]
    assert str(err.value).startswith("response log failed validation with 2 problem(s):")


def test_text_in_correct_and_missing_ids_and_fractional_order():
    log = small_log().astype({"correct": object, "order": float})
    log.loc[2, "correct"] = "yes"
    log.loc[4, "order"] = 1.5
    log.loc[0, "student_id"] = None
    with pytest.raises(SchemaError) as err:
        validate_log(log)
    assert sorted(err.value.problems) == sorted(
        [
            "order must be a whole number >= 0: 1 row, first at index 4 (value 1.5)",
            "correct must be 0 or 1: 1 row, first at index 2 (value 'yes')",
            "student_id must not be missing: 1 row, first at index 0 (value nan)",
        ]
    )


def test_missing_column_and_empty_table():
    with pytest.raises(SchemaError, match="missing required column 'correct'"):
        validate_log(small_log().drop(columns="correct"))
    with pytest.raises(SchemaError, match=r"response log is empty \(0 rows\)"):
        validate_log(small_log().iloc[:0])
    with pytest.raises(TypeError, match="response log must be a pandas DataFrame, got list"):
        validate_log([1, 2])


def test_unscored_activity_rows_are_allowed_in_the_log_but_not_in_sequences():
    log = small_log()
    log["correct"] = pd.array([1, None, 1, 0, 1], dtype="Int8")
    validated = validate_log(log)
    with pytest.raises(ValueError, match=r"correct is missing in 1 rows \(first at index 1\)"):
        to_sequences(validated)


def test_outcomes_validation_messages():
    out = pd.DataFrame(
        {"student_id": [1, 2, 2], "posttest": [0.5, 1.2, 0.1], "dropped_out": [0, 1, 0]}
    )
    with pytest.raises(SchemaError) as err:
        validate_outcomes(out)
    assert err.value.problems == [
        "student_id must be unique: 2 rows, first at index 1 (value 2)",
        "posttest must be a number between 0 and 1: 1 row, first at index 1 (value 1.2)",
    ]
    ok = validate_outcomes(out.drop(index=2).assign(posttest=[0.5, 1.0]))
    assert ok["dropped_out"].dtype == "boolean"


def test_sequences_group_by_skill_student_and_order():
    seqs = to_sequences(validate_log(small_log()))
    # skills sorted: add, sub; students sorted: s1, s2
    assert list(seqs.skills) == ["add", "sub"] and list(seqs.students) == ["s1", "s2"]
    assert seqs.offsets.tolist() == [0, 2, 3, 4, 5]
    assert seqs.seq_skill.tolist() == [0, 0, 1, 1]
    assert seqs.seq_student.tolist() == [0, 1, 0, 1]
    assert seqs.skill_offsets.tolist() == [0, 2, 4]
    # s1/add in order 1 then 3 -> rows 2 then 1
    assert seqs.row_index.tolist() == [2, 1, 0, 4, 3]
    assert seqs.correct.tolist() == [1, 0, 1, 1, 0]
    # mapping back: sorted values land on their original rows
    back = np.empty(seqs.n_rows, dtype=np.int8)
    back[seqs.row_index] = seqs.correct
    assert back.tolist() == small_log()["correct"].tolist()


def test_sequences_with_a_fixed_skill_index_rejects_unknown_skills():
    log = validate_log(small_log())
    with pytest.raises(KeyError, match=r"skill_id not known to the model: \['sub'\]"):
        to_sequences(log, skills=pd.Index(["add"]))
