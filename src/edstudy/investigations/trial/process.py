"""Process measures of a trial's arms from the tutor's response log.

Impacts say *whether* an arm helped; the log says *how the arms differed in what students did*:
how much they practised, for how long, how often their first attempt was right, and how fast
their estimated mastery grew. :func:`process_measures` computes, per arm, student-level means with
t intervals of

- ``opportunities``: scored practice opportunities per student;
- ``minutes``: time on task per student (when the log has ``duration_s``);
- ``first_attempt_accuracy``: share of first attempts correct (the log's ``correct``);
- ``hints_per_opportunity`` (when the log has ``hints`` and some are used);
- ``final_mastery``: the student's BKT mastery after their last opportunity, averaged over the
  skills they practised,

and the **mastery trajectories**: mean P(mastered) after the k-th opportunity on a skill, per
arm. One BKT model (:class:`edstudy.bkt.BKT`) is fitted to the whole log, all arms together, so
the arms are compared on one scale; a model per arm would let the parameters absorb the very
differences being compared. These are descriptive: students who practise more are not a random
subset, so differences in process measures are not impacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from edstudy.bkt import BKT

__all__ = ["ProcessMeasures", "process_measures"]

#: Trajectories stop at the first opportunity with fewer sequences than this in an arm.
MIN_SEQUENCES = 10
MAX_OPPORTUNITY = 20


@dataclass(frozen=True)
class ProcessMeasures:
    """Per-arm process measures and mastery trajectories.

    Attributes
    ----------
    summary : DataFrame
        ``metric, arm, mean, ci_low, ci_high, n_students``.
    trajectories : DataFrame
        ``arm, opportunity, mastery, n_sequences``: mean P(mastered) after the k-th
        opportunity on a skill.
    n_rows : int
        Log rows used.
    """

    summary: pd.DataFrame
    trajectories: pd.DataFrame
    n_rows: int

    def to_frame(self) -> pd.DataFrame:
        """The per-arm summary (a copy)."""
        return self.summary.copy()


def _mean_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    v = values[~np.isnan(values)]
    if v.size == 0:
        return np.nan, np.nan, np.nan
    m = float(v.mean())
    if v.size < 2:
        return m, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return m, m - half, m + half


def process_measures(
    log: pd.DataFrame, control: str, treatments: Sequence[str], *, seed: int = 0
) -> ProcessMeasures:
    """Process measures per arm from a response log with an ``arm`` column.

    Parameters
    ----------
    log : DataFrame
        Response log (``student_id, skill_id, order, correct`` and ``arm``; optionally
        ``duration_s``, ``hints``); not modified.
    control : str
    treatments : sequence of str
        The arms to describe (others are left out).
    seed : int
        Seed of the BKT fit's random restarts.

    Returns
    -------
    ProcessMeasures
    """
    arms = [*treatments, control]
    if "arm" not in log.columns:
        raise ValueError("process_measures: the log needs an 'arm' column")
    data = log[log["arm"].astype(str).isin(arms)]
    data = data[data["correct"].notna()].sort_values(["student_id", "skill_id", "order"])
    data = data.reset_index(drop=True)
    if data.empty:
        raise ValueError(f"process_measures: the log has no scored rows of the arms {arms}")
    model = BKT(restarts=2, seed=seed).fit(data)
    data = data.assign(
        mastery=model.mastery(data),
        k=data.groupby(["student_id", "skill_id"], sort=False).cumcount() + 1,
        correct_f=data["correct"].astype(float),
    )
    per_student = data.groupby("student_id", sort=False).agg(
        arm=("arm", "first"),
        opportunities=("correct_f", "size"),
        first_attempt_accuracy=("correct_f", "mean"),
    )
    last = data.groupby(["student_id", "skill_id"], sort=False)["mastery"].last()
    per_student["final_mastery"] = last.groupby(level=0).mean()
    if "duration_s" in data.columns:
        per_student["minutes"] = data.groupby("student_id", sort=False)["duration_s"].sum() / 60.0
    if "hints" in data.columns and data["hints"].astype(float).fillna(0).gt(0).any():
        hints = data["hints"].astype(float)
        per_student["hints_per_opportunity"] = hints.groupby(data["student_id"]).mean()
    metrics = [
        m
        for m in (
            "opportunities",
            "minutes",
            "first_attempt_accuracy",
            "hints_per_opportunity",
            "final_mastery",
        )
        if m in per_student.columns
    ]
    rows = []
    for metric in metrics:
        for arm in arms:
            values = per_student.loc[per_student["arm"].astype(str) == arm, metric].to_numpy(float)
            m, lo, hi = _mean_ci(values)
            rows.append(
                {
                    "metric": metric,
                    "arm": arm,
                    "mean": m,
                    "ci_low": lo,
                    "ci_high": hi,
                    "n_students": int(np.sum(~np.isnan(values))),
                }
            )
    traj = (
        data[data["k"] <= MAX_OPPORTUNITY]
        .groupby(["arm", "k"], sort=True)["mastery"]
        .agg(["mean", "size"])
        .reset_index()
        .rename(columns={"k": "opportunity", "mean": "mastery", "size": "n_sequences"})
    )
    traj = traj[traj["n_sequences"] >= MIN_SEQUENCES].reset_index(drop=True)
    traj["arm"] = traj["arm"].astype(str)
    return ProcessMeasures(summary=pd.DataFrame(rows), trajectories=traj, n_rows=len(data))
