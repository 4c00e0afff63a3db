"""The teacher dashboard: mastery heatmap, flagged students, next activities, class summary.

:func:`teacher_dashboard` builds a :class:`TeacherDashboard` from a response log and a fitted BKT
model. All numbers come from :func:`edstudy.monitor.class_snapshot` and the heatmap from
:func:`edstudy.plots.mastery_heatmap`; this module only lays them out and reacts to the controls,
whose values make the :class:`edstudy.monitor.MonitorSettings` of each snapshot. New responses
arrive three ways: :meth:`TeacherDashboard.append` (from code), the "Add responses (CSV)" upload,
and the "Next responses" button when a source of responses is given (e.g.
:class:`edstudy.monitor.ResponseReplay` over a simulated course, so a demo shows the class moving
on). Each arrival recomputes the snapshot: filtering a class with the fitted model takes
milliseconds, so nothing is updated incrementally.

Every rendered piece is also a plain attribute (``snapshot``, ``flag_count_text``,
``flag_table_html``, ``summary_text``, ``student_html``, ``heatmap_png``) and the figure is
available as :meth:`TeacherDashboard.heatmap_figure`, so tests need no browser.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from edstudy.monitor import FLAGS, ClassSnapshot, MonitorSettings, append_responses, class_snapshot
from edstudy.plots import mastery_heatmap
from edstudy.schema import validate_log
from edstudy.widgets.base import ErrorBox, ProgressBar, html_table, show_figure, styled

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from edstudy.sim.curriculum import Curriculum

__all__ = ["ALL_STUDENTS", "TeacherDashboard", "teacher_dashboard"]

#: Value of the student dropdown when no single student is selected.
ALL_STUDENTS = "(all students)"

_STYLE = """<style>
.edstudy-dashboard table.edstudy-table {border-collapse: collapse; font-size: 12px; margin: 2px 0;}
.edstudy-dashboard table.edstudy-table th {background: #f2f2f2; text-align: left;
  padding: 2px 8px; border-bottom: 1px solid #bbb;}
.edstudy-dashboard table.edstudy-table td {padding: 2px 8px; border-bottom: 1px solid #e5e5e5;
  vertical-align: top;}
.edstudy-dashboard .edstudy-flag-count {font-size: 15px; font-weight: 600; margin: 4px 0;}
.edstudy-dashboard h4 {margin: 8px 0 2px 0;}
.edstudy-dashboard .widget-html-content {line-height: 1.35;}
.edstudy-dashboard .edstudy-student ul {margin: 2px 0; padding-left: 18px;}
</style>"""

_FIG_WIDTH_IN = 7.5  # heatmap width in inches
_FIG_DPI = 80

_FLAG_LABEL = {"stuck": "stuck", "off_pace": "off pace", "disengaged": "disengaged"}


class TeacherDashboard:
    """State and widgets of one teacher dashboard; build it with :func:`teacher_dashboard`.

    Attributes
    ----------
    widget : VBox
        What to display (CSS class ``edstudy-dashboard``).
    threshold : FloatSlider
        Mastery threshold (P(mastered) at which a skill counts as mastered).
    stuck_after : IntSlider
        Tries on a skill without mastery after which a student is flagged as stuck.
    settings : MonitorSettings
        The thresholds of the next snapshot: those given at construction with the two sliders'
        values (read-only; move the sliders to change it).
    student : Dropdown
        :data:`ALL_STUDENTS` or one student id: filters the tables, frames the student in the
        heatmap and fills the student panel.
    skill_filter : SelectMultiple
        Skills shown in the heatmap, the summary and the stuck flags.
    next_button : Button
        Appends the next responses from ``next_responses`` (hidden when there is none).
    upload : FileUpload
        A CSV of new responses to append.
    progress : ProgressBar
    errors : ErrorBox
    log : DataFrame
        The responses so far (validated).
    snapshot : ClassSnapshot or None
        The current state; None when the last computation failed (see ``errors.message``).
    heatmap_png : bytes
        The heatmap as shown.
    """

    def __init__(
        self,
        log: pd.DataFrame,
        model: Any,
        curriculum: Curriculum | None = None,
        *,
        next_responses: Callable[[], pd.DataFrame] | None = None,
        settings: MonitorSettings | None = None,
        title: str = "Teacher dashboard",
        next_label: str = "Next responses",
    ) -> None:
        if settings is None:
            settings = MonitorSettings()
        elif not isinstance(settings, MonitorSettings):
            raise TypeError(f"settings must be a MonitorSettings, got {type(settings).__name__}")
        self.model = model
        self.curriculum = curriculum
        self.log = log
        self.snapshot: ClassSnapshot | None = None
        self.heatmap_png = b""
        self._next = next_responses
        self._settings = settings
        self._quiet = False

        self.progress = ProgressBar("Updating")
        self.errors = ErrorBox()
        thr, stuck = settings.mastery_threshold, settings.stuck_after
        self.threshold = styled(
            widgets.FloatSlider(
                value=thr if 0.5 <= thr <= 0.99 else 0.95,
                min=0.5,
                max=0.99,
                step=0.01,
                description="Mastery at",
                readout_format=".2f",
                continuous_update=False,
                style={"description_width": "initial"},
            ),
            "edstudy-threshold",
        )
        self.stuck_after = styled(
            widgets.IntSlider(
                value=stuck if 3 <= stuck <= 30 else 10,
                min=3,
                max=30,
                step=1,
                description="Stuck after (tries)",
                continuous_update=False,
                style={"description_width": "initial"},
            ),
            "edstudy-stuck-after",
        )
        self.student = styled(
            widgets.Dropdown(
                options=[("All students", ALL_STUDENTS)], value=ALL_STUDENTS, description="Student"
            ),
            "edstudy-student-select",
        )
        self.skill_filter = styled(
            widgets.SelectMultiple(options=[], rows=6, description="Skills"),
            "edstudy-skill-filter",
        )
        self.next_button = styled(
            widgets.Button(
                description=next_label,
                icon="forward",
                tooltip="Append the next responses of every student and update",
                layout=widgets.Layout(
                    width="auto", display="none" if next_responses is None else "flex"
                ),
            ),
            "edstudy-next",
        )
        self.upload = styled(
            widgets.FileUpload(
                accept=".csv",
                multiple=False,
                description="Add responses (CSV)",
                layout=widgets.Layout(width="auto"),
            ),
            "edstudy-upload",
        )
        self.status = styled(widgets.Label(""), "edstudy-status")
        self.flag_count = styled(widgets.HTML(""), "edstudy-flag-count")
        self.summary_html = styled(widgets.HTML(""), "edstudy-summary")
        self.flags_html = styled(widgets.HTML(""), "edstudy-flags")
        self.recommendations_html = styled(widgets.HTML(""), "edstudy-recommendations")
        self.student_panel = styled(widgets.HTML(""), "edstudy-student")
        self.notes_html = styled(widgets.HTML(""), "edstudy-notes")
        self.heatmap = styled(widgets.Output(), "edstudy-heatmap")

        controls = widgets.HBox([self.threshold, self.stuck_after, self.student])
        updates = widgets.HBox([self.next_button, self.upload, self.status])
        # an Output sized by its content grows without bound in Voila: give it the figure's width
        self.heatmap.layout = widgets.Layout(
            width=f"{int(_FIG_WIDTH_IN * _FIG_DPI) + 20}px", flex="0 0 auto"
        )
        side = widgets.VBox(
            [self.skill_filter, self.student_panel],
            layout=widgets.Layout(flex="1 1 auto", padding="0 0 0 16px", overflow="auto"),
        )
        self.widget = styled(
            widgets.VBox(
                [
                    widgets.HTML(f"{_STYLE}<h3>{html.escape(title)}</h3>"),
                    controls,
                    updates,
                    self.progress.widget,
                    self.errors.widget,
                    self.flag_count,
                    widgets.HBox([self.heatmap, side]),
                    widgets.HTML("<h4>Flagged students</h4>"),
                    self.flags_html,
                    widgets.HTML("<h4>Recommended next activity</h4>"),
                    self.recommendations_html,
                    self.summary_html,
                    self.notes_html,
                ],
                layout=widgets.Layout(max_width="1300px"),
            ),
            "edstudy-dashboard",
        )

        self.threshold.observe(self._on_settings, names="value")
        self.stuck_after.observe(self._on_settings, names="value")
        self.student.observe(self._on_view, names="value")
        self.skill_filter.observe(self._on_view, names="value")
        self.next_button.on_click(lambda _b: self.next_responses())
        self.upload.observe(self._on_upload, names="value")

        with self.errors.catch("Could not show the class"):
            self.log = validate_log(log)
        if not self.errors.message:
            self.refresh()

    # ------------------------------------------------------------------ plain state
    @property
    def settings(self) -> MonitorSettings:
        """The thresholds of the next snapshot: the given settings with the sliders' values."""
        return self._settings.with_changes(
            mastery_threshold=float(self.threshold.value),
            stuck_after=int(self.stuck_after.value),
        )

    @property
    def flag_count_text(self) -> str:
        """The flag count line as shown, without markup."""
        return self.snapshot.summary.flag_text() if self.snapshot is not None else ""

    @property
    def summary_text(self) -> str:
        """The class summary sentence as shown."""
        return self.snapshot.summary.text() if self.snapshot is not None else ""

    @property
    def flag_table_html(self) -> str:
        """HTML of the flag table as shown (filtered by student and skills)."""
        return self.flags_html.value

    @property
    def student_html(self) -> str:
        """HTML of the student panel ("" when no student is selected)."""
        return self.student_panel.value

    @property
    def selected_skills(self) -> list:
        """Skills shown (all when the filter is empty)."""
        chosen = list(self.skill_filter.value)
        return chosen or list(self.skill_filter.options)

    def visible_flags(self) -> pd.DataFrame:
        """The flag rows the table shows: the selected student, stuck only on shown skills."""
        if self.snapshot is None:
            return pd.DataFrame(columns=["student_id", "flag", "skill_id", "reason"])
        f = self.snapshot.flags
        if self.student.value != ALL_STUDENTS:
            f = f[f["student_id"] == self.student.value]
        shown = set(self.selected_skills)
        keep = f["skill_id"].isna() | f["skill_id"].isin(shown)
        return f[keep.to_numpy(dtype=bool)].reset_index(drop=True)

    def visible_recommendations(self) -> pd.DataFrame:
        """The recommendation rows the table shows (one student, or all)."""
        if self.snapshot is None:
            return pd.DataFrame(columns=["student_id", "skill_id", "activity", "reason"])
        r = self.snapshot.recommendations
        if self.student.value != ALL_STUDENTS:
            r = r[r["student_id"] == self.student.value]
        return r.reset_index(drop=True)

    def heatmap_figure(self) -> Figure:
        """The heatmap of the current state (shown skills, selected student framed)."""
        if self.snapshot is None:
            raise ValueError("nothing to draw: the class could not be computed")
        return mastery_heatmap(
            self.snapshot,
            skills=self.selected_skills,
            highlight=None if self.student.value == ALL_STUDENTS else self.student.value,
            width=_FIG_WIDTH_IN,
        )

    # ------------------------------------------------------------------ actions
    def refresh(self) -> None:
        """Recompute the snapshot from the log and the controls, and redraw everything."""
        with (
            self.errors.catch("Could not update the dashboard"),
            self.progress.task(3, "Updating") as bar,
        ):
            bar.step("mastery and flags")
            self.snapshot = None
            self.snapshot = class_snapshot(
                self.log, self.model, curriculum=self.curriculum, settings=self.settings
            )
            bar.step("tables")
            self._sync_choices()
            self._render_text()
            bar.step("heatmap")
            self._render_heatmap()
        if self.snapshot is None:
            self.flag_count.value = ""

    def append(self, new_rows: pd.DataFrame) -> bool:
        """Append new responses and update; on bad input show why and keep the old state.

        Returns
        -------
        bool
            True when the rows were appended.
        """
        ok = False
        with self.errors.catch("Could not add the responses"):
            if new_rows is None or len(new_rows) == 0:
                raise ValueError("there are no new responses to add")
            self.log = append_responses(self.log, new_rows)
            ok = True
        if ok:
            self.refresh()
        return ok

    def next_responses(self) -> bool:
        """Fetch the next responses from the source given at construction and append them."""
        if self._next is None:
            self.errors.show("this dashboard has no source of new responses")
            return False
        with self.errors.catch("Could not fetch new responses"), self.progress.task(1, "Fetching"):
            rows = self._next()
        if self.errors.message:
            return False
        if rows is None or len(rows) == 0:
            self.next_button.disabled = True
            self.status.value = f"{len(self.log)} responses; no more new responses"
            return False
        return self.append(rows)

    def add_csv(self, content: bytes, name: str = "upload.csv") -> bool:
        """Read a CSV of new responses (as uploaded) and append it."""
        with self.errors.catch(f"Could not read {name}"):
            rows = pd.read_csv(io.BytesIO(bytes(content)))
        if self.errors.message:
            return False
        ok = self.append(rows)
        if not ok and self.errors.message and name not in self.errors.message:
            self.errors.show(f"{name}: {self.errors.message}", "Could not add the responses")
        return ok

    # ------------------------------------------------------------------ callbacks
    def _on_settings(self, _change: Mapping[str, Any]) -> None:
        if not self._quiet:
            self.refresh()

    def _on_view(self, _change: Mapping[str, Any]) -> None:
        if self._quiet or self.snapshot is None:
            return
        with self.errors.catch("Could not update the view"):
            self._render_text()
            self._render_heatmap()

    def _on_upload(self, change: Mapping[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        for f in files:
            self.add_csv(f["content"], f.get("name", "upload.csv"))
        self._quiet = True
        try:
            self.upload.value = ()
        finally:
            self._quiet = False

    # ------------------------------------------------------------------ rendering
    def _sync_choices(self) -> None:
        """Students and skills of the snapshot as the dropdown / filter options."""
        snap = self.snapshot
        assert snap is not None
        flagged: dict = {}
        for sid, f in zip(snap.flags["student_id"], snap.flags["flag"], strict=True):
            flagged.setdefault(sid, [])
            if _FLAG_LABEL[f] not in flagged[sid]:
                flagged[sid].append(_FLAG_LABEL[f])
        options = [("All students", ALL_STUDENTS)] + [
            (f"{sid} ({', '.join(flagged[sid])})" if sid in flagged else str(sid), sid)
            for sid in snap.students
        ]
        self._quiet = True
        try:
            keep = self.student.value if self.student.value in snap.students else ALL_STUDENTS
            self.student.options = options
            self.student.value = keep
            skills = tuple(snap.skills)
            if tuple(self.skill_filter.options) != skills:
                chosen = [s for s in self.skill_filter.value if s in skills]
                self.skill_filter.options = skills
                self.skill_filter.value = tuple(chosen)
        finally:
            self._quiet = False

    def _render_text(self) -> None:
        snap = self.snapshot
        assert snap is not None
        s = snap.summary
        counts = " &middot; ".join(
            f'<span class="edstudy-count-{f}">{s.flag_counts[f]} {_FLAG_LABEL[f]}</span>'
            for f in FLAGS
        )
        self.flag_count.value = (
            f'<span class="edstudy-n-flagged">{s.n_flagged}</span> of {s.n_students} students '
            f"flagged: {counts}"
        )
        self.status.value = f"{s.n_responses} responses from {s.n_students} students"
        table = s.table(2).loc[self.selected_skills].reset_index()
        table.columns = [
            "skill",
            "mean P(mastered)",
            "% mastered",
            "students practised",
            "tries per student",
        ]
        self.summary_html.value = (
            f"<h4>Class summary</h4><p>{html.escape(s.text())}</p>"
            + html_table(table, formatters={"% mastered": "{:.0f}".format})
        )
        flags = self.visible_flags().rename(columns={"student_id": "student", "skill_id": "skill"})
        flags["flag"] = flags["flag"].map(_FLAG_LABEL)
        who = (
            "no student is flagged"
            if self.student.value == ALL_STUDENTS
            else (f"student {self.student.value} has no flags")
        )
        if list(self.skill_filter.value):
            who += " on the skills shown"
        self.flags_html.value = html_table(flags, empty=who)
        recs = self.visible_recommendations().rename(
            columns={"student_id": "student", "skill_id": "next skill"}
        )
        self.recommendations_html.value = html_table(recs, empty="no recommendation")
        self.student_panel.value = self._student_html()
        self.notes_html.value = (
            "<small>" + "<br>".join(html.escape(n) for n in snap.notes) + "</small>"
            if snap.notes
            else ""
        )

    def _student_html(self) -> str:
        snap = self.snapshot
        sid = self.student.value
        if snap is None or sid == ALL_STUDENTS:
            return ""
        thr = snap.settings.mastery_threshold
        m, t = snap.mastery.loc[sid], snap.tries.loc[sid]
        rows = pd.DataFrame(
            {
                "skill": list(m.index),
                "P(mastered)": [f"{v:.2f}" for v in m.to_numpy()],
                "tries": t.to_numpy(),
                "mastered": ["yes" if v >= thr else "" for v in m.to_numpy()],
            }
        )
        rows = rows[rows["skill"].isin(self.selected_skills).to_numpy()]
        rec = snap.recommendation(sid)
        flags = snap.student_flags(sid)
        flag_lines = "".join(
            f"<li><b>{_FLAG_LABEL[f]}</b>: {html.escape(r)}</li>"
            for f, r in zip(flags["flag"], flags["reason"], strict=True)
        )
        next_line = (
            f"<b>Next:</b> {html.escape(str(rec['activity']))} on "
            f"{html.escape(str(rec['skill_id']))} &ndash; {html.escape(rec['reason'])}"
            if rec["skill_id"] is not None
            else f"<b>Next:</b> {html.escape(rec['reason'])}"
        )
        return (
            f"<h4>Student {html.escape(str(sid))}</h4>"
            + (f"<ul>{flag_lines}</ul>" if flag_lines else "<p>No flags.</p>")
            + f"<p>{next_line}</p>"
            + html_table(rows)
        )

    def _render_heatmap(self) -> None:
        fig = self.heatmap_figure()
        self.heatmap_png = show_figure(self.heatmap, fig, dpi=_FIG_DPI)


def teacher_dashboard(
    log: pd.DataFrame,
    model: Any,
    curriculum: Curriculum | None = None,
    *,
    next_responses: Callable[[], pd.DataFrame] | None = None,
    settings: MonitorSettings | None = None,
    title: str = "Teacher dashboard",
    next_label: str = "Next responses",
) -> TeacherDashboard:
    """Build the teacher dashboard for a class.

    Parameters
    ----------
    log : DataFrame
        The class's responses so far (a response log); not modified. An invalid log is reported in
        the dashboard's error box rather than raised.
    model : BKT
        A fitted :class:`edstudy.bkt.BKT` (e.g. fitted on last year's classes).
    curriculum : Curriculum, optional
        Skill order, prerequisites, media and remediation for the recommendations.
    next_responses : callable returning a DataFrame, optional
        Source of new responses for the "Next responses" button, e.g.
        ``ResponseReplay(simulated_log).next``; an empty frame means none are left.
    settings : MonitorSettings, optional
        The thresholds of the snapshots (default ``MonitorSettings()``). Its
        ``mastery_threshold`` and ``stuck_after`` are the sliders' initial values (a value
        outside the sliders' ranges, 0.5 to 0.99 and 3 to 30, starts them at 0.95 and 10); the
        other fields stay as given.
    title : str
        Heading of the dashboard.
    next_label : str
        Text of the "Next responses" button.

    Returns
    -------
    TeacherDashboard
        Display ``dash.widget``; the controls and rendered state are its attributes.

    Raises
    ------
    TypeError
        When ``settings`` is not a :class:`~edstudy.monitor.MonitorSettings`.
    """
    return TeacherDashboard(
        log,
        model,
        curriculum,
        next_responses=next_responses,
        settings=settings,
        title=title,
        next_label=next_label,
    )
