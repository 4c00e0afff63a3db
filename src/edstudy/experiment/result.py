"""What a study run produced: :class:`StudyResult`, its summaries, files and analysis table.

``StudyResult.outcomes`` has one row per (scenario, replication, student, arm) with ``scenario,
replication`` in front of the outcome columns of :mod:`edstudy.sim.engine`; ``StudyResult.log`` is
the response log with the same two extra columns. :func:`analysis_frame` readies the outcomes for
the statistics of :mod:`edstudy.stats` (clusters of different replications never pooled, derived
per-student measures added).

A result is held in memory, or in a result folder in Parquet (``outcomes.parquet`` and
``log.parquet``, each a file or a folder of parts written by the runner's tasks), where the log
is read lazily (:meth:`StudyResult.read_log`, :meth:`~StudyResult.iter_log`,
:meth:`~StudyResult.log_dataset`) and the summaries come from exact per-chunk statistics. Files
are written as CSV (``outcomes.csv``, ``log.csv.gz``) or Parquet, byte-identical for the same
study and seed in both formats.

Like every result object of edstudy, a :class:`StudyResult` answers ``to_frame()`` (tidy table),
``to_markdown()`` (text for a report) and ``plot()`` (a figure).
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edstudy._format import interval_cells, markdown_table
from edstudy._output import read_manifest, result_folder
from edstudy.experiment.study import Study
from edstudy.stats.descriptive import contrast, contrast_from_stats, summarize, summary_from_moments
from edstudy.stats.moments import moments_summary

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_METRICS",
    "DERIVED_METRICS",
    "RESULT_FORMATS",
    "StudyResult",
    "analysis_frame",
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

#: Derived per-student measures added by :func:`analysis_frame` (name -> meaning).
DERIVED_METRICS: dict[str, str] = {
    "practice_minutes": "time on task in minutes",
    "skills_learned": "skills truly learned in the tutor (known at the end, not at the start)",
    "minutes_per_skill_learned": (
        "minutes of practice per skill truly learned (time to mastery); missing for students "
        "who learned no skill"
    ),
}


def _unique_codes(frame: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """Integer codes of the combinations of ``keys`` (in order of first appearance)."""
    present = [k for k in keys if k in frame.columns]
    codes, _ = pd.MultiIndex.from_frame(frame[present].astype(str)).factorize()
    return codes.astype(np.int64)


def analysis_frame(outcomes: pd.DataFrame) -> pd.DataFrame:
    """A copy of study outcomes ready for the analysis functions.

    ``class_id`` and ``school_id`` are replaced by integer codes unique per (scenario,
    replication, school[, class]), so clusters of different replications are never pooled, and
    the :data:`DERIVED_METRICS` columns are added. The input is not modified.

    Parameters
    ----------
    outcomes : DataFrame
        ``StudyResult.outcomes`` (``replication`` and ``scenario`` are optional).

    Returns
    -------
    DataFrame
    """
    out = outcomes.copy()
    outer = [c for c in ("scenario", "replication") if c in out.columns]
    if "school_id" in out.columns:
        out["school_id"] = _unique_codes(out, [*outer, "school_id"])
    if "class_id" in out.columns:
        out["class_id"] = _unique_codes(out, [*outer, "school_id", "class_id"])
    if "time_on_task" in out.columns:
        out["practice_minutes"] = out["time_on_task"].astype(float) / 60.0
    if {"mastered_true", "true_prior_mastered"} <= set(out.columns):
        learned = out["mastered_true"].astype(float) - out["true_prior_mastered"].astype(float)
        out["skills_learned"] = learned
        if "practice_minutes" in out.columns:
            out["minutes_per_skill_learned"] = (out["practice_minutes"] / learned).where(
                learned > 0
            )
    return out


#: File formats of a saved result's outcomes and log.
RESULT_FORMATS = ("csv", "parquet")
_OUTCOMES_PARQUET = "outcomes.parquet"
_LOG_PARQUET = "log.parquet"


def tidy_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``scenario`` and ``arm`` as pandas ``string`` columns (in place; returns ``frame``)."""
    for col in ("scenario", "arm"):
        if col in frame.columns:
            frame[col] = frame[col].astype("string")
    return frame


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """One Parquet file (pyarrow, zstd, no index): the same table gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False, engine="pyarrow", compression="zstd")


def parquet_parts(path: Path) -> list[Path]:
    """The files of a Parquet table: the file itself, or a folder's parts in name order."""
    if path.is_dir():
        return sorted(path.glob("part-*.parquet"))
    return [path]


def _read_parquet(path: Path, columns: Sequence[str] | None, filters: Any) -> pd.DataFrame:
    parts = [
        tidy_frame(
            pd.read_parquet(p, columns=None if columns is None else list(columns), filters=filters)
        )
        for p in parquet_parts(path)
    ]
    return pd.concat(parts, ignore_index=True) if len(parts) != 1 else parts[0]


