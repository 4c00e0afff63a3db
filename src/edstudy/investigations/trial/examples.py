"""The shipped example trials: a simulated cluster-randomized school trial written by edstudy.sim.

:func:`simulated_cluster_trial` runs a small school trial on the simulator: schools of two
classes, one class of each school randomized to the *individualized* strategy and the other to
*one-size-fits-all* (classes randomized within schools: a blocked cluster design), every student
taught for an hour by the tutor. Students who leave the tutor before the end are not post-tested,
as in a real trial, so their posttest is missing (attrition). It returns the outcomes table and
the tutor's response log; :func:`write_simulated_cluster_trial` writes them as the CSV files
``edstudy/data/trials/simulated_cluster_trial/`` ships (the same seed writes the same bytes; a test
checks it). The other example, ``edstudy/data/trials/video_vs_text.yaml``, analyses the public
ASSISTments A/B test without copying its data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from edstudy.sim import Budget, PopulationSpec, default_curriculum, draw_cohort, load_strategy
from edstudy.sim import simulate as run_simulation

__all__ = ["EXAMPLE_SEED", "simulated_cluster_trial", "write_simulated_cluster_trial"]

#: Seed of the shipped simulated trial.
EXAMPLE_SEED = 20250214
_ARMS = ("individualized", "one_size")
_OUTCOME_COLUMNS = (
    "student_id",
    "arm",
    "school_id",
    "class_id",
    "pretest",
    "stated_preference",
    "posttest",
    "skills_mastered",
    "dropped_out",
)
_LOG_COLUMNS = ("student_id", "skill_id", "order", "correct", "duration_s", "hints")


def simulated_cluster_trial(
    *,
    seed: int = EXAMPLE_SEED,
    n_schools: int = 8,
    class_size: int = 12,
    minutes: float = 60.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A simulated school trial: classes randomized within schools, two strategies.

    Parameters
    ----------
    seed : int
        The cohort is drawn from ``SeedSequence([seed, 0])``, the assignment from ``[seed, 1]``
        and arm ``k`` simulated with ``[seed, 2, k]``.
    n_schools : int
        Schools of two classes each.
    class_size : int
    minutes : float
        Tutor time per student.

    Returns
    -------
    (outcomes, log) : tuple of DataFrame
        ``outcomes``: one row per randomized student (``student_id, arm, school_id, class_id,
        pretest, stated_preference, posttest`` (missing for students who dropped out),
        ``skills_mastered, dropped_out``); ``log``: ``student_id, skill_id, order, correct,
        duration_s, hints``.
    """
    curriculum = default_curriculum()
    cohort = draw_cohort(
        PopulationSpec(),
        curriculum,
        2 * n_schools * class_size,
        seed=np.random.SeedSequence([seed, 0]),
        class_size=class_size,
        classes_per_school=2,
    )
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    first_treated = rng.integers(0, 2, n_schools)  # which class of each school is treated
    treated_class = 2 * np.arange(n_schools) + first_treated
    treated = np.isin(cohort.class_id, treated_class)
    outcomes, logs = [], []
    for k, (arm, mask) in enumerate(((_ARMS[0], treated), (_ARMS[1], ~treated))):
        log, out = run_simulation(
            cohort.subset(np.flatnonzero(mask)),
            curriculum,
            load_strategy(arm),
            seed=np.random.SeedSequence([seed, 2, k]),
            budget=Budget(minutes=minutes),
            arm=arm,
            progress=False,
        )
        outcomes.append(out)
        logs.append(log)
    out = pd.concat(outcomes, ignore_index=True).sort_values("student_id", ignore_index=True)
    out["posttest"] = out["posttest"].where(~out["dropped_out"].astype(bool))
    out["school_id"] = [f"school{s + 1:02d}" for s in out["school_id"]]
    out["class_id"] = [f"class{c + 1:02d}" for c in out["class_id"]]
    log = pd.concat(logs, ignore_index=True).sort_values(["student_id", "order", "skill_id"])
    log = log.reset_index(drop=True)
    log["duration_s"] = log["duration_s"].round(1)
    return out[list(_OUTCOME_COLUMNS)], log[list(_LOG_COLUMNS)]


def write_simulated_cluster_trial(folder: str | Path, *, seed: int = EXAMPLE_SEED) -> list[Path]:
    """Write ``outcomes.csv`` and ``log.csv`` of :func:`simulated_cluster_trial` into ``folder``.

    Returns
    -------
    list of Path
        The two files (the same seed writes the same bytes).
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    outcomes, log = simulated_cluster_trial(seed=seed)
    paths = [target / "outcomes.csv", target / "log.csv"]
    outcomes.to_csv(paths[0], index=False, float_format="%.4f", lineterminator="\n")
    log.to_csv(paths[1], index=False, float_format="%.1f", lineterminator="\n")
    return paths
