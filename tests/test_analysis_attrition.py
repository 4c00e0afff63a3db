"""WWC attrition boundary and baseline equivalence (edstudy.stats.attrition)."""

from __future__ import annotations

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
    assert math.isnan(cox_index(0.0, 0.3, 10, 10))


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
