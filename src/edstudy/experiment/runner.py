"""Running a :class:`~edstudy.experiment.study.Study`, locally or on Dask, in chunks.

Tasks
    A study is split into independent tasks, one per (scenario, replication, arm, chunk). The
    study's randomization assigns units (students, classes or schools) to arms over the whole
    replication; an arm's students, in order of ``student_id``, are then cut into chunks of about
    ``chunk_size`` students (default :data:`DEFAULT_CHUNK_SIZE`), only between randomization
    units, so no class or school is split. A task draws exactly its students
    (:func:`edstudy.sim.population.draw_students`) and simulates them; every random number a
    student uses comes from its own stream (keyed by the study's seeds and its ``student_id``,
    see :mod:`edstudy.sim._random`), so a task's rows do not depend on the chunk size, on the
    other tasks or on the machine that runs it: the local run and a Dask run on any number of
    workers give identical tables.

Where the results go
    Without an output folder the tasks return their tables and the client concatenates them
    (``StudyResult.outcomes`` and ``.log`` in memory). With an output folder (``out_dir``, or
    ``edstudy run --format parquet``) every task writes its outcomes and log as Parquet parts
    (``outcomes.parquet/part-NNNNNN.parquet``, ``log.parquet/part-NNNNNN.parquet``, one per task,
    numbered in task order) into the result's temporary folder and returns only its exact
    sufficient statistics (:func:`edstudy.stats.cluster_moments` of
    :data:`~edstudy.experiment.result.DEFAULT_METRICS`, per scenario, arm and randomization
    unit); the client merges them (:func:`edstudy.stats.combine_moments`) into the summaries, which
    equal, bit for bit, the summaries of the whole outcomes table. The client never holds the log
    (nor the outcomes); the manifest lists every part. On a cluster of several machines the
    output folder must be on a file system the workers share.

Results are tidy: outcomes have one row per (scenario, replication, student, arm) with
``scenario, replication`` in front of the outcome columns of :mod:`edstudy.sim.engine`
(``student_id`` is unique within a scenario and replication, except with randomization ``none``
where every arm has every student); the log has the same two extra columns.

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
from edstudy.experiment.result import (
    DEFAULT_METRICS,
    RESULT_FORMATS,
    StudyResult,
    tidy_frame,
    write_parquet,
)
from edstudy.experiment.study import Study
from edstudy.sim.engine import simulate
from edstudy.sim.population import draw_students
from edstudy.stats.moments import cluster_moments, combine_moments

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ChunkStats",
    "ProgressCallback",
    "Task",
    "chunk_bounds",
    "run_study",
    "run_study_file",
    "run_task",
    "tasks_of",
]

#: Called after each finished task with (tasks done, tasks in all).
ProgressCallback = Callable[[int, int], None]

#: Students per task unless a run asks otherwise.
DEFAULT_CHUNK_SIZE = 20_000

#: Grouping of the summaries (the result's ``summary()`` and ``contrast()``).
_BY = ("scenario", "arm")


@dataclass(frozen=True, eq=False)
class Task:
    """One unit of work: a chunk of an arm of one replication in one scenario.

    ``students`` are the chunk's global student indices (None: every student of the arm);
    ``folder``, when given, is where the task writes its Parquet parts (part ``number``).
    """

    study: Study
    scenario: str
    replication: int
    arm_index: int
    keep_log: bool = True
    chunk: int = 0
    students: np.ndarray | None = None
    folder: str | None = None
    number: int = 0


@dataclass(frozen=True)
class ChunkStats:
    """What a task that wrote its tables returns: counts and exact sufficient statistics."""

    number: int
    n_students: int
    n_rows: int
    moments: pd.DataFrame


def _units(study: Study, ids: np.ndarray) -> np.ndarray:
    """Randomization unit of each global student index (the student itself for none)."""
    cls = ids // study.class_size
    return {"class": cls, "school": cls // study.classes_per_school}.get(study.randomization, ids)


def _arm_students(study: Study, assign: np.ndarray | None, arm_index: int) -> np.ndarray:
    if assign is None:
        return np.arange(study.n_students, dtype=np.int64)
    return np.flatnonzero(assign == arm_index).astype(np.int64)


def _assignment(study: Study, replication: int) -> np.ndarray | None:
    """Arm of every student of a replication (None with randomization ``none``)."""
    if study.randomization == "none":
        return None
    cls = np.arange(study.n_students, dtype=np.int64) // study.class_size
    return study.assignment(replication, cls, cls // study.classes_per_school)


def chunk_bounds(units: np.ndarray, chunk_size: int) -> list[tuple[int, int]]:
    """Cut a sequence of students into chunks of at most ``chunk_size`` that split no unit.

    Parameters
    ----------
    units : int array (n,)
        Each student's randomization unit, students of a unit adjacent.
    chunk_size : int
        A unit larger than this forms a chunk of its own.

    Returns
    -------
    list of (start, stop)
        Positions covering ``0 .. n`` in order.
    """
    n = int(units.shape[0])
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]]) if n else np.zeros(0, int)
    cuts = [0]
    while n - cuts[-1] > chunk_size:
        k = int(np.searchsorted(starts, cuts[-1] + chunk_size, side="right")) - 1
        cut = int(starts[k])
        if cut <= cuts[-1]:  # a unit larger than a chunk: it goes whole
            k = int(np.searchsorted(starts, cuts[-1], side="right"))
            cut = int(starts[k]) if k < starts.size else n
        if cut >= n:
            break
        cuts.append(cut)
    cuts.append(n)
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def tasks_of(
    study: Study,
    *,
    keep_log: bool = True,
    chunk_size: int | None = None,
    folder: str | Path | None = None,
) -> list[Task]:
    """Every task of ``study``: scenarios, then replications, then arms, then chunks."""
    size = _chunk_size(chunk_size)
    where = None if folder is None else str(Path(folder).resolve())
    chunks: dict[tuple[int, int], list[np.ndarray]] = {}
    for r in range(study.replications):
        assign = _assignment(study, r)
        for i in range(len(study.arms)):
            ids = _arm_students(study, assign, i)
            chunks[r, i] = [ids[a:b] for a, b in chunk_bounds(_units(study, ids), size)]
    tasks: list[Task] = []
    for scenario in study.scenario_names:
        for r in range(study.replications):
            for i in range(len(study.arms)):
                for c, ids in enumerate(chunks[r, i]):
                    tasks.append(
                        Task(study, scenario, r, i, keep_log, c, ids, where, number=len(tasks))
                    )
    return tasks


def _chunk_size(chunk_size: int | None) -> int:
    size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    if isinstance(size, bool) or int(size) != size or size < 1:
        raise ValueError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")
    return int(size)


def _simulate_task(task: Task) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    st = task.study
    spec = st.population_for(task.scenario) if st.scenarios else st.population
    ids = task.students
    if ids is None:
        ids = _arm_students(st, _assignment(st, task.replication), task.arm_index)
    arm = st.arms[task.arm_index]
    cohort = draw_students(
        spec,
        st.curriculum,
        ids,
        seed=np.random.SeedSequence([st.seed, task.replication, 0]),
        class_size=st.class_size,
        classes_per_school=st.classes_per_school,
    )
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
        return tidy_frame(out), None
    log.insert(0, "replication", task.replication)
    log.insert(0, "scenario", task.scenario)
    return tidy_frame(out), tidy_frame(log)


def run_task(task: Task) -> tuple[pd.DataFrame, pd.DataFrame | None] | ChunkStats:
    """Simulate one task; a pure function of the task (used locally and on Dask workers).

    Returns ``(outcomes, log or None)``, or, for a task with a ``folder``, writes them there as
    Parquet parts and returns their :class:`ChunkStats`.
    """
    out, log = _simulate_task(task)
    if task.folder is None:
        return out, log
    folder = Path(task.folder)
    name = f"part-{task.number:06d}.parquet"
    write_parquet(out, folder / "outcomes.parquet" / name)
    if log is not None:
        write_parquet(log, folder / "log.parquet" / name)
    metrics = [m for m in DEFAULT_METRICS if m in out.columns]
    moments = cluster_moments(out, metrics, by=_BY, unit=task.study.unit_column)
    return ChunkStats(task.number, len(out), 0 if log is None else len(log), moments)


def _execute(
    tasks: Sequence[Task],
    *,
    client: Any,
    label: str,
    progress: bool | None,
    on_progress: ProgressCallback | None,
) -> list[Any]:
    """Run the tasks (locally, or on a Dask client) and return their results in task order."""
    total = len(tasks)
    if progress is None:
        progress = sys.stderr.isatty()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"study {label}", unit="task")

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
            return parts
        from dask.distributed import as_completed

        futures = client.map(run_task, list(tasks), pure=False)
        for n, _ in enumerate(as_completed(futures), start=1):
            done(n)
        return client.gather(futures)
    finally:
        if bar is not None:
            bar.close()


def _run_into(
    study: Study,
    folder: Path,
    *,
    client: Any,
    progress: bool | None,
    on_progress: ProgressCallback | None,
    keep_log: bool,
    chunk_size: int | None,
) -> StudyResult:
    """Run every task writing its Parquet parts into ``folder``; merge the statistics."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "outcomes.parquet").mkdir(exist_ok=True)
    if keep_log:
        (folder / "log.parquet").mkdir(exist_ok=True)
    tasks = tasks_of(study, keep_log=keep_log, chunk_size=chunk_size, folder=folder)
    stats = _execute(
        tasks, client=client, label=study.name, progress=progress, on_progress=on_progress
    )
    moments = combine_moments([s.moments for s in stats], by=_BY)
    return StudyResult(study=study, folder=folder, moments=moments)


