"""Running a :class:`~edstudy.experiment.study.Study`, locally or on Dask.

A study is split into independent tasks, one per (scenario, replication, arm). Each task draws
its replication's cohort and assignment from the study's seeds and simulates its arm, so a task's
result depends only on the task: the local run and a Dask run give identical tables.

Results are tidy: ``StudyResult.outcomes`` has one row per (scenario, replication, student, arm)
with ``scenario, replication`` in front of the outcome columns of :mod:`edstudy.sim.engine`
(``student_id`` is unique within a scenario and replication, except with randomization ``none``
where every arm has every student). ``StudyResult.log`` is the response log with the same two
extra columns.

Progress is reported two ways: a text bar (``progress=True``, tqdm) for terminals and notebooks,
and ``on_progress(done, total)`` after every finished task, for front ends that draw their own bar
(the study designer widget).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edstudy._output import result_folder
from edstudy.experiment.result import StudyResult
from edstudy.experiment.study import Study
from edstudy.sim.engine import simulate
from edstudy.sim.population import draw_cohort

__all__ = ["ProgressCallback", "Task", "run_study", "run_study_file", "run_task", "tasks_of"]

#: Called after each finished task with (tasks done, tasks in all).
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Task:
    """One unit of work: an arm of one replication in one scenario."""

    study: Study
    scenario: str
    replication: int
    arm_index: int
    keep_log: bool = True


def run_task(task: Task) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Simulate one task; a pure function of the task (used locally and on Dask workers)."""
    st = task.study
    spec = st.population_for(task.scenario) if st.scenarios else st.population
    cohort = draw_cohort(
        spec,
        st.curriculum,
        st.n_students,
        seed=np.random.SeedSequence([st.seed, task.replication, 0]),
        class_size=st.class_size,
        classes_per_school=st.classes_per_school,
    )
    arm = st.arms[task.arm_index]
    if st.randomization != "none":
        assign = st.assignment(task.replication, cohort.class_id, cohort.school_id)
        cohort = cohort.subset(assign == task.arm_index)
    log, out = simulate(
        cohort,
        st.curriculum,
        arm.strategy,
        seed=np.random.SeedSequence([st.seed, task.replication, 2, arm.seed_key]),
        budget=st.budget,
        arm=arm.name,
        progress=False,
    )
    out.insert(0, "replication", task.replication)
    out.insert(0, "scenario", task.scenario)
    if not task.keep_log:
        return out, None
    log.insert(0, "replication", task.replication)
    log.insert(0, "scenario", task.scenario)
    return out, log


def tasks_of(study: Study, *, keep_log: bool = True) -> list[Task]:
    """Every task of ``study``: scenarios, then replications, then arms."""
    return [
        Task(study, scenario, r, i, keep_log)
        for scenario in study.scenario_names
        for r in range(study.replications)
        for i in range(len(study.arms))
    ]


def run_study(
    study: Study,
    *,
    client: Any = None,
    progress: bool | None = None,
    on_progress: ProgressCallback | None = None,
    keep_log: bool = True,
) -> StudyResult:
    """Run every (scenario, replication, arm) of ``study`` and collect tidy results.

    Parameters
    ----------
    study : Study
    client : dask.distributed.Client, optional
        Run the tasks on this cluster; results equal the local run exactly.
    progress : bool or None
        A text progress bar over tasks (None: when stderr is a terminal).
    on_progress : callable, optional
        ``on_progress(done, total)`` after every finished task (and ``(0, total)`` first).
    keep_log : bool
        Keep the response logs (large for big studies).

    Returns
    -------
    StudyResult
    """
    tasks = tasks_of(study, keep_log=keep_log)
    total = len(tasks)
    if progress is None:
        progress = sys.stderr.isatty()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"study {study.name}", unit="task")

    def done(n: int) -> None:
        if bar is not None and n:
            bar.update(1)
        if on_progress is not None:
            on_progress(n, total)

    done(0)
    try:
        if client is None:
            parts = []
            for t in tasks:
                parts.append(run_task(t))
                done(len(parts))
        else:
            from dask.distributed import as_completed

            futures = client.map(run_task, tasks, pure=False)
            for n, _ in enumerate(as_completed(futures), start=1):
                done(n)
            parts = client.gather(futures)
    finally:
        if bar is not None:
            bar.close()
    outcomes = pd.concat([p[0] for p in parts], ignore_index=True)
    log = pd.concat([p[1] for p in parts], ignore_index=True) if keep_log else None
    for frame in (outcomes, log):
        if frame is not None:
            frame["scenario"] = frame["scenario"].astype("string")
            frame["arm"] = frame["arm"].astype("string")
    return StudyResult(study=study, outcomes=outcomes, log=log)


def run_study_file(
    path: str | Path,
    out_dir: str | Path,
    *,
    scheduler: str | None = None,
    overwrite: bool = False,
    command: Sequence[str] | None = None,
    progress: bool | None = None,
) -> Path:
    """Run a study file and write its results (the function behind ``edstudy run``).

    Everything is read and checked, and the output folder found usable, before anything runs;
    the results appear in ``out_dir`` only when complete (see :meth:`StudyResult.save`).

    Parameters
    ----------
    path : str or Path
        The study YAML.
    out_dir : str or Path
        Absent, empty, or an earlier edstudy study result to replace with ``overwrite=True``.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``) to run the tasks on.
    overwrite : bool
    command : sequence of str, optional
        Recorded in the manifest.
    progress : bool or None
        A text progress bar (None: when stderr is a terminal).

    Returns
    -------
    Path
        ``out_dir``.
    """
    study = Study.from_yaml(path)
    with result_folder(
        out_dir, kind="study", overwrite=overwrite, seed=study.seed, command=command
    ) as tmp:
        if scheduler:
            from dask.distributed import Client

            with Client(scheduler) as client:
                result = run_study(study, client=client, progress=progress)
        else:
            result = run_study(study, progress=progress)
        result.write_files(tmp)
    return Path(out_dir)
