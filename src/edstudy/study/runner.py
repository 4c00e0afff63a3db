"""Running a :class:`~edstudy.study.design.Study`, locally or on Dask, and summarizing it.

A study is split into independent tasks, one per (scenario, replication, arm). Each task draws
its replication's cohort and assignment from the study's seeds and simulates its arm, so a task's
result depends only on the task: the local run and a Dask run give identical tables.

Results are tidy: ``StudyResult.outcomes`` has one row per (scenario, replication, student, arm)
with ``scenario, replication`` in front of the outcome columns of :mod:`edstudy.sim.engine`
(``student_id`` is unique within a scenario and replication, except with randomization ``none``
where every arm has every student). ``StudyResult.log`` is the response log with the same two
extra columns.

Intervals in :func:`summarize` and :func:`contrast` are cluster-robust at the randomization unit
(class or school means vary together), with a t quantile on (units - 1) degrees of freedom. They
are descriptive; models (mixed models, effect sizes, power) live in ``edstudy.study.analysis``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edstudy.sim.engine import simulate
from edstudy.sim.population import draw_cohort
from edstudy.study.design import Study

__all__ = [
    "DEFAULT_METRICS",
    "StudyResult",
    "Task",
    "contrast",
    "run_study",
    "run_study_file",
    "run_task",
    "summarize",
]

#: outcome columns summarized by default
DEFAULT_METRICS: tuple[str, ...] = (
    "posttest",
    "pretest",
    "mastered_true",
    "skills_mastered",
    "opportunities",
    "time_on_task",
    "dropped_out",
    "engagement",
    "over_practice",
    "under_practice",
    "true_matched_share",
)


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


def _tasks(study: Study, keep_log: bool) -> list[Task]:
    return [
        Task(study, scenario, r, i, keep_log)
        for scenario in study.scenario_names
        for r in range(study.replications)
        for i in range(len(study.arms))
    ]


def run_study(
    study: Study, *, client: Any = None, progress: bool | None = None, keep_log: bool = True
) -> StudyResult:
    """Run all tasks of ``study`` locally, or on ``client`` (a ``dask.distributed.Client``)."""
    tasks = _tasks(study, keep_log)
    if progress is None:
        progress = sys.stderr.isatty()
    if client is None:
        it = tasks
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(tasks, desc=f"study {study.name}", unit="task")
        parts = [run_task(t) for t in it]
    else:
        futures = client.map(run_task, tasks, pure=False)
        if progress:
            from dask.distributed import progress as dask_progress

            dask_progress(futures)
        parts = client.gather(futures)
    outcomes = pd.concat([p[0] for p in parts], ignore_index=True)
    log = pd.concat([p[1] for p in parts], ignore_index=True) if keep_log else None
    for frame in (outcomes, log):
        if frame is not None:
            frame["scenario"] = frame["scenario"].astype("string")
            frame["arm"] = frame["arm"].astype("string")
    return StudyResult(study=study, outcomes=outcomes, log=log)


# --- summaries ------------------------------------------------------------------------------------


def _cluster_stats(frame: pd.DataFrame, by: list[str], metric: str, unit: str) -> pd.DataFrame:
    """Mean, cluster-robust SE and number of units of ``metric`` per group."""
    y = frame[metric].astype(float)
    d = (
        frame[by + ["replication", unit]].copy()
        if "replication" in frame
        else frame[by + [unit]].copy()
    )
    d["_y"] = y.to_numpy()
    d = d[np.isfinite(d["_y"].to_numpy())]
    g = d.groupby(by, sort=False, observed=True)["_y"]
    mean = g.transform("mean")
    d["_r"] = d["_y"] - mean
    cluster_keys = by + (["replication"] if "replication" in d else []) + [unit]
    sums = d.groupby(cluster_keys, sort=False, observed=True)["_r"].sum().rename("_s").reset_index()
    sums["_s2"] = sums["_s"] ** 2
    agg = sums.groupby(by, sort=False, observed=True).agg(
        n_units=("_s2", "size"), ss=("_s2", "sum")
    )
    base = d.groupby(by, sort=False, observed=True)["_y"].agg(n_students="size", mean="mean")
    out = base.join(agg)
    n, G = out["n_students"].astype(float), out["n_units"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["se"] = np.sqrt(np.where(G > 1, G / (G - 1), np.nan) * out["ss"] / n**2)
    return out.drop(columns="ss")


def _tq(df: np.ndarray) -> np.ndarray:
    from scipy import stats

    with np.errstate(invalid="ignore"):
        return np.where(df >= 1, stats.t.ppf(0.975, np.maximum(df, 1)), np.nan)


def summarize(
    outcomes: pd.DataFrame,
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
    by: Sequence[str] = ("scenario", "arm"),
    unit: str = "class_id",
) -> pd.DataFrame:
    """Means with 95% intervals per group, one row per group and metric (tidy).

    Parameters
    ----------
    outcomes : DataFrame
        ``StudyResult.outcomes`` (or any outcomes table with the ``by`` columns).
    metrics : sequence of str
        Outcome columns; missing ones are skipped.
    by : sequence of str
        Grouping columns; missing ones are skipped.
    unit : str
        Randomization unit column for cluster-robust intervals (``student_id`` for none).

    Returns
    -------
    DataFrame
        ``*by, metric, n_students, n_units, mean, ci_low, ci_high``.
    """
    by = [b for b in by if b in outcomes.columns]
    rows = []
    for metric in metrics:
        if metric not in outcomes.columns:
            continue
        s = _cluster_stats(outcomes, by, metric, unit).reset_index()
        half = _tq(s["n_units"].to_numpy(float) - 1) * s["se"].to_numpy()
        s["ci_low"] = s["mean"] - half
        s["ci_high"] = s["mean"] + half
        s.insert(len(by), "metric", metric)
        rows.append(s.drop(columns="se"))
    out = pd.concat(rows, ignore_index=True)
    return out[[*by, "metric", "n_students", "n_units", "mean", "ci_low", "ci_high"]]


def contrast(
    outcomes: pd.DataFrame,
    arm: str,
    reference: str,
    *,
    metric: str = "posttest",
    by: Sequence[str] = ("scenario",),
    unit: str = "class_id",
    paired: bool = False,
) -> pd.DataFrame:
    """Difference of means ``arm - reference`` per group, with a 95% interval.

    Independent arms (randomized units) combine the two cluster-robust standard errors with
    ``min(units) - 1`` degrees of freedom. ``paired=True`` (randomization ``none``: the same
    students in both arms) takes per-student differences first.

    Returns
    -------
    DataFrame
        ``*by, arm, reference, metric, difference, ci_low, ci_high``.
    """
    by = [b for b in by if b in outcomes.columns]
    for name in (arm, reference):
        if name not in set(outcomes["arm"].astype(str)):
            raise KeyError(f"no arm {name!r} in the results")
    a = outcomes[outcomes["arm"] == arm]
    b = outcomes[outcomes["arm"] == reference]
    if paired:
        keys = [*by, "replication", "student_id"]
        m = a[[*keys, unit, metric]].merge(b[[*keys, metric]], on=keys, suffixes=("", "_ref"))
        m["_d"] = m[metric].astype(float) - m[f"{metric}_ref"].astype(float)
        s = (
            _cluster_stats(m, by, "_d", unit).reset_index()
            if by
            else _cluster_stats(m.assign(_all=0), ["_all"], "_d", unit).reset_index()
        )
        diff, se, df = s["mean"].to_numpy(), s["se"].to_numpy(), s["n_units"].to_numpy(float) - 1
    else:
        grp = by if by else None
        sa = _cluster_stats(a.assign(_all=0), grp or ["_all"], metric, unit)
        sb = _cluster_stats(b.assign(_all=0), grp or ["_all"], metric, unit)
        s = sa.join(sb.add_suffix("_ref"), how="inner").reset_index()
        diff = (s["mean"] - s["mean_ref"]).to_numpy()
        se = np.sqrt(s["se"] ** 2 + s["se_ref"] ** 2).to_numpy()
        df = np.minimum(s["n_units"], s["n_units_ref"]).to_numpy(float) - 1
    half = _tq(df) * se
    out = pd.DataFrame({b_: s[b_] for b_ in by})
    out["arm"] = arm
    out["reference"] = reference
    out["metric"] = metric
    out["difference"] = diff
    out["ci_low"] = diff - half
    out["ci_high"] = diff + half
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class StudyResult:
    """Results of :meth:`Study.run`: the study, tidy outcomes and (optionally) the log."""

    study: Study
    outcomes: pd.DataFrame
    log: pd.DataFrame | None = None

    def summary(self, metrics: Sequence[str] = DEFAULT_METRICS) -> pd.DataFrame:
        """Per scenario and arm: means and 95% intervals (see :func:`summarize`)."""
        return summarize(self.outcomes, metrics=metrics, unit=self.study.unit_column)

    def contrast(self, arm: str, reference: str, metric: str = "posttest") -> pd.DataFrame:
        """``arm - reference`` per scenario with a 95% interval (see :func:`contrast`)."""
        return contrast(
            self.outcomes,
            arm,
            reference,
            metric=metric,
            unit=self.study.unit_column,
            paired=self.study.randomization == "none",
        )

    def contrasts(self, metric: str = "posttest") -> pd.DataFrame:
        """The study's comparisons of interest (``Study.contrasts``) for one metric."""
        parts = [self.contrast(a, r, metric) for a, r in self.study.comparisons()]
        return pd.concat(parts, ignore_index=True)

    def posttest_table(self) -> pd.DataFrame:
        """Mean post-test per arm (rows) and scenario (columns), as ``mean [low, high]`` text."""
        s = self.summary(metrics=("posttest",))
        s["cell"] = [
            f"{m:.3f} [{lo:.3f}, {hi:.3f}]"
            for m, lo, hi in zip(s["mean"], s["ci_low"], s["ci_high"], strict=True)
        ]
        t = s.pivot(index="arm", columns="scenario", values="cell")
        return t.reindex(index=list(self.study.arm_names), columns=list(self.study.scenario_names))

    def save(self, out_dir: str | Path, *, log: bool = True) -> Path:
        """Write ``study.yaml`` (full configuration), ``outcomes.csv``, ``log.csv.gz``,
        ``summary.csv``, ``contrasts.csv`` and ``summary.md`` into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.study.to_yaml(out / "study.yaml")
        self.outcomes.to_csv(out / "outcomes.csv", index=False)
        if log and self.log is not None:
            self.log.to_csv(
                out / "log.csv.gz", index=False, compression={"method": "gzip", "compresslevel": 1}
            )
        summary = self.summary()
        summary.to_csv(out / "summary.csv", index=False)
        contrasts = self.contrasts()
        contrasts.to_csv(out / "contrasts.csv", index=False)
        (out / "summary.md").write_text(_markdown(self, summary, contrasts), encoding="utf-8")
        return out

    @classmethod
    def load(cls, out_dir: str | Path, *, log: bool = False) -> StudyResult:
        """Read back what :meth:`save` wrote (the study from its YAML, outcomes from CSV)."""
        d = Path(out_dir)
        study = Study.from_yaml(d / "study.yaml")
        outcomes = pd.read_csv(d / "outcomes.csv")
        lg = pd.read_csv(d / "log.csv.gz") if log and (d / "log.csv.gz").exists() else None
        return cls(study=study, outcomes=outcomes, log=lg)


def _markdown(result: StudyResult, summary: pd.DataFrame, contrasts: pd.DataFrame) -> str:
    st = result.study
    lines = [
        f"# Study `{st.name}`",
        "",
        st.description,
        "",
        f"{st.n_students} students per replication, randomized by {st.randomization}, "
        f"{st.replications} replication(s), seed {st.seed}, budget {st.budget.minutes:g} minutes. "
        "Means with 95% intervals (cluster-robust at the randomization unit).",
        "",
        "## Post-test by arm and scenario",
        "",
        _md_table(result.posttest_table().reset_index()),
        "",
        "## Comparisons (post-test difference)",
        "",
    ]
    c = contrasts.copy()
    c["difference"] = [
        f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"
        for d, lo, hi in zip(c["difference"], c["ci_low"], c["ci_high"], strict=True)
    ]
    lines.append(_md_table(c.drop(columns=["ci_low", "ci_high", "metric"])))
    lines += ["", "## Process measures (means)", ""]
    wide = summary.pivot_table(
        index=["scenario", "arm"], columns="metric", values="mean", sort=False
    ).reset_index()
    if "time_on_task" in wide:
        wide["time_on_task"] = wide["time_on_task"] / 60.0
        wide = wide.rename(columns={"time_on_task": "minutes"})
    lines.append(_md_table(wide.round(3)))
    lines.append("")
    return "\n".join(lines)


def _md_table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        out.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(out)


def run_study_file(path: str | Path, out_dir: str | Path, scheduler: str | None = None) -> Path:
    """Run a study file and write its results (the function behind ``edstudy run``).

    Everything is read and checked before anything runs or is written.

    Parameters
    ----------
    path : str or Path
        The study YAML.
    out_dir : str or Path
        Created if needed; receives ``study.yaml, outcomes.csv, log.csv.gz, summary.csv,
        contrasts.csv, summary.md``.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``) to run the tasks on.

    Returns
    -------
    Path
        ``out_dir``.
    """
    study = Study.from_yaml(path)
    if scheduler:
        from dask.distributed import Client

        with Client(scheduler) as client:
            result = study.run(client=client)
    else:
        result = study.run()
    return result.save(out_dir)