def run_study(
    study: Study,
    *,
    client: Any = None,
    progress: bool | None = None,
    on_progress: ProgressCallback | None = None,
    keep_log: bool = True,
    chunk_size: int | None = None,
    out_dir: str | Path | None = None,
    overwrite: bool = False,
    command: Sequence[str] | None = None,
) -> StudyResult:
    """Run every (scenario, replication, arm, chunk) of ``study`` and collect tidy results.

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
    chunk_size : int, optional
        Students per task (default :data:`DEFAULT_CHUNK_SIZE`); results do not depend on it.
    out_dir : path, optional
        Write the result there in Parquet format, the tasks writing their tables directly (see
        the module docstring): for studies whose log does not fit in memory. The returned result
        reads its outcomes and log from there. Absent, empty, or an earlier edstudy result to
        replace with ``overwrite=True`` (checked before anything runs).
    overwrite : bool
    command : sequence of str, optional
        Recorded in the manifest (with ``out_dir``).

    Returns
    -------
    StudyResult
    """
    _chunk_size(chunk_size)
    if out_dir is not None:
        with result_folder(
            out_dir, kind="study", overwrite=overwrite, seed=study.seed, command=command
        ) as tmp:
            result = _run_into(
                study,
                tmp,
                client=client,
                progress=progress,
                on_progress=on_progress,
                keep_log=keep_log,
                chunk_size=chunk_size,
            )
            result.write_files(tmp, log=keep_log, format="parquet")
        return StudyResult(study=study, folder=Path(out_dir), moments=result.moments)
    tasks = tasks_of(study, keep_log=keep_log, chunk_size=chunk_size)
    parts = _execute(
        tasks, client=client, label=study.name, progress=progress, on_progress=on_progress
    )
    outcomes = tidy_frame(pd.concat([p[0] for p in parts], ignore_index=True))
    log = tidy_frame(pd.concat([p[1] for p in parts], ignore_index=True)) if keep_log else None
    return StudyResult(study=study, outcomes=outcomes, log=log)


