"""Options of an estimator, scikit-learn style: ``get_params``, ``set_params`` and a ``repr``
that shows what differs from the defaults.

The options are the parameters of the class's ``__init__``, stored under the same names; a
subclass checks them in ``_check_options`` (called after every ``set_params``). Shared by
:class:`edstudy.bkt.BKT` and the student models of :mod:`edstudy.kt`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EstimatorOptions"]


def _same(a: Any, b: Any) -> bool:
    """Whether an option's value equals its default (arrays and frames: the same object)."""
    if isinstance(a, np.ndarray | pd.DataFrame) or isinstance(b, np.ndarray | pd.DataFrame):
        return a is b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def check_bool(name: str, value: Any) -> None:
    """``value`` is True or False (numpy's too), else a ValueError naming ``name``."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def check_int(name: str, value: Any, minimum: int) -> None:
    """``value`` is an int (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def check_number(name: str, value: Any, allowed: str, ok: Callable[[float], bool]) -> None:
    """``value`` is a finite number (not a bool) for which ``ok`` holds; ``allowed`` says which."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a number {allowed}, got {value!r}")
    if not (math.isfinite(float(value)) and ok(float(value))):
        raise ValueError(f"{name} must be a number {allowed}, got {value!r}")


class EstimatorOptions:
    """Mixin: scikit-learn's option protocol over the parameters of ``__init__``."""

    @classmethod
    def _option_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Options as a dict (scikit-learn API)."""
        return {name: getattr(self, name) for name in self._option_names()}

    def set_params(self, **params: Any) -> EstimatorOptions:
        """Change options (scikit-learn API); unknown names raise ``ValueError``."""
        names = self._option_names()
        for key, value in params.items():
            if key not in names:
                raise ValueError(f"unknown option {key!r}; allowed: {', '.join(names)}")
            setattr(self, key, value)
        self._check_options()
        return self

    def _check_options(self) -> None:
        """Raise ``ValueError`` for an option out of range (subclasses override)."""

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, defaults[k].default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"
