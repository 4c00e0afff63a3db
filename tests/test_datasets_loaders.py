"""How each loader maps its source columns, on small files written here (no shared data needed)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edstudy.datasets import (
    LoadReport,
    load_ab_video_vs_text,
    load_assistments2009,
    load_assistments2017,
    load_csv,
    load_datashop,
    load_oulad,
    load_oulad_outcomes,
    load_pybkt_example,
)
from edstudy.datasets._attempts import attempts_from_runs


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


RAW_HEADER = (
    "order_id,assignment_id,user_id,assistment_id,problem_id,original,correct,attempt_count,"
    "ms_first_response,tutor_mode,answer_type,sequence_id,student_class_id,position,type,"
    "base_sequence_id,skill_id,skill_name,teacher_id,school_id,hint_count,hint_total,overlap_time\n"
)


def raw_row(order, user, problem, original, correct, skill_id, skill, hints=0, ms=2000):
    return (
        f"{order},7,{user},1,{problem},{original},{correct},1,{ms},tutor,algebra,9,30,1,"
        f"MasterySection,9,{skill_id},{skill},40,50,{hints},3,{ms}\n"
    )


def test_original_assistments_layout(tmp_path: Path, caplog):
    rows = [
        raw_row(105, 2, 11, 1, 1, 10, "Table"),
        raw_row(100, 2, 10, 1, 0, 1, "Box and Whisker", hints=2),
        raw_row(100, 2, 10, 1, 0, 10, "Table", hints=2),  # same attempt, second skill
        raw_row(101, 2, 12, 0, 1, 1, "Box and Whisker"),  # scaffolding
        raw_row(102, 2, 13, 1, 1, "", ""),  # no skill
        raw_row(105, 2, 11, 1, 1, 10, "Table"),  # duplicate record
        raw_row(200, 3, 10, 1, 1, 1, "", ms=-5),  # name missing: numeric id; negative time
    ]
    f = write(tmp_path / "skill_builder_data_corrected.csv", RAW_HEADER + "".join(rows))
    with caplog.at_level(logging.INFO, logger="edstudy.datasets"):
        log = load_assistments2009(f, verbose=False)
    report = log.attrs["load_report"]
    assert str(report) == (
        "assistments2009: read 7 rows, kept 4; dropped 3 (1 scaffolding row (original=0); "
        "1 no skill; 1 duplicate (student, skill, order))"
    )
    assert report.notes == (
        "1 rows have a negative overlap_time; set to missing",
        "1 rows have a negative ms_first_response; set to missing",
    )
    assert str(report) in caplog.messages
    assert log["student_id"].tolist() == [2, 2, 2, 3]
    assert log["skill_id"].tolist() == ["Box and Whisker", "Table", "Table", "1"]
    assert log["order"].tolist() == [0, 0, 1, 0]  # dense rank of order_id, shared by skills
    assert log["order_id"].tolist() == [100, 100, 105, 200]
    assert log["item_id"].tolist() == [10, 10, 11, 10]
    assert log["class_id"].tolist() == [30, 30, 30, 30]
    assert log["school_id"].tolist() == [50, 50, 50, 50]
    assert log["hints"].tolist() == [2, 2, 0, 0]
    assert log["duration_s"].iloc[0] == 2.0
    assert pd.isna(log["duration_s"].iloc[3])
    assert str(log["correct"].dtype) == "Int8"

    collapsed = load_assistments2009(f, collapse_multiskill=True, verbose=False)
    assert collapsed["skill_id"].tolist() == ["Box and Whisker~~Table", "Table", "1"]
    assert (
        collapsed.attrs["load_report"].dropped[
            "merged into one row per multi-skill attempt (collapse_multiskill=True)"
        ]
        == 1
    )
    # The pyBKT loader reads this layout the same way.
    same = load_pybkt_example(f, verbose=False)
    pd.testing.assert_frame_equal(same, log)
    assert same.attrs["load_report"].source == "pybkt_example"


PROCESSED = "user_id,seq_idx,problem_id,skill_idx,skill_name,correct\n"


def test_processed_assistments_attempts(tmp_path: Path):
    rows = [
        (7, 0, 100, "A", 1),
        (7, 1, 100, "B", 1),  # same problem: same attempt
        (7, 2, 101, "A", 0),
        (7, 3, 101, "A", 1),  # skill repeats on the same problem: the problem shown again
        (7, 4, 102, "A", 1),
        (7, 5, 102, "B", 1),
        (7, 6, 102, "B", 0),  # repeat: a new attempt, which then also lists A
        (7, 7, 102, "A", 0),
        (8, 0, 100, "A", 0),
    ]
    text = PROCESSED + "".join(f"{u},{s},{p},1,{k},{c}\n" for u, s, p, k, c in rows[::-1])
    log = load_assistments2009(write(tmp_path / "interactions.csv", text), verbose=False)
    assert log["order"].tolist() == [0, 0, 1, 2, 3, 3, 4, 4, 0]
    assert log["seq_idx"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 0]
    assert log.attrs["load_report"].notes == (
        "2 attempts start where a skill repeats within consecutive rows on the same problem "
        "(the problem shown again, not a duplicate): rows kept as new attempts",
    )
    assert not log.duplicated(["student_id", "skill_id", "order"]).any()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 3), st.sampled_from("abc")),
        min_size=1,
        max_size=40,
    )
)
def test_attempts_never_list_a_skill_twice(rows):
    """Property: (student, skill, order) is unique and order never decreases along a student."""
    df = pd.DataFrame(rows, columns=["student", "problem", "skill"]).sort_values(
        "student", kind="stable"
    )
    order, _ = attempts_from_runs(df["student"], df["problem"], df["skill"])
    df["order"] = order
    assert not df.duplicated(["student", "skill", "order"]).any()
    for _, group in df.groupby("student"):
        steps = np.diff(group["order"].to_numpy())
        assert ((steps == 0) | (steps == 1)).all()
        assert group["order"].iloc[0] == 0


def test_assistments2017_keeps_order_gaps(tmp_path: Path):
    text = (
        "student_id,seq_idx,problem_id,skill_idx,skill,correct\n"
        "5,0,1,1,area,0\n5,1,2,2,noskill,1\n5,2,3,1,area,1\n6,0,1,1,area,1\n"
    )
    f = write(tmp_path / "interactions.csv", text)
    log = load_assistments2017(f, verbose=False)
    assert log["order"].tolist() == [0, 2, 0]
    assert str(log.attrs["load_report"]) == (
        "assistments2017: read 4 rows, kept 3; dropped 1 (skill tag 'noskill')"
    )
    kept = load_assistments2017(f, drop_noskill=False, verbose=False)
    assert kept["skill_id"].tolist() == ["area", "noskill", "area", "area"]


DATASHOP = (
    "Row\tAnon Student Id\tProblem Name\tStep Name\tStep Start Time\tFirst Transaction Time\t"
    "Step Duration (sec)\tCorrect First Attempt\tHints\tProblem View\tKC(Default)\t"
    "Opportunity(Default)\n"
    "3\tS1\tP1\tx=3\t2006-10-26 09:50:00.0\t2006-10-26 09:50:10.0\t10\t1\t0\t1\tadd~~mul\t2~~1\n"
    "1\tS1\tP1\tx+1\t\t2006-10-26 09:40:00.0\t\t0\t2\t1\tadd\t1\n"
    "2\tS1\tP1\tdone\t2006-10-26 09:45:00.0\t2006-10-26 09:45:05.0\t5\t1\t0\t1\t\t\n"
    "4\tS2\tP1\tNA\t2006-10-27 10:00:00.0\t2006-10-27 10:00:03.0\t3\t0\t1\t1\tmul\t1\n"
)


def test_datashop_mapping_and_multi_kc(tmp_path: Path):
    f = write(tmp_path / "ds_student_step_All_Data.txt", DATASHOP)
    log = load_datashop(f, verbose=False)
    assert str(log.attrs["load_report"]) == (
        "datashop: read 4 rows, kept 4; dropped 1 (empty KC(Default)); "
        "added 1 (multi-KC steps split into one row per KC)"
    )
    assert log["student_id"].tolist() == ["S1", "S1", "S1", "S2"]
    assert log["skill_id"].tolist() == ["add", "add", "mul", "mul"]
    assert log["order"].tolist() == [0, 2, 2, 0]  # rank by Row; the empty-KC step keeps its slot
    assert log["item_id"].tolist() == ["P1::x+1", "P1::x=3", "P1::x=3", "P1::NA"]  # "NA" is text
    assert log["opportunity"].tolist() == [1, 2, 1, 1]
    assert log["timestamp"].iloc[0] == pd.Timestamp("2006-10-26 09:40:00")
    assert log["hints"].tolist() == [2, 0, 0, 1]
    assert pd.isna(log["duration_s"].iloc[0])
    assert log["row"].tolist() == [1, 3, 3, 4]

    first = load_datashop(f, multi_kc="first", verbose=False)
    assert first["skill_id"].tolist() == ["add", "add", "mul"]
    assert first["opportunity"].tolist() == [1, 2, 1]
    assert first.attrs["load_report"].notes == (
        "1 multi-KC steps kept with their first KC (multi_kc='first')",
    )
    dropped = load_datashop(f, multi_kc="drop", verbose=False)
    assert dropped.attrs["load_report"].dropped == {
        "empty KC(Default)": 1,
        "multi-KC step (multi_kc='drop')": 1,
    }
    # The same export as comma-separated CSV gives the same log.
    comma = write(tmp_path / "steps.csv", DATASHOP.replace("\t", ","))
    pd.testing.assert_frame_equal(load_datashop(comma, verbose=False), log)


def test_load_csv_mapping(tmp_path: Path):
    f = write(
        tmp_path / "mine.csv",
        "who;kc;t;right;medium;extra\nann;add;0;1;video;a\nann;add;1;0;text;b\n"
        "ann;add;1;1;text;c\nbob;add;0;;hands_on;d\n",
    )
    mapping = {
        "who": "student_id",
        "kc": "skill_id",
        "t": "order",
        "right": "correct",
        "medium": "activity",
    }
    log = load_csv(f, mapping, sep=";", verbose=False)
    assert str(log.attrs["load_report"]) == (
        "csv: read 4 rows, kept 3; dropped 1 (duplicate (student, skill, order))"
    )
    assert log.columns.tolist() == [
        "student_id",
        "skill_id",
        "order",
        "correct",
        "activity",
        "extra",
    ]
    assert log["correct"].tolist()[:2] == [1, 0]
    assert pd.isna(log["correct"].iloc[2])  # an unscored activity row is kept

    out = write(tmp_path / "out.csv", "kid,grp,post\n1,video,0.5\n2,text,0.75\n2,text,0.8\n")
    table = load_csv(
        out,
        {"kid": "student_id", "grp": "arm", "post": "posttest"},
        table="outcomes",
        verbose=False,
    )
    assert table["posttest"].tolist() == [0.5, 0.75]
    assert table.attrs["load_report"].dropped == {"duplicate student_id": 1}


def oulad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "oulad"
    folder.mkdir()
    write(
        folder / "studentVle.csv",
        "code_module,code_presentation,id_student,id_site,date,sum_click\n"
        "AAA,2013J,1,11,5,2\n"
        "AAA,2013J,1,10,5,1\n"
        "AAA,2013J,1,10,-2,4\n"
        "AAA,2013J,1,10,5,3\n"  # repeats (student, date, site) of line 3: kept after it
        "AAA,2014J,1,10,0,1\n"  # the same student retaking AAA: another enrolment
        "BBB,2013B,2,20,1,1\n"
        "BBB,2013B,2,99,1,1\n",  # site missing from vle.csv
    )
    write(
        folder / "vle.csv",
        '"id_site","code_module","code_presentation","activity_type","week_from","week_to"\n'
        '"10","AAA","2013J","resource","",""\n"11","AAA","2013J","quiz","",""\n'
        '"20","BBB","2013B","forumng","",""\n',
    )
    write(
        folder / "studentInfo.csv",
        "code_module,code_presentation,id_student,gender,region,highest_education,imd_band,"
        "age_band,num_of_prev_attempts,studied_credits,disability,final_result\n"
        "AAA,2013J,1,M,Scotland,HE Qualification,?,35-55,0,60,N,Fail\n"
        "AAA,2014J,1,M,Scotland,HE Qualification,10-20,35-55,1,60,N,Distinction\n"
        "BBB,2013B,2,F,Wales,A Level or Equivalent,20-30%,0-35,0,120,Y,Withdrawn\n",
    )
    write(
        folder / "studentRegistration.csv",
        "code_module,code_presentation,id_student,date_registration,date_unregistration\n"
        "AAA,2013J,1,-10,\nAAA,2014J,1,-20,\nBBB,2013B,2,-5,30\n",
    )
    write(
        folder / "assessments.csv",
        "code_module,code_presentation,id_assessment,assessment_type,date,weight\n"
        "AAA,2013J,1,TMA,19,10\nAAA,2013J,2,Exam,,100\nAAA,2014J,3,TMA,19,10\n",
    )
    write(
        folder / "studentAssessment.csv",
        "id_assessment,id_student,date_submitted,is_banked,score\n"
        "1,1,18,0,60\n2,1,250,0,80\n3,1,18,1,\n",
    )
    return folder


def test_oulad_activity_log(tmp_path: Path):
    folder = oulad_folder(tmp_path)
    log = load_oulad(folder, verbose=False)
    report = log.attrs["load_report"]
    assert str(report) == "oulad: read 7 rows, kept 6; dropped 1 (id_site not in vle.csv)"
    assert report.notes == (
        "1 rows repeat the (student, date, id_site) of an earlier row, as in the source; "
        "all kept, in file order",
    )
    aaa = log[log["student_id"] == "1:AAA-2013J"]
    assert aaa["order"].tolist() == [0, 1, 2, 3]
    assert aaa["date"].tolist() == [-2, 5, 5, 5]
    assert aaa["id_site"].tolist() == [10, 10, 10, 11]
    assert aaa["sum_click"].tolist() == [4, 1, 3, 2]
    assert aaa["activity"].tolist() == ["resource", "resource", "resource", "quiz"]
    assert set(log["student_id"]) == {"1:AAA-2013J", "1:AAA-2014J", "2:BBB-2013B"}
    assert log["correct"].isna().all() and log["chosen"].all()
    assert (log["skill_id"] == log["student_id"].str[2:5]).all()

    only = load_oulad(folder / "studentVle.csv", presentations=["AAA 2014J"], verbose=False)
    assert only.attrs["load_report"].dropped == {"presentation not requested": 6}


def test_oulad_outcomes(tmp_path: Path):
    out = load_oulad_outcomes(oulad_folder(tmp_path), verbose=False).set_index("student_id")
    assert out.index.tolist() == ["1:AAA-2013J", "1:AAA-2014J", "2:BBB-2013B"]
    assert out["completed"].tolist() == [False, True, False]
    assert out["dropped_out"].tolist() == [False, False, True]
    assert out.loc["1:AAA-2013J", "assessment_score"] == pytest.approx(0.7)
    assert out.loc["1:AAA-2013J", "exam_score"] == pytest.approx(0.8)
    assert out["n_assessments"].tolist() == [2, 0, 0]
    assert pd.isna(out.loc["1:AAA-2014J", "assessment_score"])  # its only score is missing
    assert pd.isna(out.loc["1:AAA-2013J", "imd_band"])  # "?" means missing
    assert out.loc["2:BBB-2013B", "date_unregistration"] == 30
    assert out["class_id"].tolist() == ["AAA-2013J", "AAA-2014J", "BBB-2013B"]


def test_ab_test_mapping_and_logs(tmp_path: Path):
    write(
        tmp_path / "abTestExample.csv",
        "user_id,student_prior_average_correctness,video,completion\n"
        "1,0.5,TRUE,1\n2,0.25,FALSE,0\n3,0.75,FALSE,1\n",
    )
    write(tmp_path / "rctLogData.csv", "user_id,nprior\n1,5\n2,3\n")
    out = load_ab_video_vs_text(tmp_path, with_logs=True, verbose=False)
    assert out["arm"].tolist() == ["video", "text", "text"]
    assert out["completed"].tolist() == [True, False, True]
    assert out["student_id"].tolist() == [1, 2, 3]
    assert out["nprior"].tolist()[:2] == [5, 3]
    assert out.attrs["load_report"].notes == (
        "1 students have no row in rctLogData.csv; their log features are missing",
    )


def test_report_is_a_frozen_dataclass_that_checks_its_books():
    report = LoadReport("x", None, 10, 7, {"a": 2, "b": 1})
    assert str(report) == "x: read 10 rows, kept 7; dropped 3 (2 a; 1 b)"
    with pytest.raises(AttributeError):
        report.rows_kept = 3
    with pytest.raises(ValueError, match="x: row accounting does not balance: read 10, dropped"):
        LoadReport("x", None, 10, 8, {"a": 1})
    split = LoadReport("y", None, 5, 6, {"empty": 1}, {"split": 2})
    assert str(split) == "y: read 5 rows, kept 6; dropped 1 (empty); added 2 (split)"


def test_verbose_false_prints_nothing_but_logs(tmp_path: Path, capsys, caplog):
    f = write(tmp_path / "interactions.csv", PROCESSED + "1,0,5,1,Area,1\n")
    with caplog.at_level(logging.INFO, logger="edstudy.datasets"):
        load_assistments2009(f, verbose=False)
    assert capsys.readouterr().out == ""
    assert caplog.messages == ["assistments2009: read 1 rows, kept 1; dropped 0"]


def test_original_assistments_file_in_latin1(tmp_path: Path):
    """The public ASSISTments CSVs are Latin-1, not UTF-8."""
    f = tmp_path / "skill_builder_data.csv"
    f.write_bytes((RAW_HEADER + raw_row(1, 2, 10, 1, 1, 5, "Équations")).encode("latin-1"))
    log = load_assistments2009(f, verbose=False)
    assert log["skill_id"].tolist() == ["Équations"]
