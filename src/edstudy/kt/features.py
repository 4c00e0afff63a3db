"""Online, leakage-safe features of a response log: the shared input of the logistic models.

A log is turned into a :class:`Timeline`: rows sorted by student, ``order`` and skill, grouped into
**attempts** (the rows of one student that share an ``order``: the skill rows of one multi-skill
problem). :func:`online_features` then walks each student's attempts in order and gives every row
counts computed from the student's *earlier attempts only*: a row never sees its own answer, the
answers of the other rows of its attempt, or anything later. This is what makes the predictions of
every model in :mod:`edstudy.kt` one-step-ahead without leakage.

Counts come in three *groups*, each keyed differently:

* ``skill``: the student's earlier answers on the row's skill (each row adds its own answer);
* ``item``: the student's earlier attempts on the row's item (one event per attempt);
* ``total``: all the student's earlier attempts (one event per attempt).

An attempt's answer (for the ``item`` and ``total`` groups and the response patterns) is the mean
of its scored rows' ``correct`` (in ASSISTments every row of a multi-skill problem carries the same
answer). Unscored rows (``correct`` missing) get features but add no events. For each group:
attempts and wins, all-time and within time windows (DAS3H, when timestamps exist), and
exponentially decayed log-odds of success (R-PFA-like recency). :func:`sequence_features` adds
response patterns, runs of consecutive attempts on one item (ASSISTments' scaffolding and retries)
and the spacing since the skill was last practised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

__all__ = [
    "AVERAGE_ITEM",
    "BatchFeatures",
    "DECAY_HALF_LIVES",
    "GroupCounts",
    "SequenceFeatures",
    "Timeline",
    "build_timeline",
    "online_features",
    "sequence_features",
]

#: Half-lives (in attempts of the group) of the decayed success log-odds.
DECAY_HALF_LIVES: tuple[float, ...] = (1.0, 3.0, 10.0, 50.0)
#: Answers in the overall response pattern (codes 0 .. 2**(L+1) - 2).
PATTERN_LENGTH = 4
#: Answers in the per-skill and within-run patterns.
SHORT_PATTERN = 2


class _AverageItem:
    """Stands for "an item not seen in fit": it takes its skill's average item parameters."""

    def __repr__(self) -> str:
        return "AVERAGE_ITEM"

    def __reduce__(self) -> str:
        return "AVERAGE_ITEM"


#: Item id of an opportunity on no particular item (e.g. a simulated one): it gets its skill's
#: average item coefficients and, having no identity, no item counts or item runs.
AVERAGE_ITEM = _AverageItem()


@dataclass(frozen=True)
class Timeline:
    """A response log sorted into attempts, as flat arrays (row ``r`` is the r-th sorted row).

    Attributes
    ----------
    row_index : int64 (n,)
        Position in the original log of each sorted row: ``out[row_index] = sorted_values``.
    student : int64 (n,)
        Code of the row's student among ``students`` (the log's own students).
    skill_id, item_id : object arrays (n,)
        The raw ids (``item_id`` is None-filled when the log has no ``item_id``).
    skill_key, item_key : int64 (n,)
        Dense codes of the (student, skill) and (student, item) pairs of this log (``item_key``
        -1 without items).
    attempt_start : int64 (A + 1,)
        Rows of attempt ``a`` are ``attempt_start[a]:attempt_start[a + 1]``.
    attempt : int64 (n,)
        Attempt of each row.
    correct : float64 (n,)
        0/1, NaN for unscored rows.
    time : float64 (n,) or None
        Seconds since the log's first timestamp, made non-decreasing within each student (a
        timestamp earlier than the student's previous one is raised to it), or None.
    students : Index
        Student ids by code.
    has_items : bool
    """

    row_index: np.ndarray
    student: np.ndarray
    skill_id: np.ndarray
    item_id: np.ndarray
    skill_key: np.ndarray
    item_key: np.ndarray
    attempt_start: np.ndarray
    attempt: np.ndarray
    correct: np.ndarray
    time: np.ndarray | None
    students: pd.Index
    has_items: bool

    @property
    def n_rows(self) -> int:
        return int(self.row_index.shape[0])

    @property
    def n_attempts(self) -> int:
        return int(self.attempt_start.shape[0] - 1)

    @property
    def attempt_size(self) -> np.ndarray:
        """Rows of each row's attempt, shape (n,)."""
        return np.diff(self.attempt_start)[self.attempt]

    def attempt_value(self) -> np.ndarray:
        """Mean ``correct`` of each row's attempt over its scored rows (NaN if none), (n,)."""
        ok = ~np.isnan(self.correct)
        a = self.attempt
        s = np.bincount(a, weights=np.where(ok, self.correct, 0.0), minlength=self.n_attempts)
        c = np.bincount(a, weights=ok.astype(float), minlength=self.n_attempts)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = s / c
        return v[a]


