"""The shared figures of edstudy.plots: axes, labels and artists drawn from small tidy tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from edstudy import plots

ARMS = ["one_size", "individualized", "personalized"]
SCENARIOS = ["meshing_0", "meshing_high"]


def _errorbars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


@pytest.fixture
def summary() -> pd.DataFrame:
    rows = []
    for metric, label in [
        ("posttest", "post-test"),
        ("engagement", "engagement"),
        ("dropped_out", "dropped out"),
    ]:
        for s, scenario in enumerate(SCENARIOS):
            for a, arm in enumerate(ARMS):
                mean = 0.5 + 0.05 * a + 0.02 * s
                rows.append(
                    {
                        "scenario": scenario,
                        "arm": arm,
                        "metric": metric,
                        "label": label,
                        "mean": mean,
                        "ci_low": mean - 0.03,
                        "ci_high": mean + 0.03,
                    }
                )
    return pd.DataFrame(rows)


def test_arm_intervals_one_panel_per_metric(summary):
    fig = plots.arm_intervals(summary)
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert len(axes) == 3  # the empty fourth panel of the 2 x 2 grid is removed
    assert [ax.get_xlabel() for ax in axes] == ["post-test", "engagement", "dropped out"]
    for ax in axes:
        assert [t.get_text() for t in ax.get_yticklabels()] == ARMS
        bars = _errorbars(ax)
        assert len(bars) == len(SCENARIOS)  # one series per scenario
        assert [b.get_label() for b in bars] == SCENARIOS
        assert all(len(b.lines[0].get_xdata()) == len(ARMS) for b in bars)
    assert len(fig.legends) == 1  # scenarios are told apart by a figure legend


def test_arm_intervals_metric_selection_and_single_scenario(summary):
    one = summary[summary["scenario"] == "meshing_0"].drop(columns=["scenario", "label"])
    fig = plots.arm_intervals(one, metrics=["dropped_out"], title="Dropout")
    (ax,) = fig.get_axes()
    assert ax.get_xlabel() == "dropped_out"
    assert len(_errorbars(ax)) == 1
    assert not fig.legends
    assert fig.get_suptitle() == "Dropout"
    with pytest.raises(ValueError, match=r"no rows for metric\(s\) \['time'\]"):
        plots.arm_intervals(one, metrics=["time"])


def test_arm_intervals_names_a_missing_column(summary):
    with pytest.raises(
        ValueError, match=r"arm_intervals: the table has no column\(s\) \['ci_low'\]"
    ):
        plots.arm_intervals(summary.drop(columns="ci_low"))
    with pytest.raises(ValueError, match="has no rows"):
        plots.arm_intervals(summary.iloc[:0])


def test_effect_forest():
    table = pd.DataFrame(
        {
            "scenario": ["a", "a", "b", "b"],
            "arm": ["personalized", "blended"] * 2,
            "reference": ["individualized"] * 4,
            "g": [0.1, -0.05, 0.4, 0.0],
            "ci_low": [-0.1, -0.2, 0.2, -0.15],
            "ci_high": [0.3, 0.1, 0.6, 0.15],
        }
    )
    fig = plots.effect_forest(table, title="Post-test")
    (ax,) = fig.get_axes()
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "personalized vs individualized",
        "blended vs individualized",
    ]
    assert len(_errorbars(ax)) == 2
    assert ax.get_xlabel() == "Hedges' g (95% CI)"
    assert ax.get_title() == "Post-test"
    zero = [ln for ln in ax.get_lines() if list(ln.get_xdata()) == [0.0, 0.0]]
    assert len(zero) == 1  # the no-difference line
    assert ax.get_legend() is not None


def test_effect_forest_percent_scale():
    table = pd.DataFrame(
        {
            "arm": ["p"],
            "reference": ["i"],
            "difference": [-0.1],
            "ci_low": [-0.15],
            "ci_high": [-0.05],
        }
    )
    fig = plots.effect_forest(table, estimate="difference", xlabel="points", percent=True)
    (ax,) = fig.get_axes()
    (bar,) = _errorbars(ax)
    np.testing.assert_allclose(bar.lines[0].get_xdata(), [-10.0])
    assert ax.get_legend() is None


def test_sweep_tradeoff():
    values = [0.8, 0.9, 0.95]
    table = pd.DataFrame(
        {
            "scenario": "base",
            "mastery_threshold": values,
            "arm": [f"mastery_threshold={v}" for v in values],
        }
    )
    for col, base in (("practice_minutes", 150.0), ("posttest", 0.7), ("dropped_out", 0.2)):
        table[col] = base * np.array([1.0, 1.05, 1.1])
        table[f"{col}_low"] = table[col] * 0.95
        table[f"{col}_high"] = table[col] * 1.05
    fig = plots.sweep_tradeoff(table, parameter="mastery_threshold")
    axes = fig.get_axes()
    assert len(axes) == 2
    assert [ax.get_ylabel() for ax in axes] == [
        "post-test (proportion correct)",
        "dropped out (share of students)",
    ]
    for ax in axes:
        assert ax.get_xlabel() == "practice time (minutes per student)"
        assert len(_errorbars(ax)) == 1
        assert sorted(t.get_text() for t in ax.texts) == ["0.8", "0.9", "0.95"]
    with pytest.raises(ValueError, match=r"no column\(s\) \['posttest_low'"):
        plots.sweep_tradeoff(table.drop(columns="posttest_low"), parameter="mastery_threshold")


def test_power_curves_with_checks():
    curves = pd.DataFrame(
        {
            "design": ["ICC 0.1"] * 3 + ["ICC 0.2"] * 3,
            "parameter": "n_clusters",
            "value": [10, 20, 40] * 2,
            "power": [0.2, 0.4, 0.7, 0.1, 0.25, 0.5],
            "mdes": [0.6, 0.4, 0.28, 0.8, 0.55, 0.38],
        }
    )
    checks = pd.DataFrame(
        {
            "design": ["ICC 0.1"],
            "value": [20],
            "simulated": [0.42],
            "ci_low": [0.35],
            "ci_high": [0.49],
        }
    )
    fig = plots.power_curves(curves, checks=checks, effect=0.25)
    ax_p, ax_m = fig.get_axes()
    assert ax_p.get_ylabel() == "power"
    assert ax_m.get_ylabel() == "minimum detectable effect (SD, power 0.8)"
    assert ax_p.get_xlabel() == ax_m.get_xlabel() == "clusters randomized"
    # two design lines + the target-power line; two lines + the effect line
    assert len([ln for ln in ax_p.get_lines() if ln.get_label() in ("ICC 0.1", "ICC 0.2")]) == 2
    assert len(ax_m.get_lines()) == 3
    assert len(_errorbars(ax_p)) == 1 and not _errorbars(ax_m)
    legend = [t.get_text() for t in ax_p.get_legend().get_texts()]
    assert "ICC 0.1: simulated" in legend
    no_check = plots.power_curves(curves)
    assert not _errorbars(no_check.get_axes()[0])


@pytest.fixture
def matrix_table() -> pd.DataFrame:
    """A small Robust Evaluation Matrix table: 3 strategies x 2 models x 3 metrics."""
    rows = []
    for m, model in enumerate(["bkt", "ibkt"]):
        for s, strategy in enumerate(["one_size", "individualized", "personalized"]):
            for metric, mean in [
                ("posttest_mastery", 0.5 + 0.1 * s + 0.05 * m),
                ("opportunities", 20.0 + 5 * s - 2 * m),
                ("over_practice", 3.0),
            ]:
                rows.append(
                    {
                        "strategy": strategy,
                        "model": model,
                        "metric": metric,
                        "n_students": 100,
                        "mean": mean,
                        "ci_low": mean - 0.01,
                        "ci_high": mean + 0.01,
                    }
                )
    return pd.DataFrame(rows)


def test_matrix_tradeoff_one_series_per_model(matrix_table):
    before = matrix_table.copy()
    fig = plots.matrix_tradeoff(matrix_table, title="REM")
    pd.testing.assert_frame_equal(matrix_table, before)  # the caller's table is not modified
    assert isinstance(fig, Figure)
    (ax,) = fig.get_axes()
    assert ax.get_xlabel() == "practice opportunities per student"
    assert ax.get_ylabel() == "expected post-test mastery"
    assert ax.get_title() == "REM"
    series = ax.collections
    assert [c.get_label() for c in series] == ["bkt", "ibkt"]  # in order of appearance
    ibkt = series[1].get_offsets()
    expected = {(20.0 + 5 * s - 2, 0.55 + 0.1 * s) for s in range(3)}
    assert {(round(x, 6), round(y, 6)) for x, y in np.asarray(ibkt)} == {
        (round(x, 6), round(y, 6)) for x, y in expected
    }
    # one label per strategy and model
    names = sorted(t.get_text() for t in ax.texts)
    assert names == sorted(["one_size", "individualized", "personalized"] * 2)
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "student model"
    assert [t.get_text() for t in legend.get_texts()] == ["bkt", "ibkt"]


def test_matrix_tradeoff_other_metrics_and_bad_tables(matrix_table):
    fig = plots.matrix_tradeoff(matrix_table, x="over_practice", xlabel="over-practice")
    assert fig.get_axes()[0].get_xlabel() == "over-practice"
    with pytest.raises(
        ValueError, match=r"matrix_tradeoff: the table has no column\(s\) \['model'\]"
    ):
        plots.matrix_tradeoff(matrix_table.drop(columns="model"))
    with pytest.raises(ValueError, match=r"matrix_tradeoff: no rows for metric\(s\) \['opportun"):
        plots.matrix_tradeoff(matrix_table[matrix_table["metric"] != "opportunities"])
    with pytest.raises(ValueError, match="matrix_tradeoff: the table has no rows"):
        plots.matrix_tradeoff(matrix_table.iloc[:0])
    with pytest.raises(TypeError, match="matrix_tradeoff: expected a DataFrame, got dict"):
        plots.matrix_tradeoff({"strategy": []})  # type: ignore[arg-type]


def test_png_output():
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1])
    png = plots.figure_png(fig, dpi=40)
    assert png.startswith(b"\x89PNG")
    image = plots.png_image(fig, dpi=40)
    assert image.format == "png" and image.data.startswith(b"\x89PNG")


def test_package_exports_every_figure_and_is_a_leaf():
    import subprocess
    import sys

    names = {
        "arm_intervals",
        "choice_heatmap",
        "effect_forest",
        "estimate_vs_truth",
        "figure_png",
        "learning_curves",
        "mastery_heatmap",
        "matrix_tradeoff",
        "png_image",
        "power_curves",
        "preference_spread",
        "sweep_tradeoff",
    }
    assert names <= set(plots.__all__)
    assert all(callable(getattr(plots, n)) for n in names)
    code = (
        "import sys; import edstudy.plots; "
        "bad = sorted(m for m in sys.modules if m.startswith('edstudy.') "
        "and not m.startswith('edstudy.plots') and m != 'edstudy._format') "
        "+ [m for m in ('matplotlib.pyplot', 'IPython') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
