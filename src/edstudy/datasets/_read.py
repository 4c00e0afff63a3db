"""Reading source files and turning their columns into schema values, with exact error messages.

Rows keep the line of the file they came from as their index (the header is line 1, so data row
``k``, counted from 0, is line ``k + 2``) until the loader finishes; every message about a value
names that line. Loaders reset the index of the table they return.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from edstudy.datasets._errors import DatasetFormatError
from edstudy.datasets._report import Ledger, emit
from edstudy.schema import LOG_OPTIONAL, LOG_REQUIRED, SchemaError, validate_log, validate_outcomes

logger = logging.getLogger("edstudy.datasets")

KEY = ["student_id", "skill_id", "order"]
DUPLICATE_KEY = "duplicate (student, skill, order)"


def _open_text(path: Path, encoding: str) -> IO[str]:
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rt", encoding=encoding, newline="")
    if suffix == ".bz2":
        return bz2.open(path, "rt", encoding=encoding, newline="")
    if suffix == ".xz":
        return lzma.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


def _first_line(path: Path) -> str:
    for encoding in ("utf-8", "latin-1"):
        try:
            with _open_text(path, encoding) as handle:
                return handle.readline()
        except UnicodeDecodeError:
            continue
        except (EOFError, gzip.BadGzipFile, zlib.error, lzma.LZMAError, OSError) as err:
            raise DatasetFormatError(
                f"{path}: could not be read: the file is truncated or not a valid "
                f"{path.suffix.lstrip('.') or 'text'} file ({err})"
            ) from None
    return ""  # pragma: no cover - latin-1 decodes every byte


def sniff_separator(path: Path) -> str:
    """Tab when the header line has a tab (DataShop exports), else comma."""
    return "\t" if "\t" in _first_line(path) else ","


def read_header(path: Path, *, sep: str = ",") -> list[str]:
    """Column names of a CSV file.

    Raises
    ------
    DatasetFormatError
        ``<path>: file is empty (no header line)``.
    """
    if not _first_line(path).strip():
        raise DatasetFormatError(f"{path}: file is empty (no header line)")
    return [str(c) for c in _read_csv(path, sep=sep, nrows=0).columns]


#: What a truncated or corrupt compressed file raises while it is read.
_CORRUPT = (EOFError, gzip.BadGzipFile, zlib.error, lzma.LZMAError, zipfile.BadZipFile, OSError)


def _read_csv(path: Path, **kwargs) -> pd.DataFrame:
    try:
        try:
            return pd.read_csv(path, **kwargs)
        except UnicodeDecodeError:
            # The original ASSISTments CSVs are Latin-1 (skill and answer texts).
            logger.debug("%s is not UTF-8; reading it as Latin-1", path)
            return pd.read_csv(path, encoding="latin-1", **kwargs)
    except pd.errors.EmptyDataError:
        raise DatasetFormatError(f"{path}: file is empty (no header line)") from None
    except (ValueError, pd.errors.ParserError) as err:
        raise DatasetFormatError(f"{path}: could not be read as CSV: {err}") from None
    except _CORRUPT as err:
        raise DatasetFormatError(
            f"{path}: could not be read: the file is truncated or not a valid "
            f"{path.suffix.lstrip('.') or 'text'} file ({err})"
        ) from None


def require_columns(path: Path, found: Iterable[str], required: Iterable[str], layout: str) -> None:
    """Raise naming every required column that ``found`` lacks.

    Raises
    ------
    DatasetFormatError
        ``<path>: missing column(s) 'a', 'b' of the <layout> layout; the file has: x, y``.
    """
    found = list(found)
    missing = [c for c in required if c not in found]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        noun = "column" if len(missing) == 1 else "columns"
        raise DatasetFormatError(
            f"{path}: missing {noun} {names} of the {layout} layout; "
            f"the file has: {', '.join(found)}"
        )


def read_table(
    path: Path,
    columns: Iterable[str] | None = None,
    *,
    sep: str = ",",
    dtype: Mapping[str, object] | None = None,
    na_values: Iterable[str] | None = None,
    **read_csv_kwargs: object,
) -> pd.DataFrame:
    """Read the named columns of a CSV file, indexed by line number.

    Parameters
    ----------
    path : Path
        CSV file, optionally gzip/bz2/xz compressed (by suffix).
    columns : iterable of str, optional
        Read only these columns (those absent from the file are skipped; check them first with
        :func:`require_columns`). All columns when omitted.
    sep : str
        Field separator.
    dtype : mapping, optional
        dtypes for columns that are read (entries for unread columns are ignored).
    na_values : iterable of str, optional
        Extra strings meaning "missing".

    Returns
    -------
    DataFrame
        Index = line of the file (header = line 1).

    Raises
    ------
    DatasetFormatError
        ``<path>: file is empty (no header line)`` or ``<path>: no data rows (only a header line)``.
    """
    kwargs: dict[str, object] = {"sep": sep, **read_csv_kwargs}
    # Every column is parsed, even those not wanted: with ``usecols`` pandas would silently
    # trim a row that has more fields than the header, instead of saying which line it is.
    if dtype:
        kwargs["dtype"] = dict(dtype)
    if na_values is not None:
        kwargs["na_values"] = list(na_values)
    if not _first_line(path).strip():
        raise DatasetFormatError(f"{path}: file is empty (no header line)")
    df = _read_csv(path, **kwargs)
    if len(df) == 0:
        raise DatasetFormatError(f"{path}: no data rows (only a header line)")
    if columns is not None:
        df = df[[c for c in df.columns if c in set(columns)]]
    df.index = pd.RangeIndex(2, len(df) + 2)
    return df


def _describe(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def value_error(
    path: Path, column: str, rule: str, bad: pd.Series, values: pd.Series
) -> DatasetFormatError:
    """``<path>: column '<column>' <rule>: N rows, first at line L (value V)``."""
    n = int(bad.sum())
    first = bad.to_numpy().nonzero()[0][0]
    line = values.index[first]
    noun = "row" if n == 1 else "rows"
    return DatasetFormatError(
        f"{path}: column '{column}' {rule}: {n} {noun}, first at line {line} "
        f"(value {_describe(values.iloc[first])})"
    )


def parse_binary(values: pd.Series, column: str, path: Path) -> pd.Series:
    """0/1 (also ``True``/``False``, ``0.0``/``1.0``) as nullable Int8; missing stays missing.

    Raises
    ------
    DatasetFormatError
        ``<path>: column '<column>' must be 0 or 1: N rows, first at line L (value 'yes')``.
    """
    if pd.api.types.is_bool_dtype(values):
        return values.astype("Int8")
    if pd.api.types.is_numeric_dtype(values):
        numbers = values
    else:
        text = values.astype("str").str.strip().str.lower()
        text = text.replace({"true": "1", "false": "0"})
        numbers = pd.to_numeric(text.where(values.notna()), errors="coerce")
    bad = values.notna() & ~numbers.isin([0, 1])
    if bad.any():
        raise value_error(path, column, "must be 0 or 1", bad, values)
    return numbers.astype("Int8")


def parse_number(
    values: pd.Series,
    column: str,
    path: Path,
    *,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> pd.Series:
    """A numeric column (float64, or Int64 when ``integer``); missing stays missing.

    Raises
    ------
    DatasetFormatError
        Text, fractions in an integer column, or values outside ``[minimum, maximum]``, e.g.
        ``<path>: column 'seq_idx' must be a whole number >= 0: 1 row, first at line 4
        (value 'x')``.
    """
    rule = "must be a whole number" if integer else "must be a number"
    if minimum is not None and maximum is not None:
        rule += f" between {_describe(float(minimum))} and {_describe(float(maximum))}"
    elif minimum is not None:
        rule += f" >= {_describe(float(minimum))}"
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64") if not integer else values
    else:
        numbers = pd.to_numeric(
            values.astype("str").str.strip().where(values.notna()), errors="coerce"
        )
    bad = values.notna() & numbers.isna()
    as_float = numbers.astype("float64")
    if integer:
        bad |= numbers.notna() & (as_float != np.floor(as_float))
    if minimum is not None:
        bad |= numbers.notna() & (as_float < minimum)
    if maximum is not None:
        bad |= numbers.notna() & (as_float > maximum)
    if bad.any():
        raise value_error(path, column, rule, bad, values)
    if integer:
        return numbers if pd.api.types.is_integer_dtype(numbers) else numbers.astype("Int64")
    return as_float


def parse_datetime(values: pd.Series, column: str, path: Path) -> pd.Series:
    """Dates/times (ISO 8601, e.g. ``2006-10-26 09:51:58.0``); missing stays missing.

    Raises
    ------
    DatasetFormatError
        ``<path>: column '<column>' must be a date/time: N rows, first at line L (value '...')``.
    """
    stamps = pd.to_datetime(values, format="ISO8601", errors="coerce")
    bad = values.notna() & stamps.isna()
    if bad.any():
        raise value_error(path, column, "must be a date/time", bad, values)
    return stamps.astype("datetime64[ns]")


def ids_as_text(values: pd.Series) -> pd.Series:
    """Identifiers read as text, stripped; empty strings become missing."""
    codes, uniques = pd.factorize(values)  # strip each distinct value once, not every row
    cleaned = pd.Series(uniques, dtype="str").str.strip()
    cleaned = cleaned.where(cleaned != "").to_numpy(dtype=object)
    taken = np.where(codes >= 0, cleaned[np.maximum(codes, 0)] if len(cleaned) else None, None)
    return pd.Series(taken, index=values.index, dtype="str", name=values.name)


def drop_duplicate_keys(
    df: pd.DataFrame, ledger: Ledger, keys: list[str] | None = None
) -> pd.DataFrame:
    """Keep the first row of each (student, skill, order); count the others as duplicates."""
    return ledger.drop(df, df.duplicated(subset=keys or KEY, keep="first"), DUPLICATE_KEY)


def _arrange(df: pd.DataFrame) -> pd.DataFrame:
    schema_cols = [c for c in (*LOG_REQUIRED, *LOG_OPTIONAL) if c in df.columns]
    return df[schema_cols + [c for c in df.columns if c not in schema_cols]]


def finish_log(df: pd.DataFrame, ledger: Ledger, *, verbose: bool) -> pd.DataFrame:
    """Validate a loaded response log, attach its :class:`LoadReport` and report it.

    The rows are sorted by student and order, the index reset. A :class:`SchemaError` names the
    file; its row index is the line of the file.
    """
    df = _arrange(df)
    try:
        log = validate_log(df)
    except SchemaError as err:
        raise SchemaError(
            f"response log from {ledger.path} (index = line in the file)", err.problems
        ) from None
    log = log.sort_values(["student_id", "order"], kind="stable").reset_index(drop=True)
    report = ledger.report(len(log))
    log.attrs["load_report"] = report
    emit(report, verbose)
    return log


def finish_outcomes(df: pd.DataFrame, ledger: Ledger, *, verbose: bool) -> pd.DataFrame:
    """Validate a loaded outcomes table, attach its :class:`LoadReport` and report it."""
    try:
        out = validate_outcomes(df)
    except SchemaError as err:
        raise SchemaError(
            f"outcomes from {ledger.path} (index = line in the file)", err.problems
        ) from None
    out = out.reset_index(drop=True)
    report = ledger.report(len(out))
    out.attrs["load_report"] = report
    emit(report, verbose)
    return out
