"""WWC attrition boundary and baseline equivalence (edstudy.stats.attrition)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from edstudy.stats.attrition import (
    WWC_CAUTIOUS_PCT,
    WWC_OPTIMISTIC_PCT,
    attrition,
    attrition_from_counts,
    baseline_equivalence,
    cox_index,
    wwc_attrition_boundary,
    wwc_boundary_table,
    wwc_equivalence_category,
)


def test_boundary_table_shape_and_published_values():
    table = wwc_boundary_table()
    assert list(table["overall_pct"]) == list(range(66))
    assert len(WWC_CAUTIOUS_PCT) == 58 and len(WWC_OPTIMISTIC_PCT) == 66
    # WWC Standards Handbook v4.1, Table II.1: a few rows
    rows = table.set_index("overall_pct")
    assert tuple(rows.loc[0]) == (5.7, 10.0)
    assert tuple(rows.loc[10]) == (6.3, 10.9)
    assert tuple(rows.loc[30]) == (4.1, 8.2)
    assert tuple(rows.loc[50]) == (1.0, 3.7)
    assert rows.loc[57, "cautious_pct"] == 0.0
    assert math.isnan(rows.loc[58, "cautious_pct"])
    assert rows.loc[65, "optimistic_pct"] == 0.3
    # the optimistic boundary is always the more lenient one
    both = table.dropna()
    assert (both["optimistic_pct"] > both["cautious_pct"]).all()


def test_boundary_lookup():
    assert wwc_attrition_boundary(0.10) == 0.063
    assert wwc_attrition_boundary(0.10, "optimistic") == 0.109
    assert wwc_attrition_boundary(0.125) == 0.061  # 12.5% rounds to the 13% row
    assert math.isnan(wwc_attrition_boundary(0.60))
    assert wwc_attrition_boundary(0.60, "optimistic") == 0.014
    assert math.isnan(wwc_attrition_boundary(0.70, "optimistic"))
    with pytest.raises(
        ValueError, match="boundary must be 'cautious' or 'optimistic', got 'liberal'"
    ):
        wwc_attrition_boundary(0.1, "liberal")
    with pytest.raises(
        ValueError, match=r"overall attrition must be a proportion in \[0, 1\], got 12"
    ):
        wwc_attrition_boundary(12)


@pytest.mark.parametrize(
    ("counts", "cautious", "optimistic"),
    [
        # the WWCr package's documented examples: attritest(ai, ni, ac, nc)
        ((40, 20, 49, 31), False, False),  # overall 43%, differential 13 pp
        ((40, 30, 48, 40), False, True),  # overall 20%, differential 8 pp
        ((20, 10, 200, 100), True, True),  # overall 50%, differential 0
        ((100, 95, 100, 94), True, True),
    ],
)
def test_attrition_from_counts_verdicts(counts, cautious, optimistic):
    rt, at, rc, ac = counts
    assert attrition_from_counts(rt, at, rc, ac).low_attrition is cautious
    assert attrition_from_counts(rt, at, rc, ac, boundary="optimistic").low_attrition is optimistic


def test_attrition_on_the_boundary_counts_as_low():
    # overall 10% (row 10: cautious 6.3 pp): 1000 + 1000 randomized, 200 lost, 12.6% vs 7.4%
    r = attrition_from_counts(1000, 874, 1000, 926)
    assert r.overall == pytest.approx(0.10)
    assert r.differential == pytest.approx(0.052)
    assert r.low_attrition
    edge = attrition_from_counts(1000, 868, 1000, 932)  # differential 6.4 pp > 6.3
    assert not edge.low_attrition
    exact = attrition_from_counts(2000, 1737, 2000, 1863)  # 13.15% vs 6.85%: exactly 6.3 pp
    assert exact.differential == pytest.approx(0.063)
    assert exact.low_attrition


def test_attrition_from_outcomes_table():
    df = pd.DataFrame(
        {
            "arm": ["personalized"] * 100 + ["individualized"] * 100,
            "posttest": [0.5] * 88 + [np.nan] * 12 + [0.4] * 95 + [np.nan] * 5,
            "dropped_out": pd.array(
                [False] * 90 + [True] * 8 + [None] * 2 + [False] * 95 + [True] * 5, dtype="boolean"
            ),
        }
    )
    before = df.copy()
    r = attrition(df, treatment="personalized", control="individualized")
    assert (r.analyzed_treatment, r.analyzed_control) == (88, 95)
    assert r.overall == pytest.approx(17 / 200)
    assert r.differential == pytest.approx(0.07)
    assert not r.low_attrition  # 8.5% -> row 9 (cautious 6.3 pp)
    assert attrition(
        df, treatment="personalized", control="individualized", boundary="optimistic"
    ).low_attrition
    lost = attrition(df, treatment="personalized", control="individualized", lost="dropped_out")
    assert lost.analyzed_treatment == 90  # a missing flag counts as lost
    pd.testing.assert_frame_equal(df, before)
    text = str(r)
    assert text.startswith(
        "HIGH attrition under the WWC cautious boundary: overall 8.5%, differential 7.0 pp"
    )
    assert r.to_frame().loc[0, "low_attrition"] == False  # noqa: E712
    with pytest.raises(ValueError, match="unknown arm level 'video'"):
        attrition(df, treatment="video", control="individualized")
    with pytest.raises(ValueError, match="^outcome column 'score' is not in outcomes"):
        attrition(df, treatment="personalized", control="individualized", outcome="score")


def test_equivalence_categories():
    assert wwc_equivalence_category(0.05) == "satisfied"
    assert wwc_equivalence_category(-0.049) == "satisfied"
    assert wwc_equivalence_category(0.051) == "requires statistical adjustment"
    assert wwc_equivalence_category(-0.25) == "requires statistical adjustment"
    assert wwc_equivalence_category(0.2501) == "not satisfied"
    assert wwc_equivalence_category(float("nan")) == "undefined"


def test_cox_index_hand_computation():
    # omega (1 - 3/(4N - 9)) times the log odds ratio over 1.65
    omega = 1 - 3 / (4 * 89 - 9)
    expected = omega * (math.log(0.5 / 0.5) - math.log((31 / 49) / (18 / 49))) / 1.65
    assert cox_index(20 / 40, 31 / 49, 40, 49) == pytest.approx(expected)
    for rates in ((0.0, 0.3), (1.0, 0.3), (0.3, 0.0), (0.3, 1.0)):  # infinite log odds: NaN
        assert math.isnan(cox_index(*rates, 10, 10))


def test_baseline_equivalence_table():
    rng = np.random.default_rng(0)
    n = 400
    arm = np.repeat(["personalized", "individualized"], n)
    pretest = np.concatenate([rng.normal(0.55, 0.1, n), rng.normal(0.50, 0.1, n)])
    prior = np.concatenate([rng.normal(0, 1, n), rng.normal(0, 1, n)])
    girl = np.concatenate([rng.random(n) < 0.5, rng.random(n) < 0.5])
    df = pd.DataFrame({"arm": arm, "pretest": pretest, "prior": prior, "girl": girl})
    r = baseline_equivalence(
        df, ["pretest", "prior", "girl"], treatment="personalized", control="individualized"
    )
    table = r.to_frame().set_index("term")
    assert table.loc["pretest", "category"] == "not satisfied"  # about half an SD
    assert table.loc["girl", "measure"] == "cox_index"
    assert table.loc["pretest", "measure"] == "hedges_g"
    assert r.overall == "not satisfied"
    small = baseline_equivalence(
        df.assign(pretest=np.concatenate([pretest[:n] - 0.04, pretest[n:]])),
        ["pretest"],
        treatment="personalized",
        control="individualized",
    )
    g = small.table.loc[0, "estimate"]
    assert 0.05 < g <= 0.25 and small.overall == "requires statistical adjustment"
    assert small.adjust_for == ["pretest"]
    assert str(small).startswith(
        "baseline equivalence (personalized vs individualized): requires statistical adjustment"
    )
    lines = str(small).splitlines()  # the table without its row index
    assert lines[1].split() == ["term", "measure", "estimate", "category"]
    assert lines[2].split()[:2] == ["pretest", "hedges_g"]


def test_attrition_result_prints_its_counts_and_rates_exactly():
    r = attrition_from_counts(100, 90, 100, 85)
    assert str(r) == (
        "LOW attrition under the WWC cautious boundary: overall 12.5%, differential 5.0 pp "
        "(boundary 6.1 pp)\n"
        "treatment: 90/100 analysed (attrition 10.0%); control: 85/100 analysed (attrition 15.0%)"
    )
    beyond = attrition_from_counts(10, 2, 10, 3)  # 75% overall: beyond the table
    assert "(beyond the table (every differential is high))" in str(beyond)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.low_attrition = False  # type: ignore[misc]


def test_smallest_arms_and_an_arm_with_no_one_analysed():
    one = attrition_from_counts(1, 1, 1, 0)  # one student per arm is a (tiny) trial
    assert one.attrition_treatment == 0.0 and one.attrition_control == 1.0
    gone = attrition_from_counts(10, 0, 10, 10)  # nobody analysed in an arm: 100% attrition
    assert gone.attrition_treatment == 1.0 and gone.overall == 0.5 and not gone.low_attrition
    for counts, message in (
        ((0, 0, 10, 10), "arm 'treatment' must have at least 1 randomized student, got 0"),
        ((10, -1, 10, 10), "arm 'treatment': analysed count must be between 0 and the 10 "
                           "randomized, got -1"),
        ((10, 10, 10, 11), "arm 'control': analysed count must be between 0 and the 10 "
                           "randomized, got 11"),
    ):  # fmt: skip
        with pytest.raises(ValueError) as err:
            attrition_from_counts(*counts)
        assert str(err.value) == message


def test_optimistic_verdicts_that_depend_on_the_transcription():
    """At 20% overall the Handbook's optimistic boundary is 10.0 pp and WWCr's 10.2 pp."""
    between = attrition_from_counts(2000, 1499, 2000, 1701, boundary="optimistic")  # 10.1 pp
    assert between.overall == pytest.approx(0.2) and between.differential == pytest.approx(0.101)
    assert not between.low_attrition and between.transcription_sensitive
    above = attrition_from_counts(4000, 2995, 4000, 3405, boundary="optimistic")  # 10.25 pp
    assert above.differential == pytest.approx(0.1025)
    assert not above.low_attrition and not above.transcription_sensitive
    cautious = attrition_from_counts(2000, 1499, 2000, 1701)  # never sensitive
    assert not cautious.low_attrition and not cautious.transcription_sensitive
    far = attrition_from_counts(100, 30, 100, 40, boundary="optimistic")  # 65%: beyond WWCr's
    assert not far.transcription_sensitive


def test_attrition_from_outcomes_ignores_students_without_an_arm():
    df = pd.DataFrame(
        {"arm": pd.array(["T", "T", "C", pd.NA], dtype="string"), "y": [1.0, np.nan, 2.0, 3.0]}
    )
    r = attrition(df, outcome="y", treatment="T", control="C")
    assert (r.randomized_treatment, r.analyzed_treatment) == (2, 1)
    assert (r.randomized_control, r.analyzed_control) == (1, 1)


def test_baseline_equivalence_of_0_1_covariates_counts_each_arm():
    df = pd.DataFrame(
        {
            "arm": pd.array(["T", "T", "T", "C", "C", pd.NA], dtype="string"),
            "girl": [1, 0, np.nan, 1, 1, 0],
            "score": [1.0, 2.0, 3.0, 2.0, 4.0, 5.0],
        }
    )
    r = baseline_equivalence(df, ["girl"], treatment="T", control="C")
    row = r.table.iloc[0]
    assert row["measure"] == "cox_index"  # 0/1 integers, not only booleans
    assert (row["n_treatment"], row["n_control"]) == (2, 2)
    assert (row["mean_treatment"], row["mean_control"]) == (0.5, 1.0)
    one = baseline_equivalence(df.iloc[[0, 1, 3]], ["girl"], treatment="T", control="C")
    assert one.table.iloc[0]["n_control"] == 1  # one student is enough for a rate
    assert (
        baseline_equivalence(df, ["score"], treatment="T", control="C").table.iloc[0]["measure"]
        == "hedges_g"
    )
    with pytest.raises(ValueError) as err:
        baseline_equivalence(df.assign(girl=[np.nan] * 3 + [1, 1, 0]), ["girl"], treatment="T",
                             control="C")  # fmt: skip
    assert str(err.value) == (
        "baseline_equivalence: covariate 'girl' has no non-missing values in an arm"
    )
    with pytest.raises(ValueError, match="^baseline_equivalence needs at least one covariate$"):
        baseline_equivalence(df, [], treatment="T", control="C")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.overall = "satisfied"  # type: ignore[misc]


def test_boundary_lookup_refuses_rates_outside_0_1():
    for overall in (-0.01, -1.0, 1.01):
        with pytest.raises(ValueError) as err:
            wwc_attrition_boundary(overall)
        assert str(err.value) == f"overall attrition must be a proportion in [0, 1], got {overall}"
    assert wwc_attrition_boundary(0.0) == 0.057 and math.isnan(wwc_attrition_boundary(1.0))


def test_a_result_is_not_transcription_sensitive_unless_computed_so():
    from edstudy.stats.attrition import AttritionResult

    defaults = {f.name: f.default for f in dataclasses.fields(AttritionResult)}
    assert defaults["transcription_sensitive"] is False


def test_the_boundary_and_arm_labels_are_keyword_only():
    with pytest.raises(TypeError):
        attrition_from_counts(100, 90, 100, 85, "optimistic")  # type: ignore[misc]


def test_transcription_sensitivity_at_the_edges_of_wwcr_s_table():
    # 10.2 pp at 20% overall: exactly WWCr's boundary (low there), above the Handbook's 10.0
    on = attrition_from_counts(1000, 749, 1000, 851, boundary="optimistic")
    assert on.differential == pytest.approx(0.102) and not on.low_attrition
    assert on.transcription_sensitive
    # 58% overall is past WWCr's last row (57%): nothing to compare with, never sensitive
    past = attrition_from_counts(100, 42, 100, 42, boundary="optimistic")
    assert past.low_attrition and not past.transcription_sensitive


def test_baseline_equivalence_edges_of_binary_covariates():
    df = pd.DataFrame(
        {
            "arm": ["T", "C", "C", "C"],
            "girl": [1, 0, 1, np.nan],
            "ones": [1, 1, 1, 1],
            "gone": [np.nan] * 4,
        }
    )
    one = baseline_equivalence(df, ["girl"], treatment="T", control="C").table.iloc[0]
    assert (one["n_treatment"], one["n_control"]) == (1, 2)  # one treated student is enough
    ones = baseline_equivalence(df, ["ones"], treatment="T", control="C").table.iloc[0]
    assert ones["measure"] == "cox_index" and ones["category"] == "undefined"  # a rate of 1
    with pytest.raises(ValueError) as err:  # all missing: not a binary measure, too few values
        baseline_equivalence(df, ["gone"], treatment="T", control="C")
    assert str(err.value) == (
        "hedges_g needs at least 2 students with a non-missing 'gone' in each arm; arm 'T' has 0"
    )
    no_control = df.assign(girl=[1, np.nan, np.nan, np.nan])
    with pytest.raises(ValueError, match="covariate 'girl' has no non-missing values in an arm"):
        baseline_equivalence(no_control, ["girl"], treatment="T", control="C")
