"""Finding data (explicit path, shared folder, cache) and downloading it with a SHA-256 check.

The network is not used: downloads come from ``file://`` URLs patched into ``SOURCES``.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import logging
import zipfile
from pathlib import Path

import platformdirs
import pytest

from edstudy.datasets import (
    SOURCES,
    ChecksumError,
    DataNotFoundError,
    load_ab_video_vs_text,
    load_assistments2009,
    load_assistments2017,
    load_oulad,
    load_oulad_outcomes,
)
from edstudy.datasets._locate import cache_dir, shared_data_dirs
from edstudy.datasets.sources import RemoteFile

ROOT = Path(__file__).resolve().parents[1]
AB = "user_id,video,completion\n1,TRUE,1\n2,FALSE,0\n"


@pytest.fixture
def empty_places(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """Point the shared folder and the cache at empty folders of tmp_path."""
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    monkeypatch.setenv("EDSTUDY_SHARED_DATA", str(shared))
    monkeypatch.setenv("EDSTUDY_DATA", str(cache))
    return shared, cache


def serve(monkeypatch, key: str, source: Path, sha256: str | None, filename: str, members=()):
    remote = RemoteFile(url=source.as_uri(), filename=filename, sha256=sha256, members=members)
    monkeypatch.setitem(SOURCES, key, dataclasses.replace(SOURCES[key], download=remote))
    return remote


def test_not_found_says_where_it_looked_and_how_to_get_it(empty_places):
    shared, cache = empty_places
    with pytest.raises(DataNotFoundError) as err:
        load_assistments2017()
    assert str(err.value) == (
        "assistments2017: no copy found. Looked for interactions.csv.gz, interactions.csv in:\n"
        f"  - {shared / 'assistments2017'} (EDSTUDY_SHARED_DATA)\n"
        f"  - {cache / 'assistments2017'} (EDSTUDY_DATA)\n"
        f"To get it: {SOURCES['assistments2017'].how_to_get}."
    )


def test_no_stable_download_for_assistments2009(empty_places):
    with pytest.raises(DataNotFoundError) as err:
        load_assistments2009(download=True)
    assert str(err.value) == (
        "assistments2009: no stable download exists; download the skill-builder CSV (the "
        "corrected file) from https://sites.google.com/site/assistmentsdata/home/"
        "assistment-2009-2010-data/skill-builder-data-2009-2010 and pass path=; the processed "
        "copy assistments2009_skillbuilder/interactions.csv.gz of the shared data also loads"
    )


def test_default_places(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("EDSTUDY_SHARED_DATA", raising=False)
    monkeypatch.delenv("EDSTUDY_DATA", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    dirs = shared_data_dirs()
    assert dirs[0] == ROOT.parent / "shared" / "data" / "real"  # beside this checkout
    assert dirs[-1] == tmp_path / "shared" / "data" / "real"  # beside the working directory
    assert cache_dir() == Path(platformdirs.user_cache_dir("edstudy"))


def test_shared_folder_is_searched_before_the_cache(empty_places):
    shared, cache = empty_places
    for root in (shared, cache):
        (root / "assistments_ab_video_vs_text").mkdir(parents=True)
        (root / "assistments_ab_video_vs_text" / "abTestExample.csv").write_text(AB)
    out = load_ab_video_vs_text(verbose=False)
    assert out.attrs["load_report"].path == shared / "assistments_ab_video_vs_text" / (
        "abTestExample.csv"
    )


def test_download_checks_the_sha256_and_caches(empty_places, monkeypatch, tmp_path: Path):
    _, cache = empty_places
    source = tmp_path / "upstream.csv"
    source.write_text(AB)
    digest = hashlib.sha256(AB.encode()).hexdigest()
    serve(monkeypatch, "ab_video_vs_text", source, digest, "abTestExample.csv")

    out = load_ab_video_vs_text(download=True, verbose=False)
    cached = cache / "assistments_ab_video_vs_text" / "abTestExample.csv"
    assert out.attrs["load_report"].path == cached
    assert cached.read_text() == AB
    assert (cached.parent / "abTestExample.csv.sha256").read_text() == (
        f"{digest}  abTestExample.csv\n"
    )
    assert not list(cached.parent.glob("*.part"))
    source.unlink()  # the next load is served from the cache
    assert load_ab_video_vs_text(verbose=False).attrs["load_report"].path == cached


def test_a_corrupt_cache_entry_is_removed_reported_and_never_reused(
    empty_places, monkeypatch, tmp_path: Path, caplog
):
    _, cache = empty_places
    source = tmp_path / "upstream.csv"
    source.write_text(AB)
    digest = hashlib.sha256(AB.encode()).hexdigest()
    serve(monkeypatch, "ab_video_vs_text", source, digest, "abTestExample.csv")
    load_ab_video_vs_text(download=True, verbose=False)
    cached = cache / "assistments_ab_video_vs_text" / "abTestExample.csv"
    cached.write_text(AB[:20])  # damaged on disk after it was stored
    source.unlink()  # and no download to repair it
    with caplog.at_level(logging.WARNING, logger="edstudy.datasets"):
        with pytest.raises(DataNotFoundError, match="no copy found"):
            load_ab_video_vs_text(verbose=False)
    assert f"the cached {cached} is corrupt" in caplog.text
    assert not cached.exists() and not cached.with_name("abTestExample.csv.sha256").exists()
    source.write_text(AB)  # with the source back, the next load downloads a good copy
    out = load_ab_video_vs_text(download=True, verbose=False)
    assert cached.read_text() == AB and len(out) == 2


def test_checksum_mismatch_discards_the_download(empty_places, monkeypatch, tmp_path: Path):
    _, cache = empty_places
    source = tmp_path / "upstream.csv"
    source.write_text(AB)
    remote = serve(monkeypatch, "ab_video_vs_text", source, "0" * 64, "abTestExample.csv")
    with pytest.raises(ChecksumError) as err:
        load_ab_video_vs_text(download=True)
    got = hashlib.sha256(AB.encode()).hexdigest()
    assert str(err.value) == (
        f"{remote.url}: SHA-256 mismatch: expected {'0' * 64}, got {got}; "
        "the download was discarded"
    )
    assert list((cache / "assistments_ab_video_vs_text").iterdir()) == []


def test_unreachable_url(empty_places, monkeypatch, tmp_path: Path):
    remote = serve(monkeypatch, "ab_video_vs_text", tmp_path / "gone.csv", None, "ab.csv")
    with pytest.raises(
        DataNotFoundError, match=f"ab_video_vs_text: could not download {remote.url}"
    ):
        load_ab_video_vs_text(download=True)


OULAD_FILES = {
    "studentVle.csv": "code_module,code_presentation,id_student,id_site,date,sum_click\n"
    "AAA,2013J,1,10,0,2\nAAA,2013J,1,10,1,1\n",
    "vle.csv": "id_site,code_module,code_presentation,activity_type,week_from,week_to\n"
    "10,AAA,2013J,resource,,\n",
    "studentInfo.csv": "code_module,code_presentation,id_student,gender,region,highest_education,"
    "imd_band,age_band,num_of_prev_attempts,studied_credits,disability,final_result\n"
    "AAA,2013J,1,F,Wales,HE Qualification,0-10%,0-35,0,60,N,Pass\n",
    "studentRegistration.csv": "code_module,code_presentation,id_student,date_registration,"
    "date_unregistration\nAAA,2013J,1,-3,\n",
    "assessments.csv": "code_module,code_presentation,id_assessment,assessment_type,date,weight\n"
    "AAA,2013J,1,TMA,19,10\n",
    "studentAssessment.csv": "id_assessment,id_student,date_submitted,is_banked,score\n"
    "1,1,18,0,90\n",
    "courses.csv": "code_module,code_presentation,module_presentation_length\nAAA,2013J,268\n",
}


def test_zip_download_unpacks_the_named_members(empty_places, monkeypatch, tmp_path, caplog):
    _, cache = empty_places
    archive = tmp_path / "anonymisedData.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in OULAD_FILES.items():
            zf.writestr(f"anonymisedData/{name}", text)
        zf.writestr("anonymisedData/readme.txt", "not extracted")
    serve(
        monkeypatch,
        "oulad",
        archive,
        None,
        "anonymisedData.zip",
        members=tuple(OULAD_FILES),
    )
    with caplog.at_level(logging.WARNING, logger="edstudy.datasets"):
        log = load_oulad(download=True, verbose=False)
    assert any("has no published SHA-256" in m for m in caplog.messages)
    assert len(log) == 2
    assert log.attrs["load_report"].path == cache / "oulad" / "studentVle.csv"
    assert not (cache / "oulad" / "readme.txt").exists()
    outcomes = load_oulad_outcomes(verbose=False)  # from the cache now
    assert outcomes["assessment_score"].tolist() == [0.9]


def test_zip_without_a_member(empty_places, monkeypatch, tmp_path: Path):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("studentInfo.csv", OULAD_FILES["studentInfo.csv"])
    serve(monkeypatch, "oulad", archive, None, "bad.zip", members=("studentInfo.csv", "vle.csv"))
    with pytest.raises(DataNotFoundError, match=r"bad.zip: the archive lacks vle.csv; it has: "):
        load_oulad(download=True, verbose=False)


def test_a_loaded_table_is_cached_as_parquet_and_checked(tmp_path, monkeypatch, caplog, real_data):
    import pandas as pd

    from edstudy.datasets import load_pybkt_example

    monkeypatch.setenv("EDSTUDY_DATA", str(tmp_path / "cache"))
    shared = real_data / "pybkt_examples"
    source = tmp_path / "as.csv.gz"
    source.write_bytes((shared / "as_assistments2009_2skills.csv.gz").read_bytes())
    first = load_pybkt_example(source, verbose=False)
    tables = tmp_path / "cache" / "tables"
    stored = sorted(tables.glob("*.parquet"))
    assert len(stored) == 1
    again = load_pybkt_example(source, verbose=False)  # from the cache
    pd.testing.assert_frame_equal(first, again)
    assert again.attrs["load_report"] == first.attrs["load_report"]

    stored[0].write_bytes(stored[0].read_bytes()[:100])  # damaged after it was stored
    with caplog.at_level(logging.WARNING, logger="edstudy.datasets"):
        third = load_pybkt_example(source, verbose=False)
    assert "is corrupt" in caplog.text and "it was removed" in caplog.text
    pd.testing.assert_frame_equal(first, third)  # parsed again, and stored again
    assert len(list(tables.glob("*.parquet"))) == 1

    source.write_bytes(gzip.compress(gzip.decompress(source.read_bytes())[:-200] + b"\n"))
    changed = load_pybkt_example(source, verbose=False)  # another file: another table
    assert len(changed) < len(first)
    assert len(list(tables.glob("*.parquet"))) == 2
