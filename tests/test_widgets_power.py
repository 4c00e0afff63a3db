"""The power planner widget and the planning tables behind it (edstudy.stats.planning,
trial_simulation, pilot)."""

from __future__ import annotations

import numpy as np
import pytest

from edstudy.stats.pilot import pilot_estimates
from edstudy.stats.planning import (
    common_designs,
    describe_design,
    power_curve,
    sample_size_table,
)
from edstudy.stats.power import (
    ClusterDesign,
    IndividualDesign,
    ThreeLevelDesign,
    mdes,
    power,
    sample_size,
)
from edstudy.stats.trial_simulation import simulate_trial, simulation_check
from edstudy.widgets.power_planner import PowerPlanner, power_planner

PNG = b"\x89PNG"


@pytest.fixture
def planner() -> PowerPlanner:
    return power_planner(n_units=40, cluster_size=25, icc=0.15, r2=0.5, effect=0.25, n_sims=40)


def test_initial_state_matches_the_formulas(planner):
    design = ClusterDesign(
        n_clusters=40, cluster_size=25, icc=0.15, r2_level1=0.5, r2_level2=0.5, n_covariates=1
    )
    assert planner.design == design
    assert planner.mdes == pytest.approx(mdes(design))
    assert planner.power == pytest.approx(power(design, 0.25))  # 0.718, PowerUp! CRA2_2r
    assert planner.required_units == sample_size(design, 0.25)
    assert planner.message == ""
    assert planner.figure_png.startswith(PNG)
    assert "0.718" in planner.result_html.value


def test_icc_changes_the_mdes(planner):
    before = planner.mdes
    planner.icc.value = 0.2
    assert planner.mdes > before
    assert planner.mdes == pytest.approx(
        mdes(
            ClusterDesign(
                n_clusters=40,
                cluster_size=25,
                icc=0.2,
                r2_level1=0.5,
                r2_level2=0.5,
                n_covariates=1,
            )
        )
    )
    planner.r2.value = 0.0
    assert planner.design.n_covariates == 0
    planner.effect.value = 0.4
    assert planner.power == pytest.approx(power(planner.design, 0.4))
    assert planner.curve["effect"].eq(0.4).all()


def test_design_kinds_and_visible_controls(planner):
    planner.design_kind.value = "three-level"
    assert isinstance(planner.design, ThreeLevelDesign)
    assert planner.classes_per_school.layout.display is None
    assert planner.icc_school.layout.display is None
    assert planner.n_units.description == "Schools randomized"
    planner.design_kind.value = "individual"
    assert isinstance(planner.design, IndividualDesign)
    assert planner.icc.layout.display == "none"
    assert planner.cluster_size.layout.display == "none"
    assert planner.n_units.description == "Students randomized"


def test_impossible_settings_show_a_message(planner):
    planner.n_units.min = 1
    planner.n_units.value = 3  # 3 clusters, 1 covariate: 0 degrees of freedom
    assert planner.mdes is None and planner.design is None
    assert planner.message.startswith("too few clusters: a two-level cluster design with 3")
    assert planner.errors.widget.layout.display == "block"
    planner.n_units.value = 30
    assert planner.message == "" and planner.mdes is not None


def test_curve_reaches_the_units_needed(planner):
    planner.n_units.value = 10
    planner.r2.value = 0.0
    planner.effect.value = 0.1  # a small effect needs many classes
    need = planner.required_units
    assert need == sample_size(planner.design, 0.1)
    assert need > 100
    assert f"{need} classes" in planner.result_html.value
    values = planner.curve["value"]
    assert values.is_monotonic_increasing and values.max() >= need
    assert 10 in set(values)  # the current design is on the curve


