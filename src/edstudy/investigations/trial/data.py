"""Reading a trial's data and refusing what cannot be analysed honestly.

:func:`load_trial_data` reads the outcomes table a :class:`~.spec.TrialSpec` names (a CSV file or
a public dataset) and the optional response log, and :func:`check_trial_data` refuses, with the
reason, a table that does not describe the declared randomized design:

- an arm named in the trial file that the arm column does not have, or no control rows;
- rows without an arm, or a student listed twice;
- in a cluster design, a cluster whose students are in more than one arm (then clusters were
  not the unit of assignment);
- in a blocked design, a block holding only one of the compared arms (nothing was randomized
  within it);
- outcome or baseline columns that are absent or not numbers (or 0/1).

Messages name the file, the column, the row (as a line of the CSV file: the header is line 1)
and the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from edstudy.datasets import load_ab_video_vs_text, load_csv
from edstudy.investigations.trial.spec import TrialSpec
from edstudy.sim._config import suggest

__all__ = [
    "TrialData",
    "TrialDataError",
    "attach_arms",
    "check_trial_data",
    "load_trial_data",
]


class TrialDataError(ValueError):
    """The data do not describe the randomized design the trial file declares."""


@dataclass(frozen=True, eq=False)
class TrialData:
    """The checked tables of a trial.

    Attributes
    ----------
    outcomes : DataFrame
        One row per randomized student; the arm column as text.
    log : DataFrame or None
        The response log (validated), with the student's arm in ``arm``.
    label : str
        How messages name the outcomes table (a file name or ``dataset 'NAME'``).
    """

    outcomes: pd.DataFrame
    log: pd.DataFrame | None
    label: str


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (so messages read ``0``, not
    ``np.int64(0)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _line(frame: pd.DataFrame, mask: np.ndarray) -> int:
    """CSV line of the first row where ``mask`` holds (header = line 1)."""
    return int(np.flatnonzero(mask)[0]) + 2


def _read_outcomes(spec: TrialSpec) -> pd.DataFrame:
    if spec.dataset is not None:
        if spec.dataset == "assistments_ab_video_vs_text":
            return load_ab_video_vs_text(verbose=False)
        raise TrialDataError(f"{spec.source}: unknown dataset {spec.dataset!r}")  # pragma: no cover
    if spec.data_path is None:
        raise TrialDataError(
            f"{spec.source}: the trial names no data file; pass the table "
            "(analyze_trial(spec, outcomes=...))"
        )
    try:
        frame = pd.read_csv(spec.data_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise TrialDataError(f"{spec.data_path.name}: not a readable CSV file ({err})") from None
    if frame.empty:
        raise TrialDataError(f"{spec.data_path.name}: the file has no rows")
    return frame


def _need_column(frame: pd.DataFrame, column: str, role: str, label: str) -> None:
    if column not in frame.columns:
        columns = [str(c) for c in frame.columns]
        raise TrialDataError(
            f"{label}: no column {column!r} (the trial's {role}){suggest(column, columns)}; "
            f"columns: {', '.join(columns)}"
        )


def _numeric(frame: pd.DataFrame, column: str, role: str, label: str) -> None:
    values = frame[column]
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return
    parsed = pd.to_numeric(values, errors="coerce")
    bad = (parsed.isna() & values.notna()).to_numpy()
    raise TrialDataError(
        f"{label}: {role} {column!r} must hold numbers (or 0/1); line {_line(frame, bad)} has "
        f"{_plain(values[bad].iloc[0])!r}"
    )


def check_trial_data(spec: TrialSpec, frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Check an outcomes table against the trial's design; return a copy with text arms.

    Raises
    ------
    TrialDataError
        With the reason the trial cannot be analysed honestly (see the module docstring).
    """
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise TrialDataError(f"{label}: the outcomes table has no rows")
    _need_column(frame, spec.arm, "arm column", label)
    for o in spec.outcome_names:
        _need_column(frame, o, "outcome", label)
    for c in spec.baseline:
        _need_column(frame, c, "baseline covariate", label)
    for c in spec.moderators:
        _need_column(frame, c, "moderator", label)
    for column, role in ((spec.cluster, "cluster column"), (spec.block, "block column")):
        if column is not None:
            _need_column(frame, column, role, label)
    out = frame.copy()
    missing_arm = out[spec.arm].isna().to_numpy()
    if missing_arm.any():
        raise TrialDataError(
            f"{label}: column {spec.arm!r} (the arm) is missing in {int(missing_arm.sum())} rows, "
            f"first at line {_line(out, missing_arm)}; every randomized student has an arm"
        )
    arms = out[spec.arm]
    if pd.api.types.is_float_dtype(arms) and (arms == arms.round()).all():
        arms = arms.astype(np.int64)
    out[spec.arm] = arms.astype(str)
    levels = sorted(pd.unique(out[spec.arm]))
    if spec.control not in levels:
        raise TrialDataError(
            f"{label}: no control rows: the control arm {spec.control!r} does not occur in column "
            f"{spec.arm!r}{suggest(spec.control, levels)}; its levels are {', '.join(levels)}"
        )
    for t in spec.treatments:
        if t not in levels:
            raise TrialDataError(
                f"{label}: the treatment arm {t!r} does not exist in column {spec.arm!r}"
                f"{suggest(t, levels)}; its levels are {', '.join(levels)}"
            )
    if spec.student in out.columns:
        dup = out[spec.student].duplicated().to_numpy()
        if dup.any():
            raise TrialDataError(
                f"{label}: student {_plain(out[spec.student][dup].iloc[0])!r} (column "
                f"{spec.student!r}) is listed twice, again at line {_line(out, dup)}; the "
                "outcomes table has one row per randomized student"
            )
    for o in spec.outcome_names:
        _numeric(out, o, "outcome", label)
    for c in spec.baseline:
        _numeric(out, c, "baseline covariate", label)
    compared = out[spec.arm].isin([*spec.treatments, spec.control]).to_numpy()
    if spec.cluster is not None:
        _check_clusters(spec, out, compared, label)
    if spec.block is not None:
        _check_blocks(spec, out, compared, label)
    return out


