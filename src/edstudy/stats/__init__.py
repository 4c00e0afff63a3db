"""Statistics only: the numbers that turn an outcomes table into conclusions and plans.

This package imports nothing from the simulator, the student models or the Bayesian models
(``edstudy.sim``, ``edstudy.bkt``, ``edstudy.bayes``), so a statistic added here can be used on a
real trial's table as readily as on a simulated one. Its modules:

- :mod:`~edstudy.stats.descriptive`: group means with cluster-robust intervals, differences of
  means, paired differences.
- :mod:`~edstudy.stats.moments`: their exact sufficient statistics, computed in pieces and merged
  (big studies summarized without holding their tables).
- :mod:`~edstudy.stats.effect_sizes`: Hedges' g (cluster-adjusted) and ICCs.
- :mod:`~edstudy.stats.proportions`: risk differences with Newcombe intervals, under clustering.
- :mod:`~edstudy.stats.models`: mixed (random-intercept), GEE/logistic and cluster-means models.
- :mod:`~edstudy.stats.ab_test`: a two-arm A/B test in one call.
- :mod:`~edstudy.stats.attrition`: WWC attrition boundaries and baseline equivalence.
- :mod:`~edstudy.stats.wwc`: WWC reporting rules: improvement index, Benjamini-Hochberg, Cox
  effect sizes, default ICCs, the group-design rating.
- :mod:`~edstudy.stats.regression`: covariate-adjusted effects (ANCOVA, block fixed effects,
  robust SEs).
- :mod:`~edstudy.stats.moderation`: subgroup effects and treatment x covariate interactions.
- :mod:`~edstudy.stats.power`: power, MDES and sample size (analytic, exact with estimated
  covariates, and simulated).
- :mod:`~edstudy.stats.planning`: power curves, sample-size tables, simulated trials, pilots.

Effect sizes and models
-----------------------

Every public function takes the outcomes table (one row per student, see :mod:`edstudy.schema`),
the name of the outcome column, the name of the arm column and the two arm levels to compare, and
returns a small frozen dataclass with a readable ``str()`` and a ``to_frame()`` that gives a tidy
table with the columns ``term, estimate, std_error, ci_low, ci_high, p_value`` (plus extras such
as ``df`` or sample sizes). The caller's DataFrame is never modified.

Inputs are checked for what each function needs (the columns exist, the arm levels exist, the
outcome is numeric or binary, there are enough students and clusters) with messages that name
the column and the value. Rows with a missing outcome, arm or covariate are left out and counted
in ``n_missing``; they are never silently imputed.

Conventions
-----------
- Effect sizes are *treatment minus control*.
- Confidence intervals are two-sided at ``confidence`` (default 0.95).
- Effect-size intervals are normal-theory (``g +/- z * SE``) as in Borenstein et al. (2009) and
  Hedges (2007); model coefficients use the t distribution where a degrees-of-freedom rule is
  stated (``df_method``), otherwise the normal.

References
----------
Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009). *Introduction to
Meta-Analysis*, ch. 4. Wiley.
Hedges, L. V. (2007). Effect sizes in cluster-randomized designs. *Journal of Educational and
Behavioral Statistics*, 32(4), 341-370.
Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
comparison of eleven methods. *Statistics in Medicine*, 17(8), 873-890.
Lin, W. (2013). Agnostic notes on regression adjustments to experimental data: reexamining
Freedman's critique. *Annals of Applied Statistics*, 7(1), 295-318.
Pinheiro, J. C., & Bates, D. M. (2000). *Mixed-Effects Models in S and S-PLUS*, sec. 2.4.2.
"""

from edstudy.stats._checks import TIDY_COLUMNS
from edstudy.stats.ab_test import ABTestResult, analyze_ab_test
from edstudy.stats.attrition import (
    AttritionResult,
    BaselineEquivalence,
    attrition,
    attrition_from_counts,
    baseline_equivalence,
    cox_index,
    wwc_attrition_boundary,
    wwc_boundary_table,
    wwc_equivalence_category,
)
from edstudy.stats.descriptive import (
    contrast,
    contrast_from_stats,
    paired_differences,
    summarize,
    summary_from_moments,
)
from edstudy.stats.effect_sizes import EffectSize, anova_icc, hedges_g, hedges_g_from_stats
from edstudy.stats.models import ModelResult, binary_model, cluster_means_model, mixed_model
from edstudy.stats.moderation import ModerationResult, moderation
from edstudy.stats.moments import cluster_moments, combine_moments, moments_summary
from edstudy.stats.power import (
    ClusterDesign,
    IndividualDesign,
    PowerEstimate,
    ThreeLevelDesign,
    covariate_inflation,
    exact_power,
    mdes,
    power,
    sample_size,
    simulated_power,
)
from edstudy.stats.proportions import RiskDifference, newcombe_interval, risk_difference
from edstudy.stats.regression import adjusted_effect
from edstudy.stats.wwc import (
    WWC_DEFAULT_ICC,
    benjamini_hochberg,
    cox_effect_size,
    improvement_index,
    wwc_rating,
)

__all__ = [
    "TIDY_COLUMNS",
    "WWC_DEFAULT_ICC",
    "ABTestResult",
    "AttritionResult",
    "BaselineEquivalence",
    "ClusterDesign",
    "EffectSize",
    "IndividualDesign",
    "ModelResult",
    "ModerationResult",
    "PowerEstimate",
    "RiskDifference",
    "ThreeLevelDesign",
    "adjusted_effect",
    "analyze_ab_test",
    "anova_icc",
    "attrition",
    "attrition_from_counts",
    "baseline_equivalence",
    "benjamini_hochberg",
    "binary_model",
    "cluster_means_model",
    "cluster_moments",
    "combine_moments",
    "contrast",
    "covariate_inflation",
    "cox_effect_size",
    "contrast_from_stats",
    "cox_index",
    "exact_power",
    "hedges_g",
    "hedges_g_from_stats",
    "mdes",
    "improvement_index",
    "mixed_model",
    "moderation",
    "moments_summary",
    "newcombe_interval",
    "paired_differences",
    "power",
    "risk_difference",
    "sample_size",
    "simulated_power",
    "summarize",
    "summary_from_moments",
    "wwc_attrition_boundary",
    "wwc_boundary_table",
    "wwc_equivalence_category",
    "wwc_rating",
]
