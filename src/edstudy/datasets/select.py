"""Which part of a response log to study: a real log by name, skills and students, splits.

* :func:`load_log` loads a real log by name (:data:`REAL_DATASETS`) or any CSV in the schema.
* :func:`select_log` keeps the scored rows of some skills and students and records what it
  dropped and why in ``attrs["selection"]``.
* :func:`split_students` holds whole students out, for scoring models on students they never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from edstudy.datasets.assistments2009 import load_assistments2009
from edstudy.datasets.assistments2017 import load_assistments2017
from edstudy.datasets.custom import load_csv
from edstudy.datasets.oulad import load_oulad_assessments
from edstudy.datasets.pybkt import load_pybkt_example
from edstudy.schema import validate_log

__all__ = ["REAL_DATASETS", "load_log", "select_log", "select_validated", "split_students"]

#: Real response logs :func:`load_log` knows by name.
REAL_DATASETS: dict[str, str] = {
    "assistments2009": "ASSISTments 2009-10 skill builders",
    "assistments2017": "ASSISTments 2017 competition data",
    "pybkt_as": "pyBKT example: ASSISTments 2009, 2 skills",
    "pybkt_ct": "pyBKT example: Cognitive Tutor Algebra, 11 students",
    "oulad_assessments": "OULAD assessments (correct = score >= 40)",
}


def load_log(dataset: str, path: Any = None, *, verbose: bool = False) -> pd.DataFrame:
    """A real response log by name (:data:`REAL_DATASETS`), or any CSV in the log schema.

    Parameters
    ----------
    dataset : str
        A key of :data:`REAL_DATASETS`, or ``"csv"`` with ``path`` a CSV file that already has
        the response-log columns.
    path : path-like, optional
        Where the data are (default: the loaders' search, ``../shared/data/real`` first).
    verbose : bool
        Print the loader's one-line summary.

    Raises
    ------
    edstudy.datasets.DataNotFoundError
        When the data are absent, naming where they were looked for.
    """
    if dataset == "assistments2009":
        return load_assistments2009(path, verbose=verbose)
    if dataset == "assistments2017":
        return load_assistments2017(path, verbose=verbose)
    if dataset in ("pybkt_as", "pybkt_ct"):
        return load_pybkt_example(path or dataset.split("_")[1], verbose=verbose)
    if dataset == "oulad_assessments":
        return load_oulad_assessments(path, verbose=verbose)
    if dataset == "csv":
        if path is None:
            raise ValueError("dataset='csv' needs path=")
        return load_csv(path, verbose=verbose)
    raise ValueError(f"unknown dataset {dataset!r}; known: {[*REAL_DATASETS, 'csv']}")


def select_log(
    log: pd.DataFrame,
    *,
    skills: Sequence[Any] | None = None,
    top_skills: int | None = None,
    n_students: int | None = None,
    min_responses: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """The part of a response log to study: scored rows of some skills and students.

    Parameters
    ----------
    log : DataFrame
        Any response log (validated here; not modified).
    skills : sequence, optional
        Keep these skills (ids as in the log).
    top_skills : int, optional
        Else keep the ``top_skills`` skills with the most scored rows (ties by id order).
    n_students : int, optional
        Keep a random sample of this many students (seeded) among those with at least
        ``min_responses`` scored rows on the kept skills.
    min_responses : int
        Students with fewer scored rows on the kept skills are dropped.
    seed : int

    Returns
    -------
    DataFrame
        The kept rows (validated dtypes, original index). ``attrs["selection"]`` records rows,
        students and skills read and kept and why rows were dropped.
    """
    return select_validated(
        validate_log(log),
        skills=skills,
        top_skills=top_skills,
        n_students=n_students,
        min_responses=min_responses,
        seed=seed,
    )


def select_validated(
    log: pd.DataFrame,
    *,
    skills: Sequence[Any] | None = None,
    top_skills: int | None = None,
    n_students: int | None = None,
    min_responses: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`select_log` of a log already checked by :func:`edstudy.schema.validate_log`."""
    v = log
    n0, s0, k0 = len(v), v["student_id"].nunique(), v["skill_id"].nunique()
    dropped: dict[str, int] = {}
    scored = v["correct"].notna().to_numpy()
    if not scored.all():
        dropped["unscored (correct missing)"] = int((~scored).sum())
        v = v[scored]
    if skills is not None:
        wanted = list(skills)
        absent = [s for s in wanted if s not in set(v["skill_id"])]
        if absent:
            raise KeyError(f"skills not in the log: {absent[:5]}")
        keep = v["skill_id"].isin(wanted).to_numpy()
    elif top_skills is not None:
        if int(top_skills) < 1:
            raise ValueError(f"top_skills must be >= 1, got {top_skills!r}")
        counts = v["skill_id"].value_counts(sort=False)
        ranked = sorted(counts.index, key=lambda s: (-counts[s], str(s)))
        keep = v["skill_id"].isin(ranked[: int(top_skills)]).to_numpy()
    else:
        keep = np.ones(len(v), dtype=bool)
    if not keep.all():
        dropped["skill not selected"] = int((~keep).sum())
        v = v[keep]
    per_student = v.groupby("student_id", sort=False, observed=True).size()
    few = per_student.index[per_student < min_responses]
    if len(few):
        mask = v["student_id"].isin(few).to_numpy()
        dropped[f"student with < {min_responses} scored rows"] = int(mask.sum())
        v = v[~mask]
    if n_students is not None:
        students = pd.unique(v["student_id"].to_numpy())
        if int(n_students) < len(students):
            rng = np.random.default_rng(seed)
            chosen = students[np.sort(rng.choice(len(students), int(n_students), replace=False))]
            mask = v["student_id"].isin(chosen).to_numpy()
            dropped["student not sampled"] = int((~mask).sum())
            v = v[mask]
    if len(v) == 0:
        raise ValueError("select_log kept no rows; relax skills, top_skills or min_responses")
    v = v.copy()
    v.attrs["selection"] = {
        "rows_read": n0,
        "students_read": int(s0),
        "skills_read": int(k0),
        "rows_kept": len(v),
        "students_kept": int(v["student_id"].nunique()),
        "skills_kept": int(v["skill_id"].nunique()),
        "dropped": dropped,
    }
    return v


def split_students(
    log: pd.DataFrame, test_fraction: float = 0.2, *, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a log by student into a training and a test part (whole students held out)."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction!r}")
    students = pd.unique(log["student_id"].to_numpy())
    n_test = int(round(test_fraction * len(students)))
    if n_test == 0:
        return log, log.iloc[:0]
    rng = np.random.default_rng(seed)
    test = students[rng.choice(len(students), n_test, replace=False)]
    mask = log["student_id"].isin(test).to_numpy()
    return log[~mask], log[mask]