def test_simulation_check_with_progress(planner):
    planner.n_units.value = 20
    check = planner.simulate()
    assert planner.message == ""
    assert check is planner.check
    row = check.iloc[0]
    assert row["value"] == 20 and row["n_sims"] == 40
    assert row["analytic"] == pytest.approx(planner.power)
    # wiring: the row's numbers are the ones shown (the interval is tested in test_power.py)
    shown = f"{row['simulated']:.3f} (95% CI {row['ci_low']:.3f} to {row['ci_high']:.3f}, 40 trials"
    assert shown in planner.check_html.value
    assert "Simulated power" in planner.check_html.value
    assert planner.progress.bar.value == planner.progress.bar.max == 40
    assert not planner.progress.visible
    planner.icc.value = 0.1  # a new design drops the old check
    assert planner.check is None and planner.check_html.value == ""


# --- planning tables ------------------------------------------------------------------------------


def test_simulated_trials_have_the_stated_variance_structure():
    design = ThreeLevelDesign(
        n_schools=300,
        classes_per_school=4,
        class_size=10,
        icc_school=0.1,
        icc_class=0.15,
        r2_level1=0.5,
        r2_level2=0.5,
        r2_level3=0.5,
        n_covariates=1,
    )
    frame = simulate_trial(np.random.default_rng(1), design, 0.0)
    assert len(frame) == 300 * 4 * 10
    # Tolerances: 1,000 seeds give SDs 0.017 (variance, mean 1.000), 0.0127 (school means, 8% of
    # 0.156) and 0.0084 (R2, mean 0.500). The variance's 0.05 and the school means' 20% are 2.9
    # and 2.5 SD (kept); the R2's 0.025 is 3 SD (was 0.05).
    assert frame["posttest_z"].var() == pytest.approx(1.0, abs=0.05)
    assert frame.groupby("school_id")["arm"].nunique().eq(1).all()  # schools randomized
    assert (frame["arm"] == "treatment").mean() == 0.5
    # variance of school means = rho3 + rho2 / J + rho1 / (J n)
    expected = 0.1 + 0.15 / 4 + 0.75 / 40
    assert frame.groupby("school_id")["posttest_z"].mean().var() == pytest.approx(expected, rel=0.2)
    r = np.corrcoef(frame["pretest_z"], frame["posttest_z"])[0, 1]
    assert r**2 == pytest.approx(0.5, abs=0.025)


def test_simulation_check_agrees_with_the_formula():
    design = ClusterDesign(
        n_clusters=20, cluster_size=20, icc=0.1, r2_level1=0.5, r2_level2=0.5, n_covariates=1
    )
    calls = []
    check = simulation_check(
        design, [12, 30], effect=0.3, n_sims=150, seed=3, step=lambda: calls.append(1)
    )
    assert len(calls) == 300
    assert list(check["value"]) == [12, 30]
    # the trials draw their pretest, so they target the exact power (0.376 and 0.823; the
    # formula's are 0.407 and 0.837): 3 binomial SEs of 150 trials, 0.119 and 0.094 (was 0.13
    # around the formula)
    for row in check.itertuples():
        assert abs(row.simulated - row.exact) <= 3 * np.sqrt(row.exact * (1 - row.exact) / 150)
    again = simulation_check(design, [12, 30], effect=0.3, n_sims=150, seed=3)
    assert list(again["simulated"]) == list(check["simulated"])


def test_power_curve_and_sample_size_table():
    design = ClusterDesign(n_clusters=10, cluster_size=25, icc=0.2)
    curve = power_curve(design, [2, 4, 10, 40], effect=0.3)
    assert list(curve["value"]) == [4, 10, 40]  # 2 clusters leave no degrees of freedom
    assert curve["power"].is_monotonic_increasing and curve["mdes"].is_monotonic_decreasing
    designs = common_designs(iccs=(0.2,), r2=(0.0,))
    table = sample_size_table(designs, [0.25])
    assert list(table["unit"]) == ["students", "classes", "schools"]
    assert table.loc[1, "units"] == sample_size(
        ClusterDesign(n_clusters=10, cluster_size=25, icc=0.2), 0.25
    )
    assert table.loc[1, "students"] == 25 * table.loc[1, "units"]
    wide = sample_size_table(designs, [0.25, 0.3], wide=True)
    assert list(wide.columns) == ["design", "effect 0.25", "effect 0.3"]
    assert wide.iloc[1, 1].endswith("students)")
    assert describe_design(design) == "two-level, 10 clusters x 25, ICC 0.2"


