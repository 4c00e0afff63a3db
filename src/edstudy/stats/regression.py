"""Covariate-adjusted impact estimates by regression (ANCOVA), with fixed block effects and robust
standard errors.

The design-respecting model of an individually randomized trial (students randomized, perhaps
within blocks) is a regression of the outcome on the treatment indicator, the baseline covariates
and, for a blocked design, one indicator per block (blocks as fixed effects). Standard errors are
HC2, or cluster-robust (CR1) by a cluster column with t tests on ``clusters - 1`` degrees of
freedom. For a binary outcome :func:`adjusted_effect` is a linear probability model (the
coefficient is an adjusted risk difference).
Cluster-randomized designs use :func:`edstudy.stats.mixed_model` instead.

See :mod:`edstudy.stats` for the conventions; :mod:`edstudy.stats.moderation` for the same model
with a treatment x moderator interaction.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from edstudy.stats._checks import _as_float, _min_per_arm, _select
from edstudy.stats.models import ModelResult, _arm_term, _tidy
from edstudy.stats.moderation import _robust_cov

__all__ = ["adjusted_effect"]


def _design(
    sample_frame: pd.DataFrame, treated: np.ndarray, covariates: Sequence[str], fixed: str | None
) -> tuple[np.ndarray, list[str]]:
    cols = [np.ones(len(treated)), treated.astype(np.float64)]
    names = ["Intercept", "treated"]
    for c in covariates:
        cols.append(_as_float(sample_frame[c], c))
        names.append(c)
    if fixed is not None:
        levels = sorted(pd.unique(sample_frame[fixed].astype(str)))
        labels = sample_frame[fixed].astype(str).to_numpy()
        for level in levels[1:]:
            cols.append((labels == level).astype(np.float64))
            names.append(f"{fixed}[{level}]")
    return np.column_stack(cols), names


def adjusted_effect(
    outcomes: pd.DataFrame,
    outcome: str,
    arm: str = "arm",
    *,
    treatment: object,
    control: object,
    covariates: Sequence[str] = (),
    block: str | None = None,
    cluster: str | None = None,
    binary: bool = False,
    confidence: float = 0.95,
) -> ModelResult:
    """OLS of ``outcome`` on the arm, covariates and block indicators, robust standard errors.

    Parameters
    ----------
    outcomes : DataFrame
        One row per student (not modified).
    outcome : str
        Numeric outcome; with ``binary=True`` a 0/1 outcome (linear probability model: the
        treatment coefficient is the adjusted risk difference).
    arm, treatment, control
        Arm column and the two levels.
    covariates : sequence of str
        Numeric baseline covariates.
    block : str, optional
        Block column: one indicator per block after the first (blocks as fixed effects).
    cluster : str, optional
        Cluster-robust (CR1) standard errors by this column (t on clusters - 1 df); HC2 otherwise
        (t on ``n - k`` df).
    binary : bool
    confidence : float

    Returns
    -------
    ModelResult
        Coefficients ``Intercept``, ``arm[treatment]``, the covariates and the block indicators.
    """
    func = "adjusted_effect"
    extra = [*covariates, *(c for c in (block, cluster) if c is not None)]
    sample = _select(
        outcomes,
        func=func,
        outcome=outcome,
        arm=arm,
        treatment=treatment,
        control=control,
        binary=binary,
        extra=list(dict.fromkeys(extra)),
    )
    _min_per_arm(sample, 2, func, outcome, treatment, control)
    x, names = _design(sample.frame, sample.treated, covariates, block)
    y = sample.y
    beta, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    if rank < x.shape[1]:
        raise ValueError(
            f"{func}: the design matrix is rank deficient (a covariate is constant or collinear "
            "with the treatment or the blocks)"
        )
    resid = y - x @ beta
    groups = sample.frame[cluster].to_numpy() if cluster is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        vcov, df = _robust_cov(x, resid, groups)
    term = _arm_term(arm, treatment)
    labels = [term if n == "treated" else n for n in names]
    coefficients = _tidy(labels, beta, np.sqrt(np.diag(vcov)), np.full(len(beta), df), confidence)
    se_type = "HC2" if cluster is None else f"cluster-robust (CR1) by {cluster}"
    fixed = f" + {block} fixed effects" if block is not None else ""
    kind = "linear probability model" if binary else "OLS"
    return ModelResult(
        model=f"{kind}: {outcome} ~ " + " + ".join([term, *covariates]) + f"{fixed}; {se_type}",
        outcome=outcome,
        treatment_term=term,
        coefficients=coefficients,
        variance_components=pd.DataFrame(columns=["component", "variance", "std_dev", "share"]),
        n_obs=len(y),
        n_groups={cluster: int(pd.Series(groups).nunique())} if cluster is not None else {},
        n_missing=sample.n_missing,
        converged=True,
        confidence=confidence,
    )
