"""WWC rules and the statistics the trial analysis adds: the attrition table against the
Handbook transcriptions, the rounding rule, Benjamini-Hochberg, the improvement index, the Cox
effect size, the rating logic, moderators, and the cluster-adjusted g's t interval coverage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from edstudy.stats.attrition import (
    WWC_CAUTIOUS_PCT,
    WWC_OPTIMISTIC_PCT,
    WWCR_OPTIMISTIC_PCT,
    attrition_from_counts,
    wwc_attrition_boundary,
)
from edstudy.stats.effect_sizes import hedges_g
from edstudy.stats.moderation import moderation
from edstudy.stats.wwc import (
    DOES_NOT_MEET,
    MEETS_WITH,
    MEETS_WITHOUT,
    WWC_DEFAULT_ICC,
    RatingInput,
    benjamini_hochberg,
    cox_effect_size,
    improvement_index,
    wwc_rating,
)

# --- the attrition boundary -----------------------------------------------------------------

# Rows of WWC Standards Handbook v4.1 Table II.1 as the R package baselinr transcribes it
# (R/attrition_boundary.R): (overall %, cautious pp, optimistic pp); None = high attrition.
HANDBOOK_ROWS = [
    (0, 5.7, 10.0),
    (5, 6.1, 10.5),
    (10, 6.3, 10.9),
    (12, 6.2, 10.9),
    (13, 6.1, 10.8),
    (20, 5.4, 10.0),
    (30, 4.1, 8.2),
    (45, 1.8, 4.9),
    (57, 0.0, 2.1),
    (58, None, 1.9),
    (65, None, 0.3),
]


@pytest.mark.parametrize(("overall", "cautious", "optimistic"), HANDBOOK_ROWS)
def test_boundary_rows_match_the_handbook_transcription(overall, cautious, optimistic):
    c = wwc_attrition_boundary(overall / 100, "cautious")
    o = wwc_attrition_boundary(overall / 100, "optimistic")
    assert math.isnan(c) if cautious is None else c == pytest.approx(cautious / 100)
    assert o == pytest.approx(optimistic / 100)
    assert math.isnan(wwc_attrition_boundary(0.66, "optimistic"))


def test_the_two_transcriptions_differ_exactly_from_13_percent_on():
    """WWCr (Handbook v4.0 Table II.1, rows 0-57) repeats 10.9 at 13%: from there each of its
    optimistic values is the baselinr value of the row before."""
    assert len(WWC_CAUTIOUS_PCT) == 58 and len(WWC_OPTIMISTIC_PCT) == 66
    assert len(WWCR_OPTIMISTIC_PCT) == 58
    assert WWCR_OPTIMISTIC_PCT[:13] == WWC_OPTIMISTIC_PCT[:13]
    assert all(WWCR_OPTIMISTIC_PCT[k] == WWC_OPTIMISTIC_PCT[k - 1] for k in range(13, 58))
    assert WWCR_OPTIMISTIC_PCT[13] == 10.9 and WWC_OPTIMISTIC_PCT[13] == 10.8
    assert WWCR_OPTIMISTIC_PCT[-1] == 2.3  # row 57 in WWCr, row 56 here


def test_rounding_rule_halves_up_and_differential_is_not_rounded():
    # 12.5% overall reads row 13 (6.1 cautious); 12.4% reads row 12 (6.2)
    assert attrition_from_counts(100, 90, 100, 85).max_differential == pytest.approx(0.061)
    assert attrition_from_counts(500, 441, 500, 435).max_differential == pytest.approx(0.062)
    # 7% overall (row 7: 6.3 pp): exactly at the boundary is low; 0.05 pp above is high (the
    # differential is not rounded)
    assert attrition_from_counts(2000, 1923, 2000, 1797).low_attrition  # 7.0%, 6.30 pp
    assert not attrition_from_counts(2000, 1923, 2000, 1796).low_attrition  # 7.0%, 6.35 pp


def test_optimistic_verdicts_that_depend_on_the_transcription_are_flagged():
    # 13% overall, 10.85 pp differential: high here (10.8), low under WWCr (10.9)
    r = attrition_from_counts(2000, 1848, 2000, 1632, boundary="optimistic")
    assert round(100 * r.overall) == 13 and 100 * r.differential == pytest.approx(10.8)
    r = attrition_from_counts(4000, 3697, 4000, 3263, boundary="optimistic")
    assert 100 * r.differential == pytest.approx(10.85)
    assert not r.low_attrition and r.transcription_sensitive
    clear = attrition_from_counts(4000, 3697, 4000, 3600, boundary="optimistic")
    assert clear.low_attrition and not clear.transcription_sensitive
    assert not attrition_from_counts(4000, 3697, 4000, 3263).transcription_sensitive


# --- Benjamini-Hochberg, improvement index, Cox index ---------------------------------------


def test_benjamini_hochberg_against_a_hand_computation():
    # M = 5, alpha = 0.05: thresholds i * 0.01; sorted p: .001 .008 .039 .041 .06
    # p_(2) = .008 <= .02 and no larger i passes (.039 > .03, .041 > .04, .06 > .05)
    p = [0.039, 0.001, 0.06, 0.008, 0.041]
    adjusted, significant = benjamini_hochberg(p)
    assert significant.tolist() == [False, True, False, True, False]
    # 5 p_(i) / i = .005 .02 .065 .05125 .06; running minimum from the top: .005 .02 .05125
    # .05125 .06
    assert adjusted.tolist() == pytest.approx([0.05125, 0.005, 0.06, 0.02, 0.05125])
    # the largest passing rank carries smaller ones with it (step-up)
    adj, sig = benjamini_hochberg([0.02, 0.025, 0.03])  # .03 <= 3 * .05 / 3
    assert sig.all() and adj.tolist() == pytest.approx([0.03, 0.03, 0.03])
    adj, sig = benjamini_hochberg([np.nan, 0.01])
    assert math.isnan(adj[0]) and sig.tolist() == [False, True]
    with pytest.raises(ValueError, match="p-values must be in"):
        benjamini_hochberg([1.2])


def test_improvement_index():
    assert improvement_index(0.0) == 0.0
    assert type(improvement_index(0.25)) is float  # a number for a number, an array for an array
    assert isinstance(improvement_index(np.array([0.0, 0.25])), np.ndarray)
    assert improvement_index(0.25) == pytest.approx(100 * (stats.norm.cdf(0.25) - 0.5))
    assert improvement_index(1.0) == pytest.approx(34.13, abs=0.01)
    assert improvement_index(np.array([-0.5, 0.5])).tolist() == pytest.approx(
        [-19.15, 19.15], abs=0.01
    )


def test_cox_effect_size_by_hand():
    # 60/100 vs 50/100: ln OR = ln(1.5), omega = 1 - 3/(4*200 - 9)
    es, se, lo, hi = cox_effect_size(60, 100, 50, 100)
    omega = 1 - 3 / 791
    assert es == pytest.approx(omega * math.log(1.5) / 1.65)
    assert se == pytest.approx(omega * math.sqrt(1 / 60 + 1 / 40 + 1 / 50 + 1 / 50) / 1.65)
    assert lo == pytest.approx(es - 1.959964 * se, rel=1e-6)
    assert hi == pytest.approx(es + 1.959964 * se, rel=1e-6)
    assert cox_effect_size(60, 100, 50, 100, design_effect=4.0)[1] == pytest.approx(2 * se)
    assert all(math.isnan(v) for v in cox_effect_size(0, 100, 50, 100))
    assert WWC_DEFAULT_ICC == {"achievement": 0.20, "behavioral": 0.10}


# --- ratings ----------------------------------------------------------------------------------


def test_ratings_follow_the_standards():
    low = wwc_rating(RatingInput("student", True, "cautious"))
    assert low.rating == MEETS_WITHOUT and "baseline equivalence is not required" in low.reasons[1]
    high_ok = wwc_rating(
        RatingInput(
            "student",
            False,
            "cautious",
            baseline="requires statistical adjustment",
            adjusted=["pretest"],
            needs_adjustment=["pretest"],
        )
    )
    assert high_ok.rating == MEETS_WITH
    assert high_ok.reasons[1] == (
        "baseline equivalence is satisfied with statistical adjustment: differences between "
        "0.05 and 0.25 standard deviations in pretest, for which the impact model adjusts"
    )
    balanced = wwc_rating(RatingInput("student", False, "cautious", baseline="satisfied"))
    assert balanced.rating == MEETS_WITH and balanced.reasons[1] == (
        "baseline equivalence is satisfied: every baseline difference is at most 0.05 standard "
        "deviations"
    )
    not_adjusted = wwc_rating(
        RatingInput(
            "student",
            False,
            "cautious",
            baseline="requires statistical adjustment",
            needs_adjustment=["pretest"],
        )
    )
    assert not_adjusted.rating == DOES_NOT_MEET
    assert "does not adjust for pretest" in not_adjusted.reasons[1]
    failing = wwc_rating(
        RatingInput("student", False, "cautious", baseline="not satisfied", failing=["pretest"])
    )
    assert failing.rating == DOES_NOT_MEET and "exceeds 0.25" in failing.reasons[1]
    missing = wwc_rating(RatingInput("student", False, "optimistic"))
    assert missing.rating == DOES_NOT_MEET and "no baseline measure" in missing.reasons[1]
    cluster = wwc_rating(
        RatingInput(
            "cluster",
            True,
            "cautious",
            cluster_level=True,
            low_cluster_attrition=False,
            baseline="satisfied",
        )
    )
    assert cluster.rating == MEETS_WITH
    assert cluster.reasons[0].startswith("cluster-level attrition is high")


# --- moderators ---------------------------------------------------------------------------------


def test_moderation_finds_a_built_in_crossover_and_no_interaction_when_there_is_none():
    rng = np.random.default_rng(3)
    n = 4000
    arm = rng.choice(["video", "text"], n)
    pref = rng.choice(["video", "text"], n)
    base = rng.standard_normal(n)
    meshing = 0.3 * (arm == pref)  # the crossover the meshing hypothesis predicts
    frame = pd.DataFrame({"arm": arm, "pref": pref, "y": meshing + base, "null": base})
    res = moderation(frame, "y", treatment="video", control="text", moderator="pref")
    effects = res.table.set_index("level")["estimate"]
    assert effects["pref = video"] == pytest.approx(0.3, abs=0.1)
    assert effects["pref = text"] == pytest.approx(-0.3, abs=0.1)
    assert res.p_value < 1e-6 and res.df_num == 1
    null = moderation(frame, "null", treatment="video", control="text", moderator="pref")
    assert null.p_value > 0.01
    with pytest.raises(
        ValueError,
        match="^moderation: level 'text' of moderator 'pref' has no student in arm 'video'",
    ):
        moderation(
            frame.assign(pref=np.where(frame["arm"] == "video", "x", frame["pref"])),
            "y",
            treatment="video",
            control="text",
            moderator="pref",
        )


# --- cluster-adjusted g: the t interval -------------------------------------------------------


def test_cluster_g_intervals_coverage_at_four_plus_four_clusters():
    """400 trials of 4 + 4 clusters of 10, ICC 0.2, true g 0.3. Binomial SE of a coverage near
    0.95 is 0.011, so 0.95 +/- 0.035 is a 3-SE band; the normal interval with an estimated ICC
    falls below it, the t interval on clusters - 2 df and the WWC default ICC stay in it, and the
    t interval on Hedges' h barely differs from the normal one (h is near the number of
    students)."""
    rng = np.random.default_rng(2024)
    m, size, rho, delta, reps = 8, 10, 0.2, 0.3, 400
    cl = np.repeat(np.arange(m), size)
    arm = np.where(cl < m // 2, "t", "c")
    cover = {"z": 0, "t_h": 0, "t_clusters": 0, "wwc": 0}
    for _ in range(reps):
        u = rng.standard_normal(m) * math.sqrt(rho)
        y = u[cl] + rng.standard_normal(m * size) * math.sqrt(1 - rho) + delta * (arm == "t")
        frame = pd.DataFrame({"y": y, "arm": arm, "cl": cl})
        for interval in ("z", "t_h", "t_clusters"):
            g = hedges_g(frame, "y", treatment="t", control="c", cluster="cl", interval=interval)
            cover[interval] += g.ci_low <= delta <= g.ci_high
        g = hedges_g(frame, "y", treatment="t", control="c", cluster="cl", icc=0.2)
        cover["wwc"] += g.ci_low <= delta <= g.ci_high
    rate = {k: v / reps for k, v in cover.items()}
    assert rate["z"] < 0.93
    assert abs(rate["t_h"] - rate["z"]) <= 0.01
    assert abs(rate["t_clusters"] - 0.95) <= 0.035
    assert abs(rate["wwc"] - 0.95) <= 0.035
    g = hedges_g(frame, "y", treatment="t", control="c", cluster="cl", interval="t_clusters")
    assert g.interval == "t_clusters" and g.interval_df == 6.0
    assert "t interval on clusters - 2 = 6.0 df" in str(g)
    with pytest.raises(ValueError, match="interval must be 'z', 't_h' or 't_clusters'"):
        hedges_g(frame, "y", treatment="t", control="c", cluster="cl", interval="wald")


def test_benjamini_hochberg_accepts_p_values_of_0_and_1():
    adjusted, significant = benjamini_hochberg([0.0, 1.0, 0.5])
    assert adjusted.tolist() == [0.0, 1.0, 0.75] and significant.tolist() == [True, False, False]
    with pytest.raises(ValueError):
        benjamini_hochberg([0.2, 1.0000001])


def test_cox_effect_size_of_a_rate_of_0_or_1_is_four_nans():
    for counts in ((0, 20, 5, 20), (20, 20, 5, 20), (5, 20, 0, 20), (5, 20, 20, 20)):
        estimate, std_error, ci_low, ci_high = cox_effect_size(*counts)
        assert all(math.isnan(v) for v in (estimate, std_error, ci_low, ci_high))


def test_benjamini_hochberg_edges():
    # a p-value equal to its step-up threshold i * alpha / m counts as significant
    adjusted, significant = benjamini_hochberg([0.025, 0.05])
    assert significant.tolist() == [True, True] and adjusted.tolist() == [0.05, 0.05]
    for alpha in (0.0, 1.0):
        with pytest.raises(ValueError) as err:
            benjamini_hochberg([0.01], alpha=alpha)
        assert str(err.value) == f"alpha must be strictly between 0 and 1, got {alpha}"
    with pytest.raises(ValueError) as err:
        benjamini_hochberg([0.2, 1.5, -0.1])
    assert str(err.value) == "p-values must be in [0, 1], got 1.5"  # the first bad one
    with pytest.raises(ValueError) as err:
        benjamini_hochberg([0.2, -0.1])
    assert str(err.value) == "p-values must be in [0, 1], got -0.1"
    adjusted, significant = benjamini_hochberg([np.nan, np.nan])
    assert np.isnan(adjusted).all() and not significant.any()


def test_a_rating_is_frozen():
    import dataclasses

    rating = wwc_rating(RatingInput("student", True, "cautious"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        rating.rating = "x"  # type: ignore[misc]
