"""The ASSISTments randomized A/B test of worked examples as video vs text, as an outcomes table.

683 students inside a skill builder on the area of triangles (2015) were randomized to worked
examples shown as videos or as text; the outcome is completing (mastering) the skill builder.
Source: the EDM 2024 RCT tutorial repository (``abTestExample.csv``, ``rctLogData.csv``), results
in Sales et al. (2023), JEDM 15(2).

Mapping: ``user_id`` to ``student_id``; ``video`` (TRUE/FALSE) to ``arm`` (``"video"`` /
``"text"``); ``completion`` (1/0) to ``completed``. The nine ``student_prior_*`` covariates (the
student's ASSISTments work before the experiment) are kept under their names. With
``with_logs=True`` the 209 per-assignment features of ``rctLogData.csv`` (the student's five most
recent prior assignments) are joined on ``user_id``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from edstudy.datasets._errors import DatasetFormatError
from edstudy.datasets._locate import locate
from edstudy.datasets._read import (
    finish_outcomes,
    parse_binary,
    read_header,
    read_table,
    require_columns,
)
from edstudy.datasets._report import Ledger
from edstudy.datasets.sources import SOURCES

__all__ = ["load_ab_video_vs_text"]

REQUIRED = ("user_id", "video", "completion")


def _logs_path(folder: Path) -> Path | None:
    """The folder itself when it holds rctLogData, so both files come from one place."""
    names = SOURCES["ab_video_vs_text_logs"].files
    return folder if any((folder / n).is_file() for n in names) else None


def load_ab_video_vs_text(
    path: str | os.PathLike[str] | None = None,
    *,
    with_logs: bool = False,
    download: bool = False,
    verbose: bool = True,
) -> pd.DataFrame:
    """Load the video-vs-text worked-example experiment as an outcomes table.

    Parameters
    ----------
    path : path-like, optional
        ``abTestExample.csv`` (or ``.csv.gz``) or its folder; searched for when omitted.
    with_logs : bool
        Join the prior-assignment features of ``rctLogData.csv`` (looked for beside ``path``
        first, then like ``path``).
    download : bool
        Fetch missing files from the tutorial repository's cited commit (SHA-256 checked).
    verbose : bool
        Print the one-line load summary (it is always logged at INFO).

    Returns
    -------
    DataFrame
        One row per student: ``student_id, arm, completed`` and the ``student_prior_*``
        covariates (plus the log features with ``with_logs``).
        ``df.attrs["load_report"]`` is the :class:`LoadReport`.

    Raises
    ------
    DataNotFoundError, DatasetFormatError
    """
    file = locate("ab_video_vs_text", path, download=download, verbose=verbose)
    columns = read_header(file)
    require_columns(file, columns, REQUIRED, "A/B test (abTestExample)")
    raw = read_table(file)
    ledger = Ledger("ab_video_vs_text", file, len(raw))
    raw = ledger.drop(raw, raw["user_id"].duplicated(), "duplicate user_id")

    video = parse_binary(raw["video"], "video", file)
    if video.isna().any():
        missing = video.isna()
        raise DatasetFormatError(
            f"{file}: column 'video' must not be missing: {int(missing.sum())} rows, "
            f"first at line {raw.index[missing.to_numpy()][0]}"
        )
    completed = parse_binary(raw["completion"], "completion", file)
    covariates = [c for c in raw.columns if c not in REQUIRED]
    out = pd.DataFrame(
        {
            "student_id": raw["user_id"],
            "arm": np.where(video.to_numpy(dtype=bool), "video", "text"),
            "completed": completed.astype("boolean"),
        },
        index=raw.index,
    )
    out = out.join(raw[covariates])

    if with_logs:
        logs_file = locate(
            "ab_video_vs_text_logs", _logs_path(file.parent), download=download, verbose=verbose
        )
        require_columns(
            logs_file, read_header(logs_file), ["user_id"], "A/B test logs (rctLogData)"
        )
        logs = read_table(logs_file)
        dup = logs["user_id"].duplicated()
        if dup.any():
            raise DatasetFormatError(
                f"{logs_file}: column 'user_id' must be unique: {int(dup.sum())} rows, first at "
                f"line {logs.index[dup.to_numpy()][0]} (value {logs['user_id'][dup].iloc[0]})"
            )
        clash = sorted(set(logs.columns) & set(out.columns) - {"user_id"})
        if clash:
            raise DatasetFormatError(
                f"{logs_file}: columns {', '.join(map(repr, clash))} also in {file.name}"
            )
        absent = int((~out["student_id"].isin(logs["user_id"])).sum())
        if absent:
            ledger.note(
                f"{absent} students have no row in {logs_file.name}; their log features are missing"
            )
        out = out.join(logs.set_index("user_id"), on="student_id")
    return finish_outcomes(out, ledger, verbose=verbose)
