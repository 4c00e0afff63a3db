"""The edges of every checked column of the two tables, and of the int64 and sequence bookkeeping.

Each range is checked on both sides of its boundary: the boundary value itself is accepted and
the nearest value outside is refused with the column's message (a check tightened or loosened by
one step fails here). Optional columns are checked for their canonical dtype and for accepting
missing values; unknown columns pass through.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from edstudy.schema import (
    LOG_OPTIONAL,
    LOG_REQUIRED,
    OUTCOME_COLUMNS,
    IdTypeWarning,
    SchemaError,
    to_sequences,
    validate_log,
    validate_outcomes,
)


def _log(**columns) -> pd.DataFrame:
    base = {"student_id": [1, 2], "skill_id": ["a", "a"], "order": [0, 0], "correct": [1, 0]}
    return pd.DataFrame({**base, **columns})


def _problems(fn, df) -> list[str]:
    with pytest.raises(SchemaError) as err:
        fn(df)
    return err.value.problems


def test_declared_columns():
    assert LOG_REQUIRED == ("student_id", "skill_id", "order", "correct")
    assert set(LOG_OPTIONAL) == {
        "item_id", "activity", "chosen", "class_id", "school_id", "arm", "timestamp",
        "duration_s", "hints",
    }  # fmt: skip
    assert OUTCOME_COLUMNS[0] == "student_id" and len(OUTCOME_COLUMNS) == 13


@pytest.mark.parametrize(
    ("column", "good", "bad", "message"),
    [
        ("order", [0, 5], [-1, 0], "order must be a whole number >= 0: 1 row, first at index 0 "
                                    "(value -1)"),
        ("correct", [0, 1], [1, 2], "correct must be 0 or 1: 1 row, first at index 1 (value 2)"),
        ("correct", [0, 1], [-1, 1], "correct must be 0 or 1: 1 row, first at index 0 "
                                     "(value -1)"),
        ("duration_s", [0.0, 3.5], [-0.5, 1.0], "duration_s must be a number of seconds >= 0: "
                                                "1 row, first at index 0 (value -0.5)"),
        ("hints", [0, 3], [0, -1], "hints must be a whole number >= 0: 1 row, first at index 1 "
                                   "(value -1)"),
    ],
)  # fmt: skip
def test_log_ranges_on_both_sides_of_the_boundary(column, good, bad, message):
    validate_log(_log(**{column: good}))
    assert _problems(validate_log, _log(**{column: bad})) == [message]


@pytest.mark.parametrize(
    ("column", "good", "bad", "message"),
    [
        ("pretest", [0.0, 1.0], [-0.01, 0.5], "pretest must be a number between 0 and 1: 1 row, "
                                              "first at index 0 (value -0.01)"),
        ("posttest", [0.0, 1.0], [0.5, 1.01], "posttest must be a number between 0 and 1: "
                                              "1 row, first at index 1 (value 1.01)"),
        ("engagement", [0.0, 1.0], [1.5, -0.5], "engagement must be a number between 0 and 1: "
                                                "2 rows, first at index 0 (value 1.5)"),
        ("skills_mastered", [0, 4], [3, -1], "skills_mastered must be a whole number >= 0: "
                                             "1 row, first at index 1 (value -1)"),
        ("opportunities", [0, 9], [-2, 0], "opportunities must be a whole number >= 0: 1 row, "
                                           "first at index 0 (value -2)"),
        ("time_on_task", [0.0, 60.0], [-1.0, 0.0], "time_on_task must be a number of seconds "
                                                   ">= 0: 1 row, first at index 0 (value -1)"),
    ],
)  # fmt: skip
def test_outcome_ranges_on_both_sides_of_the_boundary(column, good, bad, message):
    table = pd.DataFrame({"student_id": [1, 2]})
    validate_outcomes(table.assign(**{column: good}))
    assert _problems(validate_outcomes, table.assign(**{column: bad})) == [message]


def test_optional_log_columns_get_their_dtypes_and_may_be_missing():
    log = _log(
        duration_s=[3, None],
        hints=[2.0, None],
        chosen=[1, None],
        timestamp=["2024-01-02 10:00", None],
        activity=["video", None],
        arm=["a", None],
        item_id=["q1", "q2"],
        class_id=[None, 1],
        school_id=[None, None],
        notes=["kept", 2],  # a column the schema does not know passes through unchanged
    )
    out = validate_log(log)
    assert str(out["duration_s"].dtype) == "float64" and out["duration_s"].isna().tolist() == [
        False, True,
    ]  # fmt: skip
    assert str(out["hints"].dtype) == "Int64" and out["hints"].tolist()[0] == 2
    assert str(out["chosen"].dtype) == "boolean" and out["chosen"].tolist()[0] is True
    assert str(out["timestamp"].dtype) == "datetime64[ns]"
    assert out["timestamp"].iloc[0] == pd.Timestamp("2024-01-02 10:00")
    assert pd.api.types.is_string_dtype(out["activity"]) and pd.api.types.is_string_dtype(
        out["arm"]
    )
    assert out["notes"].tolist() == ["kept", 2]
    # scored and unscored rows; nullable Int8
    out = validate_log(_log(correct=[1, None]))
    assert str(out["correct"].dtype) == "Int8" and out["correct"].isna().tolist() == [False, True]


def test_ids_must_be_present_where_declared():
    assert _problems(validate_log, _log(item_id=[None, "q"])) == [
        "item_id must not be missing: 1 row, first at index 0 (value nan)"
    ]
    assert _problems(validate_log, _log(skill_id=["a", None])) == [
        "skill_id must not be missing: 1 row, first at index 1 (value nan)"
    ]
    outcomes = pd.DataFrame({"student_id": [1, 2], "final_result": ["Pass", None]})
    out = validate_outcomes(outcomes.assign(completed=[True, None], dropped_out=[0, 1]))
    assert str(out["completed"].dtype) == "boolean" and str(out["dropped_out"].dtype) == "boolean"
    assert pd.api.types.is_string_dtype(out["final_result"])


def test_int64_boundary_of_integer_columns():
    # 2**62 is a whole number an int64 holds; 2**63 is the first one it cannot
    assert validate_log(_log(order=[2.0**62, 0.0]))["order"].tolist() == [2**62, 0]
    assert _problems(validate_log, _log(order=[2.0**63, 0.0])) == [
        "order must be a whole number >= 0 (and below 2**63): 1 row, first at index 0 "
        "(value 9223372036854775808)"
    ]
    assert _problems(validate_log, _log(order=[0.0, -(2.0**63)])) == [
        "order must be a whole number >= 0 (and below 2**63): 1 row, first at index 1 "
        "(value -9223372036854775808)"
    ]
    huge = pd.Series([2**64, 0], dtype=object)  # Python ints beyond int64, as read from JSON
    assert _problems(validate_log, _log(order=huge)) == [
        "order must be a whole number >= 0 (and below 2**63): 1 row, first at index 0 "
        "(value 18446744073709551616)"
    ]
    # fractions are refused before the cast would truncate them; missing values are not fractions
    assert _problems(validate_log, _log(hints=[1.5, np.nan])) == [
        "hints must be a whole number >= 0: 1 row, first at index 0 (value 1.5)"
    ]
    assert _problems(validate_outcomes, pd.DataFrame({"student_id": [1], "opportunities": [2.5]}))


def test_values_are_described_as_written():
    # whole floats print as integers, text with quotes, the first failing row by index
    log = _log(correct=[2.0, 3.0], order=[0, 1]).set_axis([7, 3])
    assert _problems(validate_log, log) == ["correct must be 0 or 1: 2 rows, first at index 3 "
                                            "(value 3)"]  # fmt: skip
    log = _log(correct=["yes", 1]).astype({"correct": object})
    assert _problems(validate_log, log) == [
        "correct must be 0 or 1: 1 row, first at index 0 (value 'yes')"
    ]


def test_sequences_with_a_fixed_skill_index():
    log = validate_log(
        pd.DataFrame(
            {"student_id": ["x", "x", "y"], "skill_id": ["b", "b", "b"], "order": [4, 2, 0],
             "correct": [1, 0, 1]}
        )
    )  # fmt: skip
    seqs = to_sequences(log, skills=pd.Index(["a", "b", "c"]))
    # skill codes follow the given index: 'a' and 'c' have no sequences
    assert seqs.skill_offsets.tolist() == [0, 0, 2, 2]
    assert seqs.seq_skill.tolist() == [1, 1] and seqs.seq_student.tolist() == [0, 1]
    assert seqs.offsets.tolist() == [0, 2, 3] and seqs.row_index.tolist() == [1, 0, 2]
    assert seqs.n_rows == 3 and seqs.n_sequences == 2 and seqs.lengths.tolist() == [2, 1]
    assert seqs.correct.dtype == np.int8 and seqs.offsets.dtype == np.int64
    # the first five unknown skills are named
    many = log.assign(skill_id=["s1", "s2", "s3"]).pipe(
        lambda d: pd.concat([d, d.assign(skill_id=["s4", "s5", "s6"], order=[5, 6, 7])])
    )
    with pytest.raises(KeyError) as err:
        to_sequences(many.reset_index(drop=True), skills=pd.Index(["a"]))
    assert "['s1', 's2', 's3', 's4', 's5']" in str(err.value)
    assert "s6" not in str(err.value)
    with pytest.raises(KeyError, match=r"\['s1'\]"):  # the first skill code (0) is a known skill
        to_sequences(log.assign(skill_id=["a", "s1", "a"]), skills=pd.Index(["a"]))


def test_every_row_starts_or_continues_its_sequence():
    rng = np.random.default_rng(3)
    n = 400
    log = validate_log(
        pd.DataFrame(
            {"student_id": rng.integers(0, 9, n), "skill_id": rng.integers(0, 4, n),
             "order": rng.permutation(n), "correct": rng.integers(0, 2, n)}
        )
    )  # fmt: skip
    seqs = to_sequences(log)
    key = log[["skill_id", "student_id", "order"]].to_numpy()[seqs.row_index]
    # sorted by skill, then student, then order
    assert (np.diff(key[:, 0]) >= 0).all()
    for s in range(seqs.n_sequences):
        rows = key[seqs.offsets[s] : seqs.offsets[s + 1]]
        assert (rows[:, :2] == rows[0, :2]).all() and (np.diff(rows[:, 2]) > 0).all()
        assert seqs.skills[seqs.seq_skill[s]] == rows[0, 0]
        assert seqs.students[seqs.seq_student[s]] == rows[0, 1]
        if s:  # a new sequence changes the skill or the student
            assert tuple(rows[0, :2]) != tuple(key[seqs.offsets[s] - 1, :2])
    assert seqs.offsets[-1] == n and sorted(seqs.row_index.tolist()) == list(range(n))


def test_required_and_optional_columns_of_both_tables():
    assert _problems(validate_log, _log(order=[0, 1]).drop(columns="student_id")) == [
        "missing required column 'student_id'"
    ]
    assert _problems(validate_log, _log(order=[0, None])) == [
        "order must be a whole number >= 0: 1 row, first at index 1 (value nan)",
        "order must not be missing: 1 row, first at index 1 (value nan)",
    ]
    outcomes = pd.DataFrame(
        {
            "student_id": [1, 2],
            "pretest": [0, 1],  # integers are coerced to proportions
            "posttest": [0.5, None],  # missing is allowed
            "arm": pd.Series([1, None], dtype=object),
            "class_id": [None, "k"],
            "school_id": [None, None],
            "notes": ["kept", None],
        }
    )
    out = validate_outcomes(outcomes)
    assert str(out["pretest"].dtype) == "float64" and out["posttest"].isna().tolist() == [
        False, True,
    ]  # fmt: skip
    assert pd.api.types.is_string_dtype(out["arm"]) and out["arm"].tolist()[0] == "1"
    assert out["notes"].iloc[0] == "kept" and out["notes"].isna().tolist() == [False, True]
    assert _problems(validate_outcomes, outcomes.assign(student_id=[1, None])) == [
        "student_id must not be missing: 1 row, first at index 1 (value nan)"
    ]


def test_first_failing_row_without_numeric_labels_is_the_first_in_order():
    log = _log(correct=[1, 2]).pipe(lambda d: pd.concat([d, d.assign(order=[1, 1])]))
    log = log.set_axis(["r1", "r2", "r3", "r4"]).assign(correct=[1, 2, 1, 3])
    assert _problems(validate_log, log) == [
        "correct must be 0 or 1: 2 rows, first at index 'r2' (value 2)"
    ]


def test_every_integer_column_is_checked_for_fractions():
    # the columns are checked one after another, whatever the dtype of the ones before
    log = _log(hints=[1, 2], order=[0.0, 1.5])
    assert _problems(validate_log, log) == [
        "order must be a whole number >= 0: 1 row, first at index 1 (value 1.5)"
    ]


def test_mixed_id_types_in_any_id_column():
    base = pd.DataFrame(
        {"student_id": ["x", "y", "z"], "skill_id": [1, 2, 3], "order": 0, "correct": 1}
    )
    with pytest.warns(IdTypeWarning) as record:
        validate_log(base.assign(class_id=pd.Series([5, "5", 2], dtype=object)))
    assert len(record) == 1 and record[0].filename == __file__  # attributed to the caller
    assert "class_id holds both 5 (a number) and '5' (text)" in str(record[0].message)
    with pytest.warns(IdTypeWarning, match=r"item_id holds both 1 .* \(2 such pair\(s\)\)"):
        validate_log(base.assign(item_id=pd.Series([1, "1", "2", 2][:3], dtype=object)).pipe(
            lambda d: pd.concat([d, d.iloc[:1].assign(order=1, item_id=2)], ignore_index=True)
        ))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # text that reads like another text's repr is not a clash
        validate_log(base.assign(class_id=pd.Series(["a", "'a'", "b"], dtype=object)))


def test_repeated_index_labels_keep_the_columns():
    log = pd.concat([_log(), _log(order=[1, 1])])
    out = validate_log(log)
    assert list(out.columns) == list(log.columns) and out.index.tolist() == [0, 1, 0, 1]


def test_sequences_are_frozen_and_skills_sorted():
    log = validate_log(
        pd.DataFrame({"student_id": [1, 1, 2], "skill_id": ["z", "b", "z"], "order": [0, 1, 0],
                      "correct": [1, 0, 1]})
    )  # fmt: skip
    seqs = to_sequences(log)
    assert list(seqs.skills) == ["b", "z"] and seqs.skill_offsets.tolist() == [0, 1, 3]
    with pytest.raises(dataclasses.FrozenInstanceError):
        seqs.offsets = np.zeros(1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        to_sequences(log, pd.Index(["b", "z"]))  # type: ignore[misc]
    gaps = log.assign(correct=pd.array([1, None, None], dtype="Int8"))
    with pytest.raises(ValueError, match=r"correct is missing in 2 rows \(first at index 1\)"):
        to_sequences(gaps)


def test_numbers_given_for_text_and_float_columns_are_coerced():
    out = validate_log(_log(activity=[1, 2], arm=[3, 4], duration_s=[3, 4]))
    assert out["activity"].tolist() == ["1", "2"] and out["arm"].tolist() == ["3", "4"]
    assert str(out["duration_s"].dtype) == "float64"
    outcomes = pd.DataFrame(
        {"student_id": [1, 2], "final_result": [1, 2], "time_on_task": [30, 60],
         "dropped_out": [True, None]}
    )  # fmt: skip
    out = validate_outcomes(outcomes)
    assert out["final_result"].tolist() == ["1", "2"]
    assert str(out["time_on_task"].dtype) == "float64" and out["dropped_out"].isna().tolist() == [
        False, True,
    ]  # fmt: skip
    assert validate_outcomes(outcomes.assign(time_on_task=[30.0, None]))["time_on_task"].isna()[1]


def test_a_known_skill_with_the_first_code_is_not_unknown():
    log = validate_log(_log(skill_id=["a", "b"]))
    seqs = to_sequences(log, skills=pd.Index(["a", "b"]))
    assert seqs.seq_skill.tolist() == [0, 1]


def test_id_columns_of_text_only_do_not_stop_the_check():
    base = pd.DataFrame(
        {"student_id": pd.Series(["x", "y", "z"], dtype=object), "skill_id": [1, 2, 3],
         "order": 0, "correct": 1}
    )  # fmt: skip
    with pytest.warns(IdTypeWarning, match="item_id holds both 7"):
        validate_log(base.assign(item_id=pd.Series([7, "7", 8], dtype=object)))
