"""The ASSISTments video-vs-text worked-example experiment analysed with analyze_ab_test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edstudy.stats import analyze_ab_test

pytestmark = pytest.mark.shared_data

FOLDER = "assistments_ab_video_vs_text"


def _load(real_data: Path) -> pd.DataFrame:
    """Outcomes table: student_id, arm ("video"/"text"), completed (bool), student_prior_*."""
    folder = real_data / FOLDER
    if not (folder / "abTestExample.csv.gz").is_file():
        pytest.skip(f"needs {folder / 'abTestExample.csv.gz'}")
    try:
        from edstudy.datasets import load_ab_video_vs_text
    except ImportError:  # the loader is written by another part of the project; read the CSV
        raw = pd.read_csv(folder / "abTestExample.csv.gz")
        video = raw["video"].astype(str).str.upper().eq("TRUE")
        return pd.DataFrame(
            {
                "student_id": raw["user_id"],
                "arm": np.where(video, "video", "text"),
                "completed": raw["completion"].astype(bool),
                **{c: raw[c] for c in raw.columns if c.startswith("student_prior_")},
            }
        )
    return load_ab_video_vs_text(path=folder)


@pytest.fixture(scope="module")
def ab(real_data: Path) -> pd.DataFrame:
    return _load(real_data)


def _covariates(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("student_prior_")]


def test_raw_rates_match_the_source(ab):
    result = analyze_ab_test(ab)
    u = result.unadjusted
    # SOURCE.md: video TRUE 337, FALSE 346; completion 0.608 (video) vs 0.558 (text)
    assert (u.n_treatment, u.n_control) == (337, 346)
    assert (u.events_treatment, u.events_control) == (205, 193)
    assert u.rate_treatment == pytest.approx(0.608, abs=5e-4)
    assert u.rate_control == pytest.approx(0.558, abs=5e-4)
    assert u.estimate == pytest.approx(205 / 337 - 193 / 346)


def test_video_vs_text_effect_with_interval(ab):
    cov = _covariates(ab)
    assert len(cov) == 9
    before = ab.copy()
    result = analyze_ab_test(
        ab, "completed", "arm", treatment="video", control="text", covariates=cov
    )
    pd.testing.assert_frame_equal(ab, before)
    table = result.to_frame().set_index("term")
    raw = table.loc["risk_difference"]
    assert raw["estimate"] == pytest.approx(0.0505, abs=1e-4)
    assert (raw["ci_low"], raw["ci_high"]) == pytest.approx((-0.0234, 0.1236), abs=1e-4)
    lpm = table.loc["risk_difference_adjusted_lpm"]
    assert lpm["estimate"] == pytest.approx(0.0592, abs=1e-4)
    assert (lpm["ci_low"], lpm["ci_high"]) == pytest.approx((-0.0048, 0.1231), abs=1e-4)
    # covariate adjustment buys precision: the adjusted interval is narrower
    assert lpm["std_error"] < raw["std_error"]
    logit = table.loc["risk_difference_adjusted_logit"]
    assert logit["estimate"] == pytest.approx(0.0598, abs=1e-4)
    assert table.loc["odds_ratio_adjusted_logit", "estimate"] == pytest.approx(1.436, abs=1e-3)
    text = str(result)
    assert text.startswith("A/B test on completed: video 205/337 = 0.608 vs text 193/346 = 0.558")


def test_adjusted_estimates_agree_with_statsmodels_reference(ab):
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    cov = _covariates(ab)
    result = analyze_ab_test(ab, covariates=cov).to_frame().set_index("term")
    # Lin (2013) through the formula interface: y ~ T * (centred covariates), HC2
    data = ab[cov].astype(float)
    data = data - data.mean()
    data["T"] = (ab["arm"] == "video").astype(float).to_numpy()
    data["y"] = ab["completed"].astype(float).to_numpy()
    data.columns = [f"c{i}" for i in range(len(cov))] + ["T", "y"]
    terms = " + ".join(f"c{i}" for i in range(len(cov)))
    lin = smf.ols(f"y ~ T * ({terms})", data).fit(cov_type="HC2")
    assert result.loc["risk_difference_adjusted_lpm", "estimate"] == pytest.approx(
        lin.params["T"], rel=1e-8
    )
    assert result.loc["risk_difference_adjusted_lpm", "std_error"] == pytest.approx(
        lin.bse["T"], rel=1e-6
    )
    # average marginal effect of the dummy: statsmodels Logit.get_margeff(dummy=True)
    x = sm.add_constant(np.column_stack([data["T"], ab[cov].to_numpy(float)]))
    margeff = sm.Logit(data["y"].to_numpy(), x).fit(disp=0).get_margeff(at="overall", dummy=True)
    assert result.loc["risk_difference_adjusted_logit", "estimate"] == pytest.approx(
        margeff.margeff[0], rel=1e-5
    )
    assert result.loc["risk_difference_adjusted_logit", "std_error"] == pytest.approx(
        margeff.margeff_se[0], rel=1e-3
    )
