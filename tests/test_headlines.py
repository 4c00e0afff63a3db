"""The headline sentences the reports' index leads with: written from the numbers they are given."""

from __future__ import annotations

import pandas as pd

from edstudy.experiment.sweep import sweep_headline
from edstudy.investigations import knowledge_tracing as kt
from edstudy.investigations import media_preferences as mx
from edstudy.investigations.real_cohort import RealCohortResult


def test_knowledge_tracing_headline_names_the_best_variant():
    table = pd.DataFrame(
        {
            "variant": ["standard", "forgets", "standard", "forgets"],
            "protocol": ["new students"] * 2 + ["returning students"] * 2,
            "auc": [0.71, 0.72, 0.80, 0.79],
        }
    )
    assert kt.headline(table) == (
        "On ASSISTments 2009, **forgets** predicts new students best (AUC 0.720, standard BKT "
        "0.710)."
    )
    assert "SIMULATED" in kt.headline(table, real=False)


def test_meshing_headline_reads_the_interval():
    table = pd.DataFrame(
        {"estimate": [0.004, 0.06], "lower": [-0.02, 0.03], "upper": [0.03, 0.09],
         "true_match": [0.0, 0.05]},
        index=["no meshing", "meshing"],
    )  # fmt: skip
    assert mx.headline(table) == (
        "The meshing test where no meshing finds no match effect (+0.004 [-0.020, +0.030]; true "
        "+0.000); where meshing finds a match effect (+0.060 [+0.030, +0.090]; true +0.050)."
    )


def test_sweep_headline_compares_the_ends():
    table = pd.DataFrame(
        {"scenario": "base", "mastery_threshold": [0.95, 0.8],
         "practice_minutes": [190.0, 150.0], "posttest": [0.80, 0.74],
         "dropped_out": [0.12, 0.10]}
    )  # fmt: skip
    assert sweep_headline(table, "mastery_threshold") == (
        "Raising mastery_threshold from 0.8 to 0.95 changes practice by +40 minutes per student, "
        "the post-test by +6.0 points and dropout by +2.0 points."
    )


def _result(ranks: dict[str, list[int]], aucs: dict[str, float]) -> RealCohortResult:
    class Matrix:
        models = tuple(ranks)
        strategies = ("a", "b", "c")

    Matrix.ranks = pd.DataFrame(ranks, index=pd.Index(["a", "b", "c"], name="strategy"))
    scores = pd.DataFrame({"auc": aucs}, index=pd.Index(list(aucs), name="model"))
    return RealCohortResult(
        log=pd.DataFrame(), models={}, scores=scores, matrix=Matrix(), thresholds=pd.DataFrame(),
        timings={}, settings=None,
    )  # fmt: skip


def test_real_cohort_headline_checks_the_best_predicting_model():
    same = _result({"m1": [1, 2, 3], "m2": [1, 3, 2]}, {"m1": 0.7, "m2": 0.75})
    assert same.headline() == (
        "Under every student model (m1, m2) a rank first on expected post-test mastery; under "
        "m2, the model that predicts held-out students best (AUC 0.750), a rank first: the "
        "verdict holds."
    )
    flips = _result({"m1": [1, 2, 3], "m2": [2, 1, 3], "m3": [1, 3, 2]}, {"m2": 0.75, "m1": 0.7})
    assert flips.headline() == (
        "a rank first under 2 of 3 student models on expected post-test mastery; under m2, the "
        "model that predicts held-out students best (AUC 0.750), b rank first: the verdict does "
        "not hold."
    )
