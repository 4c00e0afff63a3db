"""Loaded tables kept as Parquet, so the second load of a dataset takes a fraction of a second.

A loader parses its source files once; the resulting table (with its :class:`LoadReport`) is
stored in the download cache (``<cache>/tables/``) under a key made of

- the SHA-256 of every source file (a changed or replaced file is a new table),
- the loader's options (``collapse_multiskill`` ...),
- the source code of ``edstudy.datasets`` and ``edstudy.schema`` (a changed parser is a new table),

and the Parquet file's own SHA-256 is recorded beside it: a cached table that no longer
matches is removed and reported, and the table is parsed again; it is never reused.
``EDSTUDY_TABLE_CACHE=0`` turns the cache off. Tables pandas cannot store as Parquet (ids mixing
numbers and text) are simply not cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from edstudy import __version__
from edstudy.datasets._download import sha256_of
from edstudy.datasets._locate import cache_dir
from edstudy.datasets._report import LoadReport, emit

__all__ = ["cached_table"]

logger = logging.getLogger("edstudy.datasets")
_PACKAGE = Path(__file__).resolve().parent


def _code_digest() -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in sorted([*_PACKAGE.glob("*.py"), _PACKAGE.parent / "schema.py"]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _key(loader: str, files: Sequence[Path], options: Mapping[str, Any]) -> str:
    text = json.dumps(options, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{loader}\0{text}".encode())
    digest.update(_code_digest().encode())
    for f in files:
        digest.update(f.name.encode() + b"\0" + sha256_of(f).encode())
    return digest.hexdigest()[:24]


def _read(table: Path, meta: Path, *, verbose: bool) -> pd.DataFrame | None:
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
        if sha256_of(table) != doc["sha256"]:
            raise ValueError("its SHA-256 differs from the one recorded when it was stored")
        df = pd.read_parquet(table)
        fields = dict(doc["report"])
        fields["path"] = Path(fields["path"]) if fields["path"] else None
        report = LoadReport(**fields)
    except (OSError, ValueError, KeyError, TypeError) as err:
        logger.warning("the cached table %s is corrupt (%s); it was removed", table, err)
        table.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)
        return None
    df.attrs["load_report"] = report
    emit(report, verbose)
    return df


def _write(df: pd.DataFrame, table: Path, meta: Path) -> None:
    report = df.attrs.get("load_report")
    if report is None:
        return
    table.parent.mkdir(parents=True, exist_ok=True)
    fd, part = tempfile.mkstemp(prefix=f".{table.name}.part-", dir=table.parent)
    os.close(fd)
    try:
        plain = df.copy(deep=False)
        plain.attrs = {}  # the report is stored beside the table, as JSON
        plain.to_parquet(part, index=False)
        doc = {"sha256": sha256_of(Path(part)), "report": asdict(report)}
        doc["report"]["path"] = None if report.path is None else str(report.path)
        meta.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        os.chmod(part, 0o644)
        os.replace(part, table)
    except Exception as err:  # noqa: BLE001 - a table that cannot be cached is simply not cached
        logger.info("not caching %s as Parquet: %s", table.name, err)
        Path(part).unlink(missing_ok=True)
        meta.unlink(missing_ok=True)


def cached_table(
    loader: str,
    files: Sequence[Path],
    options: Mapping[str, Any],
    build: Callable[[], pd.DataFrame],
    *,
    verbose: bool,
) -> pd.DataFrame:
    """The table ``build()`` returns, from the Parquet cache when an identical one is stored.

    Parameters
    ----------
    loader : str
        The loader's name (part of the key and of the file name).
    files : sequence of Path
        Every source file the table is parsed from.
    options : mapping
        The loader's options that change the table.
    build : callable
        Parses the table (and reports it) when it is not cached.
    verbose : bool
        Print the load summary when the table comes from the cache.
    """
    if os.environ.get("EDSTUDY_TABLE_CACHE", "1") == "0":
        return build()
    key = _key(loader, files, options)
    table = cache_dir() / "tables" / f"{loader}-{key}.parquet"
    meta = table.with_suffix(".json")
    if table.is_file() and meta.is_file():
        df = _read(table, meta, verbose=verbose)
        if df is not None:
            return df
    df = build()
    try:
        _write(df, table, meta)
    except OSError as err:  # a read-only cache folder: work without it
        logger.info("cannot write the table cache (%s)", err)
    return df
