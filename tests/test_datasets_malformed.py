"""Malformed input files: every error names the file and the column, line and value."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from edstudy.datasets import (
    DataNotFoundError,
    DatasetFormatError,
    load_ab_video_vs_text,
    load_assistments2009,
    load_assistments2017,
    load_csv,
    load_datashop,
    load_oulad,
    load_pybkt_example,
)
from edstudy.schema import SchemaError

PROCESSED_HEADER = "user_id,seq_idx,problem_id,skill_idx,skill_name,correct\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_missing_column_names_the_layout_and_what_the_file_has(tmp_path: Path):
    f = write(tmp_path / "a.csv", "user_id,seq_idx,problem_id,skill_name\n1,0,5,Area\n")
    with pytest.raises(DatasetFormatError) as err:
        load_assistments2009(f)
    assert str(err.value) == (
        f"{f}: missing column 'correct' of the processed ASSISTments 2009 layout; "
        "the file has: user_id, seq_idx, problem_id, skill_name"
    )


def test_unknown_layout(tmp_path: Path):
    f = write(tmp_path / "a.csv", "student,kc,right\n1,Area,1\n")
    with pytest.raises(DatasetFormatError) as err:
        load_assistments2009(f)
    assert str(err.value) == (
        f"{f}: not an ASSISTments 2009 file: expected the original columns (order_id, user_id, "
        "problem_id, original, correct, skill_name) or the processed columns (user_id, seq_idx, "
        "problem_id, skill_name, correct); the file has: student, kc, right"
    )


def test_text_in_correct(tmp_path: Path):
    f = write(
        tmp_path / "a.csv",
        PROCESSED_HEADER + "1,0,5,1,Area,1\n1,1,6,1,Area,yes\n1,2,7,1,Area,maybe\n",
    )
    with pytest.raises(DatasetFormatError) as err:
        load_assistments2009(f)
    assert str(err.value) == (
        f"{f}: column 'correct' must be 0 or 1: 2 rows, first at line 3 (value 'yes')"
    )


def test_out_of_range_correct_and_fractional_order(tmp_path: Path):
    f = write(tmp_path / "a.csv", PROCESSED_HEADER + "1,0,5,1,Area,2\n")
    with pytest.raises(DatasetFormatError, match=r"column 'correct' must be 0 or 1: 1 row, "):
        load_assistments2009(f)
    f = write(tmp_path / "b.csv", PROCESSED_HEADER + "1,0,5,1,Area,1\n1,1.5,5,1,Area,1\n")
    with pytest.raises(DatasetFormatError) as err:
        load_assistments2009(f)
    assert str(err.value) == (
        f"{f}: column 'seq_idx' must be a whole number >= 0: 1 row, first at line 3 (value 1.5)"
    )


def test_duplicate_rows_are_dropped_and_reported(tmp_path: Path, capsys):
    f = write(
        tmp_path / "a.csv",
        PROCESSED_HEADER + "1,0,5,1,Area,1\n1,0,5,1,Area,1\n1,1,6,1,Area,0\n",
    )
    log = load_assistments2009(f)
    report = log.attrs["load_report"]
    assert report.dropped == {"duplicate (student, skill, seq_idx)": 1}
    assert str(report) == (
        "assistments2009: read 3 rows, kept 2; dropped 1 (duplicate (student, skill, seq_idx))"
    )
    assert capsys.readouterr().out == str(report) + "\n"
    assert log["order"].tolist() == [0, 1]


def test_empty_file(tmp_path: Path):
    f = write(tmp_path / "a.csv", "")
    with pytest.raises(DatasetFormatError) as err:
        load_assistments2009(f)
    assert str(err.value) == f"{f}: file is empty (no header line)"
    g = tmp_path / "b.csv.gz"
    g.write_bytes(gzip.compress(b""))
    with pytest.raises(DatasetFormatError, match=r"file is empty \(no header line\)"):
        load_datashop(g)


def test_header_only_file(tmp_path: Path):
    f = write(tmp_path / "a.csv", PROCESSED_HEADER)
    with pytest.raises(DatasetFormatError) as err:
        load_assistments2009(f)
    assert str(err.value) == f"{f}: no data rows (only a header line)"
    f = write(tmp_path / "b.csv", "student_id,seq_idx,problem_id,skill_idx,skill,correct\n")
    with pytest.raises(DatasetFormatError) as err:
        load_assistments2017(f)
    assert str(err.value) == f"{f}: no data rows (only a header line)"


def test_missing_path_and_folder_without_the_file(tmp_path: Path):
    with pytest.raises(DataNotFoundError) as err:
        load_assistments2017(tmp_path / "nope.csv")
    assert str(err.value) == f"assistments2017: {tmp_path / 'nope.csv'} does not exist"
    with pytest.raises(DataNotFoundError) as err:
        load_assistments2017(tmp_path)
    assert str(err.value) == (
        "assistments2017: none of interactions.csv.gz, interactions.csv is in the folder "
        f"{tmp_path}"
    )
    with pytest.raises(DataNotFoundError, match="pybkt_example: .* is not a file"):
        load_pybkt_example(tmp_path)


DATASHOP_HEADER = "Row\tAnon Student Id\tProblem Name\tStep Name\tCorrect First Attempt\tHints"


def test_datashop_kc_model_must_be_unambiguous(tmp_path: Path):
    f = write(
        tmp_path / "steps.txt",
        f"{DATASHOP_HEADER}\tKC(Default)\tKC(Rules)\n1\ts1\tp1\tx\t1\t0\tadd\tr1\n",
    )
    with pytest.raises(DatasetFormatError) as err:
        load_datashop(f)
    assert str(err.value) == (
        f"{f}: several KC models ('Default', 'Rules'); choose one with kc_model=, "
        "e.g. kc_model='Default'"
    )
    with pytest.raises(DatasetFormatError) as err:
        load_datashop(f, kc_model="Unique-step")
    assert str(err.value) == (
        f"{f}: no column 'KC(Unique-step)' for kc_model='Unique-step'; "
        "available KC models: 'Default', 'Rules'"
    )
    assert load_datashop(f, kc_model="KC(Rules)", verbose=False)["skill_id"].tolist() == ["r1"]


def test_datashop_without_kc_and_with_bad_values(tmp_path: Path):
    f = write(tmp_path / "a.txt", f"{DATASHOP_HEADER}\n1\ts1\tp1\tx\t1\t0\n")
    with pytest.raises(DatasetFormatError) as err:
        load_datashop(f)
    assert str(err.value) == (
        f"{f}: no KC(<model>) column, so no skills; the file has: Row, Anon Student Id, "
        "Problem Name, Step Name, Correct First Attempt, Hints"
    )
    f = write(
        tmp_path / "b.txt",
        f"{DATASHOP_HEADER}\tKC(Default)\n1\ts1\tp1\tx\t1\t0\tadd\n2\ts1\tp1\ty\tcorrect\t0\tadd\n",
    )
    with pytest.raises(DatasetFormatError) as err:
        load_datashop(f)
    assert str(err.value) == (
        f"{f}: column 'Correct First Attempt' must be 0 or 1: 1 row, first at line 3 "
        "(value 'correct')"
    )
    f = write(
        tmp_path / "c.txt",
        f"{DATASHOP_HEADER}\tKC(Default)\n1\ts1\tp1\tx\t1\tmany\tadd\n",
    )
    with pytest.raises(DatasetFormatError) as err:
        load_datashop(f)
    assert str(err.value) == (
        f"{f}: column 'Hints' must be a whole number >= 0: 1 row, first at line 2 (value 'many')"
    )
    with pytest.raises(ValueError, match="multi_kc must be one of 'split', 'first', 'drop'"):
        load_datashop(f, multi_kc="all")


def test_datashop_missing_required_column(tmp_path: Path):
    f = write(tmp_path / "a.csv", "Anon Student Id,Step Name,KC(Default),Correct First Attempt\n")
    with pytest.raises(DatasetFormatError) as err:
        load_datashop(f)
    assert str(err.value) == (
        f"{f}: missing column 'Problem Name' of the DataShop student-step layout; the file has: "
        "Anon Student Id, Step Name, KC(Default), Correct First Attempt"
    )


def test_load_csv_errors(tmp_path: Path):
    f = write(tmp_path / "a.csv", "who,kc,t,right\nann,add,0,1\nann,add,1,no\n")
    mapping = {"who": "student_id", "kc": "skill_id", "t": "order", "right": "correct"}
    with pytest.raises(DatasetFormatError) as err:
        load_csv(f, {**mapping, "secs": "duration_s"})
    assert (
        str(err.value)
        == f"{f}: mapped column 'secs' not in the file; the file has: who, kc, t, right"
    )
    with pytest.raises(DatasetFormatError) as err:
        load_csv(f, {"who": "student_id", "kc": "skill_id", "t": "order"})
    assert str(err.value) == (
        f"{f}: no column maps to 'correct' (required by the response log); add it to mapping, "
        "e.g. {'<column of the file>': 'correct'}"
    )
    with pytest.raises(DatasetFormatError) as err:
        load_csv(f, mapping)
    assert (
        str(err.value) == f"{f}: column 'right' must be 0 or 1: 1 row, first at line 3 (value 'no')"
    )
    with pytest.raises(DatasetFormatError) as err:
        load_csv(f, {"who": "student_id", "kc": "student_id", "t": "order", "right": "correct"})
    assert (
        str(err.value) == f"{f}: more than one column would be named 'student_id' after the mapping"
    )


def test_load_csv_schema_errors_name_the_file_and_line(tmp_path: Path):
    f = write(tmp_path / "a.csv", "who,kc,t,right\nann,add,0,1\n,add,1,0\n")
    mapping = {"who": "student_id", "kc": "skill_id", "t": "order", "right": "correct"}
    with pytest.raises(SchemaError) as err:
        load_csv(f, mapping)
    assert err.value.problems == [
        "student_id must not be missing: 1 row, first at index 3 (value nan)"
    ]
    assert str(err.value).startswith(
        f"response log from {f} (index = line in the file) failed validation with 1 problem(s):"
    )


def test_ab_test_bad_arm_value(tmp_path: Path):
    f = write(tmp_path / "abTestExample.csv", "user_id,video,completion\n1,TRUE,1\n2,perhaps,0\n")
    with pytest.raises(DatasetFormatError) as err:
        load_ab_video_vs_text(f)
    assert (
        str(err.value)
        == f"{f}: column 'video' must be 0 or 1: 1 row, first at line 3 (value 'perhaps')"
    )


def test_oulad_missing_table(tmp_path: Path):
    write(tmp_path / "studentInfo.csv", "x\n1\n")
    write(
        tmp_path / "studentVle.csv",
        "code_module,code_presentation,id_student,id_site,date,sum_click\nAAA,2013J,1,10,0,1\n",
    )
    with pytest.raises(DataNotFoundError) as err:
        load_oulad(tmp_path)
    assert str(err.value) == f"oulad: neither vle.csv.gz nor vle.csv is in {tmp_path}"
    write(
        tmp_path / "studentVle.csv",
        "code_module,code_presentation,id_student,id_site,date,sum_click\nAAA,2013J,1,10,x,1\n",
    )
    write(tmp_path / "vle.csv", "id_site,activity_type\n10,quiz\n")
    with pytest.raises(DatasetFormatError) as err:
        load_oulad(tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'studentVle.csv'}: column 'date' must be a whole number: 1 row, "
        "first at line 2 (value 'x')"
    )
