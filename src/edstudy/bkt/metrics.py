"""Accuracy metrics of probabilistic predictions of correct answers (numpy only).

Every function takes ``y`` (0/1 answers) and ``p`` (predicted P(correct)), arrays of shape (n,),
and ignores nothing: drop unscored rows before calling (the estimator does).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["METRICS", "accuracy", "auc", "compute", "log_likelihood", "log_loss", "rmse"]

_CLIP = 1e-15


def _arrays(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).reshape(-1)
    p = np.asarray(p, dtype=float).reshape(-1)
    if y.shape != p.shape:
        raise ValueError(f"y and p must have the same length, got {y.shape[0]} and {p.shape[0]}")
    return y, p


def auc(y, p) -> float:
    """Area under the ROC curve (ties count one half); NaN when ``y`` has a single class."""
    y, p = _arrays(y, p)
    pos = y == 1
    n_pos = int(pos.sum())
    n_neg = y.shape[0] - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    ps = p[order]
    first = np.r_[True, ps[1:] != ps[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, ps.shape[0]])
    avg_rank = starts + (counts + 1) / 2.0  # 1-based average rank of each tie group
    ranks = avg_rank[group]
    rank_pos = float(ranks[pos[order]].sum())
    return (rank_pos - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def rmse(y, p) -> float:
    """Root mean squared error of the probabilities."""
    y, p = _arrays(y, p)
    return float(np.sqrt(np.mean((y - p) ** 2))) if y.size else float("nan")


def log_loss(y, p) -> float:
    """Mean negative log-likelihood (probabilities clipped to [1e-15, 1 - 1e-15])."""
    y, p = _arrays(y, p)
    if not y.size:
        return float("nan")
    p = np.clip(p, _CLIP, 1 - _CLIP)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def log_likelihood(y, p) -> float:
    """Total log-likelihood ``sum log P(answer)`` (the model's likelihood of the answers)."""
    y, p = _arrays(y, p)
    with np.errstate(divide="ignore"):
        return float(np.sum(np.where(y == 1, np.log(p), np.log1p(-p))))


def accuracy(y, p) -> float:
    """Share of answers predicted right with the threshold P(correct) >= 0.5."""
    y, p = _arrays(y, p)
    return float(np.mean((p >= 0.5) == (y == 1))) if y.size else float("nan")


METRICS = {
    "auc": auc,
    "rmse": rmse,
    "log_loss": log_loss,
    "accuracy": accuracy,
    "log_likelihood": log_likelihood,
}


def check_metrics(metrics: str | Iterable[str]) -> tuple[str, ...]:
    """The metric names as a tuple; unknown names raise an error listing the allowed ones."""
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not names:
        raise ValueError(f"metrics must name at least one of: {', '.join(METRICS)}")
    for m in names:
        if m not in METRICS:
            raise ValueError(f"unknown metric {m!r}; allowed: {', '.join(METRICS)}")
    return names


def compute(y, p, metrics: str | Iterable[str] = ("auc", "rmse", "log_loss", "accuracy")) -> dict:
    """``{name: value}`` for each metric name."""
    names = check_metrics(metrics)
    return {m: METRICS[m](y, p) for m in names}
