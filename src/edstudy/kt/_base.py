"""What every student model of :mod:`edstudy.kt` shares: options, scoring, folds, JSON."""

from __future__ import annotations

import inspect
import json
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edstudy._options import EstimatorOptions, check_bool, check_int, check_number
from edstudy.bkt import metrics as M
from edstudy.bkt.model import ConvergenceWarning, NotFittedError
from edstudy.schema import validate_log

__all__ = [
    "DEFAULT_METRICS",
    "KTModel",
    "NotFittedError",
    "check_bool",
    "check_int",
    "check_number",
    "student_folds",
]

DEFAULT_METRICS = ("auc", "rmse", "log_loss", "accuracy")


def check_seed(value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | np.integer)):
        raise ValueError(f"seed must be None or an int, got {value!r}")


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(
            f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}"
        )


def student_folds(log: pd.DataFrame, folds: int, seed: int | None) -> np.ndarray:
    """Fold (0 .. folds-1) of every row, whole students per fold.

    The same recipe as :meth:`edstudy.bkt.BKT.cross_validate`: students sorted, shuffled with
    ``numpy.random.default_rng(seed)``, dealt round-robin; so every model, BKT included, is
    scored on the same folds.
    """
    check_int("folds", folds, 2)
    codes, uniques = pd.factorize(log["student_id"], sort=True)
    if len(uniques) < folds:
        raise ValueError(
            f"folds={folds} needs at least {folds} distinct student_id values, got {len(uniques)}"
        )
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(uniques), dtype=np.int64)
    fold_of[rng.permutation(len(uniques))] = np.arange(len(uniques)) % folds
    return fold_of[codes]


def scored(y: np.ndarray) -> np.ndarray:
    return ~np.isnan(y)


class KTModel(EstimatorOptions):
    """Base of the estimators: scikit-learn plumbing, ``score``, ``cross_validate`` and JSON.

    Subclasses implement ``_check_options``, ``fit``, ``predict_proba``, ``_state`` (fitted
    state as JSON-able dict) and ``_load_state`` (the inverse, validating every key).
    """

    #: name in :data:`edstudy.kt.MODELS` of the default configuration
    name = "model"

    def _fitted(self) -> None:
        if not getattr(self, "_is_fitted", False):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(log)")

    # ------------------------------------------------------------------ scoring
    def predict_proba(self, log: pd.DataFrame) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def score(
        self, log: pd.DataFrame, metrics: str | Iterable[str] = DEFAULT_METRICS
    ) -> dict[str, float]:
        """Metrics of the one-step-ahead predictions on the scored rows of ``log``.

        Parameters
        ----------
        metrics : str or iterable of str
            Any of ``auc, rmse, log_loss, accuracy, log_likelihood``.
        """
        names = M.check_metrics(metrics)
        p = self.predict_proba(log)
        y = log["correct"].to_numpy(dtype=float, na_value=np.nan)
        ok = scored(y)
        return M.compute(y[ok], p[ok], names)

    def cross_validate(
        self,
        log: pd.DataFrame,
        folds: int = 5,
        seed: int | None = None,
        metrics: str | Iterable[str] = DEFAULT_METRICS,
        return_predictions: bool = False,
    ) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray]:
        """K-fold cross-validation with whole students held out (see :func:`student_folds`).

        Returns
        -------
        DataFrame
            One row per fold (index ``0 .. folds-1``) and a ``"pooled"`` row; the metric columns
            plus ``n_rows`` (scored rows) and ``n_students``. With ``return_predictions``, also
            the out-of-fold P(correct) of every row.
        """
        names = M.check_metrics(metrics)
        v = validate_log(log)
        fold = student_folds(v, folds, self.seed if seed is None else seed)
        y = v["correct"].to_numpy(dtype=float, na_value=np.nan)
        oof = np.full(len(v), np.nan)
        rows = []
        for k in range(folds):
            test = fold == k
            est = type(self)(**self.get_params())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(v[~test])
            oof[test] = est.predict_proba(v[test])
            ok = test & scored(y)
            res = M.compute(y[ok], oof[ok], names)
            res.update(n_rows=int(ok.sum()), n_students=int(v.loc[test, "student_id"].nunique()))
            rows.append(res)
        ok = scored(y)
        pooled = M.compute(y[ok], oof[ok], names)
        pooled.update(n_rows=int(ok.sum()), n_students=int(v["student_id"].nunique()))
        table = pd.DataFrame(
            rows + [pooled], index=pd.Index([*range(folds), "pooled"], dtype=object, name="fold")
        )
        return (table, oof) if return_predictions else table

    # ------------------------------------------------------------------ persistence
    @classmethod
    def _format(cls) -> str:
        return f"edstudy.kt.{cls.__name__}/1"

    def _state(self) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    def _load_state(self, state: Mapping) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_json(self, path: str | os.PathLike) -> None:
        """Save options and the fitted state as readable JSON (no pickle)."""
        self._fitted()
        doc = {"format": self._format(), "options": self.get_params(), "state": self._state()}
        Path(path).write_text(json.dumps(doc, indent=1, allow_nan=False))

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> KTModel:
        """Load a model saved by :meth:`to_json`; a malformed document raises ``ValueError``
        naming the offending key."""
        try:
            doc = json.loads(Path(path).read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not JSON: {err}") from None
        if not isinstance(doc, dict):
            raise ValueError(f"{path}: expected a JSON object")
        if doc.get("format") != cls._format():
            raise ValueError(
                f"{path}: key 'format' must be {cls._format()!r}, got {doc.get('format')!r}"
            )
        for key in ("options", "state"):
            if not isinstance(doc.get(key), dict):
                raise ValueError(f"{path}: missing or malformed key {key!r}")
        names = cls._option_names()
        unknown = [k for k in doc["options"] if k not in names]
        if unknown:
            raise ValueError(f"{path}: unknown key options.{unknown[0]}")
        defaults = inspect.signature(cls.__init__).parameters
        options = {
            k: tuple(v) if isinstance(defaults[k].default, tuple) and isinstance(v, list) else v
            for k, v in doc["options"].items()
        }
        try:
            est = cls(**options)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: bad key 'options': {err}") from None
        try:
            est._load_state(doc["state"])
        except KeyError as err:
            raise ValueError(f"{path}: missing key state.{err.args[0]}") from None
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: {err}") from None
        est._is_fitted = True
        return est


def plain(x: Any) -> Any:
    """A numpy scalar as the matching Python scalar (for JSON); anything else unchanged."""
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.str_):
        return str(x)
    return x


def need(state: Mapping, key: str, kind: type | tuple[type, ...], where: str = "state") -> Any:
    """``state[key]`` checked for type; a ``ValueError`` names ``where.key`` otherwise."""
    if key not in state:
        raise ValueError(f"missing key {where}.{key}")
    value = state[key]
    if not isinstance(value, kind):
        raise ValueError(f"key {where}.{key} has the wrong type ({type(value).__name__})")
    return value
