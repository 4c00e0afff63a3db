"""Per-student random streams: Philox4x32-10, distributions, and chunking that changes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from edstudy.sim import PopulationSpec, builtin_strategy, default_curriculum, draw_cohort, simulate
from edstudy.sim._random import philox4x32, stream_key, uniforms
from edstudy.sim.population import draw_students

CUR = default_curriculum()

#: Random123's published known-answer vectors for Philox4x32-10 (its tests/kat_vectors).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("counter, key, expected", KAT)
def test_philox_matches_the_known_answers(counter, key, expected):
    assert philox4x32(counter, key) == expected


def test_uniforms_are_a_function_of_student_counter_and_purpose():
    key = stream_key(5)
    assert key == stream_key(np.random.SeedSequence(5)) and key != stream_key(6)
    ids = np.arange(1000, 3000)
    u = uniforms(key, ids, "practice", 5, counters=ids % 7)
    # any subset, in any order, gets the same numbers
    pick = np.array([1500, 1000, 2999])
    np.testing.assert_array_equal(
        uniforms(key, ids[pick - 1000], "practice", 5, counters=pick % 7), u[:, pick - 1000]
    )
    assert 0 < u.min() and u.max() < 1
    assert not np.array_equal(u, uniforms(key, ids, "offer", 5, counters=ids % 7))
    assert not np.array_equal(u[:, 1:], u[:, :-1])
    # a good uniform: Kolmogorov-Smirnov and no correlation between neighbouring slots
    flat = u.reshape(-1)
    assert stats.kstest(flat, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[0], u[1])[0, 1]) < 0.05


def test_population_distributions_are_kept():
    c = draw_cohort(PopulationSpec(icc_class=0.0, icc_school=0.0), CUR, 20_000, seed=3)
    assert stats.kstest(c.ability, "norm").pvalue > 1e-3
    assert c.interest.mean() == pytest.approx(0.5, abs=0.01)
    assert c.interest.var() == pytest.approx(1 / (4 * 5), abs=0.003)  # Beta(2, 2)
    odd = draw_cohort(PopulationSpec(interest_concentration=0.7), CUR, 5000, seed=3)
    assert stats.kstest(odd.interest[:, 0], "beta", args=(0.7, 0.7)).pvalue > 1e-3
    spec = PopulationSpec()
    assert c.goal.min() >= spec.goal_low and c.goal.max() <= spec.goal_high
    assert np.log(c.time_multiplier).std() == pytest.approx(spec.time_sd, rel=0.05)


def test_a_cohort_drawn_in_pieces_is_the_same_cohort():
    spec = PopulationSpec(meshing_effect=0.5)
    whole = draw_cohort(spec, CUR, 260, seed=9, class_size=20)
    parts = [
        draw_cohort(spec, CUR, 37, seed=9, class_size=20),
        draw_cohort(spec, CUR, 223, seed=9, class_size=20, first_id=37),
    ]
    some = draw_students(spec, CUR, np.array([5, 100, 259]), seed=9, class_size=20)
    for name in whole._ARRAYS:
        joined = np.concatenate([getattr(p, name) for p in parts])
        np.testing.assert_array_equal(joined, getattr(whole, name), err_msg=name)
        np.testing.assert_array_equal(getattr(some, name), getattr(whole, name)[[5, 100, 259]])
    assert whole.class_id[45] == 2 and whole.school_id[200] == 2


@pytest.mark.parametrize("name", ["adaptive", "personalized", "differentiated"])
def test_students_simulated_in_chunks_give_the_same_rows(name):
    cohort = draw_cohort(PopulationSpec(meshing_effect=0.5), CUR, 120, seed=4)
    strategy = builtin_strategy(name)
    if name == "personalized":
        strategy = builtin_strategy(name, pick="random")
    whole = simulate(cohort, CUR, strategy, seed=8)
    cuts = [0, 7, 50, 120]
    parts = [
        simulate(cohort.subset(np.arange(a, b)), CUR, strategy, seed=8)
        for a, b in zip(cuts[:-1], cuts[1:], strict=True)
    ]
    log = pd.concat([p.log for p in parts], ignore_index=True)
    out = pd.concat([p.outcomes for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(log, whole.log)
    pd.testing.assert_frame_equal(out, whole.outcomes)
