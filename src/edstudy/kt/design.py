"""Feature blocks of the logistic student models: sparse design at fit, linear predictor at predict.

A model is a list of *blocks* (:class:`Indexed` or :class:`Shared`) computed from a
:class:`~edstudy.kt.features.Timeline`:

* :class:`Indexed` – one coefficient per *level* (a skill, an item, a student): the row's value
  goes in its level's column. Blocks with ``combine="sum"`` are summed over the rows of an attempt,
  so a multi-skill problem gets every one of its skills' columns (Gervet et al.'s Q-matrix
  treatment); ``combine="row"`` blocks are already the same for every row of an attempt.
* :class:`Shared` – a few columns with one coefficient each (e.g. total counts); skill-level
  values (``combine="mean"``) are averaged over the rows of an attempt.

So every row of an attempt gets the same design row, built from the attempt's skills and the
student's earlier attempts. :func:`fit_matrix` builds the scipy.sparse design of a training log and
the fitted levels; :func:`linear_predictor` recomputes the same linear predictor for any log from
the fitted coefficients, predicting a level unseen in fit (an item, a skill) with the weighted mean
coefficient of its *group* (an unseen item of a known skill: the mean of that skill's items) or,
failing that, of all levels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from edstudy.kt._base import plain
from edstudy.kt.features import Timeline

__all__ = [
    "FittedBlock",
    "Indexed",
    "Shared",
    "attempt_matrix",
    "fit_matrix",
    "linear_predictor",
    "uncenter",
]


@dataclass(frozen=True)
class Indexed:
    """One coefficient per level; the row's ``value`` goes in the column of its ``level``.

    Attributes
    ----------
    name : str
    level : object array (n,)
        The raw id (skill, item, student) of each row; None or NaN rows contribute nothing.
    value : float array (n,)
    group : object array (n,) or None
        The group of the row (e.g. its skill for an item block), used for unseen levels.
    combine : {"sum", "row"}
    base : str or None
        Name of a one-hot block over the same levels (``"skill"``, ``"item"``). The fit then
        centres the values within each level (a reparametrization that the base absorbs, see
        :func:`uncenter`), which conditions the solver far better than raw counts.
    """

    name: str
    level: np.ndarray
    value: np.ndarray
    group: np.ndarray | None = None
    combine: str = "sum"
    base: str | None = None


@dataclass(frozen=True)
class Shared:
    """A few columns shared by every row (one coefficient per column).

    ``combine`` is ``"mean"`` (average over the rows of an attempt) or ``"row"``.
    """

    name: str
    values: np.ndarray
    labels: tuple[str, ...]
    combine: str = "row"


@dataclass
class FittedBlock:
    """A block's fitted columns and coefficients.

    Attributes
    ----------
    name, kind, combine : str
    levels : Index
        Levels of an indexed block (labels of a shared one).
    coef : float array (len(levels),)
    weights : float array
        Training rows behind each level (weights of the averages for unseen levels).
    level_group : object array or None
        The most frequent group of each level in the training log.
    """

    name: str
    kind: str
    combine: str
    levels: pd.Index
    coef: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    level_group: np.ndarray | None = None
    center: np.ndarray | None = None  # fit-time only: the centring constants (never saved)
    base: str | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "combine": self.combine,
            "levels": [plain(x) for x in self.levels],
            "coef": [float(x) for x in self.coef],
            "weights": [float(x) for x in self.weights],
            "level_group": None
            if self.level_group is None
            else [plain(x) for x in self.level_group],
        }

    @classmethod
    def from_dict(cls, d: dict, where: str) -> FittedBlock:
        for key in ("name", "kind", "combine", "levels", "coef", "weights", "level_group"):
            if key not in d:
                raise ValueError(f"{where}: missing key {key!r}")
        if d["kind"] not in ("indexed", "shared"):
            raise ValueError(f"{where}.kind must be 'indexed' or 'shared', got {d['kind']!r}")
        if d["combine"] not in ("sum", "row", "mean"):
            raise ValueError(f"{where}.combine must be 'sum', 'row' or 'mean'")
        n = len(d["levels"])
        for key in ("coef", "weights"):
            if not isinstance(d[key], list) or len(d[key]) != n:
                raise ValueError(f"{where}.{key} must be a list of {n} numbers")
        coef = np.asarray(d["coef"], dtype=float)
        if not np.all(np.isfinite(coef)):
            raise ValueError(f"{where}.coef must be finite numbers")
        group = d["level_group"]
        if group is not None and len(group) != n:
            raise ValueError(f"{where}.level_group must be a list of {n} ids")
        return cls(
            name=str(d["name"]),
            kind=d["kind"],
            combine=d["combine"],
            levels=pd.Index(list(d["levels"]), dtype=object),
            coef=coef,
            weights=np.asarray(d["weights"], dtype=float),
            level_group=None if group is None else np.array(group, dtype=object),
        )


def _present(level: np.ndarray) -> np.ndarray:
    return ~pd.isna(pd.Series(level, dtype=object)).to_numpy()


def attempt_matrix(tl: Timeline) -> sp.csr_matrix:
    """The (rows x attempts) 0/1 membership matrix ``G``: ``G @ (G.T @ X)`` sums ``X`` over the
    rows of each attempt and gives the sum to every row of it."""
    n = tl.n_rows
    return sp.csr_matrix((np.ones(n), (np.arange(n), tl.attempt)), shape=(n, tl.n_attempts))


def _combine_dense(values: np.ndarray, tl: Timeline, how: str) -> np.ndarray:
    if how == "row":
        return values
    a = tl.attempt
    v2 = values.reshape(len(a), -1)
    out = np.empty_like(v2, dtype=float)
    for j in range(v2.shape[1]):
        s = np.bincount(a, weights=v2[:, j], minlength=tl.n_attempts)
        if how == "mean":
            s = s / np.bincount(a, minlength=tl.n_attempts)
        out[:, j] = s[a]
    return out.reshape(values.shape)


def fit_matrix(
    tl: Timeline, blocks: list[Indexed | Shared], fit_rows: np.ndarray
) -> tuple[sp.csr_matrix, list[FittedBlock]]:
    """The sparse design of the rows of ``tl`` and the fitted layout.

    Parameters
    ----------
    tl : Timeline
    blocks : list of Indexed / Shared
    fit_rows : bool array (n,)
        Rows whose levels become columns (the scored rows).

    Returns
    -------
    X : csr_matrix (n, n_columns)
        In timeline row order; every row of an attempt has the same design row.
    layout : list of FittedBlock
        Levels and training weights of each block (coefficients still zero).
    """
    n = tl.n_rows
    G = attempt_matrix(tl)
    mats, layout = [], []
    for b in blocks:
        if isinstance(b, Shared):
            vals = _combine_dense(np.asarray(b.values, dtype=float).reshape(n, -1), tl, b.combine)
            center = vals[fit_rows].mean(axis=0) if fit_rows.any() else np.zeros(vals.shape[1])
            mats.append(sp.csr_matrix(vals - center))
            layout.append(
                FittedBlock(
                    b.name,
                    "shared",
                    b.combine,
                    pd.Index(list(b.labels), dtype=object),
                    np.zeros(len(b.labels)),
                    np.full(len(b.labels), float(fit_rows.sum())),
                    center=center,
                )
            )
            continue
        value = np.asarray(b.value, dtype=float)
        present = _present(b.level)
        ok = present if b.base else present & (value != 0)
        use = ok & fit_rows
        levels = pd.Index(pd.unique(b.level[use]), dtype=object)
        code = levels.get_indexer(b.level)
        keep = ok & (code >= 0)
        rows = np.flatnonzero(keep)
        center = None
        if b.base:
            cu = code[use]
            cnt = np.bincount(cu, minlength=len(levels))
            center = np.bincount(cu, weights=value[use], minlength=len(levels)) / np.maximum(cnt, 1)
            value = value - np.where(code >= 0, center[np.maximum(code, 0)], 0.0)
        X = sp.csr_matrix((value[rows], (rows, code[rows])), shape=(n, len(levels)))
        if b.combine == "sum":
            X = (G @ (G.T @ X)).tocsr()
        weights = np.bincount(code[use], minlength=len(levels)).astype(float)
        level_group = None
        if b.group is not None:
            gcode, gvals = pd.factorize(pd.Series(b.group[use], dtype=object))
            pairs = pd.DataFrame({"level": code[use], "group": gcode})
            cnt = pairs.value_counts().reset_index(name="n")
            cnt = cnt.sort_values(["level", "n", "group"], ascending=[True, False, True])
            top = cnt.drop_duplicates("level").set_index("level")["group"]
            top = top.reindex(range(len(levels))).to_numpy()
            level_group = np.asarray(gvals, dtype=object)[top.astype(np.int64)]
        mats.append(X)
        layout.append(
            FittedBlock(
                b.name,
                "indexed",
                b.combine,
                levels,
                np.zeros(len(levels)),
                weights,
                level_group,
                center=center,
                base=b.base,
            )
        )
    X = sp.hstack(mats, format="csr") if mats else sp.csr_matrix((n, 0))
    return X, layout


def uncenter(layout: list[FittedBlock], intercept: float) -> float:
    """Move the centring of :func:`fit_matrix` into the base coefficients and the intercept, so
    the fitted coefficients apply to the raw values; returns the new intercept."""
    by_name = {fb.name: fb for fb in layout}
    for fb in layout:
        if fb.center is None:
            continue
        if fb.kind == "shared":
            intercept -= float(fb.coef @ fb.center)
        else:
            base = by_name[fb.base]
            idx = base.levels.get_indexer(fb.levels)
            base.coef[idx] -= fb.coef * fb.center
        fb.center = None
    return intercept


def _extended(fb: FittedBlock) -> tuple[np.ndarray, pd.Index]:
    """Coefficients followed by one average per group and a global average; the group index."""
    w = fb.weights
    glob = float(np.sum(fb.coef * w) / np.sum(w)) if np.sum(w) > 0 else 0.0
    if fb.level_group is None:
        return np.append(fb.coef, glob), pd.Index([], dtype=object)
    groups = pd.Index(pd.unique(fb.level_group), dtype=object)
    gc = groups.get_indexer(fb.level_group)
    tot = np.bincount(gc, weights=w, minlength=len(groups))
    s = np.bincount(gc, weights=fb.coef * w, minlength=len(groups))
    avg = np.where(tot > 0, s / np.where(tot > 0, tot, 1.0), glob)
    return np.concatenate([fb.coef, avg, [glob]]), groups


def linear_predictor(
    tl: Timeline, blocks: list[Indexed | Shared], layout: list[FittedBlock], intercept: float
) -> tuple[np.ndarray, dict[str, int]]:
    """Linear predictor of every row (timeline order) from fitted blocks.

    Levels unseen in fit take their group's average coefficient (or the global average).

    Returns
    -------
    eta : float array (n,)
    unseen : dict
        Rows with a level unseen in fit, per block name.
    """
    n = tl.n_rows
    eta = np.full(n, float(intercept))
    unseen: dict[str, int] = {}
    by_name = {fb.name: fb for fb in layout}
    for b in blocks:
        fb = by_name[b.name]
        if isinstance(b, Shared):
            vals = np.asarray(b.values, dtype=float).reshape(n, -1)
            eta += _combine_dense(vals @ fb.coef, tl, b.combine)
            continue
        ext, groups = _extended(fb)
        n_lv = len(fb.levels)
        ok = _present(b.level) & (np.asarray(b.value) != 0)
        code = fb.levels.get_indexer(b.level)
        miss = ok & (code < 0)
        if miss.any():
            unseen[b.name] = int(miss.sum())
            slot = np.full(n, len(ext) - 1)
            if b.group is not None and len(groups):
                gcode = groups.get_indexer(b.group)
                slot = np.where(gcode >= 0, n_lv + gcode, slot)
            code = np.where(miss, slot, code)
        contrib = np.where(ok, np.asarray(b.value, dtype=float) * ext[np.maximum(code, 0)], 0.0)
        eta += _combine_dense(contrib, tl, "sum" if b.combine == "sum" else "row")
    return eta, unseen