class StudyResult:
    """Results of :func:`~edstudy.experiment.run_study`: the study, tidy outcomes and the log.

    A result lives in memory (``outcomes`` and ``log`` tables) or in a result folder written as
    Parquet (``folder``; :func:`~edstudy.experiment.run_study` with ``out_dir``, ``edstudy run
    --format parquet``, :meth:`load`), where the log stays on disk: :meth:`read_log` reads it
    (or a selection), :meth:`iter_log` one part at a time and :meth:`log_dataset` as a lazy Dask
    DataFrame. ``outcomes`` of a folder result is read on first use. ``moments`` (exact
    sufficient statistics of :data:`DEFAULT_METRICS`, from the runner) give :meth:`summary` and
    :meth:`contrast` without reading the outcomes, with the same numbers.

    Parameters
    ----------
    study : Study
    outcomes, log : DataFrame, optional
        The tables in memory (``outcomes`` is required unless ``folder`` holds them).
    folder : path, optional
        A folder with ``outcomes.parquet`` (and ``log.parquet``): each a file or a folder of parts.
    moments : DataFrame, optional
        :func:`edstudy.stats.cluster_moments` of the outcomes by scenario and arm.
    """

    __slots__ = ("study", "_outcomes", "_log", "folder", "moments")

    def __init__(
        self,
        study: Study,
        outcomes: pd.DataFrame | None = None,
        log: pd.DataFrame | None = None,
        *,
        folder: str | Path | None = None,
        moments: pd.DataFrame | None = None,
    ) -> None:
        where = None if folder is None else Path(folder)
        if outcomes is None and (where is None or not (where / _OUTCOMES_PARQUET).exists()):
            raise ValueError(
                "a StudyResult needs its outcomes: a table, or a folder with outcomes.parquet"
            )
        for name, value in (
            ("study", study),
            ("_outcomes", outcomes),
            ("_log", log),
            ("folder", where),
            ("moments", moments),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"StudyResult is read-only (cannot set {name!r})")

    def __repr__(self) -> str:
        where = f"folder={str(self.folder)!r}" if self._outcomes is None else "in memory"
        return f"StudyResult(study={self.study.name!r}, {where})"

    # --- the tables ----------------------------------------------------------------------------
    @property
    def outcomes(self) -> pd.DataFrame:
        """One row per (scenario, replication, student, arm); read from ``folder`` on first use."""
        if self._outcomes is None:
            object.__setattr__(self, "_outcomes", self.read_outcomes())
        return self._outcomes

    @property
    def log(self) -> pd.DataFrame | None:
        """The response log in memory (None when it was not kept or lives on disk)."""
        return self._log

    @property
    def outcomes_path(self) -> Path | None:
        """``folder/outcomes.parquet`` (a file or a folder of parts), when the result has one."""
        p = None if self.folder is None else self.folder / _OUTCOMES_PARQUET
        return p if p is not None and p.exists() else None

    @property
    def log_path(self) -> Path | None:
        """``folder/log.parquet`` (a file or a folder of parts), when the log lives on disk."""
        p = None if self.folder is None else self.folder / _LOG_PARQUET
        return p if p is not None and p.exists() else None

    def read_outcomes(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The outcomes (or some columns), from memory or from the folder."""
        if self._outcomes is not None:
            return self._outcomes if columns is None else self._outcomes[list(columns)]
        return _read_parquet(self.folder / _OUTCOMES_PARQUET, columns, None)

    def read_log(
        self, columns: Sequence[str] | None = None, filters: Any = None
    ) -> pd.DataFrame | None:
        """The log (or some columns, or rows selected by pyarrow ``filters`` such as
        ``[("arm", "==", "individualized")]``), from memory or from the folder; None if not kept.
        """
        if self._log is not None:
            if filters is not None:
                raise ValueError("filters apply to a log on disk; select rows with pandas")
            return self._log if columns is None else self._log[list(columns)]
        if self.log_path is None:
            return None
        return _read_parquet(self.log_path, columns, filters)

    def iter_log(self, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        """The log one part (one task: a chunk of an arm) at a time, in order."""
        if self._log is not None:
            yield self._log if columns is None else self._log[list(columns)]
            return
        if self.log_path is None:
            return
        for p in parquet_parts(self.log_path):
            yield _read_parquet(p, columns, None)

    def log_dataset(self) -> Any:
        """The log on disk as a lazy ``dask.dataframe`` (one partition per part)."""
        if self.log_path is None:
            raise ValueError("this result has no log on disk (see read_log)")
        import dask.dataframe as dd

        return dd.read_parquet([str(p) for p in parquet_parts(self.log_path)])

    # --- summaries ------------------------------------------------------------------------------
    def _uses_moments(self, metrics: Sequence[str]) -> bool:
        return self.moments is not None and all(m in DEFAULT_METRICS for m in metrics)

    def _columns_for(self, metrics: Sequence[str]) -> pd.DataFrame:
        """The outcome columns a summary of ``metrics`` needs (all of them when in memory)."""
        if self._outcomes is not None or self.outcomes_path is None:
            return self.outcomes
        import pyarrow.parquet as pq

        have = pq.read_schema(parquet_parts(self.outcomes_path)[0]).names
        keys = ["scenario", "replication", "arm", "student_id", "class_id", "school_id"]
        return self.read_outcomes([c for c in have if c in keys or c in metrics])

    def summary(self, metrics: Sequence[str] = DEFAULT_METRICS) -> pd.DataFrame:
        """Per scenario and arm: means and 95% intervals (see :func:`summarize`)."""
        if self._uses_moments(metrics):
            mom = self.moments
            parts = [mom[mom["metric"] == m] for m in metrics]
            return summary_from_moments(pd.concat(parts, ignore_index=True))
        frame = self._columns_for(metrics)
        return summarize(frame, metrics=metrics, unit=self.study.unit_column)

    def contrast(self, arm: str, reference: str, metric: str = "posttest") -> pd.DataFrame:
        """``arm - reference`` per scenario with a 95% interval (see :func:`contrast`)."""
        paired = self.study.randomization == "none"
        if not paired and self._uses_moments([metric]):
            mom = self.moments
            for name in (arm, reference):
                if name not in set(mom["arm"].astype(str)):
                    raise KeyError(f"no arm {name!r} in the results")
            s = moments_summary(mom[mom["metric"] == metric])
            cols = ["n_students", "mean", "n_units", "se"]
            sa = s[s["arm"] == arm].set_index(["scenario"])[cols]
            sb = s[s["arm"] == reference].set_index(["scenario"])[cols]
            return contrast_from_stats(sa, sb, ["scenario"], arm, reference, metric)
        return contrast(
            self._columns_for([metric]),
            arm,
            reference,
            metric=metric,
            unit=self.study.unit_column,
            paired=paired,
        )

    def contrasts(self, metric: str = "posttest") -> pd.DataFrame:
        """The study's comparisons of interest (``Study.contrasts``) for one metric."""
        parts = [self.contrast(a, r, metric) for a, r in self.study.comparisons()]
        return pd.concat(parts, ignore_index=True)

    def posttest_table(self) -> pd.DataFrame:
        """Mean post-test per arm (rows) and scenario (columns), as ``mean [low, high]`` text."""
        s = self.summary(metrics=("posttest",))
        s["cell"] = interval_cells(s["mean"], s["ci_low"], s["ci_high"])
        t = s.pivot(index="arm", columns="scenario", values="cell")
        return t.reindex(index=list(self.study.arm_names), columns=list(self.study.scenario_names))

    def analysis_frame(self) -> pd.DataFrame:
        """The outcomes ready for :mod:`edstudy.stats` (see :func:`analysis_frame`)."""
        return analysis_frame(self.outcomes)

    def to_frame(self) -> pd.DataFrame:
        """Tidy summary: per scenario, arm and metric the mean with its 95% interval."""
        return self.summary()

    def to_markdown(self) -> str:
        """The ``summary.md`` text: post-test by arm and scenario, comparisons, process means."""
        return _markdown(self, self.summary(), self.contrasts())

    def plot(self, metrics: Sequence[str] = ("posttest", "time_on_task", "dropped_out")) -> Figure:
        """Means with 95% intervals of some metrics, per scenario and arm."""
        from edstudy.plots import arm_intervals

        return arm_intervals(self.summary(metrics=metrics))

    # --- files ----------------------------------------------------------------------------------
    def save(
        self,
        out_dir: str | Path,
        *,
        log: bool = True,
        overwrite: bool = False,
        command: Sequence[str] | None = None,
        format: str = "csv",
    ) -> Path:
        """Write the result as a complete, checkable folder (see :mod:`edstudy._output`).

        Files: ``study.yaml`` (the full configuration, which reproduces the results), the
        outcomes and the log (unless ``log=False``), ``summary.csv``, ``contrasts.csv``,
        ``summary.md`` and, written last, ``manifest.json``. ``format="csv"`` writes
        ``outcomes.csv`` and ``log.csv.gz``; ``format="parquet"`` writes ``outcomes.parquet``
        and ``log.parquet`` (files, or folders of parts for a result whose tables live in a
        folder). The same study and seed give the same bytes in every file, in both formats.

        Parameters
        ----------
        out_dir : path
            Must be absent, empty, or an earlier edstudy study result (``overwrite=True``).
        log : bool
        overwrite : bool
            Replace an earlier edstudy result (never a folder edstudy did not write).
        command : sequence of str, optional
            Recorded in the manifest.
        format : {"csv", "parquet"}

        Raises
        ------
        OutputError
            Before anything is written, when ``out_dir`` cannot be used.
        """
        _check_format(format)
        with result_folder(
            out_dir, kind="study", overwrite=overwrite, seed=self.study.seed, command=command
        ) as tmp:
            self.write_files(tmp, log=log, format=format)
        return Path(out_dir)

    def write_files(self, folder: Path, *, log: bool = True, format: str = "csv") -> None:
        """Write the result's files into an existing folder (no manifest; see :meth:`save`).

        Parquet parts already in ``folder`` (a result run into it) are kept, not rewritten.
        """
        _check_format(format)
        folder = Path(folder)
        self.study.to_yaml(folder / "study.yaml")
        if format == "csv":
            self.outcomes.to_csv(folder / "outcomes.csv", index=False)
            if log:
                self._write_log_csv(folder / "log.csv.gz")
        else:
            self._write_parquet_table(
                self._outcomes, self.outcomes_path, folder / _OUTCOMES_PARQUET
            )
            if log:
                self._write_parquet_table(self._log, self.log_path, folder / _LOG_PARQUET)
        summary = self.summary()
        summary.to_csv(folder / "summary.csv", index=False)
        contrasts = self.contrasts()
        contrasts.to_csv(folder / "contrasts.csv", index=False)
        (folder / "summary.md").write_text(_markdown(self, summary, contrasts), encoding="utf-8")

    def _write_log_csv(self, path: Path) -> None:
        # mtime=0: no timestamp in the gzip header, so the same run gives the same bytes
        if self._log is not None:
            gz = {"method": "gzip", "compresslevel": 1, "mtime": 0}
            self._log.to_csv(path, index=False, compression=gz)
            return
        if self.log_path is None:
            return
        with (
            open(path, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", compresslevel=1, fileobj=raw, mtime=0) as out,
        ):
            for i, part in enumerate(self.iter_log()):
                out.write(part.to_csv(index=False, header=i == 0).encode("utf-8"))

    @staticmethod
    def _write_parquet_table(frame: pd.DataFrame | None, source: Path | None, target: Path) -> None:
        """Copy the table's files on disk (kept as they are in its own folder), else write it."""
        if source is not None:
            if source.resolve() == target.resolve():
                return
            if source.is_dir():
                target.mkdir()
                for p in parquet_parts(source):
                    shutil.copyfile(p, target / p.name)
            else:
                shutil.copyfile(source, target)
        elif frame is not None:
            write_parquet(frame, target)

    @classmethod
    def load(cls, out_dir: str | Path, *, log: bool = False) -> StudyResult:
        """Read back what :meth:`save` wrote, after checking the folder is complete and unchanged.

        A Parquet result keeps its tables on disk (outcomes read on first use; ``log=True`` reads
        the log into memory too).

        Raises
        ------
        ResultError
            For a folder without a complete ``manifest.json`` (an interrupted run, or one edstudy
            did not write) or with a file missing or changed, naming the file.
        """
        d = Path(out_dir)
        read_manifest(d, kind="study")
        study = Study.from_yaml(d / "study.yaml")
        if (d / _OUTCOMES_PARQUET).exists():
            lg = None
            if log and (d / _LOG_PARQUET).exists():
                lg = _read_parquet(d / _LOG_PARQUET, None, None)
            return cls(study=study, log=lg, folder=d)
        outcomes = pd.read_csv(d / "outcomes.csv")
        lg = pd.read_csv(d / "log.csv.gz") if log and (d / "log.csv.gz").exists() else None
        return cls(study=study, outcomes=outcomes, log=lg)


def _check_format(format: str) -> None:
    if format not in RESULT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(RESULT_FORMATS)}, got {format!r}")


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
        markdown_table(result.posttest_table().reset_index()),
        "",
        "## Comparisons (post-test difference)",
        "",
    ]
    c = contrasts.copy()
    c["difference"] = interval_cells(c["difference"], c["ci_low"], c["ci_high"], signed=True)
    lines.append(markdown_table(c.drop(columns=["ci_low", "ci_high", "metric"])))
    lines += ["", "## Process measures (means)", ""]
    wide = summary.pivot_table(
        index=["scenario", "arm"], columns="metric", values="mean", sort=False
    ).reset_index()
    if "time_on_task" in wide:
        wide["time_on_task"] = wide["time_on_task"] / 60.0
        wide = wide.rename(columns={"time_on_task": "minutes"})
    lines.append(markdown_table(wide.round(3)))
    lines.append("")
    return "\n".join(lines)
