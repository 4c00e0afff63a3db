"""Unadjusted and covariate-adjusted analysis of an individually randomized A/B test.

The outcome is binary (e.g. completed a skill builder)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from edstudy._format import TableResult
from edstudy.stats._checks import (
    _as_float,
    _fmt,
    _fmt_p,
    _min_per_arm,
    _select,
    _z,
)
from edstudy.stats.proportions import RiskDifference, risk_difference

# --------------------------------------------------------------------------------------------
# A/B test on a binary outcome
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ABTestResult(TableResult):
    """Unadjusted and covariate-adjusted effects of an individually randomized A/B test.

    Attributes
    ----------
    table : DataFrame
        Tidy rows (``term, estimate, std_error, ci_low, ci_high, p_value, method``):
        ``risk_difference`` (unadjusted, Newcombe interval), ``risk_difference_adjusted_lpm``
        (linear probability model with Lin's (2013) treatment-by-centred-covariate interactions
        and HC2 standard errors), ``risk_difference_adjusted_logit`` (average marginal effect of
        a logistic model, delta-method SE) and ``odds_ratio_adjusted_logit`` (its conditional odds
        ratio; ``std_error`` on the log scale).
    unadjusted : RiskDifference
        The unadjusted comparison in full.
    covariates : tuple of str
        Covariates used for adjustment.
    n_treatment, n_control, n_missing : int
        Students analysed in each arm and rows left out for missing values.
    """

    outcome: str
    treatment: str
    control: str
    table: pd.DataFrame
    unadjusted: RiskDifference
    covariates: tuple[str, ...]
    n_treatment: int
    n_control: int
    n_missing: int
    confidence: float = 0.95

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    def __str__(self) -> str:
        pct = round(100 * self.confidence)
        u = self.unadjusted
        lines = [
            f"A/B test on {self.outcome}: {self.treatment} {u.events_treatment}/{u.n_treatment} "
            f"= {_fmt(u.rate_treatment)} vs {self.control} {u.events_control}/{u.n_control} "
            f"= {_fmt(u.rate_control)}",
        ]
        for row in self.table.itertuples(index=False):
            lines.append(
                f"  {row.term:34s} {row.estimate:+.4f} [{pct}% CI {row.ci_low:+.4f}, "
                f"{row.ci_high:+.4f}] p {_fmt_p(row.p_value)}  ({row.method})"
            )
        if self.covariates:
            lines.append(
                f"adjusted for {len(self.covariates)} covariate(s): {', '.join(self.covariates)}"
            )
        return "\n".join(lines)


def analyze_ab_test(
    outcomes: pd.DataFrame,
    outcome: str = "completed",
    arm: str = "arm",
    *,
    treatment: object = "video",
    control: object = "text",
    covariates: Sequence[str] = (),
    confidence: float = 0.95,
) -> ABTestResult:
    """Effect of an individually randomized A/B test on a binary outcome, raw and adjusted.

    Parameters
    ----------
    outcomes : DataFrame
        One row per student with ``outcome``, ``arm`` and the covariates.
    outcome : str
        Binary outcome (bool, nullable boolean or 0/1), e.g. ``"completed"``.
    arm, treatment, control
        Arm column and the two levels compared (treatment minus control).
    covariates : sequence of str
        Pre-randomization numeric covariates. With none, the adjusted rows are the unadjusted
        models (their estimates equal the raw difference).
    confidence : float
        Interval level.

    Returns
    -------
    ABTestResult
        The risk difference (Newcombe), the Lin (2013) covariate-adjusted linear-probability
        estimate with HC2 robust SE, and a logistic model's average marginal effect and odds ratio.

    Notes
    -----
    The linear-probability estimator regresses the outcome on the treatment indicator, the
    covariates centred at their overall means, and their interactions; the treatment coefficient
    is then a consistent estimate of the average effect even if the linear model is wrong, and
    HC2 standard errors are conservative under randomization (Lin 2013). The logistic row
    averages ``P(y=1 | treated, x) - P(y=1 | control, x)`` over all students (g-computation) with
    a delta-method standard error from the model-based covariance.
    """
    import statsmodels.api as sm

    func = "analyze_ab_test"
    covariates = tuple(covariates)
    sample = _select(
        outcomes,
        func=func,
        outcome=outcome,
        arm=arm,
        treatment=treatment,
        control=control,
        binary=True,
        extra=covariates,
    )
    _min_per_arm(sample, 2, func, outcome, treatment, control)
    unadjusted = risk_difference(
        sample.frame.assign(**{outcome: sample.y}),
        outcome,
        arm,
        treatment=treatment,
        control=control,
        method="newcombe",
        confidence=confidence,
    )
    y = sample.y
    t = sample.treated.astype(np.float64)
    x = (
        np.column_stack([_as_float(sample.frame[c], c) for c in covariates])
        if covariates
        else np.empty((len(y), 0))
    )
    z = _z(confidence)
    rows = [
        {
            "term": "risk_difference",
            "estimate": unadjusted.estimate,
            "std_error": unadjusted.std_error,
            "ci_low": unadjusted.ci_low,
            "ci_high": unadjusted.ci_high,
            "p_value": unadjusted.p_value,
            "method": "unadjusted, Newcombe hybrid score interval",
        }
    ]
    # Lin (2013): y ~ 1 + t + xc + t:xc, HC2.
    xc = x - x.mean(axis=0)
    lin_x = np.column_stack([np.ones_like(t), t, xc, t[:, None] * xc])
    lin = sm.OLS(y, lin_x).fit(cov_type="HC2")
    est, se = float(lin.params[1]), float(lin.bse[1])
    rows.append(
        {
            "term": "risk_difference_adjusted_lpm",
            "estimate": est,
            "std_error": se,
            "ci_low": est - z * se,
            "ci_high": est + z * se,
            "p_value": float(2 * stats.norm.sf(abs(est / se))),
            "method": "linear probability, Lin (2013) interacted adjustment, HC2 SE",
        }
    )
    # Logistic model, average marginal effect by g-computation.
    logit_x = np.column_stack([np.ones_like(t), t, x])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logit = sm.GLM(y, logit_x, family=sm.families.Binomial()).fit()
    beta = np.asarray(logit.params)
    cov = np.asarray(logit.cov_params())
    x1, x0 = logit_x.copy(), logit_x.copy()
    x1[:, 1], x0[:, 1] = 1.0, 0.0
    p1 = 1.0 / (1.0 + np.exp(-(x1 @ beta)))
    p0 = 1.0 / (1.0 + np.exp(-(x0 @ beta)))
    ame = float(np.mean(p1 - p0))
    grad = ((p1 * (1 - p1))[:, None] * x1 - (p0 * (1 - p0))[:, None] * x0).mean(axis=0)
    se_ame = float(math.sqrt(grad @ cov @ grad))
    rows.append(
        {
            "term": "risk_difference_adjusted_logit",
            "estimate": ame,
            "std_error": se_ame,
            "ci_low": ame - z * se_ame,
            "ci_high": ame + z * se_ame,
            "p_value": float(2 * stats.norm.sf(abs(ame / se_ame))),
            "method": "logistic regression, average marginal effect, delta-method SE",
        }
    )
    b, sb = float(beta[1]), float(np.sqrt(cov[1, 1]))
    rows.append(
        {
            "term": "odds_ratio_adjusted_logit",
            "estimate": math.exp(b),
            "std_error": sb,
            "ci_low": math.exp(b - z * sb),
            "ci_high": math.exp(b + z * sb),
            "p_value": float(2 * stats.norm.sf(abs(b / sb))),
            "method": "logistic regression, conditional odds ratio (SE on log scale)",
        }
    )
    return ABTestResult(
        outcome=outcome,
        treatment=str(treatment),
        control=str(control),
        table=pd.DataFrame(rows),
        unadjusted=unadjusted,
        covariates=covariates,
        n_treatment=int(sample.treated.sum()),
        n_control=int((~sample.treated).sum()),
        n_missing=sample.n_missing,
        confidence=confidence,
    )
