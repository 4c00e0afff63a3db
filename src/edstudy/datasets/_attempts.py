"""Per-student attempt numbers for logs where one attempt spans several rows (one per skill).

Tutor logs tag a multi-skill problem or step with several skills by repeating its row, one per
skill. In the response log those rows share one ``order`` (the schema keeps ``order`` unique per
(student, skill), not per student), so per-student timelines count the attempt once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from edstudy.datasets._report import Ledger


def dense_order(students: pd.Series, keys: pd.Series) -> np.ndarray:
    """0-based dense rank of ``keys`` within each student; rows must be sorted by (student, key).

    Rows of one student with equal keys (one attempt, several skills) get the same order.
    """
    s = students.to_numpy()
    k = keys.to_numpy()
    new_student = np.ones(len(s), dtype=bool)
    new_student[1:] = s[1:] != s[:-1]
    new_key = new_student.copy()
    new_key[1:] |= k[1:] != k[:-1]
    return _restart_per_student(new_student, new_key)


def _restart_per_student(new_student: np.ndarray, new_attempt: np.ndarray) -> np.ndarray:
    counter = np.cumsum(new_attempt)
    start_of_student = counter[np.flatnonzero(new_student)]
    per_row_start = np.repeat(
        start_of_student, np.diff(np.append(np.flatnonzero(new_student), len(counter)))
    )
    return (counter - per_row_start).astype(np.int64)


def attempts_from_runs(
    students: pd.Series, problems: pd.Series, skills: pd.Series
) -> tuple[np.ndarray, int]:
    """Attempt order for logs with one row per (attempt, skill) and no attempt id.

    Rows must be in the student's chronological order. Consecutive rows of a student on the same
    problem form one attempt, except that a skill already seen in the current attempt starts a
    new attempt (the problem was shown again), so no attempt lists a skill twice.

    Returns
    -------
    order : int64 array
        0-based attempt number within the student.
    n_repeats : int
        How many attempts were started by a repeated skill.
    """
    s = students.to_numpy()
    p = problems.to_numpy()
    n = len(s)
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (s[1:] != s[:-1]) | (p[1:] != p[:-1])
    run_id = np.cumsum(new_run)
    repeated = pd.DataFrame({"run": run_id, "skill": skills.to_numpy()}).duplicated().to_numpy()
    sub = np.zeros(n, dtype=np.int64)
    n_repeats = 0
    if repeated.any():
        # Few runs repeat a skill; walk only those, in order.
        rows = np.flatnonzero(np.isin(run_id, np.unique(run_id[repeated])))
        sk = skills.to_numpy()
        current, seen, k = -1, set(), 0
        for i in rows:
            if run_id[i] != current:
                current, seen, k = run_id[i], set(), 0
            elif sk[i] in seen:
                k, seen = k + 1, set()
                n_repeats += 1
            seen.add(sk[i])
            sub[i] = k
    new_attempt = new_run.copy()
    new_attempt[1:] |= sub[1:] != sub[:-1]
    new_student = np.ones(n, dtype=bool)
    new_student[1:] = s[1:] != s[:-1]
    return _restart_per_student(new_student, new_attempt), n_repeats


def collapse_attempts(df: pd.DataFrame, ledger: Ledger, separator: str = "~~") -> pd.DataFrame:
    """One row per (student, order): the skills of a multi-skill attempt joined into one skill id.

    The joined id lists the skills sorted and separated by ``separator`` (DataShop's convention),
    so the same combination always gets the same id. The other columns come from the attempt's
    first row; merged rows are counted as dropped.
    """
    key = ["student_id", "order"]
    size = df.groupby(key, sort=False)["skill_id"].transform("size")
    multi = size.to_numpy() > 1
    if not multi.any():
        return df
    parts = df.loc[multi]
    joined = parts.groupby(key, sort=False)["skill_id"].agg(lambda s: separator.join(sorted(s)))
    first = parts.drop_duplicates(subset=key, keep="first")
    disagree = parts.groupby(key, sort=False)["correct"].nunique(dropna=False)
    n_disagree = int((disagree > 1).sum())
    first = first.assign(skill_id=joined.reindex(pd.MultiIndex.from_frame(first[key])).to_numpy())
    out = pd.concat([df.loc[~multi], first]).sort_index(kind="stable")
    ledger.count_dropped(
        "merged into one row per multi-skill attempt (collapse_multiskill=True)", len(df) - len(out)
    )
    if n_disagree:
        ledger.note(
            f"{n_disagree} multi-skill attempts have rows that disagree on correct; "
            "the first row's value was kept"
        )
    return out
