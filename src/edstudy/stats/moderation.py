"""Moderators of a randomized effect: subgroup effects and the treatment x covariate interaction.

:func:`moderation` fits ``outcome ~ T + M + T:M + covariates`` by OLS, with HC2 standard errors
for individually randomized samples or cluster-robust (CR1) ones when a cluster column is given
(t tests on clusters minus 1 degrees of freedom), and reports

- for a numeric moderator (centred at its mean): the effect at the mean and how much it changes
  per unit of the moderator (the interaction slope), with its test;
- for a categorical moderator (text, boolean, or a few numeric levels): the effect within each
  level, and the joint Wald test that the effect is the same in every level (``F`` on the
  ``L - 1`` interaction terms).

This is the test a declared subgroup analysis or a crossover hypothesis needs. The meshing
hypothesis of learning styles, for example, predicts a *crossover*: students who state a
preference for video learn more from video, those who prefer text more from text; randomize the
medium, record the stated preference before, and the hypothesis is the interaction of medium
received x preference stated (Pashler, McDaniel, Rohrer & Bjork 2008). A main effect of the
medium is not evidence for it; only the interaction is.

A moderator must be measured before randomization (or be unaffected by it); a moderator that
the treatment can change makes the subgroup comparison non-randomized.

References
----------
Pashler, H., McDaniel, M., Rohrer, D., & Bjork, R. (2008). Learning styles: concepts and
evidence. *Psychological Science in the Public Interest*, 9(3), 105-119.
MacKinnon, J. G., & White, H. (1985). Some heteroskedasticity-consistent covariance matrix
estimators with improved finite sample properties. *Journal of Econometrics*, 29, 305-325.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from edstudy._format import TableResult
from edstudy.stats._checks import _as_float, _check_columns, _select, _z

__all__ = ["ModerationResult", "moderation"]

#: A numeric moderator with at most this many distinct values is treated as categorical.
MAX_NUMERIC_LEVELS = 2


@dataclass(frozen=True)
class ModerationResult(TableResult):
    """Subgroup effects and the interaction test of one moderator.

    Attributes
    ----------
    outcome, moderator, treatment, control : str
    kind : str
        ``"numeric"`` or ``"categorical"``.
    table : DataFrame
        ``term, level, estimate, std_error, ci_low, ci_high, p_value, n_treatment, n_control``:
        one ``effect`` row per level (categorical) or the effect at the moderator's mean and the
        ``interaction`` slope (numeric), in outcome units.
    statistic, df_num, df_den, p_value : float
        The interaction test: ``F`` with ``(df_num, df_den)`` degrees of freedom (for one term,
        the square of its t statistic).
    se_type : str
        ``"HC2"`` or ``"cluster-robust (CR1) by <column>"``.
    n_missing : int
        Rows of the two arms left out for a missing outcome, moderator or covariate.
    """

    outcome: str
    moderator: str
    treatment: str
    control: str
    kind: str
    table: pd.DataFrame
    statistic: float
    df_num: float
    df_den: float
    p_value: float
    se_type: str
    n_missing: int = 0

    def to_frame(self) -> pd.DataFrame:
        """The per-level (or slope) table plus one ``interaction test`` row."""
        test = pd.DataFrame(
            [
                {
                    "term": "interaction test",
                    "level": f"F({self.df_num:g}, {self.df_den:g}) = {self.statistic:.3f}",
                    "estimate": np.nan,
                    "std_error": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": self.p_value,
                }
            ]
        )
        return pd.concat([self.table, test], ignore_index=True).assign(
            outcome=self.outcome, moderator=self.moderator
        )

    def __str__(self) -> str:
        return (
            f"{self.outcome}: effect of {self.treatment} vs {self.control} by {self.moderator} "
            f"({self.kind}); interaction F({self.df_num:g}, {self.df_den:g}) = "
            f"{self.statistic:.3f}, p = {self.p_value:.3g} ({self.se_type})"
        )


def _is_categorical(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return True
    return values.dropna().nunique() <= MAX_NUMERIC_LEVELS


def _robust_cov(
    x: np.ndarray, resid: np.ndarray, groups: np.ndarray | None
) -> tuple[np.ndarray, float]:
    """HC2 (no groups) or CR1 covariance of OLS coefficients, and the t degrees of freedom."""
    n, k = x.shape
    xtx_inv = np.linalg.pinv(x.T @ x)
    if groups is None:
        h = np.einsum("ij,jk,ik->i", x, xtx_inv, x)
        w = resid**2 / np.clip(1.0 - h, 1e-12, None)
        meat = (x * w[:, None]).T @ x
        return xtx_inv @ meat @ xtx_inv, float(n - k)
    codes, _ = pd.factorize(pd.Series(groups), sort=True)
    m = int(codes.max()) + 1
    scores = np.zeros((m, k))
    np.add.at(scores, codes, x * resid[:, None])
    meat = scores.T @ scores
    factor = m / (m - 1) * (n - 1) / (n - k)
    return factor * xtx_inv @ meat @ xtx_inv, float(m - 1)


def moderation(
    outcomes: pd.DataFrame,
    outcome: str,
    arm: str = "arm",
    *,
    treatment: object,
    control: object,
    moderator: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    confidence: float = 0.95,
) -> ModerationResult:
    """Does the effect of ``treatment`` vs ``control`` on ``outcome`` depend on ``moderator``?

    Parameters
    ----------
    outcomes : DataFrame
        One row per student (not modified).
    outcome : str
        Numeric or binary outcome (a binary one is analysed on the risk-difference scale, as a
        linear probability model).
    arm, treatment, control
        Arm column and the two levels (treatment minus control).
    moderator : str
        A baseline column: numeric (more than two values: a slope), or categorical (text,
        boolean, or at most two numeric values: effects per level).
    covariates : sequence of str
        Numeric baseline covariates for precision (their main effects only).
    cluster : str, optional
        Cluster column: cluster-robust standard errors, t on clusters - 1 df.
    confidence : float

    Returns
    -------
    ModerationResult

    Raises
    ------
    ValueError
        A column is missing, an arm level is unknown, or a level of a categorical moderator has
        no student in one of the arms (its effect would not be identified).
    """
    func = "moderation"
    _check_columns(outcomes, {"moderator": moderator, "cluster": cluster})
    covariates = [c for c in covariates if c != moderator]
    sample = _select(
        outcomes,
        func=func,
        outcome=outcome,
        arm=arm,
        treatment=treatment,
        control=control,
        extra=[moderator, *covariates],
        roles={"cluster": cluster},
    )
    frame = sample.frame
    if cluster is not None:
        ok = frame[cluster].notna().to_numpy()
        frame, y, t = frame.loc[ok], sample.y[ok], sample.treated[ok]
    else:
        y, t = sample.y, sample.treated
    t = t.astype(np.float64)
    mod = frame[moderator]
    cov = [_as_float(frame[c], c) for c in covariates]
    cov = [c - c.mean() for c in cov]
    categorical = _is_categorical(mod)
    if categorical:
        levels = sorted(pd.unique(mod.astype(str)))
        if len(levels) < 2:
            raise ValueError(
                f"moderation: moderator {moderator!r} has a single level ({levels[0]!r}) in the "
                "analysed rows; nothing to compare"
            )
        labels = mod.astype(str).to_numpy()
        for level in levels:
            in_level = labels == level
            for name, arm_mask in ((treatment, t == 1), (control, t == 0)):
                if not np.any(in_level & arm_mask):
                    raise ValueError(
                        f"moderation: level {level!r} of moderator {moderator!r} has no student "
                        f"in arm {name!r}, so its effect is not identified"
                    )
        dummies = [(labels == lv).astype(np.float64) for lv in levels[1:]]
        cols = [np.ones_like(y), t, *dummies, *[t * d for d in dummies], *cov]
        n_int = len(dummies)
    else:
        m = _as_float(mod, moderator)
        mc = m - m.mean()
        cols = [np.ones_like(y), t, mc, t * mc, *cov]
        n_int = 1
    x = np.column_stack(cols)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    groups = frame[cluster].to_numpy() if cluster is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        vcov, df = _robust_cov(x, resid, groups)
    crit = float(stats.t.ppf(0.5 + confidence / 2.0, df)) if df >= 1 else _z(confidence)
    int_idx = list(range(2 + n_int, 2 + 2 * n_int)) if categorical else [3]

    def row(term: str, level: str, weights: np.ndarray, mask: np.ndarray | None) -> dict:
        est = float(weights @ beta)
        se = float(math.sqrt(max(weights @ vcov @ weights, 0.0)))
        p = float(2 * stats.t.sf(abs(est / se), df)) if se > 0 else math.nan
        sel = np.ones_like(t, dtype=bool) if mask is None else mask
        return {
            "term": term,
            "level": level,
            "estimate": est,
            "std_error": se,
            "ci_low": est - crit * se,
            "ci_high": est + crit * se,
            "p_value": p,
            "n_treatment": int(np.sum(sel & (t == 1))),
            "n_control": int(np.sum(sel & (t == 0))),
        }

    rows = []
    if categorical:
        for i, level in enumerate(levels):
            w = np.zeros(x.shape[1])
            w[1] = 1.0
            if i > 0:
                w[2 + n_int + i - 1] = 1.0
            rows.append(row("effect", f"{moderator} = {level}", w, labels == level))
    else:
        w = np.zeros(x.shape[1])
        w[1] = 1.0
        rows.append(row("effect", f"at mean {moderator} ({float(m.mean()):.3g})", w, None))
        w = np.zeros(x.shape[1])
        w[3] = 1.0
        rows.append(row("interaction", f"change per unit of {moderator}", w, None))
    b = beta[int_idx]
    v = vcov[np.ix_(int_idx, int_idx)]
    try:
        wald = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:
        wald = math.nan
    f_stat = wald / len(int_idx)
    p_value = float(stats.f.sf(f_stat, len(int_idx), df)) if not math.isnan(f_stat) else math.nan
    se_type = "HC2" if cluster is None else f"cluster-robust (CR1) by {cluster}"
    return ModerationResult(
        outcome=outcome,
        moderator=moderator,
        treatment=str(treatment),
        control=str(control),
        kind="categorical" if categorical else "numeric",
        table=pd.DataFrame(rows),
        statistic=f_stat,
        df_num=float(len(int_idx)),
        df_den=df,
        p_value=p_value,
        se_type=se_type,
        n_missing=sample.n_missing,
    )