def run_study_file(
    path: str | Path,
    out_dir: str | Path,
    *,
    scheduler: str | None = None,
    overwrite: bool = False,
    command: Sequence[str] | None = None,
    progress: bool | None = None,
    format: str = "csv",
    chunk_size: int | None = None,
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
    format : {"csv", "parquet"}
        ``csv``: the tables are gathered, then written as ``outcomes.csv`` and ``log.csv.gz``.
        ``parquet``: every task writes its own parts (``outcomes.parquet/``, ``log.parquet/``),
        and only statistics travel back: for big studies.
    chunk_size : int, optional
        Students per task (default :data:`DEFAULT_CHUNK_SIZE`).

    Returns
    -------
    Path
        ``out_dir``.
    """
    if format not in RESULT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(RESULT_FORMATS)}, got {format!r}")
    _chunk_size(chunk_size)
    study = Study.from_yaml(path)
    with result_folder(
        out_dir, kind="study", overwrite=overwrite, seed=study.seed, command=command
    ) as tmp:
        client = None
        if scheduler:
            from dask.distributed import Client

            client = Client(scheduler)
        try:
            if format == "parquet":
                result = _run_into(
                    study,
                    tmp,
                    client=client,
                    progress=progress,
                    on_progress=None,
                    keep_log=True,
                    chunk_size=chunk_size,
                )
            else:
                result = run_study(study, client=client, progress=progress, chunk_size=chunk_size)
        finally:
            if client is not None:
                client.close()
        result.write_files(tmp, format=format)
    return Path(out_dir)