def _codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense int codes of the distinct pairs of two non-negative int code arrays."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    width = int(b.max()) + 1 if b.size else 1
    return pd.factorize(a * width + b)[0].astype(np.int64)


def build_timeline(log: pd.DataFrame) -> Timeline:
    """Sort a validated response log into attempts (see :class:`Timeline`).

    Parameters
    ----------
    log : DataFrame
        A log returned by :func:`edstudy.schema.validate_log`.
    """
    student_codes, students = pd.factorize(log["student_id"], sort=True)
    skill_codes = pd.factorize(log["skill_id"], sort=True)[0]
    order = log["order"].to_numpy(dtype=np.int64)
    row_index = np.lexsort((skill_codes, order, student_codes)).astype(np.int64)
    st = student_codes[row_index].astype(np.int64)
    od = order[row_index]
    n = len(row_index)
    new = np.ones(n, dtype=bool)
    if n:
        new[1:] = (st[1:] != st[:-1]) | (od[1:] != od[:-1])
    attempt = np.cumsum(new) - 1
    attempt_start = np.append(np.flatnonzero(new), n).astype(np.int64)
    skill_id = log["skill_id"].to_numpy(dtype=object)[row_index]
    has_items = "item_id" in log.columns
    if has_items:
        item_id = log["item_id"].to_numpy(dtype=object)[row_index]
        item_key = _codes(st, pd.factorize(item_id)[0])
        average = np.fromiter((x is AVERAGE_ITEM for x in item_id), dtype=bool, count=n)
        if average.any():
            item_key = np.where(average, -1, item_key)
    else:
        item_id = np.full(n, None, dtype=object)
        item_key = np.full(n, -1, dtype=np.int64)
    correct = log["correct"].to_numpy(dtype=float, na_value=np.nan)[row_index]
    time = None
    if "timestamp" in log.columns and log["timestamp"].notna().any():
        ts = pd.to_datetime(log["timestamp"]).to_numpy()[row_index]
        sec = (ts - np.nanmin(ts)) / np.timedelta64(1, "s")
        sec = pd.Series(sec).groupby(st).ffill().fillna(0.0).to_numpy()
        time = pd.Series(sec).groupby(st).cummax().to_numpy(dtype=float)
    return Timeline(
        row_index=row_index,
        student=st,
        skill_id=skill_id,
        item_id=item_id,
        skill_key=_codes(st, skill_codes[row_index]),
        item_key=item_key,
        attempt_start=attempt_start,
        attempt=attempt.astype(np.int64),
        correct=correct,
        time=time,
        students=pd.Index(students),
        has_items=has_items,
    )


