"""What each student should do next: media evidence, the medium to use, the next skill.

A stuck student gets remediation on the stuck skill practised last; the others get the first
unmastered skill in display order whose prerequisites are mastered (with a curriculum, a skill
never practised but required by a practised, mastered skill counts as known: the student was
placed out of it), in the medium where their answers beat the model's expectation most, else the
medium they chose or used most.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edstudy.monitor._common import ids
from edstudy.monitor.settings import (
    DEFAULT_REMEDIATION,
    RECOMMENDATION_COLUMNS,
    REMEDIATION_NAMES,
    MonitorSettings,
)

if TYPE_CHECKING:  # pragma: no cover
    from edstudy.sim.curriculum import Curriculum

__all__ = ["dependents_of", "media_evidence", "pick_medium", "recommendations"]


def media_evidence(log: pd.DataFrame, expected: np.ndarray, media: list[str]) -> pd.DataFrame:
    """Per (student, medium): scored tries, share correct, mean (correct - expected), chosen."""
    df = pd.DataFrame(
        {
            "student_id": ids(log["student_id"]),
            "activity": ids(log["activity"]),
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


def pick_medium(ev: pd.DataFrame | None, min_tries: int) -> tuple[str | None, str]:
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


def dependents_of(prereq: Mapping) -> dict:
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


def recommendations(
    log: pd.DataFrame,
    model: Any,
    mastery: pd.DataFrame,
    tries: pd.DataFrame,
    last_order: pd.DataFrame,
    stuck: list[dict],
    *,
    settings: MonitorSettings,
    curriculum: Curriculum | None,
) -> tuple[pd.DataFrame, list[str]]:
    """One recommendation row per student (:data:`RECOMMENDATION_COLUMNS`) and notes on what
    could not be used (e.g. no ``activity`` column: no medium recommended).

    ``mastery``, ``tries`` and ``last_order`` are the student x skill tables of the snapshot,
    ``stuck`` the rows of :func:`~edstudy.monitor.flags.stuck_flags`.
    """
    threshold, min_medium_tries = settings.mastery_threshold, settings.min_medium_tries
    notes: list[str] = []
    prereq: dict = {}
    dependents: dict = {}
    remediation = DEFAULT_REMEDIATION
    if curriculum is not None:
        prereq = {s.id: tuple(s.prerequisites) for s in curriculum.skills}
        dependents = dependents_of(prereq)
        if curriculum.remediations and DEFAULT_REMEDIATION not in curriculum.remediations:
            remediation = curriculum.remediations[0]
    evidence: pd.DataFrame | None = None
    default_medium: str | None = None
    if "activity" in log.columns and log["activity"].notna().any():
        if curriculum is not None:
            media = list(curriculum.media)
        else:
            seen = pd.unique(ids(log["activity"].dropna()))
            media = sorted(str(a) for a in seen if a not in REMEDIATION_NAMES)
        default_medium = media[0] if media else None
        expected = np.asarray(model.predict_proba(log), dtype=float)
        evidence = media_evidence(log, expected, media)
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
            activity, medium_why = pick_medium(ev, min_medium_tries)
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
