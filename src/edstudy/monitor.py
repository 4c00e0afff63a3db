"""What a teacher needs to know about a class right now: mastery, flags, next steps.

Pure logic (no widgets, no I/O), shared by the teacher dashboard (:mod:`edstudy.widgets`), the
reports and the command line. Everything is computed from a response log and a fitted
:class:`edstudy.bkt.BKT` model, so a real class and a simulated one are monitored the same way.

* :func:`class_snapshot` – current P(mastered) per student and skill, students flagged as
  *stuck*, *off pace* or *disengaged* with a reason that quotes the numbers, a recommended next
  activity per student with its reason, and a class summary.
* :func:`append_responses` – validate new responses and append them to a log (the dashboard
  "updates as new responses are appended": the snapshot is simply recomputed, the BKT forward pass
  over a class takes milliseconds).
* :class:`ResponseReplay` – replay a complete (e.g. simulated) log a few responses per student at
  a time, so a demo can show the dashboard changing as a lesson goes on.
* :func:`mastery_heatmap` – the student x skill heatmap as a matplotlib figure (no pyplot state).
* :func:`simulated_class` – a simulated class and a BKT model fitted on last year's cohort, for
  demos and the dashboard notebook.

The flags follow the tutoring literature, with thresholds as explicit arguments:

``stuck``
    Wheel-spinning (Beck & Gong, 2013): ``stuck_after`` or more scored tries on a skill without
    reaching the mastery threshold. Beck & Gong used 10 opportunities, the default here.
``off_pace``
    Progress relative to the class: skills mastered per scored try below ``off_pace_ratio`` times
    the class median (among students with at least ``min_tries`` tries).
``disengaged``
    Behaviour in the student's ``recent`` last responses, from whatever the log records:
    rapid responses (``duration_s`` below ``rapid_fraction`` of the class mean time, the
    "normative threshold" of Wise & Ma, 2012), heavy hint use (``hints``), or a trailing streak of
    ``error_streak`` errors. :attr:`ClassSnapshot.notes` says which evidence was available.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edstudy.schema import validate_log

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from edstudy.sim.curriculum import Curriculum

__all__ = [
    "FLAGS",
    "ClassSnapshot",
    "ClassSummary",
    "ResponseReplay",
    "SimulatedClass",
    "append_responses",
    "class_snapshot",
    "mastery_heatmap",
    "simulated_class",
]

#: The flag kinds, in the order tables list them.
FLAGS: tuple[str, ...] = ("stuck", "off_pace", "disengaged")
#: Activity recommended to a stuck student when the curriculum names no remediation.
DEFAULT_REMEDIATION = "worked_example"
#: Activities treated as remediation (not media) when no curriculum says which are media.
_REMEDIATION_NAMES = frozenset({"worked_example", "hint"})

FLAG_COLUMNS = ("student_id", "flag", "skill_id", "reason")
RECOMMENDATION_COLUMNS = ("student_id", "skill_id", "activity", "reason")


# ---------------------------------------------------------------------------------- results
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
    settings : dict
        The thresholds used, by argument name.
    notes : tuple of str
        What the checks could and could not use (e.g. ``"duration_s not in the log: rapid
        responses not checked"``).
    """

    mastery: pd.DataFrame
    tries: pd.DataFrame
    flags: pd.DataFrame
    recommendations: pd.DataFrame
    summary: ClassSummary
    settings: Mapping[str, Any]
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


# ---------------------------------------------------------------------------------- checks
def _check_prob(name: str, value: Any, *, open_low: bool = True) -> float:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    v = float(value) if ok else float("nan")
    if not (math.isfinite(v) and (0.0 < v if open_low else 0.0 <= v) and v <= 1.0):
        interval = "(0, 1]" if open_low else "[0, 1]"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return v


