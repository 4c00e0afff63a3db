"""What a study run produced: :class:`StudyResult`, its summaries, files and analysis table.

``StudyResult.outcomes`` has one row per (scenario, replication, student, arm) with ``scenario,
replication`` in front of the outcome columns of :mod:`edstudy.sim.engine`; ``StudyResult.log`` is
the response log with the same two extra columns. :func:`analysis_frame` readies the outcomes for
the statistics of :mod:`edstudy.stats` (clusters of different replications never pooled, derived
per-student measures added).

Like every result object of edstudy, a :class:`StudyResult` answers ``to_frame()`` (tidy table),
``to_markdown()`` (text for a report) and ``plot()`` (a figure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from edstudy._format import interval_cells, markdown_table
from edstudy._output import read_manifest, result_folder
from edstudy.experiment.study import Study
from edstudy.stats.descriptive import contrast, summarize

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["DEFAULT_METRICS", "DERIVED_METRICS", "StudyResult", "analysis_frame"]

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


@dataclass(frozen=True)
class StudyResult:
    """Results of :func:`~edstudy.experiment.run_study`: the study, tidy outcomes and the log."""

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

    def save(
        self,
        out_dir: str | Path,
        *,
        log: bool = True,
        overwrite: bool = False,
        command: Sequence[str] | None = None,
    ) -> Path:
        """Write the result as a complete, checkable folder (see :mod:`edstudy._output`).

        Files: ``study.yaml`` (the full configuration, which reproduces the results),
        ``outcomes.csv``, ``log.csv.gz`` (unless ``log=False``), ``summary.csv``,
        ``contrasts.csv``, ``summary.md`` and, written last, ``manifest.json``. The same study
        and seed give the same bytes in every file.

        Parameters
        ----------
        out_dir : path
            Must be absent, empty, or an earlier edstudy study result (``overwrite=True``).
        log : bool
        overwrite : bool
            Replace an earlier edstudy result (never a folder edstudy did not write).
        command : sequence of str, optional
            Recorded in the manifest.

        Raises
        ------
        OutputError
            Before anything is written, when ``out_dir`` cannot be used.
        """
        with result_folder(
            out_dir, kind="study", overwrite=overwrite, seed=self.study.seed, command=command
        ) as tmp:
            self.write_files(tmp, log=log)
        return Path(out_dir)

    def write_files(self, folder: Path, *, log: bool = True) -> None:
        """Write the result's files into an existing folder (no manifest; see :meth:`save`)."""
        self.study.to_yaml(folder / "study.yaml")
        self.outcomes.to_csv(folder / "outcomes.csv", index=False)
        if log and self.log is not None:
            # mtime=0: no timestamp in the gzip header, so the same run gives the same bytes
            gz = {"method": "gzip", "compresslevel": 1, "mtime": 0}
            self.log.to_csv(folder / "log.csv.gz", index=False, compression=gz)
        summary = self.summary()
        summary.to_csv(folder / "summary.csv", index=False)
        contrasts = self.contrasts()
        contrasts.to_csv(folder / "contrasts.csv", index=False)
        (folder / "summary.md").write_text(_markdown(self, summary, contrasts), encoding="utf-8")

    @classmethod
    def load(cls, out_dir: str | Path, *, log: bool = False) -> StudyResult:
        """Read back what :meth:`save` wrote, after checking the folder is complete and unchanged.

        Raises
        ------
        ResultError
            For a folder without a complete ``manifest.json`` (an interrupted run, or one edstudy
            did not write) or with a file missing or changed, naming the file.
        """
        d = Path(out_dir)
        read_manifest(d, kind="study")
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
