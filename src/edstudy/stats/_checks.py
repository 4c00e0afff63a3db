"""Input checks and number formatting shared by the study-analysis modules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Columns of every tidy table returned by ``to_frame()``, in this order.
TIDY_COLUMNS: tuple[str, ...] = ("term", "estimate", "std_error", "ci_low", "ci_high", "p_value")


# --------------------------------------------------------------------------------------------
# Input checks shared by the study modules
# --------------------------------------------------------------------------------------------


def _levels(values: pd.Series) -> list[str]:
    return sorted({str(v) for v in values.dropna().unique()})


def _check_frame(outcomes: object, func: str) -> pd.DataFrame:
    if not isinstance(outcomes, pd.DataFrame):
        raise TypeError(
            f"{func}: outcomes must be a pandas DataFrame, got {type(outcomes).__name__}"
        )
    return outcomes


def _check_columns(outcomes: pd.DataFrame, roles: dict[str, str | None]) -> None:
    """Raise ``ValueError`` naming the first role whose column is absent."""
    for role, name in roles.items():
        if name is not None and name not in outcomes.columns:
            available = sorted(map(str, outcomes.columns))
            raise ValueError(
                f"{role} column {name!r} is not in outcomes; available columns: {available}"
            )


def _check_arms(outcomes: pd.DataFrame, arm: str, treatment: object, control: object) -> None:
    if treatment == control:
        raise ValueError(
            f"treatment and control must be different arm levels, both are {treatment!r}"
        )
    present = set(outcomes[arm].dropna().unique())
    for level in (treatment, control):
        if level not in present:
            raise ValueError(
                f"unknown arm level {level!r}: column {arm!r} has levels {_levels(outcomes[arm])}"
            )


def _as_float(series: pd.Series, name: str) -> np.ndarray:
    """Numeric (or boolean) column as float64 with NaN for missing; reject text."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    raise ValueError(f"column {name!r} must be numeric or boolean, got dtype {series.dtype}")


def _as_binary(series: pd.Series, name: str, func: str) -> np.ndarray:
    values = _as_float(series, name)
    seen = np.unique(values[~np.isnan(values)])
    bad = seen[(seen != 0.0) & (seen != 1.0)]
    if bad.size:
        shown = [float(v) if not float(v).is_integer() else int(v) for v in bad[:5]]
        raise ValueError(
            f"{func}: outcome {name!r} must be binary (0/1 or false/true); found values {shown}"
        )
    return values


@dataclass(frozen=True)
class _Sample:
    """The analysed rows: treatment indicator, outcome and optional extra columns."""

    y: np.ndarray  # float64 outcome
    treated: np.ndarray  # bool
    frame: pd.DataFrame  # the kept rows (a copy), with the original column names
    n_missing: int


def _select(
    outcomes: pd.DataFrame,
    *,
    func: str,
    outcome: str,
    arm: str,
    treatment: object,
    control: object,
    binary: bool = False,
    extra: Sequence[str] = (),
    roles: dict[str, str | None] | None = None,
) -> _Sample:
    """Check inputs and keep the rows of the two arms with a complete outcome and ``extra``.

    Columns named in ``roles`` are checked and carried along without dropping rows where they
    are missing (the caller decides what a missing cluster means).
    """
    _check_frame(outcomes, func)
    _check_columns(outcomes, {"outcome": outcome, "arm": arm, **(roles or {})})
    for name in extra:
        _check_columns(outcomes, {"covariate": name})
    _check_arms(outcomes, arm, treatment, control)
    in_arms = outcomes[arm].isin([treatment, control]).to_numpy(dtype=bool, na_value=False)
    carried = [name for name in (roles or {}).values() if name is not None]
    sub = outcomes.loc[in_arms, list(dict.fromkeys([outcome, arm, *extra, *carried]))].copy()
    y = _as_binary(sub[outcome], outcome, func) if binary else _as_float(sub[outcome], outcome)
    complete = ~np.isnan(y)
    for name in extra:
        col = sub[name]
        complete &= ~col.isna().to_numpy(dtype=bool)
    n_missing = int((~complete).sum())
    kept = sub.loc[complete].reset_index(drop=True)
    treated = (kept[arm] == treatment).to_numpy(dtype=bool)
    return _Sample(y=y[complete], treated=treated, frame=kept, n_missing=n_missing)


def _min_per_arm(
    sample: _Sample, minimum: int, func: str, outcome: str, treatment: object, control: object
) -> None:
    for level, mask in ((treatment, sample.treated), (control, ~sample.treated)):
        k = int(mask.sum())
        if k < minimum:
            raise ValueError(
                f"{func} needs at least {minimum} students with a non-missing {outcome!r} in each "
                f"arm; arm {level!r} has {k}"
            )


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    return f"{x:.{digits}f}"


def _fmt_p(p: float) -> str:
    if math.isnan(p):
        return "NA"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