def _check_clusters(spec: TrialSpec, out: pd.DataFrame, compared: np.ndarray, label: str) -> None:
    cl = spec.cluster
    assert cl is not None
    gone = out[cl].isna().to_numpy() & compared
    if gone.any():
        raise TrialDataError(
            f"{label}: column {cl!r} (the cluster) is missing in {int(gone.sum())} rows, first at "
            f"line {_line(out, gone)}; every student of a cluster design belongs to a cluster"
        )
    if not spec.cluster_assigned:
        return
    arms_of = out.loc[compared].groupby(cl, sort=True)[spec.arm].unique()
    for cluster, arms in arms_of.items():
        if len(arms) > 1:
            shown = " and ".join(repr(a) for a in sorted(arms))
            raise TrialDataError(
                f"{label}: cluster {_plain(cluster)!r} (column {cl!r}) holds students of arms "
                f"{shown}; "
                "in a cluster-randomized trial every cluster is in one arm (were students "
                "randomized within clusters? then declare randomization: block with block: "
                f"{cl})"
            )
    for arm in (*spec.treatments, spec.control):
        n = int(out.loc[out[spec.arm] == arm, cl].nunique())
        if n < 2:
            raise TrialDataError(
                f"{label}: arm {arm!r} has {n} cluster(s) of {cl!r}; a cluster-randomized "
                "comparison needs at least 2 clusters in each arm"
            )


def _check_blocks(spec: TrialSpec, out: pd.DataFrame, compared: np.ndarray, label: str) -> None:
    bl = spec.block
    assert bl is not None
    gone = out[bl].isna().to_numpy() & compared
    if gone.any():
        raise TrialDataError(
            f"{label}: column {bl!r} (the block) is missing in {int(gone.sum())} rows, first at "
            f"line {_line(out, gone)}; every student of a blocked design belongs to a block"
        )
    for t in spec.treatments:
        pair = out[out[spec.arm].isin([t, spec.control])]
        present = pair.groupby(bl, sort=True)[spec.arm].unique()
        for block, arms in present.items():
            if len(arms) < 2:
                raise TrialDataError(
                    f"{label}: block {_plain(block)!r} (column {bl!r}) has only arm {arms[0]!r} "
                    f"of the comparison {t!r} vs {spec.control!r}; in a blocked design both arms "
                    "are randomized within every block"
                )


def attach_arms(
    spec: TrialSpec, outcomes: pd.DataFrame, log: pd.DataFrame, label: str
) -> pd.DataFrame:
    """The log's rows of students in the outcomes table, with their arm from that table.

    The outcomes table is the authority on who was randomized to what: an ``arm`` column of the
    log is replaced, and rows of students it does not list are left out (counted in
    ``attrs["rows_of_unknown_students"]``).

    Raises
    ------
    TrialDataError
        The outcomes table has no student id column, or no student of the log is in it.
    """
    if spec.student not in outcomes.columns:
        raise TrialDataError(
            f"{spec.source}: a response log needs the student id column {spec.student!r} in "
            "the outcomes table, to know each student's arm"
        )
    arm_of = dict(zip(outcomes[spec.student], outcomes[spec.arm], strict=True))
    mapped = log["student_id"].map(arm_of)
    unknown = mapped.isna().to_numpy()
    if unknown.all():
        raise TrialDataError(
            f"{label}: no student of the log is in the outcomes table (column "
            f"{spec.student!r}); the log and the outcomes must use the same ids"
        )
    out = log.loc[~unknown].copy()
    out["arm"] = mapped[~unknown].astype(str).to_numpy()
    out.attrs["rows_of_unknown_students"] = int(unknown.sum())
    return out


def _read_log(spec: TrialSpec, outcomes: pd.DataFrame) -> pd.DataFrame | None:
    if spec.log_path is None:
        return None
    log = load_csv(spec.log_path, {}, table="log", verbose=False)
    return attach_arms(spec, outcomes, log, Path(spec.log_path).name)


def load_trial_data(spec: TrialSpec) -> TrialData:
    """Read and check the trial's outcomes table and response log.

    Returns
    -------
    TrialData

    Raises
    ------
    TrialDataError, edstudy.schema.SchemaError, DataNotFoundError
        With the reason, naming the file, column, line and value.
    """
    frame = _read_outcomes(spec)
    outcomes = check_trial_data(spec, frame, spec.data_label)
    return TrialData(outcomes=outcomes, log=_read_log(spec, outcomes), label=spec.data_label)
