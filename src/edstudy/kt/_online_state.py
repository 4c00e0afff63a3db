"""The online features of :mod:`edstudy.kt.features`, kept as a running state for simulation.

The batch kernels walk a whole log; a simulator needs the same features for each student's *next*
opportunity, one step at a time, without re-reading the history. :class:`OnlineState` holds, for
every simulated student, the counters the kernels build (per skill, per item, in total; decayed
counts; time-window events; response patterns; item runs; last practice of each skill) and reads
and updates them in O(1) per row (time windows: amortized O(1)). It follows the kernels' rules
exactly: the rows of an attempt are read before any of them is added; an attempt adds one event
per item and one in total with its mean answer; unscored rows add no events. The tests check it
against the batch kernels row by row.
"""

from __future__ import annotations

import numpy as np

from edstudy.kt.features import (
    AVERAGE_ITEM,
    DECAY_HALF_LIVES,
    PATTERN_LENGTH,
    SHORT_PATTERN,
    GroupCounts,
    SequenceFeatures,
)

__all__ = ["OnlineState", "StateFeatures"]


class _Keys:
    """Columns for ids appearing over time (skills, items), grown by doubling."""

    def __init__(self) -> None:
        self.col: dict = {}

    def __call__(self, ids) -> np.ndarray:
        out = np.empty(len(ids), dtype=np.int64)
        for j, x in enumerate(ids):
            c = self.col.get(x)
            if c is None:
                c = self.col[x] = len(self.col)
            out[j] = c
        return out


class _Group:
    """Counters of one group (skill, item or total) for n students x a growing set of keys."""

    def __init__(self, n: int, windows: np.ndarray, decays: np.ndarray) -> None:
        self.n, self.windows, self.decays = n, windows, decays
        self.width = 0
        self.att = np.zeros((n, 0))
        self.win = np.zeros((n, 0))
        self.dwin = np.zeros((n, 0, decays.size))
        self.dall = np.zeros((n, 0, decays.size))
        self.events: dict = {}  # (student, key) -> [times, cumulative wins, pointers]

    def _grow(self, need: int) -> None:
        if need <= self.width:
            return
        new = max(need, 2 * self.width, 4)
        pad = new - self.width
        self.att = np.pad(self.att, ((0, 0), (0, pad)))
        self.win = np.pad(self.win, ((0, 0), (0, pad)))
        self.dwin = np.pad(self.dwin, ((0, 0), (0, pad), (0, 0)))
        self.dall = np.pad(self.dall, ((0, 0), (0, pad), (0, 0)))
        self.width = new

    def read(self, st: np.ndarray, key: np.ndarray, time: np.ndarray) -> GroupCounts:
        m, n_w = st.size, self.windows.size
        self._grow(int(key.max()) + 1 if m else 0)
        att = np.zeros((m, 1 + n_w))
        win = np.zeros((m, 1 + n_w))
        att[:, 0] = self.att[st, key]
        win[:, 0] = self.win[st, key]
        dw, da = self.dwin[st, key], self.dall[st, key]
        dec = np.log((dw + 1.0) / (da - dw + 1.0))
        for j in range(m if n_w else 0):
            ev = self.events.get((int(st[j]), int(key[j])))
            if ev is None:
                continue
            times, cum, ptr = ev
            for w in range(n_w):
                p = ptr[w]
                while p < len(times) and times[p] <= time[j] - self.windows[w]:
                    p += 1
                ptr[w] = p
                att[j, 1 + w] = len(times) - p
                win[j, 1 + w] = cum[-1] - cum[p]
        return GroupCounts(attempts=att, wins=win, decayed=dec)

    def add(self, st: np.ndarray, key: np.ndarray, value: np.ndarray, time: np.ndarray) -> None:
        """One event per (student, key) row; rows must be distinct pairs with scored values."""
        self._grow(int(key.max()) + 1 if st.size else 0)
        self.att[st, key] += 1.0
        self.win[st, key] += value
        d = self.decays[None, :]
        self.dwin[st, key] = d * self.dwin[st, key] + value[:, None]
        self.dall[st, key] = d * self.dall[st, key] + 1.0
        if self.windows.size:
            for j in range(st.size):
                ev = self.events.setdefault(
                    (int(st[j]), int(key[j])), [[], [0.0], [0] * self.windows.size]
                )
                ev[0].append(float(time[j]))
                ev[1].append(ev[1][-1] + float(value[j]))


