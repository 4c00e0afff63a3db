"""Score many student models on the same student folds: :func:`benchmark`."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from edstudy.bkt import metrics as M
from edstudy.bkt.model import ConvergenceWarning
from edstudy.kt._base import KTModel, student_folds
from edstudy.kt.registry import DEFAULT_BENCHMARK, make_model
from edstudy.schema import validate_log

__all__ = ["BENCHMARK_METRICS", "attempt_level", "benchmark"]

BENCHMARK_METRICS: tuple[str, ...] = ("auc", "rmse", "log_loss")
LEVELS = ("row", "attempt", "both")


def attempt_level(
    log: pd.DataFrame, p: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Collapse row predictions to one per attempt (rows of a student sharing an ``order``).

    The attempt's prediction is the mean of its rows' predictions and its answer the mean of its
    rows' answers; attempts whose rows disagree are left out (and counted).

    Returns
    -------
    y, p : float arrays (n_attempts,)
    key : int array (n_rows,)
        Attempt of every row (-1 for unscored rows).
    n_mixed : int
        Attempts left out because their rows disagree.
    """
    y = log["correct"].to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(y) & ~np.isnan(p)
    key = np.full(len(log), -1, dtype=np.int64)
    codes = pd.MultiIndex.from_arrays(
        [log["student_id"].to_numpy()[ok], log["order"].to_numpy()[ok]]
    ).factorize()[0]
    key[ok] = codes
    n = int(codes.max()) + 1 if codes.size else 0
    cnt = np.bincount(codes, minlength=n)
    ya = np.bincount(codes, weights=y[ok], minlength=n) / np.maximum(cnt, 1)
    pa = np.bincount(codes, weights=p[ok], minlength=n) / np.maximum(cnt, 1)
    pure = (ya == 0) | (ya == 1)
    return ya[pure], pa[pure], key, int((~pure).sum())


def _metrics(log, p, ok, level, names) -> dict:
    y = log["correct"].to_numpy(dtype=float, na_value=np.nan)
    if level == "row":
        res = M.compute(y[ok], p[ok], names)
        res["n"] = int(ok.sum())
        return res
    ya, pa, _, mixed = attempt_level(log[ok], p[ok])
    res = M.compute(ya, pa, names)
    res["n"] = int(ya.size)
    res["n_mixed"] = mixed
    return res


def benchmark(
    log: pd.DataFrame,
    models: Sequence[str] | Mapping[str, KTModel] | None = None,
    folds: int = 5,
    seed: int = 0,
    per_fold: bool = False,
    *,
    level: str = "row",
    metrics: str | Iterable[str] = BENCHMARK_METRICS,
    return_predictions: bool = False,
    progress=None,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Cross-validate several student models on the same student folds.

    Every model is fitted on the same training students of each fold (:func:`student_folds`, the
    recipe of :meth:`edstudy.bkt.BKT.cross_validate`) and predicts the held-out students one step
    ahead; metrics are computed on all out-of-fold predictions together ("pooled").

    Parameters
    ----------
    log : DataFrame
        A response log (validated).
    models : sequence of names of :data:`edstudy.kt.MODELS`, or ``{label: estimator}``
        Default :data:`edstudy.kt.registry.DEFAULT_BENCHMARK`. Estimators are cloned per fold
        from their ``get_params()``.
    folds : int, default 5
    seed : int, default 0
        Seed of the student shuffle (the same folds for every model).
    per_fold : bool, default False
        Also return one row per (model, fold); the table then has a ``fold`` column
        (``0 .. folds-1`` and ``"pooled"``).
    level : {"row", "attempt", "both"}, default "row"
        Score every scored row (skill-level; a multi-skill problem counts once per skill), one
        prediction per attempt (the mean of its rows: the item-level protocol of Gervet et al.),
        or both (a ``level`` column tells them apart).
    metrics : str or iterable of str
        Default ``auc, rmse, log_loss``.
    return_predictions : bool
        Also return the out-of-fold predictions (a DataFrame, one column per model, in the
        log's row order, plus ``fold``).
    progress : callable, optional
        Called with a line of text after each fit (e.g. ``print``).

    Returns
    -------
    DataFrame
        ``model, auc, rmse, log_loss, fit_s`` (mean seconds per fold fit; prediction time in
        ``predict_s``), ``n`` (scored rows or attempts), ``level`` (and ``fold``).
    """
    names = M.check_metrics(metrics)
    if level not in LEVELS:
        raise ValueError(f"level must be one of 'row', 'attempt', 'both', got {level!r}")
    v = validate_log(log)
    if models is None:
        models = DEFAULT_BENCHMARK
    if isinstance(models, Mapping):
        estimators = dict(models)
        for label, est in estimators.items():
            if not isinstance(est, KTModel):
                raise ValueError(f"models[{label!r}] is not an edstudy.kt model: {est!r}")
    else:
        if isinstance(models, str) or not len(models):
            raise ValueError("models must be a non-empty list of model names or a dict")
        estimators = {name: make_model(name, seed=seed) for name in models}
    fold = student_folds(v, folds, seed)
    y = v["correct"].to_numpy(dtype=float, na_value=np.nan)
    scored = ~np.isnan(y)
    levels = ("row", "attempt") if level == "both" else (level,)
    rows, preds = [], {}
    for label, proto in estimators.items():
        oof = np.full(len(v), np.nan)
        fit_s, pred_s = [], []
        for k in range(folds):
            test = fold == k
            est = type(proto)(**proto.get_params())
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(v[~test])
            t1 = time.perf_counter()
            oof[test] = est.predict_proba(v[test])
            t2 = time.perf_counter()
            fit_s.append(t1 - t0)
            pred_s.append(t2 - t1)
            if progress is not None:
                progress(f"{label}: fold {k + 1}/{folds} fitted in {t1 - t0:.1f} s")
            if per_fold:
                for lev in levels:
                    res = _metrics(v, oof, test & scored, lev, names)
                    rows.append(
                        {"model": label, "level": lev, "fold": k, **res, "fit_s": t1 - t0}
                        | {"predict_s": t2 - t1}
                    )
        for lev in levels:
            res = _metrics(v, oof, scored, lev, names)
            row = {"model": label, "level": lev, **res}
            row.update(fit_s=float(np.mean(fit_s)), predict_s=float(np.mean(pred_s)))
            if per_fold:
                row["fold"] = "pooled"
            rows.append(row)
        preds[label] = oof
    table = pd.DataFrame(rows)
    first = ["model", *names, "fit_s", "predict_s", "n", "level"]
    if per_fold:
        first.append("fold")
    table = table[first + [c for c in table.columns if c not in first]]
    if per_fold:
        table["fold"] = table["fold"].astype(object)
    if return_predictions:
        out = pd.DataFrame(preds, index=v.index)
        out["fold"] = fold
        return table, out
    return table
