"""PSLC DataShop student-step exports (and KDD Cup 2010 files) as a response log.

One row of the export is one step a student worked on. The mapping:

============================  ==================================================================
DataShop column               response log
============================  ==================================================================
Anon Student Id               ``student_id``
KC(<model>)                   ``skill_id`` (one KC model; ``~~`` separates several KCs)
Correct First Attempt         ``correct``
Row (else the file order)     ``order``: the step's rank within the student, in ``Row`` order
Problem Name + Step Name      ``item_id`` as ``"<problem>::<step>"``
First Transaction Time        ``timestamp`` (``Step Start Time`` where it is empty)
Hints                         ``hints``
Step Duration (sec)           ``duration_s``
Problem Hierarchy, Problem    extra columns ``problem_hierarchy, problem_view, opportunity, row``
View, Opportunity(<model>),
Row
============================  ==================================================================

``order`` follows ``Row``, the export's own order (by student, then time), not the step times:
DataShop's ``Opportunity`` counts follow ``Row``. On the pyBKT Cognitive Tutor example, ordering by
``Row`` contradicts ``Opportunity(Default)`` in 2 of 15,007 (step, KC) rows, ordering by
``First Transaction Time`` in 182. ``order`` is computed on every step of the student, before any
drop, so it is the step's position in the student's export.

Steps with several KCs (``a~~b``): ``multi_kc="split"`` (default) gives one row per KC with the same
``order``, the usual practice for BKT on the KDD Cup 2010 data; the rows added are reported.
``"first"`` keeps the first KC listed; ``"drop"`` drops (and counts) such steps. Steps with an empty
KC (the model does not cover them) and steps with no ``Correct First Attempt`` are dropped and
counted.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from edstudy.datasets._attempts import dense_order
from edstudy.datasets._errors import DataNotFoundError, DatasetFormatError
from edstudy.datasets._read import (
    drop_duplicate_keys,
    finish_log,
    ids_as_text,
    parse_binary,
    parse_datetime,
    parse_number,
    read_header,
    read_table,
    require_columns,
    sniff_separator,
)
from edstudy.datasets._report import Ledger

__all__ = ["load_datashop"]

STUDENT, PROBLEM, STEP, CFA = (
    "Anon Student Id",
    "Problem Name",
    "Step Name",
    "Correct First Attempt",
)
REQUIRED = (STUDENT, PROBLEM, STEP, CFA)
_OPTIONAL = (
    "Row",
    "Problem Hierarchy",
    "Problem View",
    "Step Start Time",
    "First Transaction Time",
    "Hints",
    "Step Duration (sec)",
)
_TEXT = (STUDENT, PROBLEM, STEP, "Problem Hierarchy", "Step Start Time", "First Transaction Time")
_KC = re.compile(r"KC\((.*)\)")
SEPARATOR = "~~"
MULTI_KC = ("split", "first", "drop")


def _kc_column(file: Path, columns: list[str], kc_model: str | None) -> str:
    models = [m.group(1) for c in columns if (m := _KC.fullmatch(c))]
    listed = ", ".join(repr(m) for m in models)
    if kc_model is not None:
        wanted = _KC.fullmatch(kc_model)
        name = wanted.group(1) if wanted else kc_model
        if name not in models:
            raise DatasetFormatError(
                f"{file}: no column 'KC({name})' for kc_model={kc_model!r}; "
                f"available KC models: {listed or 'none'}"
            )
        return f"KC({name})"
    if not models:
        raise DatasetFormatError(
            f"{file}: no KC(<model>) column, so no skills; the file has: {', '.join(columns)}"
        )
    if len(models) > 1:
        raise DatasetFormatError(
            f"{file}: several KC models ({listed}); choose one with kc_model=, e.g. "
            f"kc_model={models[0]!r}"
        )
    return f"KC({models[0]})"


def load_datashop(
    path: str | os.PathLike[str],
    *,
    kc_model: str | None = None,
    multi_kc: Literal["split", "first", "drop"] = "split",
    verbose: bool = True,
) -> pd.DataFrame:
    """Load a DataShop / KDD Cup 2010 student-step export as a response log.

    Parameters
    ----------
    path : path-like
        Tab-separated (DataShop's format) or comma-separated file, optionally compressed.
    kc_model : str, optional
        KC model to use, as ``"Default"`` or ``"KC(Default)"``. When omitted the file must have
        exactly one ``KC(...)`` column; with several, the error lists them.
    multi_kc : {"split", "first", "drop"}
        What to do with steps tagged with several KCs (see the module docstring).
    verbose : bool
        Print the one-line load summary (it is always logged at INFO).

    Returns
    -------
    DataFrame
        Response log with ``item_id, timestamp, hints, duration_s`` where the export has them and
        extra columns ``problem_hierarchy, problem_view, opportunity, row``.
        ``df.attrs["load_report"]`` is the :class:`LoadReport`.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DatasetFormatError
        Missing columns, an ambiguous or unknown KC model, or a bad value.
    ValueError
        An unknown ``multi_kc``.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataNotFoundError(f"datashop: {file} does not exist")
    return read_datashop(
        file, source="datashop", kc_model=kc_model, multi_kc=multi_kc, verbose=verbose
    )


def _split_kcs(kcs: pd.Series) -> pd.Series:
    """For the rows listing several KCs: their distinct, non-empty KC names, in order."""
    multi = kcs.str.contains(SEPARATOR, regex=False).fillna(False).to_numpy(dtype=bool)
    split = kcs[multi].str.split(SEPARATOR, regex=False)
    return pd.Series(
        [list(dict.fromkeys(p.strip() for p in parts if p.strip())) for parts in split],
        index=split.index,
        dtype=object,
    )


def read_datashop(
    file: Path,
    *,
    source: str,
    kc_model: str | None,
    multi_kc: str,
    verbose: bool,
) -> pd.DataFrame:
    """Read a student-step export (shared with the pyBKT example loader)."""
    if multi_kc not in MULTI_KC:
        raise ValueError(
            f"multi_kc must be one of {', '.join(map(repr, MULTI_KC))}, got {multi_kc!r}"
        )
    sep = sniff_separator(file)
    columns = read_header(file, sep=sep)
    kc_col = _kc_column(file, columns, kc_model)
    require_columns(file, columns, REQUIRED, "DataShop student-step")
    opp_col = f"Opportunity({kc_col[3:-1]})"
    wanted = [*REQUIRED, kc_col, *(c for c in (*_OPTIONAL, opp_col) if c in columns)]
    text = {c: "str" for c in (*_TEXT, kc_col, opp_col)}
    raw = read_table(file, wanted, sep=sep, dtype=text, keep_default_na=False, na_values=[""])
    ledger = Ledger(source, file, len(raw))

    # Order first, on every step: the step's rank in the student's export.
    raw = raw.assign(_student=ids_as_text(raw[STUDENT]), _line=raw.index)
    if "Row" in raw:
        raw["_row"] = parse_number(raw["Row"], "Row", file, integer=True)
        raw = raw.sort_values(["_student", "_row", "_line"], kind="stable", na_position="last")
        duplicate_row = raw.duplicated(["_student", "_row"]) & raw["_row"].notna()
        raw = ledger.drop(raw, duplicate_row, "duplicate Row")
    else:
        raw = raw.sort_values(["_student", "_line"], kind="stable")
    raw["_order"] = dense_order(raw["_student"], pd.Series(np.arange(len(raw))))

    correct = parse_binary(raw[CFA], CFA, file)
    raw = ledger.drop(raw, correct.isna(), f"{CFA} missing")
    kc = ids_as_text(raw[kc_col])
    lists = _split_kcs(kc)  # only the (few) multi-KC steps are split, in Python
    kc.loc[lists.index] = [k[0] if k else None for k in lists]
    raw = ledger.drop(raw, kc.isna(), f"empty {kc_col}")
    lists = lists[lists.map(len) > 1]

    log = pd.DataFrame(
        {
            "student_id": raw["_student"],
            "skill_id": kc.loc[raw.index],
            "order": raw["_order"],
            "correct": correct.loc[raw.index],
            "item_id": ids_as_text(raw[PROBLEM]).str.cat(ids_as_text(raw[STEP]), sep="::"),
        },
        index=raw.index,
    )
    if "First Transaction Time" in raw or "Step Start Time" in raw:
        stamps = [
            parse_datetime(raw[c], c, file)
            for c in ("First Transaction Time", "Step Start Time")
            if c in raw
        ]
        log["timestamp"] = stamps[0] if len(stamps) == 1 else stamps[0].fillna(stamps[1])
    if "Hints" in raw:
        log["hints"] = parse_number(raw["Hints"], "Hints", file, integer=True, minimum=0)
    if "Step Duration (sec)" in raw:
        log["duration_s"] = parse_number(
            raw["Step Duration (sec)"], "Step Duration (sec)", file, minimum=0
        )
    if "Problem Hierarchy" in raw:
        log["problem_hierarchy"] = raw["Problem Hierarchy"]
    if "Problem View" in raw:
        log["problem_view"] = parse_number(raw["Problem View"], "Problem View", file, integer=True)
    if opp_col in raw:
        log["opportunity"] = raw[opp_col]
    if "Row" in raw:
        log["row"] = raw["_row"]

    multi = pd.Series(log.index.isin(lists.index), index=log.index)
    if multi.any() and multi_kc == "drop":
        log = ledger.drop(log, multi, "multi-KC step (multi_kc='drop')")
    elif multi.any() and multi_kc == "first":
        ledger.note(f"{len(lists):,} multi-KC steps kept with their first KC (multi_kc='first')")
    elif multi.any():
        log = _explode(log, lists)
        ledger.count_added(
            "multi-KC steps split into one row per KC", int(lists.map(len).sum()) - len(lists)
        )
    if "opportunity" in log:
        if multi_kc != "split":
            log["opportunity"] = log["opportunity"].str.split(SEPARATOR, regex=False).str[0]
        log["opportunity"] = _counts_if_numeric(log["opportunity"])
    log = drop_duplicate_keys(log, ledger)
    return finish_log(log, ledger, verbose=verbose)


def _explode(log: pd.DataFrame, lists: pd.Series) -> pd.DataFrame:
    """One row per KC for the steps in ``lists`` (same order); ``Opportunity`` is split alongside
    when it lists as many values as there are KCs."""
    multi = log.loc[lists.index].assign(skill_id=lists)
    columns = ["skill_id"]
    if "opportunity" in log:
        parts = []
        for value, kcs in zip(multi["opportunity"], lists, strict=True):
            values = value.split(SEPARATOR) if isinstance(value, str) else [value]
            parts.append(values if len(values) == len(kcs) else [value] * len(kcs))
        multi["opportunity"] = pd.Series(parts, index=multi.index, dtype=object)
        columns.append("opportunity")
    exploded = multi.explode(columns)
    exploded["skill_id"] = exploded["skill_id"].astype("str")
    single = log.drop(index=lists.index)
    return pd.concat([single, exploded]).sort_index(kind="stable")


def _counts_if_numeric(values: pd.Series) -> pd.Series:
    """Opportunity counts as Int64 when every value is a whole number, else the text unchanged."""
    numbers = pd.to_numeric(values, errors="coerce")
    if (numbers.notna() | values.isna()).all() and (numbers.dropna() % 1 == 0).all():
        return numbers.astype("Int64")
    return values.astype("str")
