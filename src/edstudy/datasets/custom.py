"""Any CSV file as a response log (or outcomes table), given a column mapping.

``mapping`` renames source columns to schema columns, e.g.
``{"user": "student_id", "kc": "skill_id", "attempt": "order", "right": "correct"}``. Columns not
in the mapping are kept under their own names. ``correct`` is read strictly (0/1, ``true``/
``false``; anything else raises, naming the column, line and value); a missing value stays
missing, since the response log allows unscored activity rows. Rows repeating a (student, skill,
order) key (for outcomes: a ``student_id``) are dropped, the first kept, and counted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from edstudy.datasets._errors import DataNotFoundError, DatasetFormatError
from edstudy.datasets._read import (
    _first_line,
    _read_csv,
    drop_duplicate_keys,
    finish_log,
    finish_outcomes,
    parse_binary,
    parse_number,
    read_table,
)
from edstudy.datasets._report import Ledger
from edstudy.schema import LOG_REQUIRED

__all__ = ["load_csv"]


def load_csv(
    path: str | os.PathLike[str],
    mapping: Mapping[str, str],
    *,
    table: Literal["log", "outcomes"] = "log",
    verbose: bool = True,
    **read_csv_kwargs: Any,
) -> pd.DataFrame:
    """Load any CSV file into the response log (or outcomes table) through a column mapping.

    Parameters
    ----------
    path : path-like
        The CSV file (compression inferred from the suffix).
    mapping : mapping of str to str
        ``{source column: schema column}``.
    table : {"log", "outcomes"}
        Which edstudy table the file holds.
    verbose : bool
        Print the one-line load summary (it is always logged at INFO).
    **read_csv_kwargs
        Passed to :func:`pandas.read_csv` (``sep``, ``encoding``, ``dtype`` ...).

    Returns
    -------
    DataFrame
        The validated table; ``df.attrs["load_report"]`` is the :class:`LoadReport` (source
        ``"csv"``).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DatasetFormatError
        A mapped column is not in the file, a required schema column is not mapped, a mapped name
        clashes with an unmapped column, or a bad value (naming file, column, line and value).
    SchemaError
        Other schema violations, with the line of the file as row index.
    """
    if table not in ("log", "outcomes"):
        raise ValueError(f"table must be 'log' or 'outcomes', got {table!r}")
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataNotFoundError(f"csv: {file} does not exist")
    if not _first_line(file).strip():
        raise DatasetFormatError(f"{file}: file is empty (no header line)")
    columns = [str(c) for c in _read_csv(file, nrows=0, **read_csv_kwargs).columns]
    missing = [src for src in mapping if src not in columns]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise DatasetFormatError(
            f"{file}: mapped {noun} {', '.join(map(repr, missing))} not in the file; "
            f"the file has: {', '.join(columns)}"
        )
    targets = list(mapping.values())
    unmapped = [c for c in columns if c not in mapping]
    clash = [t for t in targets if t in unmapped]
    if clash or len(set(targets)) != len(targets):
        twice = sorted({t for t in targets if targets.count(t) > 1} | set(clash))
        raise DatasetFormatError(
            f"{file}: more than one column would be named {', '.join(map(repr, twice))} "
            "after the mapping"
        )
    required = LOG_REQUIRED if table == "log" else ("student_id",)
    unmet = [c for c in required if c not in targets and c not in unmapped]
    if unmet:
        raise DatasetFormatError(
            f"{file}: no column maps to {', '.join(map(repr, unmet))} (required by the "
            f"{'response log' if table == 'log' else 'outcomes table'}); add it to mapping, "
            f"e.g. {{'<column of the file>': {unmet[0]!r}}}"
        )

    sep = read_csv_kwargs.pop("sep", ",")
    dtype = read_csv_kwargs.pop("dtype", None)
    raw = read_table(file, sep=sep, dtype=dtype, **read_csv_kwargs)
    ledger = Ledger("csv", file, len(raw))
    source_of = {dst: src for src, dst in mapping.items()}
    df = raw.rename(columns=dict(mapping))
    if table == "outcomes":
        df = ledger.drop(df, df["student_id"].duplicated(), "duplicate student_id")
        return finish_outcomes(df, ledger, verbose=verbose)

    df["correct"] = parse_binary(df["correct"], source_of.get("correct", "correct"), file)
    df["order"] = parse_number(
        df["order"], source_of.get("order", "order"), file, integer=True, minimum=0
    )
    df = drop_duplicate_keys(df, ledger)
    return finish_log(df, ledger, verbose=verbose)
