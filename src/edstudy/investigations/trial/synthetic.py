"""Simulated trials whose truth is known: effect, attrition, baseline imbalance and design.

:func:`synthetic_trial` draws the outcomes table of a randomized trial of any of the three designs
from a normal model, so that an analysis (:func:`~edstudy.investigations.trial.analyze_trial`)
can be checked against the truth: estimates recover the effect, intervals cover it at their
level, and the WWC rating comes out as the attrition and imbalance were constructed. It is a test
and teaching tool; the simulated *school* trial with students and a tutor is
:func:`~edstudy.investigations.trial.examples.simulated_cluster_trial`.

Model (standardized: total within-arm variance 1)::

    posttest = effect T + b pretest + u_cluster + v_block + e
    pretest ~ N(imbalance T, 1)   (imbalance: a baseline difference built into the sample)
    u ~ N(0, icc), v ~ N(0, block_share), e ~ N(0, 1 - b^2 - icc - block_share)
    female ~ Bernoulli(0.5); the posttest of round(attrition_<arm> x n_<arm>) students of each
    arm, chosen at random, is missing (so attrition is known exactly and unrelated to outcomes)

so the true effect is ``effect`` in outcome units and, as the outcome's SD is 1, in SD units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from edstudy.investigations.trial.analysis import analyze_trial
from edstudy.investigations.trial.spec import DESIGNS, OutcomeSpec, TrialSpec

__all__ = ["SyntheticTrial", "recovery_check", "synthetic_spec", "synthetic_trial"]


@dataclass(frozen=True)
class SyntheticTrial:
    """Settings of a simulated trial (see the module docstring).

    Parameters
    ----------
    design : {"student", "cluster", "block"}
        Students randomized individually; clusters randomized; students randomized within blocks.
    n_units : int
        Students (student, block designs) or clusters (cluster design), both arms together.
    cluster_size : int
        Students per cluster (cluster design).
    n_blocks : int
        Blocks (block design); students are split evenly and randomized half/half in each.
    effect : float
        True effect in SD units.
    pretest_slope : float
        ``b``; the pretest explains ``b^2`` of the outcome variance.
    icc : float
        Cluster share of the variance (cluster design).
    block_share : float
        Block share of the variance (block design).
    imbalance : float
        Mean pretest difference (treatment minus control, in SD) built into the sample.
    attrition_treatment, attrition_control : float
        Share of each arm's students whose posttest is missing (chosen completely at random).
    """

    design: str = "student"
    n_units: int = 200
    cluster_size: int = 20
    n_blocks: int = 4
    effect: float = 0.3
    pretest_slope: float = 0.6
    icc: float = 0.15
    block_share: float = 0.1
    imbalance: float = 0.0
    attrition_treatment: float = 0.0
    attrition_control: float = 0.0

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise ValueError(f"design must be one of {DESIGNS}, got {self.design!r}")
        if self.n_units < 4 or int(self.n_units) != self.n_units:
            raise ValueError(f"n_units must be a whole number >= 4, got {self.n_units}")
        share = self.pretest_slope**2 + self._icc + self._block
        if not share < 1.0:
            raise ValueError(
                f"pretest_slope^2 + icc + block_share must be < 1 (the residual variance), "
                f"got {share:.3g}"
            )
        for name in ("attrition_treatment", "attrition_control"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")

    @property
    def _icc(self) -> float:
        return self.icc if self.design == "cluster" else 0.0

    @property
    def _block(self) -> float:
        return self.block_share if self.design == "block" else 0.0


def synthetic_trial(settings: SyntheticTrial, seed: int | np.random.Generator) -> pd.DataFrame:
    """One simulated trial's outcomes table.

    Returns
    -------
    DataFrame
        ``student_id, arm ("treatment"/"control"), class_id, school_id, pretest, female,
        posttest`` (NaN for students lost to attrition), one row per randomized student.
    """
    s = settings
    rng = np.random.default_rng(seed)
    if s.design == "cluster":
        n_cl = int(s.n_units)
        treated_cl = rng.permutation(np.arange(n_cl) < n_cl // 2)
        cluster = np.repeat(np.arange(n_cl), s.cluster_size)
        t = treated_cl[cluster]
        block = np.zeros(cluster.size, dtype=np.int64)
    elif s.design == "block":
        n = int(s.n_units)
        block = np.arange(n) % s.n_blocks
        t = np.zeros(n, dtype=bool)
        for b in range(s.n_blocks):
            idx = np.flatnonzero(block == b)
            t[rng.permutation(idx)[: idx.size // 2]] = True
        cluster = np.arange(n)
    else:
        n = int(s.n_units)
        t = rng.permutation(np.arange(n) < n // 2)
        cluster = np.arange(n)
        block = np.zeros(n, dtype=np.int64)
    n = t.size
    pretest = rng.standard_normal(n) + s.imbalance * t
    u = rng.standard_normal(int(cluster.max()) + 1) * math.sqrt(s._icc)
    v = rng.standard_normal(int(block.max()) + 1) * math.sqrt(s._block)
    resid = 1.0 - s.pretest_slope**2 - s._icc - s._block
    post = (
        s.effect * t
        + s.pretest_slope * pretest
        + u[cluster]
        + v[block]
        + rng.standard_normal(n) * math.sqrt(resid)
    )
    lost = np.zeros(n, dtype=bool)
    for arm_mask, rate in ((t, s.attrition_treatment), (~t, s.attrition_control)):
        idx = np.flatnonzero(arm_mask)
        lost[rng.choice(idx, int(round(rate * idx.size)), replace=False)] = True
    return pd.DataFrame(
        {
            "student_id": np.arange(n),
            "arm": np.where(t, "treatment", "control"),
            "class_id": [f"c{c:03d}" for c in cluster],
            "school_id": [f"s{b:02d}" for b in block],
            "pretest": pretest,
            "female": rng.integers(0, 2, n),
            "posttest": np.where(lost, np.nan, post),
        }
    )


def synthetic_spec(settings: SyntheticTrial, **changes: object) -> TrialSpec:
    """The trial file of a :func:`synthetic_trial` table (posttest; baseline pretest, female).

    ``changes`` replace fields of the :class:`TrialSpec` (e.g. ``boundary="optimistic"``).
    """
    extra: dict[str, object] = {}
    if settings.design == "cluster":
        extra["cluster"] = "class_id"
    if settings.design == "block":
        extra["block"] = "school_id"
    spec = TrialSpec(
        name=f"synthetic {settings.design} trial",
        treatments=("treatment",),
        control="control",
        outcomes=(OutcomeSpec("posttest"),),
        randomization=settings.design,
        baseline=("pretest", "female"),
        **extra,  # type: ignore[arg-type]
    )
    return replace(spec, **changes) if changes else spec


def recovery_check(
    settings: SyntheticTrial, *, replicates: int, seed: int = 0, confidence: float = 0.95
) -> pd.DataFrame:
    """Analyse ``replicates`` simulated trials and compare every estimator with the truth.

    Parameters
    ----------
    settings : SyntheticTrial
    replicates : int
        Trial ``r`` is drawn from ``SeedSequence([seed, r])``.
    seed : int
    confidence : float
        Interval level.

    Returns
    -------
    DataFrame
        One row per estimator: ``design, estimator, truth, mean_estimate, bias, bias_se`` (the
        Monte Carlo SE of the bias), ``sd_estimate, coverage, coverage_se`` (the binomial SE of
        the coverage at the nominal level, ``sqrt(c (1 - c) / R)``), ``replicates``, the most
        frequent ``rating`` and its ``rating_share``.
    """
    spec = synthetic_spec(settings, confidence=confidence)
    parts, ratings = [], []
    for r in range(int(replicates)):
        frame = synthetic_trial(settings, np.random.default_rng(np.random.SeedSequence([seed, r])))
        result = analyze_trial(spec, outcomes=frame, process=False)
        parts.append(result.effects.assign(replicate=r))
        ratings.append(result.ratings["rating"].iloc[0])
    effects = pd.concat(parts, ignore_index=True)
    effects["covers"] = (effects["ci_low"] <= settings.effect) & (
        settings.effect <= effects["ci_high"]
    )
    out = (
        effects.groupby("estimator", sort=False)
        .agg(
            mean_estimate=("estimate", "mean"),
            sd_estimate=("estimate", "std"),
            coverage=("covers", "mean"),
        )
        .reset_index()
    )
    out.insert(0, "design", settings.design)
    out.insert(2, "truth", settings.effect)
    out.insert(4, "bias", out["mean_estimate"] - settings.effect)
    out.insert(5, "bias_se", out["sd_estimate"] / math.sqrt(replicates))
    out["coverage_se"] = math.sqrt(confidence * (1 - confidence) / replicates)
    out["replicates"] = int(replicates)
    top = pd.Series(ratings).value_counts()
    out["rating"] = top.index[0]
    out["rating_share"] = top.iloc[0] / len(ratings)
    return out
