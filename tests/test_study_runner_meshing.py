"""The default study shows the two claims of the issue.

* meshing_0 (matched media teach no better): personalized and individualized differ only by what
  pacing explains: the personalized pacing twin (same rules, media picked at random) scores the
  same as personalized, and neither contrast with individualized excludes zero.
* meshing_high (the vendors' world): personalized wins, and matching media is why.
"""

from __future__ import annotations

import pytest

from edstudy.experiment import Study, run_study
from edstudy.sim import data_path


@pytest.fixture(scope="module")
def result():
    study = Study.from_yaml(data_path("default_study.yaml"))
    return run_study(study, progress=False, keep_log=False)


def diff(result, arm, reference, scenario):
    c = result.contrast(arm, reference)
    return c[c["scenario"] == scenario].iloc[0]


def test_without_meshing_only_pacing_separates_the_arms(result):
    media = diff(result, "personalized", "personalized_random_media", "meshing_0")
    assert media["ci_low"] < 0 < media["ci_high"] and abs(media["difference"]) < 0.01
    vendors = diff(result, "personalized", "individualized", "meshing_0")
    assert vendors["ci_low"] < 0 < vendors["ci_high"]
    pacing = diff(result, "personalized_random_media", "individualized", "meshing_0")
    assert abs(vendors["difference"] - (media["difference"] + pacing["difference"])) < 1e-12


def test_with_strong_meshing_personalized_wins(result):
    vendors = diff(result, "personalized", "individualized", "meshing_high")
    assert vendors["ci_low"] > 0.02
    media = diff(result, "personalized", "personalized_random_media", "meshing_high")
    assert media["ci_low"] > 0
    table = result.posttest_table()
    assert table.loc["personalized", "meshing_high"] > table.loc["individualized", "meshing_high"]


def test_mastery_learning_beats_one_size_in_both_worlds(result):
    for scenario in ("meshing_0", "meshing_high"):
        assert diff(result, "individualized", "one_size", scenario)["ci_low"] > 0.05
