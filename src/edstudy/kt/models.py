"""The logistic student models: IRT (Rasch), AFM, PFA, Best-LR (and its extension), DAS3H.

All share :class:`~edstudy.kt.logistic.LogisticKT` (fit, predict, score, JSON, simulation) and
differ only in their feature blocks. ``k`` ranges over the skills of the attempt (several for a
multi-skill problem), ``i`` is the item, ``theta`` the student's ability, counts are the student's
earlier answers (:mod:`edstudy.kt.features`), ``phi(x) = log(1 + x)``:

=========  =====================================================================================
model      linear predictor
=========  =====================================================================================
IRT        ``theta - b_i`` (Rasch; the skill stands for the item when the log has no items)
AFM        ``theta + sum_k (beta_k + gamma_k T_k)``, ``T_k`` earlier attempts on k (Cen 2006)
PFA        ``sum_k (beta_k + gamma_k S_k + rho_k F_k)``, successes / failures on k (Pavlik 2009)
Best-LR    ``b_i + sum_k (beta_k + w_k phi(S_k) + a_k phi(T_k)) + w_i phi(S_i) + a_i phi(T_i)
           + w phi(S) + a phi(T)`` with item (i) and total counts, each also per time window
           when the log has timestamps (Gervet et al. 2020)
Best-LR+   Best-LR with ``recency=True`` (decayed success log-odds overall / per skill / per
           item at half-lives of 1, 3, 10, 50 attempts; the last 4 answers and the last 2 on the
           skill as patterns; per-skill effect of the last answer on the skill; attempts since
           the skill was last practised), ``item_context=True`` (each item's effect when it is
           shown again right after earlier answers on it, ASSISTments' scaffolding and retries,
           and right after a wrong answer) and ``ability=True`` (``theta``, inferred online)
DAS3H      ``theta - b_i + sum_k (beta_k + sum_w (w_kw phi(S_kw) - a_kw phi(T_kw)))`` over time
           windows w (Choffin et al. 2019); without timestamps only the all-time window
=========  =====================================================================================
"""

from __future__ import annotations

import numpy as np

from edstudy.kt import _base as B
from edstudy.kt.design import Indexed, Shared
from edstudy.kt.features import DECAY_HALF_LIVES, SHORT_PATTERN, Timeline
from edstudy.kt.logistic import LogisticKT

__all__ = ["AFM", "DAS3H", "IRT", "PFA", "BestLR", "DAS3H_WINDOWS"]

#: DAS3H / Gervet time windows in seconds: 1 hour, 1 day, 1 week, 30 days (plus all time).
DAS3H_WINDOWS: tuple[float, ...] = (3600.0, 86400.0, 604800.0, 2592000.0)
_WINDOW_LABEL = {3600.0: "1h", 86400.0: "1d", 604800.0: "7d", 2592000.0: "30d"}


def _wlabel(w: float) -> str:
    return _WINDOW_LABEL.get(float(w), f"{float(w):g}s")


def _skills(tl: Timeline) -> np.ndarray:
    return tl.skill_id


def _one(tl: Timeline) -> np.ndarray:
    return np.ones(tl.n_rows)


def _counts_blocks(
    tl: Timeline, group, name: str, windows: tuple[float, ...], transform
) -> list[Indexed]:
    """Per-skill count blocks ``skill_wins[w]`` and ``skill_attempts[w]`` (``w`` all or a
    window)."""
    labels = ["all", *(_wlabel(w) for w in windows)]
    out = []
    for j, lab in enumerate(labels):
        suffix = "" if lab == "all" else f"[{lab}]"
        wins = group.wins[:, j]
        att = group.attempts[:, j]
        out.append(Indexed(f"{name}_wins{suffix}", _skills(tl), transform(wins), base="skill"))
        out.append(Indexed(f"{name}_attempts{suffix}", _skills(tl), transform(att), base="skill"))
    return out


class IRT(LogisticKT):
    """Rasch model: ``P(correct) = sigmoid(theta_student - b_item)`` (one-parameter IRT).

    Item difficulties are fitted jointly with one ability per training student (L2 penalty = a
    Normal(0, C) prior); at prediction every student's ability is inferred online from their
    earlier answers (see :mod:`edstudy.kt.logistic`). Without ``item_id`` the skill is the item.
    ``params_`` reports ``item`` coefficients as easiness (``-b``).
    """

    name = "irt"
    has_ability = True

    def _blocks(self, tl: Timeline, items: np.ndarray, src) -> list:
        if self._with_items(tl):
            return [Indexed("item", items, _one(tl), group=_skills(tl), combine="row")]
        return [Indexed("skill", _skills(tl), _one(tl))]


