"""The state of a class now: mastery per student and skill, flags, next steps and a summary.

:func:`class_snapshot` computes a :class:`ClassSnapshot` from a response log and a fitted
:class:`edstudy.bkt.BKT` model, with the thresholds of a
:class:`~edstudy.monitor.settings.MonitorSettings`; the flags come from
:mod:`edstudy.monitor.flags` and the recommendations from :mod:`edstudy.monitor.recommendations`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edstudy._format import markdown_table
from edstudy.monitor._common import ids, sort_key
from edstudy.monitor.flags import disengaged_flags, flag_table, off_pace_flags, stuck_flags
from edstudy.monitor.recommendations import recommendations
from edstudy.monitor.settings import FLAGS, MonitorSettings
from edstudy.schema import validate_log

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from edstudy.sim.curriculum import Curriculum

__all__ = ["ClassSnapshot", "ClassSummary", "class_snapshot"]


@dataclass(frozen=True, eq=False)
class ClassSummary:
    """Class-level numbers of a :class:`ClassSnapshot`.

    Attributes
    ----------
    n_students : int
        Students in the log.
    n_responses : int
        Rows of the log (scored or not).
    mastery_threshold : float
        P(mastered) at or above which a skill counts as mastered.
    skills : DataFrame
        One row per skill (index ``skill_id``, in display order): ``mean_mastery`` (mean current
        P(mastered) over students, unpractised skills at their prior), ``pct_mastered`` (share of
        students at or above the threshold, 0..100), ``n_practised`` (students with at least one
        scored try) and ``mean_tries`` (scored tries per student).
    flag_counts : dict
        ``{flag: number of students with that flag}`` for every flag in :data:`FLAGS`.
    n_flagged : int
        Students with at least one flag.
    """

    n_students: int
    n_responses: int
    mastery_threshold: float
    skills: pd.DataFrame
    flag_counts: Mapping[str, int]
    n_flagged: int

    @property
    def mean_mastery(self) -> float:
        """Mean P(mastered) over every student and skill."""
        return float(self.skills["mean_mastery"].mean()) if len(self.skills) else float("nan")

    @property
    def pct_mastered(self) -> float:
        """Share (0..100) of student x skill cells at or above the threshold."""
        return float(self.skills["pct_mastered"].mean()) if len(self.skills) else float("nan")

    def table(self, decimals: int = 2) -> pd.DataFrame:
        """The per-skill table, rounded for display (a copy)."""
        return self.skills.round(decimals)

    def flag_text(self) -> str:
        """One line such as ``"5 of 30 students flagged: 3 stuck, 1 off pace, 2 disengaged"``."""
        parts = ", ".join(f"{self.flag_counts[f]} {f.replace('_', ' ')}" for f in FLAGS)
        return f"{self.n_flagged} of {self.n_students} students flagged: {parts}"

    def text(self) -> str:
        """A short plain-text summary (used by the dashboard header and the reports)."""
        return (
            f"{self.n_students} students, {self.n_responses} responses; mean mastery "
            f"{self.mean_mastery:.2f}, {self.pct_mastered:.0f}% of skills mastered at "
            f"{self.mastery_threshold:.2f}. {self.flag_text()}."
        )


@dataclass(frozen=True, eq=False)
class ClassSnapshot:
    """The state of a class computed by :func:`class_snapshot`.

    Attributes
    ----------
    mastery : DataFrame, shape (n_students, n_skills)
        Current P(mastered) (before each student's next try), index ``student_id``, columns
        ``skill_id`` in display order (curriculum order when a curriculum was given). Skills a
        student never practised hold the model's prior.
    tries : DataFrame, same shape, int
        Scored tries per student and skill.
    flags : DataFrame
        Tidy, one row per flag: ``student_id, flag, skill_id, reason``. ``skill_id`` is missing
        (None) for flags about the student as a whole (``off_pace``, ``disengaged``).
    recommendations : DataFrame
        One row per student: ``student_id, skill_id, activity, reason``; ``skill_id`` and
        ``activity`` are None when every skill is mastered. A stuck student gets remediation on
        the stuck skill practised last; the others get the first unmastered skill in display
        order whose prerequisites are mastered (with a curriculum, a skill never practised but
        required by a practised, mastered skill counts as known: the student was placed out of
        it), in the medium where their answers beat the model's expectation most, else the medium
        they chose or used most.
    summary : ClassSummary
    settings : MonitorSettings
        The thresholds used.
    notes : tuple of str
        What the checks could and could not use (e.g. ``"duration_s not in the log: rapid
        responses not checked"``).

    Notes
    -----
    :meth:`to_frame` gives the tidy student x skill table, :meth:`to_markdown` the summary and the
    flags as text, :meth:`plot` the mastery heatmap.
    """

    mastery: pd.DataFrame
    tries: pd.DataFrame
    flags: pd.DataFrame
    recommendations: pd.DataFrame
    summary: ClassSummary
    settings: MonitorSettings
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def students(self) -> list:
        """Student ids, in table order."""
        return list(self.mastery.index)

    @property
    def skills(self) -> list:
        """Skill ids, in display order."""
        return list(self.mastery.columns)

    def flagged(self, flag: str | None = None) -> set:
        """Ids of the students with ``flag`` (any flag when None)."""
        if flag is not None and flag not in FLAGS:
            raise ValueError(f"unknown flag {flag!r}; allowed: {', '.join(FLAGS)}")
        f = self.flags if flag is None else self.flags[self.flags["flag"] == flag]
        return set(f["student_id"].tolist())

    def student_flags(self, student_id: Any) -> pd.DataFrame:
        """The flag rows of one student (a copy)."""
        self._check_student(student_id)
        return self.flags[self.flags["student_id"] == student_id].reset_index(drop=True)

    def recommendation(self, student_id: Any) -> dict[str, Any]:
        """The recommendation of one student as a dict ``skill_id, activity, reason``."""
        self._check_student(student_id)
        row = self.recommendations[self.recommendations["student_id"] == student_id].iloc[0]
        return {k: row[k] for k in ("skill_id", "activity", "reason")}

    def _check_student(self, student_id: Any) -> None:
        if student_id not in self.mastery.index:
            raise KeyError(f"student {student_id!r} is not in the log")

    def to_frame(self) -> pd.DataFrame:
        """The tidy mastery table: one row per student and skill (a new frame).

        Returns
        -------
        DataFrame
            ``student_id, skill_id, mastery, tries, mastered``: current P(mastered), scored
            tries, and whether ``mastery`` is at or above ``settings.mastery_threshold``. Rows in
            table order (students), then display order (skills); every student x skill pair is
            present, unpractised skills with their prior and 0 tries. The flags and the
            recommendations are already tidy: :attr:`flags`, :attr:`recommendations`.
        """
        students = np.repeat(np.asarray(self.mastery.index, dtype=object), self.mastery.shape[1])
        skills = np.tile(np.asarray(self.mastery.columns, dtype=object), self.mastery.shape[0])
        m = self.mastery.to_numpy(dtype=float).ravel()
        return pd.DataFrame(
            {
                "student_id": students,
                "skill_id": skills,
                "mastery": m,
                "tries": self.tries.to_numpy(dtype=np.int64).ravel(),
                "mastered": m >= self.settings.mastery_threshold,
            }
        )

    def to_markdown(self, digits: int = 2) -> str:
        """The summary sentence, the per-skill table, the flags with their reasons and the notes.

        Parameters
        ----------
        digits : int
            Decimals of the per-skill table.

        Returns
        -------
        str
            Markdown (GitHub tables).
        """
        skills = self.summary.table(digits).reset_index()
        skills.columns = [
            "skill",
            "mean P(mastered)",
            "% mastered",
            "students practised",
            "tries per student",
        ]
        lines = [self.summary.text(), "", "**Skills**", "", markdown_table(skills), ""]
        lines += ["**Flagged students**", ""]
        if self.flags.empty:
            lines.append("No student is flagged.")
        else:
            shown = self.flags.astype(object)
            lines.append(markdown_table(shown.where(shown.notna(), "")))
        if self.notes:
            lines += ["", *(f"- {n}" for n in self.notes)]
        return "\n".join(lines)

    def plot(
        self, *, skills: Iterable | None = None, highlight: Any | None = None, width: float = 7.5
    ) -> Figure:
        """The students x skills heatmap of P(mastered): :func:`edstudy.plots.mastery_heatmap`."""
        from edstudy.plots import mastery_heatmap  # matplotlib is heavy: load it when drawing

        return mastery_heatmap(self, skills=skills, highlight=highlight, width=width)


def _skill_order(model: Any, log: pd.DataFrame, curriculum: Curriculum | None) -> list:
    """Display order: curriculum order, then the model's skills, then any other log skill."""
    order: list = []
    seen: set = set()

    def add(items: Iterable) -> None:
        for s in items:
            if s not in seen:
                seen.add(s)
                order.append(s)

    if curriculum is not None:
        add(curriculum.skill_ids)
    params = getattr(model, "model_", None)
    if params is not None:
        add(params.skills)
    add(pd.unique(log["skill_id"].to_numpy(dtype=object)))
    return order


def _priors(
    model: Any, students: pd.Index, skills: list, curriculum: Curriculum | None
) -> pd.DataFrame:
    """P(mastered) before any try, per student and skill: the model's prior (with the student's
    effect for individualized models); skills the model does not know take the curriculum's tutor
    prior, else the mean prior of the model."""
    params = getattr(model, "model_", None)
    base: dict = {}
    if params is not None:
        base = dict(zip(params.skills, np.asarray(params.prior, dtype=float), strict=True))
    fallback = float(np.mean(list(base.values()))) if base else 0.0
    tutor = {}
    if curriculum is not None:
        tutor = {s.id: s.tutor_params[0] for s in curriculum.skills}
    col = np.array([base.get(s, tutor.get(s, fallback)) for s in skills], dtype=float)
    prior = np.tile(col, (len(students), 1))
    effects = None if params is None else getattr(params, "student_prior", None)
    if effects is not None and params.students is not None:
        eff_of = dict(zip(params.students, np.asarray(effects, dtype=float), strict=True))
        eff = np.array([eff_of.get(s, 0.0) for s in students], dtype=float)[:, None]
        p = np.clip(prior, 1e-12, 1 - 1e-12)
        prior = 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + eff)))
    return pd.DataFrame(prior, index=students, columns=pd.Index(skills, dtype=object))


