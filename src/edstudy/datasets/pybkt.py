"""The example CSVs of pyBKT (``as.csv``, ``ct.csv``) as response logs.

pyBKT's examples come in two source layouts, recognised by their columns:

* ASSISTments original layout (``order_id, user_id, problem_id, original, correct, skill_name,
  ...``; ``as.csv``, staged as ``as_assistments2009_2skills.csv.gz``) is read exactly as
  :func:`~edstudy.datasets.load_assistments2009` reads the original ASSISTments file;
* DataShop student-step layout (``Anon Student Id, Problem Name, Step Name, KC(...), Correct First
  Attempt, ...``; ``ct.csv``, staged as ``ct_cognitive_tutor_algebra_11students.csv.gz``) is read
  as :func:`~edstudy.datasets.load_datashop` reads it, with the default options.

``path`` may also be the short name ``"as"`` or ``"ct"``: the file is then searched for like the
other datasets (shared data, cache) and, with ``download=True``, fetched from the commit of
``CAHLR/pyBKT-examples`` cited in ``SOURCES`` and checked against its SHA-256.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from edstudy.datasets._errors import DataNotFoundError, DatasetFormatError
from edstudy.datasets._locate import locate
from edstudy.datasets._read import read_header, sniff_separator
from edstudy.datasets._table_cache import cached_table
from edstudy.datasets.assistments2009 import read_assistments2009
from edstudy.datasets.datashop import read_datashop

__all__ = ["load_pybkt_example"]

_SHORT_NAMES = {"as": "pybkt_as", "ct": "pybkt_ct"}


def load_pybkt_example(
    path: str | os.PathLike[str],
    *,
    download: bool = False,
    verbose: bool = True,
) -> pd.DataFrame:
    """Load one of pyBKT's example CSV files as a response log.

    Parameters
    ----------
    path : path-like or {"as", "ct"}
        The file, or the short name of one of the two example files.
    download : bool
        With a short name: fetch the file into the cache when no copy is found.
    verbose : bool
        Print the one-line load summary (it is always logged at INFO).

    Returns
    -------
    DataFrame
        The response log of the matching layout (see :func:`load_assistments2009` and
        :func:`load_datashop`); ``LoadReport.source`` is ``"pybkt_example"``.

    Raises
    ------
    DataNotFoundError
        The file does not exist (or, for a short name, was found nowhere).
    DatasetFormatError
        The columns match neither layout.
    """
    key = _SHORT_NAMES.get(path) if isinstance(path, str) else None
    if key is not None:
        file = locate(key, None, download=download, verbose=verbose)
    else:
        file = Path(path).expanduser()
        if not file.is_file():
            raise DataNotFoundError(f"pybkt_example: {file} is not a file")
    return cached_table("pybkt_example", [file], {}, lambda: _read(file, verbose), verbose=verbose)


def _read(file: Path, verbose: bool) -> pd.DataFrame:
    columns = read_header(file, sep=sniff_separator(file))
    if "order_id" in columns or "seq_idx" in columns:
        return read_assistments2009(
            file, source="pybkt_example", collapse_multiskill=False, verbose=verbose
        )
    if "Anon Student Id" in columns:
        return read_datashop(
            file, source="pybkt_example", kc_model=None, multi_kc="split", verbose=verbose
        )
    raise DatasetFormatError(
        f"{file}: not a pyBKT example file: expected the ASSISTments columns (order_id, user_id, "
        "problem_id, original, correct, skill_name) or the DataShop columns (Anon Student Id, "
        "Problem Name, Step Name, KC(...), Correct First Attempt); "
        f"the file has: {', '.join(columns)}"
    )
