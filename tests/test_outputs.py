"""Outputs never destroy a user's files and never look complete when they are not.

Study results are written to a temporary sibling and moved into place with a manifest written
last; readers check the manifest; the same seed writes the same bytes; an interrupted run leaves
the old result untouched or nothing.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from edstudy._output import (
    MANIFEST,
    OutputError,
    ResultError,
    interrupts_latched,
    read_manifest,
    result_folder,
)
from edstudy.cli import main
from edstudy.experiment import StudyResult
from edstudy.sim import data_path

TINY = (
    "name: tiny\n"
    "seed: 3\n"
    "design: {n_students: 60, randomization: student}\n"
    "arms:\n  - {name: one_size, strategy: one_size}\n"
    "  - {name: individualized, strategy: individualized}\n"
)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (hidden ones too) with the SHA-256 of its bytes."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def test_a_folder_of_user_files_is_refused_and_left_as_it_was(tmp_path, tiny, capsys):
    out = tmp_path / "my_work"
    out.mkdir()
    (out / "outcomes.csv").write_text("my,own,data\n1,2,3\n")
    (out / "summary.md").write_text("# my notes\n")
    before = snapshot(tmp_path)
    assert main(["run", str(tiny), "--out", str(out), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out} is not empty and is not an edstudy result")
    assert "outcomes.csv, summary.md" in err and "never overwrites files it did not write" in err
    assert "Traceback" not in err
    assert snapshot(tmp_path) == before  # nothing written, nothing left behind


def test_an_earlier_result_is_replaced_only_when_asked(tmp_path, tiny, capsys):
    out = tmp_path / "results"
    assert main(["run", str(tiny), "--out", str(out)]) == 0
    first = snapshot(out)
    assert main(["run", str(tiny), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out} holds an earlier edstudy study result (contrasts.csv, log.csv.gz" in err
    assert "pass --overwrite" in err
    assert snapshot(out) == first
    assert main(["run", str(tiny), "--out", str(out), "--overwrite"]) == 0
    again = snapshot(out)
    assert again.pop(MANIFEST) != first.pop(MANIFEST)  # it records the command, --overwrite too
    assert again == first  # same seed: same bytes
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no debris


def test_overwrite_never_deletes_a_file_the_user_added(tmp_path, tiny, capsys):
    out = tmp_path / "results"
    assert main(["run", str(tiny), "--out", str(out)]) == 0
    (out / "notes.txt").write_text("keep me")
    assert main(["run", str(tiny), "--out", str(out), "--overwrite"]) == 2
    assert "files not written by edstudy: notes.txt" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "keep me"


def test_an_unwritable_place_is_refused_before_anything_runs(tmp_path, tiny, capsys, monkeypatch):
    import edstudy.experiment.runner as runner

    def never(*args, **kwargs):
        raise AssertionError("the study ran although its results could not be written")

    monkeypatch.setattr(runner, "run_study", never)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert main(["run", str(tiny), "--out", str(blocker / "out")]) == 2
    assert "cannot write results next to" in capsys.readouterr().err
    assert main(["run", str(tiny), "--out", str(blocker)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_readers_refuse_incomplete_or_changed_results(tmp_path, tiny):
    out = tmp_path / "results"
    assert main(["run", str(tiny), "--out", str(out)]) == 0
    assert StudyResult.load(out).outcomes.shape[0] == 60
    log = out / "log.csv.gz"
    data = log.read_bytes()
    log.write_bytes(data[: len(data) // 25])  # what an interrupted writer leaves
    with pytest.raises(ResultError, match=r"log.csv.gz differs from what edstudy wrote"):
        StudyResult.load(out)
    log.write_bytes(data)
    (out / "outcomes.csv").unlink()
    with pytest.raises(ResultError, match=r"outcomes.csv is listed in manifest.json but missing"):
        StudyResult.load(out)
    (out / MANIFEST).unlink()
    with pytest.raises(ResultError, match=r"no manifest.json, so this is not a complete"):
        StudyResult.load(out)
    with pytest.raises(ResultError, match="no such result folder"):
        read_manifest(tmp_path / "nowhere")


def test_an_exception_while_writing_leaves_nothing(tmp_path):
    out = tmp_path / "results"
    with pytest.raises(RuntimeError), result_folder(out, kind="study") as tmp:
        (tmp / "half.csv").write_text("a,b\n")
        raise RuntimeError("crash while writing")
    assert list(tmp_path.iterdir()) == []


def test_result_kinds_are_not_mixed_up(tmp_path):
    with result_folder(tmp_path / "r", kind="trial") as tmp:
        (tmp / "effects.csv").write_text("x\n1\n")
    with pytest.raises(ResultError, match="holds a 'trial' result, not a 'study' result"):
        StudyResult.load(tmp_path / "r")
    with pytest.raises(OutputError, match="holds an earlier edstudy trial result"):
        with result_folder(tmp_path / "r", kind="trial"):
            pass


def test_two_runs_of_the_default_study_write_the_same_bytes(tmp_path):
    study = str(data_path("default_study.yaml"))
    assert main(["run", study, "--out", str(tmp_path / "a")]) == 0
    assert main(["run", study, "--out", str(tmp_path / "b")]) == 0
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert set(a) == {
        "study.yaml",
        "outcomes.csv",
        "log.csv.gz",
        "summary.csv",
        "contrasts.csv",
        "summary.md",
        MANIFEST,
    }
    assert a == b


def test_parquet_results_are_byte_identical_and_checked(tmp_path, tiny):
    for name in ("a", "b"):
        assert main(["run", str(tiny), "--out", str(tmp_path / name), "--format", "parquet"]) == 0
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert a == b
    assert {"outcomes.parquet/part-000000.parquet", "log.parquet/part-000001.parquet"} <= set(a)
    assert set(a) == set(read_manifest(tmp_path / "a", kind="study")["files"]) | {MANIFEST}
    back = StudyResult.load(tmp_path / "a")
    log = back.read_log()
    assert back.log is None and len(log) == sum(len(p) for p in back.iter_log())
    picked = back.read_log(columns=["arm", "correct"], filters=[("arm", "==", "one_size")])
    assert list(picked.columns) == ["arm", "correct"] and set(picked["arm"]) == {"one_size"}
    lazy = back.log_dataset()
    assert lazy.npartitions == 2 and len(lazy) == len(log)
    csv = tmp_path / "csv"
    assert main(["run", str(tiny), "--out", str(csv)]) == 0
    pd.testing.assert_frame_equal(
        back.summary(), StudyResult.load(csv).summary(), check_exact=True, check_dtype=False
    )
    # a result in a folder saved elsewhere: its parts are copied as they are
    assert len(back.outcomes) == 60  # read (and kept) on first use
    for name in ("c", "d"):
        back.save(tmp_path / name, format="parquet")
    assert snapshot(tmp_path / "c") == snapshot(tmp_path / "d")
    for table in ("outcomes", "log"):
        assert (tmp_path / "c" / f"{table}.parquet").is_dir()
    # an in-memory result saved as Parquet: single files, the same bytes twice
    mem = StudyResult(study=back.study, outcomes=back.outcomes, log=back.read_log())
    mem.save(tmp_path / "e", format="parquet")
    mem.save(tmp_path / "f", format="parquet")
    assert snapshot(tmp_path / "e") == snapshot(tmp_path / "f")
    pd.testing.assert_frame_equal(StudyResult.load(tmp_path / "e", log=True).log, mem.log)
    part = tmp_path / "a" / "log.parquet" / "part-000001.parquet"
    part.write_bytes(part.read_bytes()[:-9])
    with pytest.raises(ResultError, match=r"log.parquet/part-000001.parquet differs"):
        StudyResult.load(tmp_path / "a")


def _default_sigint() -> None:
    """Ctrl-C as in a terminal: a test run started in the background inherits SIGINT ignored,
    and Python keeps an ignored SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_part_folder(parent: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if any(p.name.startswith(".results.part-") for p in parent.iterdir()):
            return
        if proc.poll() is not None:
            pytest.fail(f"edstudy run ended early: {proc.stderr.read()}")
        time.sleep(0.05)
    pytest.fail("edstudy run never started writing")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_killing_a_running_study_leaves_the_old_result_untouched(tmp_path, tiny, sig):
    out = tmp_path / "results"
    assert main(["run", str(tiny), "--out", str(out)]) == 0
    old = snapshot(out)
    big = tmp_path / "big.yaml"
    big.write_text(TINY.replace("n_students: 60", "n_students: 40000"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "edstudy.cli", "run", str(big), "--out", str(out), "--overwrite"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=_default_sigint,
    )
    _wait_for_part_folder(tmp_path, proc)
    time.sleep(0.5)  # simulating now; the log is written at the end
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert snapshot(out) == old  # the old result, untouched and complete
    read_manifest(out, kind="study")
    if sig == signal.SIGINT:
        assert "interrupted: nothing was written" in proc.stderr.read()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["big.yaml", "results", "tiny.yaml"]
    else:  # a hard kill cannot clean up: the partial folder stays hidden, and no reader takes it
        part = next(p for p in tmp_path.iterdir() if p.name.startswith(".results.part-"))
        with pytest.raises(ResultError, match="no manifest.json"):
            read_manifest(part)


def test_a_fresh_folder_killed_mid_run_is_absent(tmp_path, tiny):
    out = tmp_path / "results"
    big = tmp_path / "big.yaml"
    big.write_text(TINY.replace("n_students: 60", "n_students: 40000"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "edstudy.cli", "run", str(big), "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    _wait_for_part_folder(tmp_path, proc)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert not out.exists()
    assert pd.Series([p.name for p in tmp_path.iterdir()]).isin(["big.yaml", "tiny.yaml"]).all()


def test_a_ctrl_c_swallowed_by_a_callback_still_stops_the_result_from_appearing(tmp_path, request):
    """numba's cache loading runs Python callbacks from compiled code; a KeyboardInterrupt raised
    there is printed as "Exception ignored" and lost. The latch remembers it."""
    out = tmp_path / "results"
    # Python's own handler, as in a fresh process (an earlier test may have installed another)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    with pytest.raises(KeyboardInterrupt), interrupts_latched():
        with result_folder(out, kind="study") as tmp:
            (tmp / "outcomes.csv").write_text("a\n1\n")
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                pass  # what the callback does with it
            (tmp / "log.csv").write_text("b\n2\n")  # the run carries on to the end
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with result_folder(out, kind="study") as tmp:  # the latch is not left set
        (tmp / "outcomes.csv").write_text("a\n1\n")
    assert read_manifest(out, kind="study")["kind"] == "study"
