"""Statistical power, minimum detectable effect size and sample size, analytic and simulated.

Analytic designs (effect sizes in standard-deviation units of the outcome)
--------------------------------------------------------------------------
The formulas are those of Bloom (2005, 2006) as tabulated in PowerUp! (Dong & Maynard 2013) and
implemented in the R package PowerUpR; the names of that tool are given in brackets.

- :class:`IndividualDesign` [IRA]: students randomized individually, ``n`` in total,
  ``SE = sqrt((1 - R2) / (P (1 - P) n))``, ``df = n - g - 2``.
- :class:`ClusterDesign` [CRA2_2r]: ``J`` clusters (classes or schools) of ``n`` students
  randomized whole,
  ``SE = sqrt(rho (1 - R2_2) / (P (1 - P) J) + (1 - rho)(1 - R2_1) / (P (1 - P) J n))``,
  ``df = J - g - 2``.
- :class:`ThreeLevelDesign` [CRA3_3r]: ``K`` schools of ``J`` classes of ``n`` students, schools
  randomized,
  ``SE = sqrt(rho3 (1 - R2_3) / (P(1-P) K) + rho2 (1 - R2_2) / (P(1-P) K J)
  + (1 - rho2 - rho3)(1 - R2_1) / (P(1-P) K J n))``, ``df = K - g - 2``.

``rho`` are intraclass correlations, ``R2_k`` the share of the level-``k`` variance explained by
covariates (e.g. the pretest), ``P`` the share of units treated and ``g`` the number of covariates
at the randomized level. The degrees of freedom count *clusters*, not students: that is where the
t multipliers below matter.

- :func:`mdes` uses the multiplier ``M = t(1 - alpha/2, df) + t(power, df)`` (two-sided;
  ``t(1 - alpha, df)`` one-sided): ``MDES = M * SE`` (Bloom 2005; PowerUp!).
- :func:`power` uses the noncentral t: ``1 - T(t_crit; df, lambda) + T(-t_crit; df, lambda)``
  with ``lambda = effect / SE`` (PowerUpR; Optimal Design).
- :func:`sample_size` returns the smallest whole number of units (students, clusters or
  schools) whose :func:`mdes` is at most the target effect. PowerUpR's ``mrss`` functions solve
  the same equation but round the solution to the *nearest* whole number, so they can answer one
  unit fewer (e.g. ``J = 20`` for an effect of 0.629 whose MDES at ``J = 20`` is 0.62901); we
  round up so that the returned design does reach the target.

The two approximations agree closely but are not exact inverses: the power at the MDES is
within about half a percentage point of the target for ``df >= 10``.

Estimated covariates: exact power
---------------------------------
The formulas treat the covariates' ``R2`` as known. The analysis *estimates* the covariates'
slopes from the ``J`` randomized units, and the chance imbalance of the covariates between the
arms inflates the variance of the impact estimate: conditional on the covariates, the OLS t
statistic on the unit means is noncentral t on ``J - g - 2`` degrees of freedom with
noncentrality ``lambda sqrt(U)``, where ``U = 1 - R2(T | X)`` is one minus the squared sample
multiple correlation of the treatment indicator with the ``g`` covariates. For normal covariates
independent of the (fixed) assignment, ``U ~ Beta((J - 1 - g) / 2, g / 2)`` (the squared cosine
of a fixed vector with a random ``g``-dimensional subspace of the ``J - 1`` centred dimensions).
:func:`exact_power` averages the noncentral-t power over that distribution (``exact=True`` in
:func:`power`, :func:`mdes` and :func:`sample_size`); the variance inflation itself is
``E[1 / U] = (J - 3) / (J - g - 3)`` (:func:`covariate_inflation`), ``(J - 3) / (J - 4)`` for one
covariate. With one covariate the formula overstates power by about 1 point at 40 randomized
units, 5 at 10, 10 at 6 and 12 at 5 (at the formula's MDES for 80% power); the simulated trials
of :mod:`edstudy.stats.trial_simulation` agree with the exact figure
(``tests/test_trial_power.py``).

Simulated power
---------------
:func:`simulated_power` runs any data generator and any analysis many times and reports the
share of p-values below ``alpha`` with a Clopper-Pearson interval, so designs the formulas do not
cover (attrition, unequal clusters, BKT-simulated cohorts, mixed-model analyses) can be checked.

References
----------
Bloom, H. S. (2005). Randomizing groups to evaluate place-based programs. In H. S. Bloom (Ed.),
*Learning More from Social Experiments*, 115-172. Russell Sage Foundation.
Bloom, H. S. (2006). The core analytics of randomized experiments for social research. MDRC.
Dong, N., & Maynard, R. (2013). PowerUp!: A tool for calculating minimum detectable effect sizes
and minimum required sample sizes for experimental and quasi-experimental design studies.
*Journal of Research on Educational Effectiveness*, 6(1), 24-67.
Bulus, M., Dong, N., Kelcey, B., & Spybrook, J. (2021). PowerUpR: Power analysis tools for
multilevel randomized experiments. R package version 1.1.0.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from edstudy._format import TableResult
from edstudy.stats.designs import (
    UNIT_FIELD,
    ClusterDesign,
    Design,
    IndividualDesign,
    ThreeLevelDesign,
    check_design,
)

__all__ = [
    "IndividualDesign",
    "ClusterDesign",
    "ThreeLevelDesign",
    "Design",
    "PowerEstimate",
    "covariate_inflation",
    "exact_power",
    "multiplier",
    "power",
    "mdes",
    "sample_size",
    "simulated_power",
]


def _check_alpha_power(alpha: float, target: float | None = None) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha}")
    if target is not None and not 0.0 < target < 1.0:
        raise ValueError(f"power must be strictly between 0 and 1, got {target}")


def multiplier(
    df: float, *, power: float = 0.80, alpha: float = 0.05, two_sided: bool = True
) -> float:
    """Bloom's MDES multiplier ``M = t(1 - alpha/2, df) + t(power, df)``.

    For ``power < 0.5`` it is ``t_crit - t(1 - power, df)``, as in PowerUp!. With ``df = inf``
    it is the normal-theory ``1.96 + 0.84 = 2.80`` (two-sided 0.05, power 0.80).
    """
    _check_alpha_power(alpha, power)
    q = 1.0 - alpha / 2.0 if two_sided else 1.0 - alpha
    t1 = float(stats.t.ppf(q, df)) if math.isfinite(df) else float(stats.norm.ppf(q))
    t2 = abs(float(stats.t.ppf(power, df)) if math.isfinite(df) else float(stats.norm.ppf(power)))
    return t1 + t2 if power >= 0.5 else t1 - t2


def _nct_power(lam: float | np.ndarray, df: float, alpha: float, two_sided: bool) -> np.ndarray:
    """``P(T > t_crit) [+ P(T < -t_crit)]`` for ``T`` noncentral t(df, lam), ``lam >= 0``.

    The far tail ``P(T < -t_crit)`` is computed as ``P(T' > t_crit)`` with ``T'`` noncentral
    t(df, -lam) (the same number): scipy's ``nct.cdf(-t_crit, df, lam)`` is nan for some
    noncentralities above about 7.5 (scipy 1.17), which made the power nan. It is capped by
    ``Phi(-lam)``, its bound (``T < -t_crit`` needs ``Z < -lam``), which also stands in for a
    nan should scipy give one there.
    """
    if two_sided:
        crit = float(stats.t.ppf(1.0 - alpha / 2.0, df))
        lower = np.fmin(stats.nct.sf(crit, df, -lam), stats.norm.sf(lam))
        return stats.nct.sf(crit, df, lam) + lower
    crit = float(stats.t.ppf(1.0 - alpha, df))
    return stats.nct.sf(crit, df, lam)


#: Gauss-Jacobi nodes of the exact-power integral (error < 1e-10 for the designs tested).
_JACOBI_NODES = 96


def _units(design: Design) -> float:
    return float(getattr(design, UNIT_FIELD[type(design)]))


def covariate_inflation(design: Design) -> float:
    """Expected variance inflation from estimating the covariates' slopes: ``(J-3)/(J-g-3)``.

    ``E[1 / U]`` with ``U ~ Beta((J - 1 - g) / 2, g / 2)`` (see the module docstring); ``J`` is
    the number of randomized units and ``g = design.n_covariates``. 1 without covariates; infinite
    when ``J <= g + 3`` (the expectation diverges although power is still defined).

    Examples
    --------
    >>> round(covariate_inflation(ClusterDesign(n_clusters=10, cluster_size=20, icc=0.2,
    ...                                         r2_level2=0.5, n_covariates=1)), 4)
    1.1667
    """
    check_design(design)
    g = int(design.n_covariates)
    if g == 0:
        return 1.0
    j = _units(design)
    return (j - 3.0) / (j - g - 3.0) if j - g - 3.0 > 0 else math.inf


def exact_power(
    design: Design, effect: float, *, alpha: float = 0.05, two_sided: bool = True
) -> float:
    """Power with the covariates' slopes estimated from the ``J`` randomized units.

    ``E_U[ P(|t_{df}(lambda sqrt(U))| > t_crit) ]`` with ``lambda = effect / SE``,
    ``df = J - g - 2`` and ``U ~ Beta((J - 1 - g) / 2, g / 2)``, integrated by Gauss-Jacobi
    quadrature. Exact for the model behind the formulas
    (normal unit means, normal covariates independent of the assignment, OLS on unit means);
    equal to :func:`power` without covariates.

    Parameters
    ----------
    design : IndividualDesign, ClusterDesign or ThreeLevelDesign
    effect : float
        True standardized effect.
    alpha : float
    two_sided : bool

    Returns
    -------
    float

    Examples
    --------
    >>> d = ClusterDesign(n_clusters=6, cluster_size=20, icc=0.2, r2_level1=0.5, r2_level2=0.5,
    ...                   n_covariates=1)
    >>> round(power(d, 1.0), 3), round(exact_power(d, 1.0), 3)
    (0.531, 0.461)
    """
    check_design(design)
    _check_alpha_power(alpha)
    lam = abs(effect) / design.standard_error
    df = float(design.df)
    g = int(design.n_covariates)
    if g == 0 or lam == 0.0:
        return float(_nct_power(lam, df, alpha, two_sided))
    a, b = (_units(design) - 1.0 - g) / 2.0, g / 2.0
    # E[h(U)], U ~ Beta(a, b), by Gauss-Jacobi quadrature on u = (1 + x) / 2
    x, w = special.roots_jacobi(_JACOBI_NODES, b - 1.0, a - 1.0)
    u = (1.0 + x) / 2.0
    h = np.nan_to_num(_nct_power(lam * np.sqrt(u), df, alpha, two_sided), nan=1.0)
    value = float(np.sum(w * h) / np.sum(w))
    return min(max(value, 0.0), 1.0)


def power(
    design: Design,
    effect: float,
    *,
    alpha: float = 0.05,
    two_sided: bool = True,
    exact: bool = False,
) -> float:
    """Power to detect ``effect`` (in SD units) with a t test on ``design.df`` degrees of freedom.

    ``1 - T(t_crit; df, lambda) + T(-t_crit; df, lambda)`` with ``lambda = effect / SE``
    (noncentral t; one-sided drops the second term).

    Parameters
    ----------
    design : IndividualDesign, ClusterDesign or ThreeLevelDesign
    effect : float
        True standardized effect.
    alpha : float
        Type I error rate.
    two_sided : bool
        Two-sided test (default) or one-sided in the direction of ``effect``.
    exact : bool
        Account for estimating the covariates' slopes (:func:`exact_power`) instead of treating
        their ``R2`` as known, as PowerUp! does (the default, for comparison with that tool).

    Returns
    -------
    float

    Examples
    --------
    >>> round(power(IndividualDesign(n=128), 0.5), 3)  # 64 per group, d = 0.5
    0.801
    """
    if exact:
        return exact_power(design, effect, alpha=alpha, two_sided=two_sided)
    check_design(design)
    _check_alpha_power(alpha)
    lam = abs(effect) / design.standard_error
    return float(_nct_power(lam, design.df, alpha, two_sided))


def mdes(
    design: Design,
    *,
    power: float = 0.80,
    alpha: float = 0.05,
    two_sided: bool = True,
    exact: bool = False,
) -> float:
    """Minimum detectable effect size ``M(df) * SE`` (Bloom 2005; PowerUp!).

    Parameters
    ----------
    design : IndividualDesign, ClusterDesign or ThreeLevelDesign
    power : float
        Target power.
    alpha : float
        Type I error rate.
    two_sided : bool
        Two-sided test (default).
    exact : bool
        The effect whose :func:`exact_power` is ``power`` (solved numerically) instead of
        Bloom's multiplier, which treats the covariates' ``R2`` as known.

    Returns
    -------
    float
        The MDES in standard-deviation units.

    Examples
    --------
    >>> round(mdes(ClusterDesign(n_clusters=20, cluster_size=15, icc=0.17)), 3)
    0.629
    """
    check_design(design)
    formula = (
        multiplier(design.df, power=power, alpha=alpha, two_sided=two_sided) * design.standard_error
    )
    if not exact or design.n_covariates == 0:
        return formula
    target = power

    def gap(effect: float) -> float:
        return exact_power(design, effect, alpha=alpha, two_sided=two_sided) - target

    hi = formula
    while gap(hi) < 0:
        hi *= 1.5
    return float(optimize.brentq(gap, 0.5 * formula, hi, xtol=1e-10))


def sample_size(
    design: Design,
    effect: float,
    *,
    power: float = 0.80,
    alpha: float = 0.05,
    two_sided: bool = True,
    solve_for: str | None = None,
    max_value: int = 10_000_000,
    exact: bool = False,
) -> int:
    """Smallest whole number of units for which the MDES is at most ``effect``.

    Parameters
    ----------
    design : IndividualDesign, ClusterDesign or ThreeLevelDesign
        The design; the field named by ``solve_for`` is replaced, the others are kept.
    effect : float
        Target standardized effect (> 0).
    power, alpha, two_sided
        As in :func:`mdes`.
    solve_for : str, optional
        Field to solve for. Default: the randomized unit (``"n"`` for an individual design,
        ``"n_clusters"`` for a two-level, ``"n_schools"`` for a three-level design). Other whole
        fields can be solved for too, e.g. ``"cluster_size"``.
    max_value : int
        Search limit.
    exact : bool
        Use the exact MDES (:func:`mdes` with ``exact=True``).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        The target cannot be reached, e.g. more students per cluster cannot make up for too few
        clusters; the message gives the MDES reached at ``max_value``.

    Examples
    --------
    >>> sample_size(ClusterDesign(n_clusters=4, cluster_size=15, icc=0.17), 0.63)
    20
    """
    check_design(design)
    if not effect > 0:
        raise ValueError(f"effect must be > 0, got {effect}")
    field_name = solve_for or UNIT_FIELD[type(design)]
    names = {f.name for f in fields(design)}
    if field_name not in names:
        raise ValueError(
            f"solve_for must be a field of {type(design).__name__} ({sorted(names)}), "
            f"got {field_name!r}"
        )

    def mdes_at(value: int) -> float:
        try:
            candidate = replace(design, **{field_name: value})
        except ValueError:
            return math.inf
        return mdes(candidate, power=power, alpha=alpha, two_sided=two_sided, exact=exact)

    hi = 1
    while mdes_at(hi) > effect:
        if hi >= max_value:
            reached = mdes_at(max_value)
            raise ValueError(
                f"cannot reach an MDES of {effect} by increasing {field_name}: with "
                f"{field_name}={max_value} the MDES is still {reached:.4f}"
            )
        hi = min(hi * 2, max_value)
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mdes_at(mid) <= effect:
            hi = mid
        else:
            lo = mid
    return hi


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PowerEstimate(TableResult):
    """Monte Carlo power: the share of simulated p-values below ``alpha``.

    Attributes
    ----------
    power : float
        ``n_rejected / n_sims``.
    ci_low, ci_high : float
        Clopper-Pearson (exact binomial) interval at ``confidence``.
    n_sims, n_rejected, n_failed : int
        Simulations run, p-values below ``alpha``, and analyses that returned NaN (counted as not
        rejected).
    alpha, confidence : float
    seed : int or None
        The seed given (``None`` when a Generator or no seed was passed).
    p_values : ndarray, shape (n_sims,)
        Every p-value, in simulation order (not compared, not shown).
    """

    power: float
    ci_low: float
    ci_high: float
    n_sims: int
    n_rejected: int
    n_failed: int
    alpha: float
    confidence: float
    seed: int | None
    p_values: np.ndarray = field(repr=False, compare=False)

    @property
    def monte_carlo_se(self) -> float:
        """``sqrt(power (1 - power) / n_sims)``."""
        return math.sqrt(self.power * (1.0 - self.power) / self.n_sims)

    def __str__(self) -> str:
        pct = round(100 * self.confidence)
        text = (
            f"simulated power {self.power:.3f} [{pct}% CI {self.ci_low:.3f}, {self.ci_high:.3f}] "
            f"from {self.n_sims} simulations (alpha {self.alpha})"
        )
        if self.n_failed:
            text += f"; {self.n_failed} analyses returned NaN and count as not significant"
        return text

    def to_frame(self) -> pd.DataFrame:
        """One-row tidy table (``term = "power"``)."""
        return pd.DataFrame(
            [
                {
                    "term": "power",
                    "estimate": self.power,
                    "std_error": self.monte_carlo_se,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "p_value": np.nan,
                    "n_sims": self.n_sims,
                    "n_rejected": self.n_rejected,
                    "n_failed": self.n_failed,
                    "alpha": self.alpha,
                }
            ]
        )


def _child_generators(
    seed: int | np.random.Generator | np.random.SeedSequence | None, n: int
) -> list[np.random.Generator]:
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(n))
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [np.random.default_rng(child) for child in sequence.spawn(n)]


def simulated_power(
    simulate: Callable[[np.random.Generator], pd.DataFrame],
    analyze: Callable[[pd.DataFrame], float],
    *,
    n_sims: int = 1000,
    seed: int | np.random.Generator | np.random.SeedSequence | None = None,
    alpha: float = 0.05,
    confidence: float = 0.95,
    progress: bool = False,
) -> PowerEstimate:
    """Power by simulation: generate, analyse, count p-values below ``alpha``.

    Parameters
    ----------
    simulate : callable
        ``simulate(rng) -> DataFrame`` draws one data set (e.g. an outcomes table) using only the
        Generator it is given.
    analyze : callable
        ``analyze(frame) -> float`` returns the p-value of the test of interest, e.g.
        ``lambda df: mixed_model(df, ...).treatment_effect["p_value"]``.
    n_sims : int
        Number of simulated data sets.
    seed : int, SeedSequence or Generator, optional
        Simulation ``i`` uses the ``i``-th child of ``SeedSequence(seed)`` (or
        ``Generator.spawn``), so results do not depend on how the work is split or ordered.
    alpha : float
        Significance level.
    confidence : float
        Level of the Clopper-Pearson interval of the power.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    PowerEstimate

    Raises
    ------
    ValueError
        ``analyze`` returned a value outside ``[0, 1]`` (it must return a p-value).
    """
    if int(n_sims) != n_sims or n_sims < 1:
        raise ValueError(f"n_sims must be a whole number >= 1, got {n_sims}")
    _check_alpha_power(alpha)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    generators = _child_generators(seed, int(n_sims))
    iterator: Any = range(int(n_sims))
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="simulated power", unit="sim")
    p_values = np.empty(int(n_sims))
    for i in iterator:
        frame = simulate(generators[i])
        p = float(analyze(frame))
        if not (math.isnan(p) or 0.0 <= p <= 1.0):
            raise ValueError(f"analyze must return a p-value in [0, 1], got {p} in simulation {i}")
        p_values[i] = p
    failed = int(np.isnan(p_values).sum())
    if failed:
        warnings.warn(
            f"{failed} of {n_sims} analyses returned NaN; they count as not significant",
            RuntimeWarning,
            stacklevel=2,
        )
    rejected = int(np.sum(p_values[~np.isnan(p_values)] < alpha))
    ci = stats.binomtest(rejected, int(n_sims)).proportion_ci(
        confidence_level=confidence, method="exact"
    )
    return PowerEstimate(
        power=rejected / n_sims,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        n_sims=int(n_sims),
        n_rejected=rejected,
        n_failed=failed,
        alpha=alpha,
        confidence=confidence,
        seed=seed if isinstance(seed, int) else None,
        p_values=p_values,
    )
