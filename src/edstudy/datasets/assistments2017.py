"""ASSISTments 2017 (Longitudinal Data Mining Competition) as a response log.

Reads the AKT-processed long table staged in the shared data (``student_id, seq_idx, problem_id,
skill_idx, skill, correct``; 941,502 rows, 1,705 students). Each row has one skill tag, and
``seq_idx`` numbers the student's rows, so ``order = seq_idx``: after dropping rows the orders keep
their gaps, so they still point into the student's full timeline.

Rows tagged ``"noskill"`` (78,035) are dropped by default and counted: they carry no skill, and
fitting them as one pooled "skill" would mix unrelated problems into one BKT sequence. Pass
``drop_noskill=False`` to keep the full timeline (e.g. for sequence models), with ``skill_id``
``"noskill"`` on those rows. Scaffolding steps and repeated work on a problem are in the source
and are kept (AKT's processing removed the flags that would tell them apart).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from edstudy.datasets._locate import locate
from edstudy.datasets._read import (
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

__all__ = ["load_assistments2017"]

REQUIRED = ("student_id", "seq_idx", "problem_id", "skill", "correct")
NOSKILL = "skill tag 'noskill'"


def load_assistments2017(
    path: str | os.PathLike[str] | None = None,
    *,
    drop_noskill: bool = True,
    download: bool = False,
    verbose: bool = True,
) -> pd.DataFrame:
    """Load the ASSISTments 2017 competition data (AKT-processed) as a response log.

    Parameters
    ----------
    path : path-like, optional
        ``interactions.csv.gz`` or a folder holding it; searched for when omitted.
    drop_noskill : bool
        Drop (and count) the rows tagged ``"noskill"``; default ``True`` (see module docstring).
    download : bool
        The processed table has no stable download, so this only raises a
        :class:`DataNotFoundError` saying how to get the data.
    verbose : bool
        Print the one-line load summary (it is always logged at INFO).

    Returns
    -------
    DataFrame
        ``student_id, skill_id`` (the skill tag), ``order`` (``seq_idx``), ``correct``,
        ``item_id`` (problem_id). ``df.attrs["load_report"]`` is the :class:`LoadReport`.

    Raises
    ------
    DataNotFoundError, DatasetFormatError
    """
    file = locate("assistments2017", path, download=download, verbose=verbose)
    return cached_table(
        "assistments2017",
        [file],
        {"drop_noskill": drop_noskill},
        lambda: _read(file, drop_noskill=drop_noskill, verbose=verbose),
        verbose=verbose,
    )


def _read(file: Path, *, drop_noskill: bool, verbose: bool) -> pd.DataFrame:
    columns = read_header(file)
    require_columns(file, columns, REQUIRED, "processed ASSISTments 2017")
    raw = read_table(file, REQUIRED, dtype={"skill": "str"})
    ledger = Ledger("assistments2017", file, len(raw))

    correct = parse_binary(raw["correct"], "correct", file)
    raw = ledger.drop(raw, correct.isna(), "correct missing")
    skill = ids_as_text(raw["skill"])
    raw = ledger.drop(raw, skill.isna(), "no skill")
    if drop_noskill:
        raw = ledger.drop(raw, skill.loc[raw.index] == "noskill", NOSKILL)
    log = pd.DataFrame(
        {
            "student_id": raw["student_id"],
            "skill_id": skill.loc[raw.index],
            "order": parse_number(raw["seq_idx"], "seq_idx", file, integer=True, minimum=0),
            "correct": correct.loc[raw.index],
            "item_id": raw["problem_id"],
        },
        index=raw.index,
    )
    log = ledger.drop(log, log.duplicated(["student_id", "order"]), "duplicate (student, seq_idx)")
    return finish_log(log, ledger, verbose=verbose)