def _check_count(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(name: str, value: Any) -> float:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not ok or not (math.isfinite(float(value)) and float(value) > 0):
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


# ---------------------------------------------------------------------------------- mastery
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


def _ids(values: pd.Series) -> np.ndarray:
    """Ids as plain Python objects (categoricals and nullable dtypes unwrapped)."""
    return values.astype(object).to_numpy(dtype=object)


# ---------------------------------------------------------------------------------- flags
def _stuck_flags(
    mastery: pd.DataFrame, tries: pd.DataFrame, threshold: float, stuck_after: int
) -> list[dict]:
    rows = []
    m, t = mastery.to_numpy(), tries.to_numpy()
    hit = (t >= stuck_after) & (m < threshold)
    for i, j in zip(*np.nonzero(hit), strict=True):
        skill = mastery.columns[j]
        rows.append(
            {
                "student_id": mastery.index[i],
                "flag": "stuck",
                "skill_id": skill,
                "reason": f"{int(t[i, j])} tries on '{skill}' without reaching "
                f"{threshold:.2f} (now {m[i, j]:.2f})",
            }
        )
    return rows


def _off_pace_flags(
    mastery: pd.DataFrame, tries: pd.DataFrame, threshold: float, ratio: float, min_tries: int
) -> list[dict]:
    n_mastered = (mastery.to_numpy() >= threshold).sum(axis=1)
    n_tries = tries.to_numpy().sum(axis=1)
    eligible = n_tries >= min_tries
    if not eligible.any():
        return []
    rate = np.where(eligible, n_mastered / np.maximum(n_tries, 1), np.nan)
    median = float(np.nanmedian(rate))
    if not median > 0:
        return []
    rows = []
    for i in np.flatnonzero(eligible & (rate < ratio * median)):
        rows.append(
            {
                "student_id": mastery.index[i],
                "flag": "off_pace",
                "skill_id": None,
                "reason": f"{int(n_mastered[i])} skill{'' if n_mastered[i] == 1 else 's'} "
                f"mastered in {int(n_tries[i])} tries "
                f"({rate[i]:.3f} per try), below {ratio:.0%} of the class median "
                f"({median:.3f} per try)",
            }
        )
    return rows


def _disengaged_flags(
    log: pd.DataFrame,
    students: pd.Index,
    *,
    recent: int,
    rapid_fraction: float,
    rapid_share: float,
    hint_rate: float,
    error_streak: int,
) -> tuple[list[dict], list[str]]:
    """Flags from the last ``recent`` responses of each student, and notes on the evidence."""
    notes: list[str] = []
    cols = ["student_id", "order", "correct"]
    has_dur = "duration_s" in log.columns and log["duration_s"].notna().any()
    has_hints = "hints" in log.columns and log["hints"].notna().any()
    rapid_s = float("nan")
    if has_dur:
        cols.append("duration_s")
        rapid_s = rapid_fraction * float(log["duration_s"].mean())
    else:
        notes.append("duration_s not in the log: rapid responses not checked")
    if has_hints:
        cols.append("hints")
    else:
        notes.append("hints not in the log: hint use not checked")
    used = (
        ["error streaks"] + (["duration_s"] if has_dur else []) + (["hints"] if has_hints else [])
    )
    notes.insert(0, f"disengagement checked from: {', '.join(used)}")

    df = log[cols].copy()
    df["student_id"] = _ids(log["student_id"])
    df = df.sort_values(["student_id", "order"], kind="stable")
    tail = df.groupby("student_id", sort=False).tail(recent)
    rows = []
    for sid, g in tail.groupby("student_id", sort=False):
        reasons = []
        n = len(g)
        if has_dur:
            d = g["duration_s"].to_numpy(dtype=float, na_value=np.nan)
            n_rapid = int(np.sum(d < rapid_s))
            if n_rapid and n_rapid >= rapid_share * n:
                reasons.append(
                    f"{n_rapid} of the last {n} responses took under {rapid_s:.0f} s "
                    f"({rapid_fraction:.0%} of the class mean time)"
                )
        if has_hints:
            h = g["hints"].to_numpy(dtype=float, na_value=np.nan)
            total = float(np.nansum(h))
            if total and total >= hint_rate * n:
                reasons.append(f"{total:.0f} hints in the last {n} responses")
        c = g["correct"].to_numpy(dtype=float, na_value=np.nan)
        c = c[~np.isnan(c)]
        streak = 0
        for value in c[::-1]:
            if value != 0:
                break
            streak += 1
        if streak >= error_streak:
            reasons.append(f"{streak} errors in a row on the latest tries")
        if reasons:
            rows.append(
                {
                    "student_id": sid,
                    "flag": "disengaged",
                    "skill_id": None,
                    "reason": "; ".join(reasons),
                }
            )
    # keep the students' table order
    pos = {s: i for i, s in enumerate(students)}
    rows.sort(key=lambda r: pos[r["student_id"]])
    return rows, notes


# ---------------------------------------------------------------------------------- recommendations
def _media_evidence(log: pd.DataFrame, expected: np.ndarray, media: list[str]) -> pd.DataFrame:
    """Per (student, medium): scored tries, share correct, mean (correct - expected), chosen."""
    df = pd.DataFrame(
        {
            "student_id": _ids(log["student_id"]),
            "activity": _ids(log["activity"]),
            "correct": log["correct"].to_numpy(dtype=float, na_value=np.nan),
            "expected": expected,
            "chosen": (
                log["chosen"].fillna(False).to_numpy(dtype=bool)
                if "chosen" in log.columns
                else np.zeros(len(log), dtype=bool)
            ),
        }
    )
    df = df[df["activity"].isin(media).to_numpy()]
    df["scored"] = ~np.isnan(df["correct"].to_numpy())
    df["gain"] = df["correct"] - df["expected"]
    g = df.groupby(["student_id", "activity"], sort=True)
    return pd.DataFrame(
        {
            "rows": g.size(),
            "tries": g["scored"].sum(),
            "pct_correct": g["correct"].mean(),
            "gain": g["gain"].mean(),
            "chosen": g["chosen"].sum(),
        }
    )


def _pick_medium(ev: pd.DataFrame | None, min_tries: int) -> tuple[str | None, str]:
    """The medium to recommend from one student's evidence table (index: activity)."""
    if ev is None or ev.empty:
        return None, ""
    ok = ev[ev["tries"] >= min_tries]
    if len(ok):
        ranked = ok.assign(name=ok.index).sort_values(
            ["gain", "tries", "name"], ascending=[False, False, True], kind="stable"
        )
        m = ranked.index[0]
        r = ranked.iloc[0]
        return m, (
            f"best results in {m}: {r['pct_correct']:.0%} correct over {int(r['tries'])} tries, "
            f"{r['gain']:+.2f} against the model's expectation"
        )
    if ev["chosen"].sum() > 0:
        ranked = ev.assign(name=ev.index).sort_values(
            ["chosen", "name"], ascending=[False, True], kind="stable"
        )
        m = ranked.index[0]
        n_top, n_all = int(ranked.iloc[0]["chosen"]), int(ev["chosen"].sum())
        return m, f"most chosen: {m} ({n_top} of {n_all} choices)"
    ranked = ev.assign(name=ev.index).sort_values(["rows", "name"], ascending=[False, True])
    m = ranked.index[0]
    return m, f"most used: {m} ({int(ranked.iloc[0]['rows'])} of {int(ev['rows'].sum())} responses)"


def _dependents(prereq: Mapping) -> dict:
    """``{skill: set of skills that need it, directly or through other skills}``."""
    direct: dict = {}
    for skill, pres in prereq.items():
        for p in pres:
            direct.setdefault(p, set()).add(skill)
    out: dict = {}
    for skill in prereq:
        seen: set = set()
        stack = list(direct.get(skill, ()))
        while stack:
            d = stack.pop()
            if d not in seen:
                seen.add(d)
                stack.extend(direct.get(d, ()))
        out[skill] = seen
    return out


def _recommendations(
    log: pd.DataFrame,
    model: Any,
    mastery: pd.DataFrame,
    tries: pd.DataFrame,
    last_order: pd.DataFrame,
    stuck: list[dict],
    *,
    threshold: float,
    curriculum: Curriculum | None,
    min_medium_tries: int,
) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    prereq: dict = {}
    dependents: dict = {}
    remediation = DEFAULT_REMEDIATION
    if curriculum is not None:
        prereq = {s.id: tuple(s.prerequisites) for s in curriculum.skills}
        dependents = _dependents(prereq)
        if curriculum.remediations and DEFAULT_REMEDIATION not in curriculum.remediations:
            remediation = curriculum.remediations[0]
    evidence: pd.DataFrame | None = None
    default_medium: str | None = None
    if "activity" in log.columns and log["activity"].notna().any():
        if curriculum is not None:
            media = list(curriculum.media)
        else:
            seen = pd.unique(_ids(log["activity"].dropna()))
            media = sorted(str(a) for a in seen if a not in _REMEDIATION_NAMES)
        default_medium = media[0] if media else None
        expected = np.asarray(model.predict_proba(log), dtype=float)
        evidence = _media_evidence(log, expected, media)
    else:
        notes.append("activity not in the log: no medium recommended")

    stuck_of: dict = {}
    for r in stuck:
        stuck_of.setdefault(r["student_id"], []).append(r["skill_id"])
    skills = list(mastery.columns)
    ev_students = set(evidence.index.get_level_values(0)) if evidence is not None else set()
    rows = []
    for sid in mastery.index:
        m = mastery.loc[sid]
        if sid in stuck_of:
            # the stuck skill practised most recently: what the student is working on now
            cand = stuck_of[sid]
            skill = max(cand, key=lambda s: (last_order.loc[sid, s], -skills.index(s)))
            rows.append(
                {
                    "student_id": sid,
                    "skill_id": skill,
                    "activity": remediation,
                    "reason": f"stuck on '{skill}' ({int(tries.loc[sid, skill])} tries, now "
                    f"{m[skill]:.2f}): a {remediation.replace('_', ' ')} before more practice",
                }
            )
            continue
        t = tries.loc[sid]
        # never practised, but a skill that builds on it is practised and mastered (the student
        # was placed out of it, e.g. by a pre-test): known, whatever the prior says
        known = [
            s
            for s in skills
            if t[s] == 0
            and m[s] < threshold
            and any(d in m.index and t[d] > 0 and m[d] >= threshold for d in dependents.get(s, ()))
        ]
        unmastered = [s for s in skills if m[s] < threshold and s not in known]
        if not unmastered:
            rows.append(
                {
                    "student_id": sid,
                    "skill_id": None,
                    "activity": None,
                    "reason": f"all {len(skills)} skills mastered at {threshold:.2f}"
                    + (
                        f" or known without practice ({', '.join(map(str, known))})"
                        if known
                        else ""
                    ),
                }
            )
            continue
        ready = [
            s
            for s in unmastered
            if all(p not in m.index or m[p] >= threshold or p in known for p in prereq.get(s, ()))
        ]
        skill = (ready or unmastered)[0]
        pre = [p for p in prereq.get(skill, ()) if p in m.index]
        where = "curriculum order" if curriculum is not None else "skill order"
        why = f"next unmastered skill in {where} (now {m[skill]:.2f})"
        if pre and ready:
            why += f", prerequisites mastered ({', '.join(map(str, pre))})"
        elif pre:
            why += ", prerequisites not yet mastered"
        if known:
            why += f"; known without practice: {', '.join(map(str, known))}"
        activity, medium_why = None, ""
        if evidence is not None:
            ev = evidence.loc[sid] if sid in ev_students else None
            activity, medium_why = _pick_medium(ev, min_medium_tries)
            if activity is None:
                activity, medium_why = default_medium, "no responses in any medium yet"
        else:
            activity = "practice"
        rows.append(
            {
                "student_id": sid,
                "skill_id": skill,
                "activity": activity,
                "reason": f"{why}; {medium_why}" if medium_why else why,
            }
        )
    return pd.DataFrame(rows, columns=list(RECOMMENDATION_COLUMNS), dtype=object), notes


# ---------------------------------------------------------------------------------- snapshot
def class_snapshot(
    log: pd.DataFrame,
    model: Any,
    *,
    curriculum: Curriculum | None = None,
    mastery_threshold: float = 0.95,
    stuck_after: int = 10,
    off_pace_ratio: float = 0.5,
    min_tries: int = 10,
    recent: int = 10,
    rapid_fraction: float = 0.1,
    rapid_share: float = 0.5,
    hint_rate: float = 0.5,
    error_streak: int = 6,
    min_medium_tries: int = 3,
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
    mastery_threshold : float, default 0.95
        P(mastered) from which a skill counts as mastered (the usual BKT mastery criterion).
    stuck_after : int, default 10
        Scored tries on one skill without mastery after which a student is *stuck*
        (wheel-spinning, Beck & Gong 2013).
    off_pace_ratio : float, default 0.5
        A student is *off pace* when their skills mastered per try is below this fraction of the
        class median.
    min_tries : int, default 10
        Scored tries a student needs before the off-pace comparison applies to them.
    recent : int, default 10
        Last responses of each student looked at for disengagement.
    rapid_fraction : float, default 0.1
        A response is rapid when it took less than this fraction of the class mean
        ``duration_s`` (Wise & Ma's 10 % normative threshold).
    rapid_share : float, default 0.5
        Share of rapid recent responses that flags a student.
    hint_rate : float, default 0.5
        Hints per recent response that flags a student.
    error_streak : int, default 6
        Trailing errors in a row (over all skills) that flag a student.
    min_medium_tries : int, default 3
        Scored tries in a medium before its results count as evidence for recommending it.

    Returns
    -------
    ClassSnapshot

    Raises
    ------
    SchemaError
        When the log does not follow the schema.
    ValueError
        For a bad threshold, an unfitted model, or skills the model does not know.
    """
    settings = {
        "mastery_threshold": _check_prob("mastery_threshold", mastery_threshold),
        "stuck_after": _check_count("stuck_after", stuck_after),
        "off_pace_ratio": _check_prob("off_pace_ratio", off_pace_ratio),
        "min_tries": _check_count("min_tries", min_tries),
        "recent": _check_count("recent", recent),
        "rapid_fraction": _check_prob("rapid_fraction", rapid_fraction),
        "rapid_share": _check_prob("rapid_share", rapid_share),
        "hint_rate": _check_positive("hint_rate", hint_rate),
        "error_streak": _check_count("error_streak", error_streak),
        "min_medium_tries": _check_count("min_medium_tries", min_medium_tries),
    }
    thr = settings["mastery_threshold"]
    v = validate_log(log).reset_index(drop=True)
    p_after = np.asarray(model.mastery(v), dtype=float)

    students_raw = _ids(v["student_id"])
    skills_raw = _ids(v["skill_id"])
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
        sorted(pd.unique(students_raw), key=_sort_key), dtype=object, name="student_id"
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

    stuck = _stuck_flags(mastery, tries, thr, settings["stuck_after"])
    off = _off_pace_flags(mastery, tries, thr, settings["off_pace_ratio"], settings["min_tries"])
    dis, notes = _disengaged_flags(
        v,
        students,
        recent=settings["recent"],
        rapid_fraction=settings["rapid_fraction"],
        rapid_share=settings["rapid_share"],
        hint_rate=settings["hint_rate"],
        error_streak=settings["error_streak"],
    )
    flags = _flag_table(stuck + off + dis, students, skills)
    recs, rec_notes = _recommendations(
        v,
        model,
        mastery,
        tries,
        last_order,
        stuck,
        threshold=thr,
        curriculum=curriculum,
        min_medium_tries=settings["min_medium_tries"],
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


def _sort_key(x: Any) -> tuple:
    """Sort ids of mixed types: numbers first (numerically), then text."""
    if isinstance(x, int | float | np.number) and not isinstance(x, bool):
        return (0, float(x), "")
    return (1, 0.0, str(x))


def _flag_table(rows: list[dict], students: pd.Index, skills: list) -> pd.DataFrame:
    flags = pd.DataFrame(rows, columns=list(FLAG_COLUMNS), dtype=object)
    if flags.empty:
        return flags.astype(object)
    spos = {s: i for i, s in enumerate(students)}
    kpos = {s: i for i, s in enumerate(skills)}
    fpos = {f: i for i, f in enumerate(FLAGS)}
    key = pd.DataFrame(
        {
            "s": flags["student_id"].map(spos),
            "f": flags["flag"].map(fpos),
            "k": [kpos.get(s, -1) if s is not None else -1 for s in flags["skill_id"]],
        }
    )
    order = key.sort_values(["s", "f", "k"], kind="stable").index
    out = flags.loc[order].reset_index(drop=True)
    return out.astype(object)


# ---------------------------------------------------------------------------------- updates
def append_responses(log: pd.DataFrame, new_rows: pd.DataFrame) -> pd.DataFrame:
    """Validate new responses and return the log with them appended (a new frame).

    Parameters
    ----------
    log : DataFrame
        The responses so far; not modified.
    new_rows : DataFrame
        New responses with at least the required columns. Each must come after the student's
        earlier responses (a larger ``order`` than any of that student's rows in ``log``): the
        dashboard monitors a class as it goes, it does not rewrite history.

    Returns
    -------
    DataFrame
        Validated, with a fresh index ``0..n-1``.

    Raises
    ------
    SchemaError
        When ``new_rows`` (or the combination, e.g. a repeated ``(student_id, skill_id, order)``)
        breaks the schema; the message names the column, row and value.
    ValueError
        When a new response is not after the student's earlier ones.
    """
    old = validate_log(log)
    new = validate_log(new_rows)
    last = old.assign(_sid=_ids(old["student_id"])).groupby("_sid")["order"].max()
    sid_new = pd.Series(_ids(new["student_id"]), index=new.index)
    before = sid_new.map(last)
    bad = before.notna() & (new["order"] <= before)
    if bad.any():
        i = bad[bad].index[0]
        raise ValueError(
            f"new responses must come after the student's earlier ones: {int(bad.sum())} rows "
            f"do not, first at index {i} (student {sid_new[i]!r}, order "
            f"{int(new.loc[i, 'order'])}, but the log already has order {int(before[i])})"
        )
    frames = []
    for f in (old, new):
        f = f.copy()
        for c in f.columns:
            if isinstance(f[c].dtype, pd.CategoricalDtype):
                f[c] = f[c].astype(object)
        frames.append(f)
    combined = pd.concat(frames, ignore_index=True)
    return validate_log(combined)


class ResponseReplay:
    """Replay a complete response log a few responses per student at a time.

    A demo (or a study of what the dashboard would have shown) starts from the first ``start``
    responses of every student and reveals the next ``step`` responses per student on each call
    of :meth:`next`. Rows are taken in each student's ``order``.

    Parameters
    ----------
    log : DataFrame
        The complete log, e.g. from :func:`edstudy.sim.simulate`; validated, not modified.
    start : int, default 20
        Responses per student in :attr:`initial`.
    step : int, default 5
        Responses per student revealed by each :meth:`next`.
    """

    def __init__(self, log: pd.DataFrame, *, start: int = 20, step: int = 5) -> None:
        self.start = _check_count("start", start)
        self.step = _check_count("step", step)
        v = validate_log(log).reset_index(drop=True)
        sid = pd.Series(_ids(v["student_id"]), index=v.index)
        order = v.assign(_sid=sid).sort_values(["_sid", "order"], kind="stable").index
        self._log = v.loc[order].reset_index(drop=True)
        self._rank = (
            self._log.assign(_sid=sid.loc[order].to_numpy()).groupby("_sid").cumcount().to_numpy()
        )
        self.position = self.start

    @property
    def initial(self) -> pd.DataFrame:
        """The first ``start`` responses of every student (a copy)."""
        return self._log[self._rank < self.start].reset_index(drop=True)

    @property
    def remaining(self) -> int:
        """Responses not revealed yet."""
        return int(np.sum(self._rank >= self.position))

    def next(self, step: int | None = None) -> pd.DataFrame:
        """The next ``step`` responses of every student who has any left (empty when done)."""
        n = self.step if step is None else _check_count("step", step)
        sel = (self._rank >= self.position) & (self._rank < self.position + n)
        self.position += n
        return self._log[sel].reset_index(drop=True)


# ---------------------------------------------------------------------------------- demo class
@dataclass(frozen=True, eq=False)
class SimulatedClass:
    """A simulated class to monitor, from :func:`simulated_class`.

    Attributes
    ----------
    curriculum : Curriculum
    model : BKT
        Fitted on last year's simulated students (the class itself is not used to fit it).
    replay : ResponseReplay
        This year's complete course, to be revealed step by step.
    log : DataFrame
        The responses in when the dashboard opens (``replay.initial``).
    history : DataFrame
        Last year's log the model was fitted on.
    """

    curriculum: Curriculum
    model: Any
    replay: ResponseReplay
    log: pd.DataFrame
    history: pd.DataFrame


def simulated_class(
    n_students: int = 30,
    *,
    history_students: int = 60,
    strategy: str = "adaptive",
    start: int = 20,
    step: int = 5,
    seed: int = 0,
) -> SimulatedClass:
    """Simulate a class, and fit the teacher's BKT model on a previous simulated cohort.

    Why two cohorts: a dashboard in a school uses a model fitted on earlier classes, then traces
    the current class with it; fitting on the monitored class itself would let the model see the
    answers it is asked to judge.

    Parameters
    ----------
    n_students : int
        Students in the monitored class.
    history_students : int
        Students of "last year", whose log the model is fitted on.
    strategy : str
        Name of a built-in pathway strategy both cohorts follow (see
        :data:`edstudy.sim.STRATEGY_NAMES`).
    start, step : int
        Responses per student shown at first / added by each replay step.
    seed : int
        Everything random derives from it (class: ``seed``, history: ``seed + 1``, fit: ``seed``).

    Returns
    -------
    SimulatedClass
    """
    from edstudy.bkt import BKT
    from edstudy.sim import PopulationSpec, default_curriculum, draw_cohort, load_strategy, simulate

    _check_count("n_students", n_students)
    _check_count("history_students", history_students)
    curriculum = default_curriculum()
    rules = load_strategy(strategy)
    spec = PopulationSpec()
    history, _ = simulate(
        draw_cohort(spec, curriculum, history_students, seed=seed + 1),
        curriculum,
        rules,
        seed=seed + 1,
    )
    current, _ = simulate(
        draw_cohort(spec, curriculum, n_students, seed=seed), curriculum, rules, seed=seed
    )
    model = BKT(seed=seed).fit(history)
    replay = ResponseReplay(current, start=start, step=step)
    return SimulatedClass(
        curriculum=curriculum, model=model, replay=replay, log=replay.initial, history=history
    )


# ---------------------------------------------------------------------------------- figure
def mastery_heatmap(
    snapshot: ClassSnapshot,
    *,
    skills: Iterable | None = None,
    highlight: Any | None = None,
    width: float = 7.5,
) -> Figure:
    """Students x skills heatmap of current P(mastered).

    Cells at or above the snapshot's threshold are marked with a dot, flagged students' labels are
    red with the flag initials (S stuck, P off pace, D disengaged), and ``highlight`` (a student
    id) gets a frame. Uses :class:`matplotlib.figure.Figure` directly, so no pyplot state is
    touched.

    Parameters
    ----------
    snapshot : ClassSnapshot
    skills : iterable, optional
        Skills to show (default all, in display order).
    highlight : student id, optional
    width : float
        Figure width in inches; the height grows with the number of students.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    m = snapshot.mastery
    cols = list(m.columns) if skills is None else [s for s in m.columns if s in set(skills)]
    if not cols:
        raise ValueError("choose at least one skill to show")
    data = m[cols].to_numpy(dtype=float)
    n_students = data.shape[0]
    height = min(2.0 + 0.22 * n_students, 14.0)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(data, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="none")
    thr = snapshot.summary.mastery_threshold
    yy, xx = np.nonzero(data >= thr)
    ax.scatter(xx, yy, s=10, c="white", marker="o", linewidths=0)
    ax.set_xticks(range(len(cols)), [str(c) for c in cols], rotation=45, ha="right", fontsize=8)
    initials = {"stuck": "S", "off_pace": "P", "disengaged": "D"}
    marks: dict = {}
    for sid, f in zip(snapshot.flags["student_id"], snapshot.flags["flag"], strict=True):
        marks.setdefault(sid, set()).add(initials[f])
    labels = [
        f"{sid} [{''.join(c for c in 'SPD' if c in marks[sid])}]" if sid in marks else str(sid)
        for sid in m.index
    ]
    fs = 8 if n_students <= 40 else 6
    ax.set_yticks(range(n_students), labels, fontsize=fs)
    for tick, sid in zip(ax.get_yticklabels(), m.index, strict=True):
        if sid in marks:
            tick.set_color("#c0392b")
    if highlight is not None and highlight in m.index:
        i = list(m.index).index(highlight)
        ax.axhline(i - 0.5, color="red", lw=1.5)
        ax.axhline(i + 0.5, color="red", lw=1.5)
    ax.set_xlabel("skill")
    ax.set_ylabel("student [flags: S stuck, P off pace, D disengaged]")
    ax.set_title(f"P(mastered) now; dots: mastered (>= {thr:.2f})", fontsize=10)
    fig.colorbar(im, ax=ax, label="P(mastered)", shrink=0.8)
    return fig