class OnlineState:
    """Running features of ``n`` students (see the module docstring).

    Parameters
    ----------
    n : int
        Students (indices 0 .. n-1).
    windows : tuple of float
        Time windows in seconds (empty: none).
    """

    def __init__(self, n: int, windows: tuple[float, ...] = ()) -> None:
        w = np.asarray(windows, dtype=float)
        dec = 0.5 ** (1.0 / np.asarray(DECAY_HALF_LIVES, dtype=float))
        self.n = n
        self.skills, self.items = _Keys(), _Keys()
        self.groups = {name: _Group(n, w, dec) for name in ("skill", "item", "total")}
        self.bits = np.zeros(n, dtype=np.int64)
        self.length = np.zeros(n, dtype=np.int64)
        self.sk_bits = np.zeros((n, 0), dtype=np.int64)
        self.sk_len = np.zeros((n, 0), dtype=np.int64)
        self.sk_last = np.zeros((n, 0), dtype=np.int64) - 1
        self.prev_item = np.full(n, -1, dtype=np.int64)
        self.run = np.zeros(n, dtype=np.int64)
        self.r_bits = np.zeros(n, dtype=np.int64)
        self.r_len = np.zeros(n, dtype=np.int64)
        self.a_idx = np.zeros(n, dtype=np.int64)

    def _skill_cols(self, skills) -> np.ndarray:
        k = self.skills(skills)
        need = int(k.max()) + 1 if k.size else 0
        if need > self.sk_bits.shape[1]:
            pad = ((0, 0), (0, need - self.sk_bits.shape[1]))
            self.sk_bits = np.pad(self.sk_bits, pad)
            self.sk_len = np.pad(self.sk_len, pad)
            self.sk_last = np.pad(self.sk_last, pad, constant_values=-1)
        return k

    def _item_cols(self, items) -> np.ndarray:
        """Item columns; -1 for rows without an item (None or the average item)."""
        out = np.full(len(items), -1, dtype=np.int64)
        real = [j for j, x in enumerate(items) if x is not None and x is not AVERAGE_ITEM]
        if real:
            out[real] = self.items([items[j] for j in real])
        return out

    def read(self, st, skills, items, time) -> tuple[dict[str, GroupCounts], SequenceFeatures]:
        """Features of rows (one attempt per student, rows of a student adjacent) before their
        answers: the counts of the three groups and the sequence features."""
        st = np.asarray(st, dtype=np.int64)
        time = np.zeros(st.size) if time is None else np.asarray(time, dtype=float)
        k = self._skill_cols(skills)
        it = self._item_cols(items)
        counts = {
            "skill": self.groups["skill"].read(st, k, time),
            "total": self.groups["total"].read(st, np.zeros(st.size, dtype=np.int64), time),
        }
        has = it >= 0
        item_counts = self.groups["item"].read(st[has], it[has], time[has])
        counts["item"] = GroupCounts(
            *(self._fill(has, getattr(item_counts, f)) for f in ("attempts", "wins", "decayed"))
        )
        first_it = self._first_item(st, it)
        repeat = (first_it >= 0) & (first_it == self.prev_item[st])
        r_code = np.where(repeat, (1 << self.r_len[st]) - 1 + self.r_bits[st], 0)
        last = self.sk_last[st, k]
        seq = SequenceFeatures(
            pattern=(1 << self.length[st]) - 1 + self.bits[st],
            skill_pattern=(1 << self.sk_len[st, k]) - 1 + self.sk_bits[st, k],
            run_pattern=r_code,
            run_length=np.log1p(np.where(repeat, self.run[st], 0)).astype(float),
            since_skill=np.where(last >= 0, np.log1p(self.a_idx[st] - last), 0.0),
        )
        return counts, seq

    @staticmethod
    def _fill(mask, values):
        out = np.zeros((mask.size, *values.shape[1:]))
        out[mask] = values
        return out

    @staticmethod
    def _first_item(st, it) -> np.ndarray:
        """The item of each row's attempt (its first row's item), per row."""
        first = np.r_[True, st[1:] != st[:-1]] if st.size else np.zeros(0, dtype=bool)
        idx = np.maximum.accumulate(np.where(first, np.arange(st.size), 0))
        return it[idx]

    def add(self, st, skills, items, correct, time) -> None:
        """Record the answers of rows read by :meth:`read` (NaN: unscored)."""
        st = np.asarray(st, dtype=np.int64)
        y = np.asarray(correct, dtype=float)
        time = np.zeros(st.size) if time is None else np.asarray(time, dtype=float)
        k = self._skill_cols(skills)
        it = self._item_cols(items)
        ok = ~np.isnan(y)
        self.groups["skill"].add(st[ok], k[ok], y[ok], time[ok])
        first_it = self._first_item(st, it)
        # attempt-level answers: mean of the scored rows of each student's attempt
        students, inv = np.unique(st, return_inverse=True)
        s_sum = np.bincount(inv, weights=np.where(ok, y, 0.0), minlength=students.size)
        s_n = np.bincount(inv, weights=ok.astype(float), minlength=students.size)
        att_y = np.divide(s_sum, s_n, out=np.full(students.size, np.nan), where=s_n > 0)
        first_row = np.r_[True, st[1:] != st[:-1]]
        t_att = time[first_row]
        sc = ~np.isnan(att_y)
        self.groups["total"].add(
            students[sc], np.zeros(int(sc.sum()), dtype=np.int64), att_y[sc], t_att[sc]
        )
        # one item event per (attempt, item)
        rows = np.flatnonzero(it >= 0)
        if rows.size:
            pairs = {}
            for r in rows:
                pairs.setdefault((int(st[r]), int(it[r])), r)
            ps = np.array([p[0] for p in pairs], dtype=np.int64)
            pi = np.array([p[1] for p in pairs], dtype=np.int64)
            pv = att_y[np.searchsorted(students, ps)]
            pt = time[np.array(list(pairs.values()), dtype=np.int64)]
            keep = ~np.isnan(pv)
            self.groups["item"].add(ps[keep], pi[keep], pv[keep], pt[keep])
        # sequence state
        for r in np.flatnonzero(ok):
            b = 1 if y[r] >= 0.5 else 0
            s, c = st[r], k[r]
            self.sk_bits[s, c] = ((self.sk_bits[s, c] << 1) | b) & ((1 << SHORT_PATTERN) - 1)
            self.sk_len[s, c] = min(self.sk_len[s, c] + 1, SHORT_PATTERN)
        self.sk_last[st, k] = self.a_idx[st]
        it_att = first_it[first_row]
        repeat = (it_att >= 0) & (it_att == self.prev_item[students])
        self.run[students] = np.where(repeat, self.run[students], 0)
        self.r_bits[students] = np.where(repeat, self.r_bits[students], 0)
        self.r_len[students] = np.where(repeat, self.r_len[students], 0)
        bit = np.where(sc, (np.nan_to_num(att_y) >= 0.5).astype(np.int64), 0)
        s2 = students[sc]
        self.bits[s2] = ((self.bits[s2] << 1) | bit[sc]) & ((1 << PATTERN_LENGTH) - 1)
        self.length[s2] = np.minimum(self.length[s2] + 1, PATTERN_LENGTH)
        self.r_bits[s2] = ((self.r_bits[s2] << 1) | bit[sc]) & ((1 << SHORT_PATTERN) - 1)
        self.r_len[s2] = np.minimum(self.r_len[s2] + 1, SHORT_PATTERN)
        self.run[students] += 1
        self.prev_item[students] = it_att
        self.a_idx[students] += 1


class StateFeatures:
    """The features of candidate rows read from an :class:`OnlineState` (the interface of
    :class:`~edstudy.kt.features.BatchFeatures` that the models' blocks use)."""

    def __init__(self, counts: dict[str, GroupCounts], seq: SequenceFeatures) -> None:
        self._c, self._s = counts, seq

    def counts(self, windows: tuple[float, ...] = ()) -> dict[str, GroupCounts]:
        return self._c

    def sequence(self) -> SequenceFeatures:
        return self._s
