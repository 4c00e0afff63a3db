"""ASSISTments 2009-2010 skill-builder data as a response log.

Two layouts are recognised by their columns:

* **original** public CSV (``order_id, assignment_id, user_id, assistment_id, problem_id, original,
  correct, attempt_count, ms_first_response, ..., skill_id, skill_name, teacher_id, school_id,
  hint_count, ...``), also the pyBKT example file ``as.csv``. Scaffolding rows (``original == 0``)
  and rows without a skill are dropped and counted. A multi-skill problem is one row per skill
  with the same ``order_id``; ``order`` is the dense rank of ``order_id`` within the student, so
  those rows share one order. Rows repeating a (student, ``order_id``, skill) are duplicates.
* **processed** copy staged in the shared data (``user_id, seq_idx, problem_id, skill_idx,
  skill_name, correct``; AKT's preprocessing, which kept only original problems with a skill).
  ``seq_idx`` numbers *rows*, one per (attempt, skill): a multi-skill problem is consecutive
  rows with the same ``problem_id`` and consecutive ``seq_idx``. ``order`` rebuilds the attempt
  number: consecutive rows of a student on the same problem are one attempt, so they share one
  order, as in the original layout.

The 19 rows that repeat the previous row's problem *and* skill are the problem shown again (in
the original data such pairs have different ``order_id`` and ``assignment_id``), not duplicates:
each starts a new attempt and is kept; the report notes how many attempts this started.

``skill_id`` is the skill name in both layouts, so the two agree (in the original layout a
missing name falls back to the numeric ``skill_id``); ``item_id`` is ``problem_id``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from edstudy.datasets._attempts import attempts_from_runs, collapse_attempts, dense_order
from edstudy.datasets._errors import DatasetFormatError
from edstudy.datasets._locate import locate
from edstudy.datasets._read import (
    drop_duplicate_keys,
    finish_log,
    ids_as_text,
    parse_binary,
    parse_number,
    read_header,
    read_table,
    require_columns,
)
from edstudy.datasets._report import Ledger
from edstudy.datasets._table_cache import cached_table

__all__ = ["load_assistments2009"]

RAW_REQUIRED = ("order_id", "user_id", "problem_id", "original", "correct")
PROCESSED_REQUIRED = ("user_id", "seq_idx", "problem_id", "skill_name", "correct")
# Original-layout columns read, and those carried into the log under their own names.
_RAW_READ = (
    *RAW_REQUIRED,
    "assignment_id",
    "attempt_count",
    "ms_first_response",
    "tutor_mode",
    "student_class_id",
    "skill_id",
    "skill_name",
    "teacher_id",
    "school_id",
    "hint_count",
    "overlap_time",
    "first_action",
)
_RAW_EXTRAS = (
    "order_id",
    "assignment_id",
    "attempt_count",
    "first_action",
    "teacher_id",
    "tutor_mode",
)
_TEXT = {"skill_name": "str", "skill_id": "str", "tutor_mode": "str"}

SCAFFOLDING = "scaffolding row (original=0)"
NO_SKILL = "no skill"
NO_CORRECT = "correct missing"


def load_assistments2009(
    path: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    collapse_multiskill: bool = False,
    verbose: bool = True,
) -> pd.DataFrame:
    """Load the ASSISTments 2009-2010 skill-builder data as a response log.

    Parameters
    ----------
    path : path-like, optional
        The original CSV (e.g. ``skill_builder_data_corrected.csv``) or the processed
        ``interactions.csv.gz``, or a folder holding one. When omitted, the shared data folder and
        then the download cache are searched (see :mod:`edstudy.datasets`).
    download : bool
        ASSISTments publishes the data through a Google Sites page, not a stable URL, so this only
        raises a :class:`DataNotFoundError` saying where to get the file.
    collapse_multiskill : bool
        ``False`` (default): one row per (attempt, skill), the standard for per-skill BKT.
        ``True``: one row per attempt whose ``skill_id`` joins the attempt's skills, sorted, with
        ``~~`` (e.g. ``"Circle Graph~~Percent Of"``); merged rows are reported as dropped.
    verbose : bool
        Print the one-line load summary (it is always logged at INFO).

    Returns
    -------
    DataFrame
        Response log: ``student_id`` (user_id), ``skill_id`` (skill name), ``order`` (attempt
        number, shared by the skills of one attempt), ``correct`` (first attempt), ``item_id``
        (problem_id); from the original layout also ``class_id, school_id, hints, duration_s``
        (``overlap_time`` in seconds) and ``order_id, assignment_id, attempt_count, first_action,
        teacher_id, tutor_mode, first_response_s``; from the processed one ``seq_idx``.
        ``df.attrs["load_report"]`` is the :class:`LoadReport`.

    Raises
    ------
    DataNotFoundError
        No copy found (the message lists where it looked).
    DatasetFormatError
        Unknown layout, missing columns, or a bad value (naming file, column, line and value).
    """
    file = locate("assistments2009", path, download=download, verbose=verbose)
    return cached_table(
        "assistments2009",
        [file],
        {"collapse_multiskill": collapse_multiskill},
        lambda: read_assistments2009(
            file, source="assistments2009", collapse_multiskill=collapse_multiskill, verbose=verbose
        ),
        verbose=verbose,
    )


def read_assistments2009(
    file: Path, *, source: str, collapse_multiskill: bool, verbose: bool
) -> pd.DataFrame:
    """Read an ASSISTments 2009 file of either layout (shared with the pyBKT example loader)."""
    columns = read_header(file)
    if "order_id" in columns or "original" in columns:
        return _from_original(file, columns, source, collapse_multiskill, verbose)
    if "seq_idx" in columns:
        return _from_processed(file, columns, source, collapse_multiskill, verbose)
    raise DatasetFormatError(
        f"{file}: not an ASSISTments 2009 file: expected the original columns "
        f"({', '.join(RAW_REQUIRED)}, skill_name) or the processed columns "
        f"({', '.join(PROCESSED_REQUIRED)}); the file has: {', '.join(columns)}"
    )


def _seconds(ms: pd.Series, column: str, file: Path, ledger: Ledger) -> pd.Series:
    """Milliseconds to seconds; negative values (a known artefact of the logs) become missing."""
    values = parse_number(ms, column, file)
    negative = values < 0
    if negative.any():
        ledger.note(f"{int(negative.sum()):,} rows have a negative {column}; set to missing")
    return values.where(~negative) / 1000.0


def _from_original(
    file: Path, columns: list[str], source: str, collapse: bool, verbose: bool
) -> pd.DataFrame:
    require_columns(file, columns, RAW_REQUIRED, "original ASSISTments 2009")
    if "skill_name" not in columns and "skill_id" not in columns:
        require_columns(file, columns, ["skill_name"], "original ASSISTments 2009")
    raw = read_table(file, _RAW_READ, dtype=_TEXT)
    ledger = Ledger(source, file, len(raw))

    original = parse_binary(raw["original"], "original", file)
    raw = ledger.drop(raw, original == 0, SCAFFOLDING)
    correct = parse_binary(raw["correct"], "correct", file)
    raw = ledger.drop(raw, correct.isna(), NO_CORRECT)
    skill = ids_as_text(raw["skill_name"]) if "skill_name" in raw else None
    if "skill_id" in raw:
        numeric_id = ids_as_text(raw["skill_id"]).str.replace(r"\.0$", "", regex=True)
        skill = numeric_id if skill is None else skill.fillna(numeric_id)
    raw = ledger.drop(raw, skill.isna(), NO_SKILL)

    log = pd.DataFrame(
        {
            "student_id": raw["user_id"],
            "skill_id": skill.loc[raw.index],
            "order_id": parse_number(raw["order_id"], "order_id", file, integer=True),
            "correct": correct.loc[raw.index],
            "item_id": raw["problem_id"],
        },
        index=raw.index,
    )
    optional = {"student_class_id": "class_id", "school_id": "school_id"}
    for src, dst in optional.items():
        if src in raw:
            log[dst] = raw[src]
    if "hint_count" in raw:
        log["hints"] = parse_number(raw["hint_count"], "hint_count", file, integer=True, minimum=0)
    if "overlap_time" in raw:
        log["duration_s"] = _seconds(raw["overlap_time"], "overlap_time", file, ledger)
    for extra in _RAW_EXTRAS:
        if extra in raw and extra != "order_id":
            log[extra] = raw[extra]
    if "ms_first_response" in raw:
        log["first_response_s"] = _seconds(
            raw["ms_first_response"], "ms_first_response", file, ledger
        )

    log = log.sort_values(["student_id", "order_id"], kind="stable")
    log = ledger.drop(
        log,
        log.duplicated(["student_id", "order_id", "skill_id"]),
        "duplicate (student, skill, order)",
    )
    log["order"] = dense_order(log["student_id"], log["order_id"])
    if collapse:
        log = collapse_attempts(log, ledger)
    return finish_log(log, ledger, verbose=verbose)


def _from_processed(
    file: Path, columns: list[str], source: str, collapse: bool, verbose: bool
) -> pd.DataFrame:
    require_columns(file, columns, PROCESSED_REQUIRED, "processed ASSISTments 2009")
    raw = read_table(file, PROCESSED_REQUIRED, dtype={"skill_name": "str"})
    ledger = Ledger(source, file, len(raw))

    correct = parse_binary(raw["correct"], "correct", file)
    raw = ledger.drop(raw, correct.isna(), NO_CORRECT)
    skill = ids_as_text(raw["skill_name"])
    raw = ledger.drop(raw, skill.isna(), NO_SKILL)
    log = pd.DataFrame(
        {
            "student_id": raw["user_id"],
            "skill_id": skill.loc[raw.index],
            "seq_idx": parse_number(raw["seq_idx"], "seq_idx", file, integer=True, minimum=0),
            "correct": correct.loc[raw.index],
            "item_id": raw["problem_id"],
        },
        index=raw.index,
    )
    log = log.sort_values(["student_id", "seq_idx"], kind="stable")
    log = ledger.drop(
        log,
        log.duplicated(["student_id", "seq_idx", "skill_id"]),
        "duplicate (student, skill, seq_idx)",
    )
    order, n_repeats = attempts_from_runs(log["student_id"], log["item_id"], log["skill_id"])
    log["order"] = order
    if n_repeats:
        ledger.note(
            f"{n_repeats} attempts start where a skill repeats within consecutive rows on the "
            "same problem (the problem shown again, not a duplicate): rows kept as new attempts"
        )
    log = drop_duplicate_keys(log, ledger)  # cannot trigger: attempts never list a skill twice
    if collapse:
        log = collapse_attempts(log, ledger)
    return finish_log(log, ledger, verbose=verbose)
