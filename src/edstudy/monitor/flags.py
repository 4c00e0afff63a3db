"""The three flags of a class snapshot (stuck, off pace, disengaged) and the table they make.

Each function returns plain rows ``{student_id, flag, skill_id, reason}``; the reason quotes the
numbers behind the flag so a teacher can judge it. The thresholds come from
:class:`~edstudy.monitor.settings.MonitorSettings`:

``stuck``
    Wheel-spinning (Beck & Gong, 2013): ``stuck_after`` or more scored tries on a skill without
    reaching the mastery threshold. Beck & Gong used 10 opportunities, the default.
``off_pace``
    Progress relative to the class: skills mastered per scored try below ``off_pace_ratio`` times
    the class median (among students with at least ``min_tries`` tries).
``disengaged``
    Behaviour in the student's ``recent`` last responses, from whatever the log records:
    rapid responses (``duration_s`` below ``rapid_fraction`` of the class mean time, the
    "normative threshold" of Wise & Ma, 2012), heavy hint use (``hints``), or a trailing streak of
    ``error_streak`` errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from edstudy.monitor._common import ids
from edstudy.monitor.settings import FLAG_COLUMNS, FLAGS, MonitorSettings

__all__ = ["disengaged_flags", "flag_table", "off_pace_flags", "stuck_flags"]


def stuck_flags(
    mastery: pd.DataFrame, tries: pd.DataFrame, threshold: float, stuck_after: int
) -> list[dict]:
    """Rows for every student x skill with ``stuck_after`` or more tries and mastery below
    ``threshold``."""
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


def off_pace_flags(
    mastery: pd.DataFrame, tries: pd.DataFrame, threshold: float, ratio: float, min_tries: int
) -> list[dict]:
    """Rows for the students (with ``min_tries`` or more tries) whose skills mastered per try
    fall below ``ratio`` times the class median; none when the median is 0."""
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


def disengaged_flags(
    log: pd.DataFrame, students: pd.Index, settings: MonitorSettings
) -> tuple[list[dict], list[str]]:
    """Flags from the last ``settings.recent`` responses of each student, and notes on the
    evidence used (which of ``duration_s`` and ``hints`` the log records)."""
    recent, rapid_fraction = settings.recent, settings.rapid_fraction
    rapid_share, hint_rate = settings.rapid_share, settings.hint_rate
    error_streak = settings.error_streak
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
    df["student_id"] = ids(log["student_id"])
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


def flag_table(rows: list[dict], students: pd.Index, skills: list) -> pd.DataFrame:
    """The flag rows as a table (object columns :data:`FLAG_COLUMNS`), ordered by student, then
    flag kind (:data:`FLAGS` order), then skill (display order)."""
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