class AFM(LogisticKT):
    """Additive Factors Model (Cen, Koedinger & Junker 2006):
    ``theta_student + sum_k (beta_k + gamma_k * T_k)``, ``T_k`` the student's earlier attempts on
    skill k (linear, as in the original)."""

    name = "afm"
    has_ability = True

    def _blocks(self, tl: Timeline, items: np.ndarray, src) -> list:
        c = src.counts()
        return [
            Indexed("skill", _skills(tl), _one(tl)),
            Indexed("skill_attempts", _skills(tl), c["skill"].attempts[:, 0], base="skill"),
        ]


class PFA(LogisticKT):
    """Performance Factors Analysis (Pavlik, Cen & Koedinger 2009):
    ``sum_k (beta_k + gamma_k * S_k + rho_k * F_k)``, the student's earlier successes and failures
    on skill k (linear counts, as in the original)."""

    name = "pfa"

    def _blocks(self, tl: Timeline, items: np.ndarray, src) -> list:
        c = src.counts()
        wins = c["skill"].wins[:, 0]
        return [
            Indexed("skill", _skills(tl), _one(tl)),
            Indexed("skill_wins", _skills(tl), wins, base="skill"),
            Indexed("skill_fails", _skills(tl), c["skill"].attempts[:, 0] - wins, base="skill"),
        ]


class BestLR(LogisticKT):
    """Best-LR (Gervet, Koedinger, Schneider & Mitchell 2020) and edstudy's extension Best-LR+.

    Parameters
    ----------
    windows : tuple of float, default :data:`DAS3H_WINDOWS`
        Time windows (seconds) of the count features, used when the log has timestamps (``()``:
        all-time counts only).
    recency : bool, default False
        Add recency features (decayed success log-odds, response patterns, last answer per skill,
        spacing); see the module docstring.
    item_context : bool, default False
        Add each item's effect by its position in a run of consecutive attempts on it, and
        after a wrong answer on the previous attempt.
    ability : bool, default False
        Add a student ability (fitted per training student, inferred online at prediction as in
        :class:`IRT`).
    C, max_iter, tol, handle_unknown, seed
        See :class:`~edstudy.kt.logistic.LogisticKT`.
    """

    name = "best_lr"

    @property
    def has_ability(self) -> bool:  # type: ignore[override]
        return bool(self.ability)

    def __init__(
        self,
        *,
        windows: tuple[float, ...] = DAS3H_WINDOWS,
        recency: bool = False,
        item_context: bool = False,
        ability: bool = False,
        C: float = 1.0,
        max_iter: int = 200,
        tol: float = 1e-4,
        handle_unknown: str = "average",
        seed: int | None = 0,
    ) -> None:
        self.windows = windows
        self.recency = recency
        self.item_context = item_context
        self.ability = ability
        super().__init__(C=C, max_iter=max_iter, tol=tol, handle_unknown=handle_unknown, seed=seed)

    def _check_options(self) -> None:
        super()._check_options()
        _check_windows(self.windows)
        B.check_bool("recency", self.recency)
        B.check_bool("item_context", self.item_context)
        B.check_bool("ability", self.ability)

    def _windows(self) -> tuple[float, ...]:
        return tuple(float(w) for w in self.windows)

    def _blocks(self, tl: Timeline, items: np.ndarray, src) -> list:
        w = self.time_windows_
        c = src.counts(w)
        sk = _skills(tl)
        blocks: list = [Indexed("skill", sk, _one(tl))]
        if self._with_items(tl):
            blocks.insert(0, Indexed("item", items, _one(tl), group=sk, combine="row"))
        blocks += _counts_blocks(tl, c["skill"], "skill", w, np.log1p)
        for name in ("item", "total"):
            if name == "item" and not self._with_items(tl):
                continue
            g = c[name]
            vals = np.column_stack([np.log1p(g.wins), np.log1p(g.attempts)])
            blocks.append(Shared(f"{name}_counts", vals, _count_labels(w)))
        if self.recency:
            blocks += _recency_blocks(tl, c, src.sequence())
        if self.item_context and self._with_items(tl):
            blocks += _item_context_blocks(tl, items, src.sequence())
        return blocks


def _count_labels(windows: tuple[float, ...]) -> tuple[str, ...]:
    labs = ["all", *(_wlabel(w) for w in windows)]
    return tuple([f"wins[{x}]" for x in labs] + [f"attempts[{x}]" for x in labs])