def class_snapshot(
    log: pd.DataFrame,
    model: Any,
    *,
    curriculum: Curriculum | None = None,
    settings: MonitorSettings | None = None,
) -> ClassSnapshot:
    """Current mastery, flags, recommendations and summary of a class.

    Parameters
    ----------
    log : DataFrame
        Response log (``student_id, skill_id, order, correct`` and optionally ``activity,
        chosen, duration_s, hints``); validated, not modified. Unscored rows count as steps for
        mastery (they still teach) but not as tries.
    model : BKT
        A fitted :class:`edstudy.bkt.BKT` (or ``BKT.from_params``); its ``mastery(log)`` gives the
        filtered P(mastered) after every row and ``predict_proba(log)`` the expected answers used
        to compare media.
    curriculum : Curriculum, optional
        Gives the display order of the skills, their prerequisites (a recommended skill has all
        prerequisites mastered), the media and the remediation activity.
    settings : MonitorSettings, optional
        The thresholds of mastery, of the three flags and of the medium evidence (default
        ``MonitorSettings()``: mastery at 0.95, stuck after 10 tries ...).

    Returns
    -------
    ClassSnapshot

    Raises
    ------
    SchemaError
        When the log does not follow the schema.
    TypeError
        When ``settings`` is not a :class:`MonitorSettings`.
    ValueError
        For an unfitted model, or skills the model does not know (bad thresholds are refused
        when the :class:`MonitorSettings` is built).
    """
    if settings is None:
        settings = MonitorSettings()
    elif not isinstance(settings, MonitorSettings):
        raise TypeError(f"settings must be a MonitorSettings, got {type(settings).__name__}")
    thr = settings.mastery_threshold
    v = validate_log(log).reset_index(drop=True)
    p_after = np.asarray(model.mastery(v), dtype=float)

    students_raw = ids(v["student_id"])
    skills_raw = ids(v["skill_id"])
    scored = v["correct"].notna().to_numpy()
    rows = pd.DataFrame(
        {
            "student_id": students_raw,
            "skill_id": skills_raw,
            "order": v["order"].to_numpy(dtype=np.int64),
            "p": p_after,
            "scored": scored.astype(np.int64),
        }
    )
    skills = _skill_order(model, v, curriculum)
    students = pd.Index(
        sorted(pd.unique(students_raw), key=sort_key), dtype=object, name="student_id"
    )
    skill_index = pd.Index(skills, dtype=object, name="skill_id")

    rows = rows.sort_values(["student_id", "skill_id", "order"], kind="stable")
    g = rows.groupby(["student_id", "skill_id"], sort=False)
    last = g.tail(1).set_index(["student_id", "skill_id"])
    current = last["p"].unstack("skill_id")
    mastery = _priors(model, students, skills, curriculum)
    mastery.index.name, mastery.columns.name = "student_id", "skill_id"
    current = current.reindex(index=students, columns=skill_index)
    mastery = current.where(current.notna(), mastery).astype(float)
    mastery.index, mastery.columns = students, skill_index

    tries = (
        g["scored"].sum().unstack("skill_id").reindex(index=students, columns=skill_index).fillna(0)
    ).astype(np.int64)
    tries.index, tries.columns = students, skill_index
    last_order = (
        last["order"].unstack("skill_id").reindex(index=students, columns=skill_index).fillna(-1)
    )

    stuck = stuck_flags(mastery, tries, thr, settings.stuck_after)
    off = off_pace_flags(mastery, tries, thr, settings.off_pace_ratio, settings.min_tries)
    dis, notes = disengaged_flags(v, students, settings)
    flags = flag_table(stuck + off + dis, students, skills)
    recs, rec_notes = recommendations(
        v, model, mastery, tries, last_order, stuck, settings=settings, curriculum=curriculum
    )

    per_skill = pd.DataFrame(
        {
            "mean_mastery": mastery.mean(axis=0),
            "pct_mastered": 100.0 * (mastery >= thr).mean(axis=0),
            "n_practised": (tries > 0).sum(axis=0).astype(np.int64),
            "mean_tries": tries.mean(axis=0),
        },
        index=skill_index,
    )
    counts = {f: len(set(flags.loc[flags["flag"] == f, "student_id"])) for f in FLAGS}
    summary = ClassSummary(
        n_students=len(students),
        n_responses=len(v),
        mastery_threshold=thr,
        skills=per_skill,
        flag_counts=counts,
        n_flagged=len(set(flags["student_id"])),
    )
    return ClassSnapshot(
        mastery=mastery,
        tries=tries,
        flags=flags,
        recommendations=recs,
        summary=summary,
        settings=settings,
        notes=tuple(notes + rec_notes),
    )
