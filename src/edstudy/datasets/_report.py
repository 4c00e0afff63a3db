"""What a loader kept, dropped and added: :class:`LoadReport` and the ledger that builds it.

Every loader reads a number of source rows and returns a number of table rows. The difference is
never silent: each removed row is counted under a reason, each row a loader creates (one step
split into one row per skill) is counted under a reason, and the report checks that the books
balance, ``rows_read - sum(dropped) + sum(added) == rows_kept``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["LoadReport"]

logger = logging.getLogger("edstudy.datasets")


def _breakdown(counts: Mapping[str, int]) -> str:
    """``(reason)`` for a single reason, ``(n1 reason1; n2 reason2)`` for several."""
    if len(counts) == 1:
        return f"({next(iter(counts))})"
    return "(" + "; ".join(f"{n:,} {reason}" for reason, n in counts.items()) + ")"


@dataclass(frozen=True)
class LoadReport:
    """Row accounting of one load, stored in ``df.attrs["load_report"]``.

    Attributes
    ----------
    source : str
        Loader name, e.g. ``"assistments2009"``.
    path : Path or None
        The file (or folder) read.
    rows_read : int
        Data rows in the source file (the header not counted).
    rows_kept : int
        Rows of the returned table.
    dropped : dict of str to int
        Rows removed, by reason (only reasons that removed at least one row).
    added : dict of str to int
        Rows created, by reason, e.g. a multi-skill step split into one row per skill.
    notes : tuple of str
        Choices that changed no row count but a reader should know, e.g. values set to missing.

    Raises
    ------
    ValueError
        When the counts do not balance: ``rows_read - sum(dropped) + sum(added) != rows_kept``.
    """

    source: str
    path: Path | None
    rows_read: int
    rows_kept: int
    dropped: dict[str, int] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Private copies, so a caller's dict cannot change a frozen report afterwards.
        object.__setattr__(self, "dropped", dict(self.dropped))
        object.__setattr__(self, "added", dict(self.added))
        object.__setattr__(self, "notes", tuple(self.notes))
        expected = self.rows_read - self.n_dropped + self.n_added
        if expected != self.rows_kept:
            raise ValueError(
                f"{self.source}: row accounting does not balance: read {self.rows_read}, "
                f"dropped {self.n_dropped}, added {self.n_added}, but kept {self.rows_kept}"
            )

    @property
    def n_dropped(self) -> int:
        """Total rows removed."""
        return sum(self.dropped.values())

    @property
    def n_added(self) -> int:
        """Total rows created."""
        return sum(self.added.values())

    def __str__(self) -> str:
        line = f"{self.source}: read {self.rows_read:,} rows, kept {self.rows_kept:,}; "
        line += f"dropped {self.n_dropped:,}"
        if self.dropped:
            line += " " + _breakdown(self.dropped)
        if self.added:
            line += f"; added {self.n_added:,} " + _breakdown(self.added)
        return line


class Ledger:
    """Builds a :class:`LoadReport` while a loader filters its rows (internal helper)."""

    def __init__(self, source: str, path: Path | None, rows_read: int):
        self.source = source
        self.path = path
        self.rows_read = rows_read
        self.dropped: dict[str, int] = {}
        self.added: dict[str, int] = {}
        self.notes: list[str] = []

    def drop(self, df: pd.DataFrame, mask: pd.Series, reason: str) -> pd.DataFrame:
        """Return ``df`` without the rows where ``mask`` is true, counting them under ``reason``."""
        flags = mask.fillna(False).to_numpy(dtype=bool)
        n = int(flags.sum())
        if n == 0:
            return df
        self.dropped[reason] = self.dropped.get(reason, 0) + n
        return df.loc[~flags]

    def count_dropped(self, reason: str, n: int) -> None:
        """Count ``n`` rows removed by an operation that is not a mask (a merge, an aggregation)."""
        if n:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(n)

    def count_added(self, reason: str, n: int) -> None:
        """Count ``n`` rows created (e.g. by splitting one row into several)."""
        if n:
            self.added[reason] = self.added.get(reason, 0) + int(n)

    def note(self, text: str) -> None:
        """Record a choice that changed values but no row count."""
        self.notes.append(text)

    def report(self, rows_kept: int) -> LoadReport:
        return LoadReport(
            source=self.source,
            path=self.path,
            rows_read=self.rows_read,
            rows_kept=rows_kept,
            dropped=self.dropped,
            added=self.added,
            notes=tuple(self.notes),
        )


def emit(report: LoadReport, verbose: bool) -> None:
    """Log the one-line summary (and each note) at INFO; also print them when ``verbose``."""
    logger.info("%s", report)
    for note in report.notes:
        logger.info("%s: note: %s", report.source, note)
    if verbose:
        print(report)
        for note in report.notes:
            print(f"  note: {note}")
