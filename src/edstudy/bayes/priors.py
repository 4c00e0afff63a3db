"""Prior settings of the Bayesian models, as frozen dataclasses validated on construction.

PyMC-free, so that the generators and the configuration can be used without importing PyMC.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HBKTPriors", "PreferencePriors", "MeshingPriors"]


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


@dataclass(frozen=True)
class HBKTPriors:
    """Priors of the hierarchical BKT model (logit scale for prior mastery and learning).

    Attributes
    ----------
    prior_logit_mean, prior_logit_sd : float
        ``mu_prior[skill] ~ Normal(mean, sd)``: logit P(mastered before practice) of the median
        student. The default centres on 27 %.
    learn_logit_mean, learn_logit_sd : float
        ``mu_learn[skill] ~ Normal(mean, sd)``: logit P(learn per opportunity). Default centre 12 %.
    student_sd_scale : float
        ``sigma_prior, sigma_learn ~ HalfNormal(scale)``: spread of the student random effects.
    guess_max, guess_beta : float, (float, float)
        ``guess = guess_max * Beta(*guess_beta)``; the upper bound keeps "mastered" meaning
        "answers better than chance" (label identifiability).
    slip_max, slip_beta : float, (float, float)
        ``slip = slip_max * Beta(*slip_beta)``.
    """

    prior_logit_mean: float = -1.0
    prior_logit_sd: float = 1.0
    learn_logit_mean: float = -2.0
    learn_logit_sd: float = 1.0
    student_sd_scale: float = 1.0
    guess_max: float = 0.5
    guess_beta: tuple[float, float] = (2.0, 2.0)
    slip_max: float = 0.5
    slip_beta: tuple[float, float] = (1.5, 3.0)

    def __post_init__(self) -> None:
        _positive("prior_logit_sd", self.prior_logit_sd)
        _positive("learn_logit_sd", self.learn_logit_sd)
        _positive("student_sd_scale", self.student_sd_scale)
        for name in ("guess_max", "slip_max"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        for name in ("guess_beta", "slip_beta"):
            value = getattr(self, name)
            if len(value) != 2 or min(value) <= 0:
                raise ValueError(f"{name} must be two positive numbers, got {value}")


@dataclass(frozen=True)
class PreferencePriors:
    """Priors of the learner-preference (hierarchical multinomial logit) model.

    Attributes
    ----------
    baseline_sd : float
        Population media utilities ``~ ZeroSumNormal(baseline_sd)``.
    stated_sd : float
        Coefficient of the stated preference ``~ Normal(0, stated_sd)``.
    covariate_sd : float
        Media-specific slopes of survey covariates (interests) ``~ ZeroSumNormal(covariate_sd)``.
    class_sd_scale, student_sd_scale : float
        ``HalfNormal`` scales of the class and student deviations.
    """

    baseline_sd: float = 1.5
    stated_sd: float = 2.0
    covariate_sd: float = 1.0
    class_sd_scale: float = 0.5
    student_sd_scale: float = 1.0

    def __post_init__(self) -> None:
        for name in (
            "baseline_sd",
            "stated_sd",
            "covariate_sd",
            "class_sd_scale",
            "student_sd_scale",
        ):
            _positive(name, getattr(self, name))


@dataclass(frozen=True)
class MeshingPriors:
    """Priors of the meshing (preference-match x medium) model of learning gains.

    Gains are proportions of the test (posttest - pretest), so the defaults are weakly informative
    on that scale.

    Attributes
    ----------
    intercept_sd : float
        Mean gain ``~ Normal(0, intercept_sd)``.
    effect_sd : float
        Medium main effects, preference-group effects and the average match effect
        ``~ Normal(0, effect_sd)``.
    match_spread_scale : float
        ``HalfNormal`` scale of the spread of the match effect across media (partial pooling).
    class_sd_scale, noise_sd_scale : float
        ``HalfNormal`` scales of the class random effect and the residual SD.
    """

    intercept_sd: float = 0.5
    effect_sd: float = 0.25
    match_spread_scale: float = 0.1
    class_sd_scale: float = 0.1
    noise_sd_scale: float = 0.25

    def __post_init__(self) -> None:
        for name in (
            "intercept_sd",
            "effect_sd",
            "match_spread_scale",
            "class_sd_scale",
            "noise_sd_scale",
        ):
            _positive(name, getattr(self, name))