# ----------------------------------------------------------------------------- group counts
@njit(cache=True, nogil=True)
def _group_counts(attempt_start, key, value, time, windows, decays, n_keys, key_rows):  # noqa: PLR0913
    n = key.shape[0]
    n_w = windows.shape[0]
    n_d = decays.shape[0]
    att = np.zeros((n, n_w + 1))
    win = np.zeros((n, n_w + 1))
    dec = np.zeros((n, n_d))
    # per-key event buffers: times and cumulative wins (one leading zero per key)
    base = np.zeros(n_keys + 1, dtype=np.int64)
    for k in range(n_keys):
        base[k + 1] = base[k] + key_rows[k] + 1
    ev_time = np.zeros(base[n_keys])
    cum_win = np.zeros(base[n_keys])
    n_ev = np.zeros(n_keys, dtype=np.int64)
    ptr = np.zeros((n_keys, max(n_w, 1)), dtype=np.int64)
    d_win = np.zeros((n_keys, n_d))
    d_all = np.zeros((n_keys, n_d))
    for a in range(attempt_start.shape[0] - 1):
        lo, hi = attempt_start[a], attempt_start[a + 1]
        for r in range(lo, hi):  # read the state left by earlier attempts
            k = key[r]
            if k < 0:
                continue
            b = base[k]
            m = n_ev[k]
            att[r, 0] = m
            win[r, 0] = cum_win[b + m]
            for w in range(n_w):
                p = ptr[k, w]
                while p < m and ev_time[b + p] <= time[r] - windows[w]:
                    p += 1
                ptr[k, w] = p
                att[r, 1 + w] = m - p
                win[r, 1 + w] = cum_win[b + m] - cum_win[b + p]
            for d in range(n_d):
                dec[r, d] = np.log((d_win[k, d] + 1.0) / (d_all[k, d] - d_win[k, d] + 1.0))
        for r in range(lo, hi):  # then add this attempt's answers (once per key)
            k = key[r]
            v = value[r]
            if k < 0 or np.isnan(v):
                continue
            dup = False
            for r2 in range(lo, r):
                if key[r2] == k and not np.isnan(value[r2]):
                    dup = True
                    break
            if dup:
                continue
            b = base[k]
            m = n_ev[k]
            ev_time[b + m] = time[r]
            cum_win[b + m + 1] = cum_win[b + m] + v
            n_ev[k] = m + 1
            for d in range(n_d):
                d_win[k, d] = decays[d] * d_win[k, d] + v
                d_all[k, d] = decays[d] * d_all[k, d] + 1.0
    return att, win, dec


@dataclass(frozen=True)
class GroupCounts:
    """Counts of one group before each row (rows in :class:`Timeline` order).

    ``attempts`` and ``wins`` are (n, 1 + n_windows): column 0 all-time, then one column per
    window; ``decayed`` is (n, n_decays): ``log((wins_d + 1) / (fails_d + 1))`` with
    exponentially decayed counts (one column per half-life).
    """

    attempts: np.ndarray
    wins: np.ndarray
    decayed: np.ndarray


def online_features(
    tl: Timeline,
    *,
    windows: tuple[float, ...] = (),
    half_lives: tuple[float, ...] = DECAY_HALF_LIVES,
) -> dict[str, GroupCounts]:
    """Counts of the ``skill``, ``item`` and ``total`` groups before every row.

    Parameters
    ----------
    tl : Timeline
    windows : tuple of float
        Window lengths in seconds (used only when ``tl.time`` exists).
    half_lives : tuple of float
        Half-lives in attempts of the decayed log-odds.

    Returns
    -------
    dict
        ``{"skill": GroupCounts, "item": GroupCounts, "total": GroupCounts}``.
    """
    w = np.asarray(windows if tl.time is not None else (), dtype=float)
    time = tl.time if tl.time is not None else np.zeros(tl.n_rows)
    decays = 0.5 ** (1.0 / np.asarray(half_lives, dtype=float))
    att_value = tl.attempt_value()
    out = {}
    for name, key, value in (
        ("skill", tl.skill_key, tl.correct),
        ("item", tl.item_key, att_value),
        ("total", tl.student, att_value),
    ):
        n_keys = int(key.max()) + 1 if key.size and key.max() >= 0 else 0
        key_rows = np.bincount(key[key >= 0], minlength=n_keys).astype(np.int64)
        a, b, c = _group_counts(
            tl.attempt_start, key, value.astype(float), time, w, decays, n_keys, key_rows
        )
        out[name] = GroupCounts(attempts=a, wins=b, decayed=c)
    return out


