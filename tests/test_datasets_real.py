"""Every shared real dataset loads with the row counts of its SOURCE.md, all drops reported.

Skipped, with the reason, when ``../shared/data/real`` (or ``$EDSTUDY_SHARED_DATA``) is absent.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from edstudy.datasets import (
    LoadReport,
    load_ab_video_vs_text,
    load_assistments2009,
    load_assistments2017,
    load_datashop,
    load_oulad,
    load_oulad_outcomes,
    load_pybkt_example,
)
from edstudy.schema import validate_log, validate_outcomes

pytestmark = pytest.mark.shared_data

AS_2SKILLS = "pybkt_examples/as_assistments2009_2skills.csv.gz"
CT_11 = "pybkt_examples/ct_cognitive_tutor_algebra_11students.csv.gz"


def check_report(
    df: pd.DataFrame, source: str, read: int, dropped: dict, added: dict | None = None
):
    report = df.attrs["load_report"]
    assert isinstance(report, LoadReport)
    assert report.source == source
    assert report.rows_read == read
    assert report.dropped == dropped
    assert report.added == (added or {})
    assert report.rows_kept == len(df)
    assert report.rows_kept + sum(report.dropped.values()) - sum(report.added.values()) == read
    return report


def test_assistments2009_processed_keeps_every_row(real_data: Path, capsys):
    log = load_assistments2009(real_data / "assistments2009_skillbuilder" / "interactions.csv.gz")
    report = check_report(log, "assistments2009", 325_637, {})
    assert str(report) == "assistments2009: read 325,637 rows, kept 325,637; dropped 0"
    assert report.notes == (
        "24 attempts start where a skill repeats within consecutive rows on the same problem "
        "(the problem shown again, not a duplicate): rows kept as new attempts",
    )
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == str(report)
    # The published statistics of the processed copy.
    assert log["student_id"].nunique() == 4_151
    assert log["item_id"].nunique() == 16_891
    assert log["skill_id"].nunique() == 110
    assert round(float(log["correct"].mean()), 3) == 0.658
    # A multi-skill problem is one attempt: its rows share one order.
    first = log[log["student_id"] == 14].head(2)
    assert first["item_id"].tolist() == [93383, 93383]
    assert first["skill_id"].tolist() == ["Circle Graph", "Percent Of"]
    assert first["order"].tolist() == [0, 0]
    validate_log(log)  # the returned table is a valid response log


def test_assistments2009_collapsed_merges_multiskill_rows(real_data: Path):
    log = load_assistments2009(
        real_data / "assistments2009_skillbuilder", collapse_multiskill=True, verbose=False
    )
    report = check_report(
        log,
        "assistments2009",
        325_637,
        {"merged into one row per multi-skill attempt (collapse_multiskill=True)": 51_047},
    )
    assert report.rows_kept == 274_590
    assert not log.duplicated(["student_id", "order"]).any()
    assert (log.loc[log["skill_id"].str.contains("~~"), "skill_id"] != "").all()
    assert "Circle Graph~~Percent Of" in set(log["skill_id"])


def test_assistments2009_found_without_a_path(real_data: Path, monkeypatch):
    monkeypatch.setenv("EDSTUDY_SHARED_DATA", str(real_data))
    log = load_assistments2009(verbose=False)
    assert log.attrs["load_report"].path == real_data / "assistments2009_skillbuilder" / (
        "interactions.csv.gz"
    )


def test_pybkt_assistments_example_matches_the_processed_copy(real_data: Path):
    raw = load_pybkt_example(real_data / AS_2SKILLS, verbose=False)
    report = check_report(raw, "pybkt_example", 10_791, {})
    assert str(report) == "pybkt_example: read 10,791 rows, kept 10,791; dropped 0"
    assert raw["student_id"].nunique() == 902
    assert set(raw["skill_id"]) == {"Box and Whisker", "Table"}
    assert {"class_id", "school_id", "hints", "duration_s", "order_id"} <= set(raw.columns)
    # SOURCE.md: restricted to these two skills, both files give the same sequences.
    processed = load_assistments2009(real_data / "assistments2009_skillbuilder", verbose=False)
    processed = processed[processed["skill_id"].isin(["Box and Whisker", "Table"])]
    key = ["student_id", "skill_id", "order"]
    a = raw.sort_values(key)[["student_id", "skill_id", "item_id", "correct"]]
    b = processed.sort_values(key)[["student_id", "skill_id", "item_id", "correct"]]
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_pybkt_examples_by_short_name(real_data: Path, monkeypatch):
    monkeypatch.setenv("EDSTUDY_SHARED_DATA", str(real_data))
    assert len(load_pybkt_example("as", verbose=False)) == 10_791
    assert len(load_pybkt_example("ct", verbose=False)) == 15_007


def test_datashop_cognitive_tutor_example(real_data: Path):
    log = load_datashop(real_data / CT_11, verbose=False)
    report = check_report(
        log,
        "datashop",
        18_220,
        {"empty KC(Default)": 3_519},
        {"multi-KC steps split into one row per KC": 306},
    )
    assert str(report) == (
        "datashop: read 18,220 rows, kept 15,007; dropped 3,519 (empty KC(Default)); "
        "added 306 (multi-KC steps split into one row per KC)"
    )
    assert log["student_id"].nunique() == 11
    assert log["timestamp"].notna().all()
    # The pyBKT loader reads the same file the same way.
    same = load_pybkt_example(real_data / CT_11, verbose=False)
    pd.testing.assert_frame_equal(log, same)
    first = load_datashop(real_data / CT_11, multi_kc="first", verbose=False)
    assert len(first) == 14_701
    dropped = load_datashop(real_data / CT_11, multi_kc="drop", verbose=False)
    check_report(
        dropped,
        "datashop",
        18_220,
        {"empty KC(Default)": 3_519, "multi-KC step (multi_kc='drop')": 293},
    )


def test_assistments2017_drops_and_counts_noskill(real_data: Path):
    log = load_assistments2017(real_data / "assistments2017" / "interactions.csv.gz", verbose=False)
    report = check_report(log, "assistments2017", 941_502, {"skill tag 'noskill'": 78_035})
    assert str(report) == (
        "assistments2017: read 941,502 rows, kept 863,467; dropped 78,035 (skill tag 'noskill')"
    )
    assert "noskill" not in set(log["skill_id"])
    assert log["skill_id"].nunique() == 101
    assert log["correct"].notna().all()


def test_assistments2017_can_keep_noskill(real_data: Path):
    log = load_assistments2017(real_data / "assistments2017", drop_noskill=False, verbose=False)
    check_report(log, "assistments2017", 941_502, {})
    assert log["student_id"].nunique() == 1_705
    assert log["item_id"].nunique() == 3_162
    assert (log["skill_id"] == "noskill").sum() == 78_035
    assert round(float(log["correct"].mean()), 3) == 0.373


def test_oulad_clicks_as_activity_log(real_data: Path):
    log = load_oulad(real_data / "oulad", verbose=False)
    report = check_report(log, "oulad", 753_564, {})
    assert str(report) == "oulad: read 753,564 rows, kept 753,564; dropped 0"
    assert log["correct"].isna().all()
    assert log["chosen"].all()
    assert log["activity"].nunique() <= 20
    # SOURCE.md's table, per presentation: students with clicks and total clicks.
    by = log.groupby(log["skill_id"] + "-" + log["code_presentation"])
    assert by["sum_click"].sum().to_dict() == {
        "AAA-2013J": 648_494,
        "AAA-2014J": 598_158,
        "BBB-2013B": 1_347_911,
    }
    assert by["student_id"].nunique().to_dict() == {
        "AAA-2013J": 378,
        "AAA-2014J": 357,
        "BBB-2013B": 1_537,
    }
    # A student who took AAA twice has two enrolments, each with its own timeline.
    twice = log.groupby("id_student")["code_presentation"].nunique()
    assert (twice > 1).sum() == 33
    student = twice[twice > 1].index[0]
    assert log.loc[log["id_student"] == student, "student_id"].nunique() == 2
    # order follows (date, id_site) within an enrolment.
    one = log[log["student_id"] == log["student_id"].iloc[0]].sort_values("order")
    assert one[["date", "id_site"]].apply(tuple, axis=1).is_monotonic_increasing


def test_oulad_presentations_filter(real_data: Path):
    log = load_oulad(real_data / "oulad", presentations=["AAA-2013J"], verbose=False)
    report = check_report(log, "oulad", 753_564, {"presentation not requested": 572_582})
    assert report.rows_kept == 180_982
    with pytest.raises(ValueError, match=r"presentations: 'CCC-2014B' not in .*; it has: "):
        load_oulad(real_data / "oulad", presentations=[("CCC", "2014B")], verbose=False)


def test_oulad_outcomes_one_row_per_enrolment(real_data: Path):
    out = load_oulad_outcomes(real_data / "oulad", verbose=False)
    report = check_report(out, "oulad_outcomes", 32_593, {})
    assert str(report) == "oulad_outcomes: read 32,593 rows, kept 32,593; dropped 0"
    assert out["student_id"].is_unique
    assert out["id_student"].nunique() == 28_785
    assert out["final_result"].value_counts().to_dict() == {
        "Pass": 12_361,
        "Withdrawn": 10_156,
        "Fail": 7_052,
        "Distinction": 3_024,
    }
    assert int(out["completed"].sum()) == 12_361 + 3_024
    assert int(out["dropped_out"].sum()) == 10_156
    scores = out["assessment_score"].dropna()
    assert ((scores >= 0) & (scores <= 1)).all()
    first = out.set_index("student_id").loc["11391:AAA-2013J"]
    assert first["final_result"] == "Pass"
    assert first["class_id"] == "AAA-2013J"
    assert first["gender"] == "M"
    validate_outcomes(out)


def test_ab_video_vs_text(real_data: Path):
    out = load_ab_video_vs_text(real_data / "assistments_ab_video_vs_text", verbose=False)
    report = check_report(out, "ab_video_vs_text", 683, {})
    assert str(report) == "ab_video_vs_text: read 683 rows, kept 683; dropped 0"
    assert out["arm"].value_counts().to_dict() == {"text": 346, "video": 337}
    rates = out.groupby("arm")["completed"].mean().round(3).to_dict()
    assert rates == {"text": 0.558, "video": 0.608}
    assert sum(c.startswith("student_prior_") for c in out.columns) == 9
    assert out.notna().all().all()
    logs = load_ab_video_vs_text(
        real_data / "assistments_ab_video_vs_text" / "abTestExample.csv.gz",
        with_logs=True,
        verbose=False,
    )
    assert logs.shape == (683, 3 + 9 + 209)
    assert {"nprior", "hasPrior5", "session_count_raw_1"} <= set(logs.columns)


def test_pinned_checksums_match_the_staged_bytes(real_data: Path, tmp_path: Path):
    """The SHA-256s in SOURCES are those of the upstream files, rebuilt from the staged copies.

    abTestExample/rctLogData were re-compressed unchanged; as.csv had its unnamed index column
    named ``source_row``; ct.csv was tab-separated, without a final newline.
    """
    import csv
    import hashlib

    from edstudy.datasets import SOURCES

    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    folder = real_data / "assistments_ab_video_vs_text"
    for key, name in (
        ("ab_video_vs_text", "abTestExample"),
        ("ab_video_vs_text_logs", "rctLogData"),
    ):
        data = gzip.open(folder / f"{name}.csv.gz").read()
        assert sha(data) == SOURCES[key].download.sha256
    as_bytes = gzip.open(real_data / AS_2SKILLS).read()
    assert as_bytes.startswith(b"source_row,")
    upstream_as = as_bytes[len(b"source_row") :]
    assert sha(upstream_as) == SOURCES["pybkt_as"].download.sha256
    with gzip.open(real_data / CT_11, "rt", newline="") as handle:
        rows = list(csv.reader(handle))
    upstream_ct = "\n".join("\t".join(r) for r in rows).encode()
    assert sha(upstream_ct) == SOURCES["pybkt_ct"].download.sha256

    # The upstream layouts load like the staged ones.
    (tmp_path / "as.csv").write_bytes(upstream_as)
    (tmp_path / "ct.csv").write_bytes(upstream_ct)
    as_log = load_pybkt_example(tmp_path / "as.csv", verbose=False)
    assert len(as_log) == 10_791
    ct_log = load_datashop(tmp_path / "ct.csv", verbose=False)
    staged = load_datashop(real_data / CT_11, verbose=False)
    pd.testing.assert_frame_equal(ct_log, staged)
