"""What Works Clearinghouse reporting rules: improvement index, Benjamini-Hochberg, Cox effect
sizes, default ICCs and the group-design rating.

The attrition boundary and baseline equivalence live in :mod:`edstudy.stats.attrition`; this
module holds the rest of what a WWC-style report of a randomized trial states. Sources and the
decisions taken where they are silent or disagree are recorded in ``docs/trial.md``.

- :func:`improvement_index`: the percentile of the average treatment student in the control
  distribution minus 50, ``100 (Phi(g) - 0.5)`` (WWC Procedures Handbook v4.1 and v5.0, the
  "improvement index" reported beside every effect size).
- :func:`benjamini_hochberg`: the step-up procedure the WWC applies to a study's findings in one
  outcome domain when the authors did not correct for multiple comparisons (Procedures Handbook
  v4.1; Benjamini & Hochberg 1995): with ``M`` tests ordered ``p_(1) <= ... <= p_(M)``, every
  finding up to the largest ``i`` with ``p_(i) <= i alpha / M`` stays significant (the rule the
  R package WWCr implements as ``BH``). The adjusted p-values ``min_{j >= i} M p_(j) / j`` say
  the same thing as numbers.
- :func:`cox_effect_size`: the WWC effect size of a binary outcome, ``omega ln(OR) / 1.65``, with
  the standard error of the log odds ratio carried through.
- :data:`WWC_DEFAULT_ICC`: the ICCs the WWC assumes when a study reports none, 0.20 for
  achievement outcomes and 0.10 for behavioral and attitudinal ones (Procedures Handbook v4.1,
  the clustering correction of its appendix, as the R package baselinr cites it).
- :func:`wwc_rating`: the rating of a randomized group design from its attrition and baseline
  equivalence (Standards Handbook v4.1, sec. II.A (individual assignment) and II.B (cluster
  assignment), simplified as stated in its docstring), with every reason worded as the
  standards word them.

References
----------
What Works Clearinghouse (2020). *Standards Handbook, Version 4.1*; *Procedures Handbook,
Version 4.1*. What Works Clearinghouse (2022). *Procedures and Standards Handbook, Version 5.0*.
U.S. Department of Education, Institute of Education Sciences.
Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
powerful approach to multiple testing. *JRSS B*, 57(1), 289-300.
Cox, D. R. (1970). *Analysis of Binary Data*. Methuen.
Sanchez-Meca, J., Marin-Martinez, F., & Chacon-Moscoso, S. (2003). Effect-size indices for
dichotomized outcomes in meta-analysis. *Psychological Methods*, 8(4), 448-467.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

__all__ = [
    "MEETS_WITHOUT",
    "MEETS_WITH",
    "DOES_NOT_MEET",
    "WWC_DEFAULT_ICC",
    "RatingInput",
    "Rating",
    "benjamini_hochberg",
    "cox_effect_size",
    "improvement_index",
    "wwc_rating",
]

#: The three ratings of a group design (Standards Handbook v4.1, sec. I and II).
MEETS_WITHOUT = "Meets WWC Group Design Standards Without Reservations"
MEETS_WITH = "Meets WWC Group Design Standards With Reservations"
DOES_NOT_MEET = "Does Not Meet WWC Group Design Standards"

#: ICCs the WWC assumes when a study does not report one (Procedures Handbook v4.1, App. F).
WWC_DEFAULT_ICC: dict[str, float] = {"achievement": 0.20, "behavioral": 0.10}


def improvement_index(g: float | np.ndarray) -> float | np.ndarray:
    """WWC improvement index: ``100 (Phi(g) - 0.5)`` percentile points.

    The expected change in percentile rank of an average control student had they received the
    intervention: the percentile of the average treatment student in the control distribution,
    minus 50.

    Examples
    --------
    >>> round(improvement_index(0.25), 1)
    9.9
    """
    value = 100.0 * (stats.norm.cdf(g) - 0.5)
    return float(value) if np.ndim(value) == 0 else value


def benjamini_hochberg(
    p_values: Sequence[float] | np.ndarray, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg step-up correction, as the WWC applies it within a domain.

    Parameters
    ----------
    p_values : sequence of float
        One p-value per finding of the family (NaN values are left out of the family and
        returned as NaN / not significant).
    alpha : float
        The false discovery rate (the WWC uses 0.05).

    Returns
    -------
    adjusted : float array
        ``min(1, min_{j >= i} M p_(j) / j)`` in the input order.
    significant : bool array
        Whether each finding stays significant: ``p <= i* alpha / M`` for the largest ``i*``
        with ``p_(i*) <= i* alpha / M`` (equivalently ``adjusted <= alpha``).

    Examples
    --------
    >>> adj, sig = benjamini_hochberg([0.01, 0.04, 0.03, 0.20])
    >>> adj.round(3).tolist(), sig.tolist()
    [[0.04, 0.053, 0.053, 0.2], [True, False, False, False]]
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha}")
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("p_values must be one-dimensional")
    bad = p[~np.isnan(p) & ((p < 0) | (p > 1))]
    if bad.size:
        raise ValueError(f"p-values must be in [0, 1], got {bad[0]}")
    adjusted = np.full(p.shape, np.nan)
    significant = np.zeros(p.shape, dtype=bool)
    keep = np.flatnonzero(~np.isnan(p))
    m = keep.size
    if m == 0:
        return adjusted, significant
    order = keep[np.argsort(p[keep], kind="stable")]
    ranked = p[order]
    ranks = np.arange(1, m + 1)
    adj = np.minimum.accumulate((ranked * m / ranks)[::-1])[::-1]
    adjusted[order] = np.minimum(adj, 1.0)
    below = np.flatnonzero(ranked <= ranks * alpha / m + 1e-15)
    if below.size:
        significant[order[: below[-1] + 1]] = True
    return adjusted, significant


def cox_effect_size(
    events_treatment: float,
    n_treatment: int,
    events_control: float,
    n_control: int,
    *,
    confidence: float = 0.95,
    design_effect: float = 1.0,
) -> tuple[float, float, float, float]:
    """WWC effect size of a binary outcome: ``omega ln(OR) / 1.65`` with its standard error.

    ``omega = 1 - 3 / (4N - 9)`` is the small-sample factor the WWC applies to Hedges' g; it is
    applied here too, as :func:`edstudy.stats.attrition.cox_index` does for baseline measures
    (see ``docs/trial.md`` for the sources on this point). ``SE = omega sqrt(1/a + 1/b + 1/c +
    1/d) / 1.65`` (the log odds ratio's Woolf standard error) times ``sqrt(design_effect)`` for
    clustered samples; the interval is normal-theory.

    Parameters
    ----------
    events_treatment, n_treatment, events_control, n_control : float, int
        Events and students with the outcome in each arm.
    confidence : float
    design_effect : float
        Variance inflation for clustering (1 for individually randomized samples).

    Returns
    -------
    (estimate, std_error, ci_low, ci_high) : tuple of float
        NaN when a rate is 0 or 1 (the odds ratio is infinite).
    """
    a, b = float(events_treatment), float(n_treatment - events_treatment)
    c, d = float(events_control), float(n_control - events_control)
    if min(a, b, c, d) <= 0:
        return (math.nan,) * 4
    omega = 1.0 - 3.0 / (4.0 * (n_treatment + n_control) - 9.0)
    lor = math.log(a / b) - math.log(c / d)
    es = omega * lor / 1.65
    se = omega * math.sqrt(1 / a + 1 / b + 1 / c + 1 / d) / 1.65 * math.sqrt(design_effect)
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    return es, se, es - z * se, es + z * se


@dataclass(frozen=True)
class RatingInput:
    """What the rating of one finding rests on.

    Attributes
    ----------
    design : {"student", "cluster", "block"}
        How units were randomized (``"block"``: students within blocks; with ``cluster_level``
        set, clusters within blocks).
    low_attrition : bool
        Student-level attrition is low under the chosen boundary (for cluster designs: within
        the clusters that remain in the analysis).
    boundary : str
        ``"cautious"`` or ``"optimistic"``.
    cluster_level : bool
        Clusters were the unit of assignment.
    low_cluster_attrition : bool or None
        Cluster-level attrition is low (cluster designs).
    baseline : str
        Overall baseline-equivalence verdict of the analysis sample: ``"satisfied"``,
        ``"requires statistical adjustment"``, ``"not satisfied"``, ``"undefined"`` or
        ``"not assessed"`` (no baseline measure given).
    adjusted : Sequence[str]
        Covariates the impact model adjusts for.
    needs_adjustment : Sequence[str]
        Covariates with ``0.05 < |es| <= 0.25``.
    failing : Sequence[str]
        Covariates with ``|es| > 0.25`` (or undefined).
    """

    design: str
    low_attrition: bool
    boundary: str
    cluster_level: bool = False
    low_cluster_attrition: bool | None = None
    baseline: str = "not assessed"
    adjusted: Sequence[str] = ()
    needs_adjustment: Sequence[str] = ()
    failing: Sequence[str] = ()


@dataclass(frozen=True)
class Rating:
    """A rating and every reason for it, in the words of the standards."""

    rating: str
    reasons: list[str] = field(default_factory=list)


def _equivalence_reasons(r: RatingInput) -> tuple[bool, list[str]]:
    """(established?, reasons) for baseline equivalence of the analysis sample."""
    if r.baseline == "not assessed":
        return False, [
            "baseline equivalence of the analytic sample cannot be assessed: no baseline "
            "measure was given"
        ]
    if r.failing:
        return False, [
            "baseline equivalence is not satisfied: the baseline difference exceeds 0.25 "
            f"standard deviations (or cannot be computed) for {', '.join(r.failing)}"
        ]
    missing = [c for c in r.needs_adjustment if c not in set(r.adjusted)]
    if missing:
        return False, [
            "baseline differences between 0.05 and 0.25 standard deviations require statistical "
            f"adjustment, and the impact model does not adjust for {', '.join(missing)}"
        ]
    if r.needs_adjustment:
        return True, [
            "baseline equivalence is satisfied with statistical adjustment: differences between "
            "0.05 and 0.25 standard deviations in "
            f"{', '.join(r.needs_adjustment)}, for which the impact model adjusts"
        ]
    return True, [
        "baseline equivalence is satisfied: every baseline difference is at most 0.05 standard "
        "deviations"
    ]


def wwc_rating(r: RatingInput) -> Rating:
    """The WWC rating of a randomized finding and its reasons (Standards Handbook v4.1, sec. II).

    Individual assignment (sec. II.A): low attrition meets the standards without reservations;
    with high attrition the analytic sample must show baseline equivalence (differences of at most
    0.25 SD, those above 0.05 SD adjusted for in the impact model) to meet them with
    reservations, and otherwise does not meet them.

    Cluster assignment (sec. II.B), simplified: low cluster-level attrition *and* low attrition of
    students within the remaining clusters meet the standards without reservations; otherwise the
    analytic sample must show baseline equivalence to meet them with reservations. The standards'
    further conditions (joiners who entered clusters after assignment, the timing of the baseline
    measure, confounding factors such as one teacher per arm, compromised randomization) cannot
    be judged from an outcomes file and are stated as caveats, not checked.

    Parameters
    ----------
    r : RatingInput

    Returns
    -------
    Rating
    """
    reasons = []
    attr = "low" if r.low_attrition else "high"
    if r.cluster_level:
        c_attr = "low" if r.low_cluster_attrition else "high"
        reasons.append(
            f"cluster-level attrition is {c_attr} under the {r.boundary} boundary; student-level "
            f"attrition within the remaining clusters is {attr}"
        )
        low = bool(r.low_cluster_attrition) and r.low_attrition
    else:
        reasons.append(
            f"the study is a randomized controlled trial with {attr} attrition under the "
            f"{r.boundary} boundary"
        )
        low = r.low_attrition
    if low:
        reasons.append(
            "a randomized controlled trial with low attrition is eligible to meet WWC group "
            "design standards without reservations; baseline equivalence is not required"
        )
        return Rating(MEETS_WITHOUT, reasons)
    established, why = _equivalence_reasons(r)
    reasons.extend(why)
    if established:
        reasons.append(
            "with high attrition, a study that establishes baseline equivalence of its analytic "
            "sample is eligible to meet WWC group design standards with reservations"
        )
        return Rating(MEETS_WITH, reasons)
    reasons.append(
        "with high attrition, a study must establish baseline equivalence of its analytic sample "
        "to meet WWC group design standards"
    )
    return Rating(DOES_NOT_MEET, reasons)