# ----------------------------------------------------------------------------- sequences
@njit(cache=True, nogil=True)
def _sequence(attempt_start, student, item_key, skill_key, value, n_skill_keys, long_len, short):  # noqa: PLR0913
    n = student.shape[0]
    pattern = np.zeros(n, dtype=np.int64)
    skill_pattern = np.zeros(n, dtype=np.int64)
    run_pattern = np.zeros(n, dtype=np.int64)
    run_len = np.zeros(n)
    since = np.zeros(n)
    sk_bits = np.zeros(n_skill_keys, dtype=np.int64)
    sk_len = np.zeros(n_skill_keys, dtype=np.int64)
    sk_last = np.full(n_skill_keys, -1, dtype=np.int64)
    bits = 0
    length = 0
    r_bits = 0
    r_len = 0
    run = 0
    a_idx = 0  # attempt index within the student
    prev_item = -1
    for a in range(attempt_start.shape[0] - 1):
        lo, hi = attempt_start[a], attempt_start[a + 1]
        if a == 0 or student[lo] != student[attempt_start[a - 1]]:
            bits = 0
            length = 0
            a_idx = 0
            prev_item = -1
            run = 0
            r_bits = 0
            r_len = 0
        it = item_key[lo]
        repeat = it >= 0 and it == prev_item
        if not repeat:
            run = 0
            r_bits = 0
            r_len = 0
        v_sum = 0.0
        v_n = 0
        for r in range(lo, hi):
            pattern[r] = (1 << length) - 1 + bits
            run_pattern[r] = (1 << r_len) - 1 + r_bits if repeat else 0
            run_len[r] = run
            k = skill_key[r]
            skill_pattern[r] = (1 << sk_len[k]) - 1 + sk_bits[k]
            since[r] = np.log1p(a_idx - sk_last[k]) if sk_last[k] >= 0 else 0.0
            if not np.isnan(value[r]):
                v_sum += value[r]
                v_n += 1
        # update after the whole attempt
        for r in range(lo, hi):
            k = skill_key[r]
            sk_last[k] = a_idx
            if not np.isnan(value[r]):
                b = 1 if value[r] >= 0.5 else 0
                sk_bits[k] = ((sk_bits[k] << 1) | b) & ((1 << short) - 1)
                sk_len[k] = min(sk_len[k] + 1, short)
        if v_n > 0:
            b = 1 if v_sum / v_n >= 0.5 else 0
            bits = ((bits << 1) | b) & ((1 << long_len) - 1)
            length = min(length + 1, long_len)
            r_bits = ((r_bits << 1) | b) & ((1 << short) - 1)
            r_len = min(r_len + 1, short)
        run += 1
        prev_item = it
        a_idx += 1
    return pattern, skill_pattern, run_pattern, run_len, since


@dataclass(frozen=True)
class SequenceFeatures:
    """Recency features before each row (rows in :class:`Timeline` order).

    Attributes
    ----------
    pattern : int64 (n,)
        The student's last up to ``PATTERN_LENGTH`` attempt answers as one code (0: no history;
        a history of ``m`` answers with bits ``b`` is ``2**m - 1 + b``).
    skill_pattern : int64 (n,)
        Same for the last up to ``SHORT_PATTERN`` answers on the row's skill.
    run_pattern : int64 (n,)
        0 when the attempt's item differs from the previous attempt's (a first showing); else the
        pattern (code >= 1) of the last up to ``SHORT_PATTERN`` answers within the current run of
        consecutive attempts on this item (scaffolding steps and retries).
    run_length : float (n,)
        ``log1p`` of the earlier attempts in the current run.
    since_skill : float (n,)
        ``log1p`` of the attempts since the student last practised the row's skill (0 if never).
    """

    pattern: np.ndarray
    skill_pattern: np.ndarray
    run_pattern: np.ndarray
    run_length: np.ndarray
    since_skill: np.ndarray


def sequence_features(tl: Timeline) -> SequenceFeatures:
    """Response patterns, item runs and skill spacing before every row (see
    :class:`SequenceFeatures`)."""
    n_sk = int(tl.skill_key.max()) + 1 if tl.n_rows else 0
    p, sp_, rp, rl, since = _sequence(
        tl.attempt_start,
        tl.student,
        tl.item_key,
        tl.skill_key,
        tl.correct,
        n_sk,
        PATTERN_LENGTH,
        SHORT_PATTERN,
    )
    return SequenceFeatures(
        pattern=p,
        skill_pattern=sp_,
        run_pattern=rp,
        run_length=np.log1p(rl),
        since_skill=since,
    )


class BatchFeatures:
    """The features of a whole timeline, each computed once when a model asks for it."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self._counts: dict = {}
        self._seq: SequenceFeatures | None = None

    def counts(self, windows: tuple[float, ...] = ()) -> dict[str, GroupCounts]:
        """:func:`online_features` of the timeline with these windows."""
        key = tuple(windows)
        if key not in self._counts:
            self._counts[key] = online_features(self.tl, windows=key)
        return self._counts[key]

    def sequence(self) -> SequenceFeatures:
        """:func:`sequence_features` of the timeline."""
        if self._seq is None:
            self._seq = sequence_features(self.tl)
        return self._seq