def test_pilot_estimates_recover_the_design():
    design = ClusterDesign(
        n_clusters=200, cluster_size=20, icc=0.2, r2_level1=0.4, r2_level2=0.6, n_covariates=1
    )
    frame = simulate_trial(np.random.default_rng(2), design, 0.3)
    pilot = pilot_estimates(
        frame, treatment="treatment", control="control", outcome="posttest_z", covariate="pretest_z"
    )
    # 3 SD: 300 seeds give SDs 0.0196, 0.0124, 0.050 and 0.046 (means 0.200, 0.399, 0.602,
    # 0.297); the effect's is its analytic SE, sqrt(4/200 (0.2 0.4 + 0.8 0.6 / 20)) = 0.046.
    # Were 0.06 (kept), 0.05, 0.2 and 0.1 (2.2 SD).
    assert pilot.icc == pytest.approx(0.2, abs=0.06)
    assert pilot.r2_level1 == pytest.approx(0.4, abs=0.037)
    assert pilot.r2_level2 == pytest.approx(0.6, abs=0.15)
    assert pilot.effect == pytest.approx(0.3, abs=0.14)
    assert pilot.n_clusters == 200
    assert pilot.design(40, 20).n_covariates == 1


# --- the planner's modelling choices, in edstudy.stats.planning ----------------------------------


def test_make_design_puts_the_pretest_at_every_level():
    from edstudy.stats.planning import make_design

    d = make_design("three-level", 20, cluster_size=20, classes_per_school=3, icc=0.1, r2=0.4)
    assert isinstance(d, ThreeLevelDesign)
    assert (d.r2_level1, d.r2_level2, d.r2_level3, d.n_covariates) == (0.4, 0.4, 0.4, 1)
    assert (d.n_schools, d.classes_per_school, d.class_size) == (20, 3, 20)
    plain = make_design("individual", 300)
    assert plain == IndividualDesign(n=300, r2=0.0, n_covariates=0)
    with pytest.raises(ValueError, match=r"kind must be one of \['two-level', 'three-level'"):
        make_design("four-level", 10)
    with pytest.raises(ValueError, match="icc"):
        make_design("two-level", 10, icc=1.5)


def test_plan_power_reaches_the_units_it_says_are_needed():
    from edstudy.stats.planning import make_design, plan_power

    design = make_design("two-level", 20, cluster_size=25, icc=0.15, r2=0.5)
    plan = plan_power(design, 0.25, target_power=0.8, alpha=0.05)
    need = plan.required_units

    # the smallest number of classes whose MDES is at most the effect: one fewer does not reach it
    def at(units: int) -> ClusterDesign:
        return ClusterDesign(
            n_clusters=units,
            cluster_size=25,
            icc=0.15,
            r2_level1=0.5,
            r2_level2=0.5,
            n_covariates=1,
        )

    assert mdes(at(need), power=0.8) <= 0.25 < mdes(at(need - 1), power=0.8)
    assert plan.power == pytest.approx(power(design, 0.25))
    curve = plan.curve.set_index("value")
    assert 20 in curve.index and curve.index.max() >= need
    assert curve["power"].is_monotonic_increasing
    text = plan.to_markdown()
    assert f"| classes needed for 0.25 SD | {need} classes |" in text
    # an effect too small for any number of classes within the search limit: said, not raised
    tiny = plan_power(make_design("two-level", 10, cluster_size=2, icc=0.45), 0.05, max_units=50)
    assert tiny.required_units is None
    assert "cannot reach it" in tiny.to_frame()["value"].iloc[3]