def _check_windows(windows) -> None:
    try:
        ws = tuple(float(w) for w in windows)
    except (TypeError, ValueError):
        raise ValueError(f"windows must be a tuple of seconds > 0, got {windows!r}") from None
    if any(not np.isfinite(w) or w <= 0 for w in ws) or len(set(ws)) != len(ws):
        raise ValueError(f"windows must be distinct seconds > 0, got {windows!r}")


def _recency_blocks(tl: Timeline, c, seq) -> list:
    size = tl.attempt_size.astype(float)
    hl = tuple(f"half_life={h:g}" for h in DECAY_HALF_LIVES)
    last = seq.skill_pattern  # code 0: none; 1, 2: one answer (0 / 1); >= 3: two answers
    has = last > 0
    last_bit = np.where(last >= 3, (last - 3) & 1, last - 1)
    return [
        Shared("total_decayed", c["total"].decayed, hl),
        Shared("skill_decayed", c["skill"].decayed, hl, combine="mean"),
        Shared("item_decayed", c["item"].decayed, hl),
        Indexed("pattern", seq.pattern, _one(tl), combine="row"),
        Indexed("skill_pattern", seq.skill_pattern, 1.0 / size),
        Indexed("skill_last_correct", _skills(tl), (has & (last_bit == 1)).astype(float)),
        Indexed("skill_last_wrong", _skills(tl), (has & (last_bit == 0)).astype(float)),
        Shared("since_skill", seq.since_skill, ("log1p_attempts",), combine="mean"),
    ]


def _last_wrong(pattern: np.ndarray) -> np.ndarray:
    """1.0 where the student's previous attempt was answered wrong (from the pattern code)."""
    length = np.floor(np.log2(pattern + 1)).astype(np.int64)
    bits = pattern - (2**length - 1)
    return ((length > 0) & ((bits & 1) == 0)).astype(float)


def _item_context_blocks(tl: Timeline, items: np.ndarray, seq) -> list:
    n_codes = 2 ** (SHORT_PATTERN + 1) - 1
    out: list = [
        Indexed("run_pattern", seq.run_pattern, _one(tl), combine="row"),
        Shared("run_length", seq.run_length, ("log1p_attempts",)),
        Indexed("item_repeat", items, (seq.run_pattern > 0).astype(float), combine="row"),
        Indexed("item_run_length", items, seq.run_length, combine="row", base="item"),
        Indexed("pattern_in_run", seq.pattern, (seq.run_pattern > 0).astype(float), combine="row"),
        Indexed("item_after_wrong", items, _last_wrong(seq.pattern), combine="row"),
    ]
    for code in range(1, n_codes):
        out.append(
            Indexed(
                f"item_run[{code}]",
                items,
                (seq.run_pattern == code).astype(float),
                combine="row",
            )
        )
    return out


class DAS3H(LogisticKT):
    """DAS3H (Choffin, Popineau, Bourda & Vie 2019): ability, item and skill difficulties, and
    per-skill, per-window counts of earlier wins and attempts (``log1p``).

    Parameters
    ----------
    windows : tuple of float, default :data:`DAS3H_WINDOWS`
        Time windows in seconds, used when the log has timestamps; without them only all-time
        counts enter (the model then is IRT plus log-scaled PFA-like counts).
    C, max_iter, tol, handle_unknown, seed
        See :class:`~edstudy.kt.logistic.LogisticKT`.
    """

    name = "das3h"
    has_ability = True

    def __init__(
        self,
        *,
        windows: tuple[float, ...] = DAS3H_WINDOWS,
        C: float = 1.0,
        max_iter: int = 200,
        tol: float = 1e-4,
        handle_unknown: str = "average",
        seed: int | None = 0,
    ) -> None:
        self.windows = windows
        super().__init__(C=C, max_iter=max_iter, tol=tol, handle_unknown=handle_unknown, seed=seed)

    def _check_options(self) -> None:
        super()._check_options()
        _check_windows(self.windows)

    def _windows(self) -> tuple[float, ...]:
        return tuple(float(w) for w in self.windows)

    def _blocks(self, tl: Timeline, items: np.ndarray, src) -> list:
        w = self.time_windows_
        c = src.counts(w)
        sk = _skills(tl)
        blocks: list = [Indexed("skill", sk, _one(tl))]
        if self._with_items(tl):
            blocks.insert(0, Indexed("item", items, _one(tl), group=sk, combine="row"))
        return blocks + _counts_blocks(tl, c["skill"], "skill", w, np.log1p)
