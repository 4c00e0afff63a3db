"""The teacher dashboard driven without a browser: set controls, read the rendered state."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from test_monitor import CURRICULUM, PARAMS, hand_log  # noqa: E402 (tests/ is on sys.path)

from edstudy.bkt import BKT  # noqa: E402
from edstudy.monitor import MonitorSettings, ResponseReplay  # noqa: E402
from edstudy.plots import figure_png  # noqa: E402
from edstudy.widgets import (  # noqa: E402
    ALL_STUDENTS,
    ErrorBox,
    ProgressBar,
    teacher_dashboard,
)

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def model() -> BKT:
    return BKT.from_params(PARAMS)


@pytest.fixture
def dash(model):
    return teacher_dashboard(hand_log(), model, CURRICULUM, settings=MonitorSettings(min_tries=5))


def test_initial_render(dash):
    assert dash.errors.message == ""
    assert "edstudy-dashboard" in dash.widget._dom_classes
    assert dash.flag_count_text == "3 of 5 students flagged: 1 stuck, 2 off pace, 2 disengaged"
    assert '<span class="edstudy-n-flagged">3</span> of 5 students' in dash.flag_count.value
    assert "12 tries on 'a' without reaching 0.95 (now 0.68)" in dash.flag_table_html
    assert dash.heatmap_png.startswith(PNG)
    assert dash.heatmap.outputs[0]["data"]["image/png"]
    assert dash.student.options[0] == ("All students", ALL_STUDENTS)
    assert ("bob (stuck, off pace)", "bob") in dash.student.options
    assert dash.skill_filter.options == ("a", "b", "c")
    assert dash.status.value == "42 responses from 5 students"
    assert dash.next_button.layout.display == "none"  # no source of responses given
    assert not dash.progress.visible and not dash.errors.widget.layout.display == "block"


def test_threshold_slider_changes_flags_and_summary(dash):
    before = dash.summary_text
    png = dash.heatmap_png
    dash.threshold.value = 0.6
    assert dash.snapshot.settings == MonitorSettings(mastery_threshold=0.6, min_tries=5)
    assert dash.settings == dash.snapshot.settings
    assert dash.snapshot.flagged("stuck") == set()
    assert dash.flag_count_text == "2 of 5 students flagged: 0 stuck, 1 off pace, 2 disengaged"
    assert dash.summary_text != before and "mastered at 0.60" in dash.summary_text
    assert "without reaching" not in dash.flag_table_html
    assert dash.heatmap_png != png


def test_stuck_slider(dash):
    dash.stuck_after.value = 13
    assert dash.snapshot.settings.stuck_after == 13
    assert dash.snapshot.settings.min_tries == 5  # the other settings stay as given
    assert dash.snapshot.flagged("stuck") == set()
    dash.stuck_after.value = 12
    assert dash.snapshot.flagged("stuck") == {"bob"}


def test_settings_start_the_sliders(model):
    given = MonitorSettings(mastery_threshold=0.8, stuck_after=12, error_streak=7)
    dash = teacher_dashboard(hand_log(), model, CURRICULUM, settings=given)
    assert (dash.threshold.value, dash.stuck_after.value) == (0.8, 12)
    assert dash.snapshot.settings == given
    # outside the sliders' ranges: the sliders start at the defaults
    wide = teacher_dashboard(
        hand_log(), model, settings=MonitorSettings(mastery_threshold=0.3, stuck_after=2)
    )
    assert (wide.threshold.value, wide.stuck_after.value) == (0.95, 10)
    with pytest.raises(TypeError, match="settings must be a MonitorSettings, got dict"):
        teacher_dashboard(hand_log(), model, settings={"min_tries": 5})  # type: ignore[arg-type]


def test_student_and_skill_filter(dash):
    dash.student.value = "bob"
    assert dash.student_html.startswith("<h4>Student bob</h4>")
    assert "worked_example on a" in dash.student_html
    assert set(dash.visible_flags()["student_id"]) == {"bob"}
    assert dash.visible_recommendations()["student_id"].tolist() == ["bob"]
    assert "<td>cat</td>" not in dash.flag_table_html
    dash.skill_filter.value = ("b",)
    assert dash.selected_skills == ["b"]
    # bob's stuck flag is on a: hidden; his off-pace flag is about him, kept
    assert dash.visible_flags()["flag"].tolist() == ["off_pace"]
    assert "<td>a</td>" not in dash.summary_html.value
    fig = dash.heatmap_figure()
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["b"]
    dash.student.value = ALL_STUDENTS
    assert dash.student_html == ""
    assert len(dash.visible_recommendations()) == 5


def test_next_responses_button_appends_and_updates(model):
    full = hand_log()
    replay = ResponseReplay(full, start=2, step=5)
    dash = teacher_dashboard(replay.initial, model, CURRICULUM, next_responses=replay.next)
    assert dash.next_button.layout.display == "flex"
    assert dash.snapshot.summary.n_responses == 10
    seen = []
    dash.progress.bar.observe(lambda ch: seen.append(ch["new"]), names="value")
    dash.next_button.click()
    # five more each for ann, bob and dan, the last three of cat, none left for eve
    assert dash.snapshot.summary.n_responses == 10 + 5 + 5 + 3 + 5 + 0
    assert dash.status.value == "28 responses from 5 students"
    assert 3 in seen  # the update ran under the progress bar (3 steps)
    while dash.next_responses():
        pass
    assert dash.snapshot.summary.n_responses == len(full)
    assert dash.next_button.disabled
    assert dash.status.value == "42 responses; no more new responses"
    assert dash.flag_count_text.startswith("3 of 5 students flagged")


def test_bad_appended_rows_show_a_readable_message(dash):
    snap = dash.snapshot
    ok = dash.append(
        pd.DataFrame({"student_id": ["eve"], "skill_id": ["a"], "order": [7], "correct": [3]})
    )
    assert not ok
    assert dash.errors.widget.layout.display == "block"
    assert dash.errors.message == (
        "response log failed validation with 1 problem(s):\n"
        "  - correct must be 0 or 1: 1 row, first at index 0 (value 3)"
    )
    assert "Traceback" not in dash.errors.widget.value
    assert "Could not add the responses" in dash.errors.widget.value
    assert dash.snapshot is snap  # the previous state stays on screen
    assert dash.append(
        pd.DataFrame({"student_id": ["eve"], "skill_id": ["a"], "order": [7], "correct": [1]})
    )
    assert dash.errors.message == "" and dash.errors.widget.layout.display == "none"
    assert dash.snapshot.summary.n_responses == 43


def test_uploaded_csv(dash):
    def upload(name, content):
        dash.upload.value = (
            {
                "name": name,
                "type": "text/csv",
                "size": len(content),
                "content": memoryview(content),
                "last_modified": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            },
        )

    upload("bad.csv", b"student_id,skill_id,order\neve,a,9\n")
    assert dash.errors.message == (
        "bad.csv: response log failed validation with 1 problem(s):\n"
        "  - missing required column 'correct'"
    )
    assert dash.upload.value == ()
    upload("good.csv", b"student_id,skill_id,order,correct\neve,a,9,1\nfay,b,0,0\n")
    assert dash.errors.message == ""
    assert dash.snapshot.summary.n_students == 6
    assert ("fay", "fay") in dash.student.options


def test_bad_input_at_construction_is_shown_not_raised(model):
    bad = hand_log().drop(columns="order")
    dash = teacher_dashboard(bad, model)
    assert dash.snapshot is None
    assert "missing required column 'order'" in dash.errors.message
    assert dash.flag_count_text == ""
    unfitted = teacher_dashboard(hand_log(), BKT())
    assert unfitted.snapshot is None
    assert unfitted.errors.message.startswith("this BKT instance is not fitted yet")
    with pytest.raises(ValueError, match="nothing to draw"):
        unfitted.heatmap_figure()


def test_progress_bar_and_error_box():
    bar = ProgressBar("Fitting")
    with bar.task(4, "Fitting BKT") as p:
        assert bar.visible and bar.bar.max == 4 and bar.bar.description == "Fitting BKT"
        p.step("skill 1")
        assert bar.bar.value == 1 and bar.label.value == "skill 1"
    assert not bar.visible
    assert list(bar.iterate([1, 2, 3])) == [1, 2, 3] and bar.bar.value == 3

    box = ErrorBox()
    with box.catch("Could not load"):
        raise KeyError("student 'x' is not in the log")
    assert box.message == "student 'x' is not in the log"
    with box.catch():
        raise RuntimeError("boom")
    assert box.message == "unexpected RuntimeError: boom"
    with box.catch():
        pass
    assert box.message == "" and box.last_exception is None


def test_figure_png():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1])
    assert figure_png(fig).startswith(PNG)


def test_models_do_not_import_ipywidgets():
    code = (
        "import sys; import edstudy.bkt, edstudy.sim, edstudy.monitor; "
        "bad = [m for m in ('ipywidgets', 'IPython', 'matplotlib', 'edstudy.plots') "
        "if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
