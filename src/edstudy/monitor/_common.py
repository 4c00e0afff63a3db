"""Small helpers the monitor modules share: ids as plain objects, a mixed-type sort key."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ids", "sort_key"]


def ids(values: pd.Series) -> np.ndarray:
    """Ids as plain Python objects (categoricals and nullable dtypes unwrapped)."""
    return values.astype(object).to_numpy(dtype=object)


def sort_key(x: Any) -> tuple:
    """Sort ids of mixed types: numbers first (numerically), then text."""
    if isinstance(x, int | float | np.number) and not isinstance(x, bool):
        return (0, float(x), "")
    return (1, 0.0, str(x))
