"""A class's log growing as a lesson goes on: append new responses, or replay a finished log.

* :func:`append_responses` – validate new responses and append them to a log (the dashboard
  "updates as new responses are appended": the snapshot is simply recomputed, the BKT forward pass
  over a class takes milliseconds).
* :class:`ResponseReplay` – replay a complete (e.g. simulated) log a few responses per student at
  a time, so a demo can show the dashboard changing as a lesson goes on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from edstudy.monitor._common import ids
from edstudy.monitor.settings import check_count
from edstudy.schema import validate_log

__all__ = ["ResponseReplay", "append_responses"]


def append_responses(log: pd.DataFrame, new_rows: pd.DataFrame) -> pd.DataFrame:
    """Validate new responses and return the log with them appended (a new frame).

    Parameters
    ----------
    log : DataFrame
        The responses so far; not modified.
    new_rows : DataFrame
        New responses with at least the required columns. Each must come after the student's
        earlier responses (a larger ``order`` than any of that student's rows in ``log``): the
        dashboard monitors a class as it goes, it does not rewrite history.

    Returns
    -------
    DataFrame
        Validated, with a fresh index ``0..n-1``.

    Raises
    ------
    SchemaError
        When ``new_rows`` (or the combination, e.g. a repeated ``(student_id, skill_id, order)``)
        breaks the schema; the message names the column, row and value.
    ValueError
        When a new response is not after the student's earlier ones.
    """
    old = validate_log(log)
    new = validate_log(new_rows)
    last = old.assign(_sid=ids(old["student_id"])).groupby("_sid")["order"].max()
    sid_new = pd.Series(ids(new["student_id"]), index=new.index)
    before = sid_new.map(last)
    bad = before.notna() & (new["order"] <= before)
    if bad.any():
        i = bad[bad].index[0]
        raise ValueError(
            f"new responses must come after the student's earlier ones: {int(bad.sum())} rows "
            f"do not, first at index {i} (student {sid_new[i]!r}, order "
            f"{int(new.loc[i, 'order'])}, but the log already has order {int(before[i])})"
        )
    frames = []
    for f in (old, new):
        f = f.copy()
        for c in f.columns:
            if isinstance(f[c].dtype, pd.CategoricalDtype):
                f[c] = f[c].astype(object)
        frames.append(f)
    combined = pd.concat(frames, ignore_index=True)
    return validate_log(combined)


class ResponseReplay:
    """Replay a complete response log a few responses per student at a time.

    A demo (or a study of what the dashboard would have shown) starts from the first ``start``
    responses of every student and reveals the next ``step`` responses per student on each call
    of :meth:`next`. Rows are taken in each student's ``order``.

    Parameters
    ----------
    log : DataFrame
        The complete log, e.g. from :func:`edstudy.sim.simulate`; validated, not modified.
    start : int, default 20
        Responses per student in :attr:`initial`.
    step : int, default 5
        Responses per student revealed by each :meth:`next`.
    """

    def __init__(self, log: pd.DataFrame, *, start: int = 20, step: int = 5) -> None:
        self.start = check_count("start", start)
        self.step = check_count("step", step)
        v = validate_log(log).reset_index(drop=True)
        sid = pd.Series(ids(v["student_id"]), index=v.index)
        order = v.assign(_sid=sid).sort_values(["_sid", "order"], kind="stable").index
        self._log = v.loc[order].reset_index(drop=True)
        self._rank = (
            self._log.assign(_sid=sid.loc[order].to_numpy()).groupby("_sid").cumcount().to_numpy()
        )
        self.position = self.start

    @property
    def initial(self) -> pd.DataFrame:
        """The first ``start`` responses of every student (a copy)."""
        return self._log[self._rank < self.start].reset_index(drop=True)

    @property
    def remaining(self) -> int:
        """Responses not revealed yet."""
        return int(np.sum(self._rank >= self.position))

    def next(self, step: int | None = None) -> pd.DataFrame:
        """The next ``step`` responses of every student who has any left (empty when done)."""
        n = self.step if step is None else check_count("step", step)
        sel = (self._rank >= self.position) & (self._rank < self.position + n)
        self.position += n
        return self._log[sel].reset_index(drop=True)
