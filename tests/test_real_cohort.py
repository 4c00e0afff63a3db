"""Real-cohort comparison: cohorts from fitted models, the Robust Evaluation Matrix, thresholds.

Fast (well under 90 s): small synthetic logs; the real-data checks use a few skills and students.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from edstudy.bayes import FitSettings
from edstudy.bkt import BKT
from edstudy.bkt.sampling import synthetic_log
from edstudy.datasets import select_log, split_students
from edstudy.investigations.real_cohort import (
    REM_METRICS,
    MatrixSettings,
    RealCohortSettings,
    fit_student_models,
    mastery_threshold_analysis,
    rank_changes,
    robust_evaluation_matrix,
    run_real_cohort_pipeline,
    score_student_models,
    threshold_table,
)
from edstudy.sim import builtin_strategy, simulate
from edstudy.sim.from_model import (
    StudentModel,
    cohort_from_model,
    curriculum_from_model,
    skill_order,
)

STRATEGIES = ("one_size", "individualized", "personalized")


def _model(name="m", forget=0.0, **effects) -> StudentModel:
    return StudentModel(
        name=name,
        skills=("a b", -3, "c"),
        prior=[0.3, 0.2, 0.5],
        learn=[0.2, 0.1, 0.3],
        guess=[0.2, 0.25, 0.15],
        slip=[0.1, 0.12, 0.08],
        forget=[forget] * 3,
        **effects,
    )


# --------------------------------------------------------------------------- generality


@pytest.fixture(scope="module")
def odd_log() -> pd.DataFrame:
    return synthetic_log(n_students=160, n_opportunities=7, seed=3)


def test_synthetic_log_is_awkward_but_valid(odd_log):
    ids = set(odd_log["student_id"])
    assert any(isinstance(s, str) and " " in s for s in ids)
    assert any(isinstance(s, int | np.integer) and s < 0 for s in ids)
    assert odd_log["correct"].isna().any()
    gaps = odd_log.sort_values("order").groupby("student_id")["order"].diff().dropna()
    assert (gaps > 1).any()


def test_pipeline_runs_on_any_log_with_odd_ids_gaps_and_unseen_skills(odd_log):
    train, test = split_students(odd_log, 0.25, seed=1)
    # a skill the training students never practised: only in the test split
    extra = (
        test.dropna(subset=["correct"])
        .head(40)
        .assign(skill_id="only in test", order=lambda d: d["order"] + 5_000_000)
    )
    test = pd.concat([test, extra])
    sel = select_log(train)
    assert sel.attrs["selection"]["dropped"]["unscored (correct missing)"] > 0
    models = fit_student_models(sel, seed=0, hbkt=FitSettings.fast(draws=50, advi_steps=1500))
    assert list(models) == ["bkt", "bkt_forgets", "ibkt", "hbkt"]
    for m in models.values():
        assert set(m.skills) == set(sel["skill_id"])  # original ids, mixed types kept
    assert set(models["ibkt"].students) == set(sel["student_id"])
    assert set(models["hbkt"].students) == set(sel["student_id"])

    scores = score_student_models(models, test)
    assert (scores["rows_unseen_skill"] == 40).all()
    assert scores["auc"].between(0.5, 1).all()

    rem = robust_evaluation_matrix(
        models, MatrixSettings(STRATEGIES, n_students=40, replications=2), seed=0, log=sel
    )
    assert rem.table.shape[0] == len(STRATEGIES) * len(models) * len(REM_METRICS)
    assert set(rem.outcomes["model"]) == set(models)
    assert rem.pivot().shape == (len(STRATEGIES), len(models))
    assert rem.ranks.index.tolist() == list(STRATEGIES)
    assert {"rank_min", "rank_max", "rank_changes"} <= set(rem.ranks.columns)
    assert rem.table["mean"].notna().all()
    assert "one neutral medium" in rem.to_markdown()

    thr = mastery_threshold_analysis(
        models, log=sel, thresholds=(0.9, 0.95), n_students=200, max_opportunities=30
    )
    assert set(thr["source"]) == {"simulated", "real"}
    real = thr[thr["source"] == "real"]
    assert set(real["skill_id"]) == set(sel["skill_id"])
    assert threshold_table(thr, 0.95).shape == (3, 4)


def test_matrix_is_reproducible(odd_log):
    sel = select_log(odd_log)
    models = fit_student_models(sel, ("bkt", "ibkt"), seed=0)
    small = MatrixSettings(STRATEGIES, n_students=30)
    a = robust_evaluation_matrix(models, small, seed=5)
    b = robust_evaluation_matrix(models, small, seed=5)
    pd.testing.assert_frame_equal(a.table, b.table)
    c = robust_evaluation_matrix(models, small, seed=6)
    assert not a.table["mean"].equals(c.table["mean"])


def test_models_on_different_skills_are_refused(odd_log):
    sel = select_log(odd_log)
    a = fit_student_models(sel, ("bkt",))["bkt"]
    b = a.subset(list(a.skills)[:2])
    with pytest.raises(ValueError, match="different skills"):
        robust_evaluation_matrix({"a": a, "b": b}, MatrixSettings(STRATEGIES, n_students=10))
    with pytest.raises(ValueError, match="unknown student model"):
        fit_student_models(sel, ("bkt", "dkt"))


def test_select_log_keeps_top_skills_and_samples_students():
    log = synthetic_log(n_students=120, seed=2)
    sel = select_log(log, top_skills=2, n_students=50, seed=1)
    assert sel["skill_id"].nunique() == 2
    assert sel["student_id"].nunique() == 50
    assert sel["correct"].notna().all()
    info = sel.attrs["selection"]
    assert info["rows_read"] == len(log)
    assert sum(info["dropped"].values()) == len(log) - len(sel)


# --------------------------------------------------------------------------- cohorts from models


def test_cohort_from_model_keeps_the_skill_parameters():
    model = _model()
    cur = curriculum_from_model(model, order=["c", "a b", -3])
    assert cur.skill_ids == ("c", "a b", "-3")
    assert cur.media == ("text",)
    assert all(not s.prerequisites for s in cur.skills)
    cohort = cohort_from_model(model, cur, 4000, seed=1)
    np.testing.assert_allclose(cohort.p_known0[0], [0.5, 0.3, 0.2])
    np.testing.assert_allclose(cohort.learn[0], [0.3, 0.2, 0.1])
    np.testing.assert_allclose(cohort.guess[0], [0.15, 0.2, 0.25])
    np.testing.assert_allclose(cohort.known0.mean(axis=0), [0.5, 0.3, 0.2], atol=0.03)
    assert cohort.forget is None
    assert np.all(cohort.learning_speed == 1)


def test_log_of_a_drawn_cohort_recovers_the_model():
    """Simulate fixed practice on students drawn from a model; BKT refits the model's values."""
    model = _model(forget=0.0)
    cur = curriculum_from_model(model)
    cohort = cohort_from_model(model, cur, 3000, seed=2)
    strategy = builtin_strategy("one_size", practice_count=10)
    log, _ = simulate(cohort, cur, strategy, seed=3, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = BKT(seed=0).fit(log).model_.skill_table()
    truth = model.skill_table()
    truth.index = truth.index.astype(str)
    for p in ("prior", "learn", "guess", "slip"):
        np.testing.assert_allclose(fit.loc[truth.index, p], truth[p], atol=0.04, err_msg=p)


def test_forgets_model_forgets_in_the_engine():
    model = _model(forget=0.15)
    cur = curriculum_from_model(model)
    cohort = cohort_from_model(model, cur, 3000, seed=4)
    np.testing.assert_allclose(cohort.forget, 0.15)
    log, _ = simulate(
        cohort, cur, builtin_strategy("one_size", practice_count=12), seed=5, progress=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = BKT(forgets=True, seed=0).fit(log).model_.skill_table()
    np.testing.assert_allclose(fit["forget"], 0.15, atol=0.05)


def test_individualized_students_keep_their_fitted_parameters():
    effects = {
        "students": ("x", "y y", -1),
        "student_prior": [1.0, -1.0, 0.0],
        "student_learn": [-0.5, 0.5, 2.0],
    }
    model = _model(**effects)
    cur = curriculum_from_model(model)
    cohort, src = cohort_from_model(model, cur, 7, seed=1, return_sources=True)
    counts = pd.Series(src).value_counts()
    assert set(counts.index) == set(effects["students"])
    assert counts.sum() == 7 and counts.min() == 2  # every fitted student used, then resampled
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    for i, s in enumerate(src):
        j = list(effects["students"]).index(s)
        np.testing.assert_allclose(
            logit(cohort.p_known0[i]),
            logit(np.array([0.3, 0.2, 0.5])) + effects["student_prior"][j],
        )
        np.testing.assert_allclose(
            logit(cohort.learn[i]), logit(np.array([0.2, 0.1, 0.3])) + effects["student_learn"][j]
        )


def test_a_cohort_from_a_model_drawn_in_pieces_is_the_same():
    model = _model(students=("x", "y", "z"), student_prior=[1.0, -1.0, 0.0])
    cur = curriculum_from_model(model)
    seed = np.random.SeedSequence(4)
    whole, src = cohort_from_model(model, cur, 11, seed=seed, return_sources=True)
    parts = [
        cohort_from_model(model, cur, n, seed=np.random.SeedSequence(4), first_id=a)
        for a, n in ((0, 4), (4, 7))
    ]
    for name in whole._ARRAYS:
        joined = np.concatenate([getattr(p, name) for p in parts])
        np.testing.assert_array_equal(joined, getattr(whole, name), err_msg=name)
    assert sorted(src[:3]) == ["x", "y", "z"] and sorted(src[3:6]) == ["x", "y", "z"]


def test_engine_uses_the_cohorts_learn_and_forget():
    model = _model()
    cur = curriculum_from_model(model)
    c = cohort_from_model(model, cur, 2, seed=0)
    known0 = np.zeros((2, 3), dtype=bool)
    learn = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    fields = {n: getattr(c, n) for n in c._ARRAYS}
    fields["known0"] = known0
    from edstudy.sim import Cohort

    c2 = Cohort(**fields, media=c.media, spec=c.spec, learn=learn)
    _, out = simulate(
        c2, cur, builtin_strategy("one_size", practice_count=2), seed=1, progress=False
    )
    assert out["mastered_true"].tolist() == [3, 0]
    fields["known0"] = np.ones((2, 3), dtype=bool)
    c3 = Cohort(
        **fields, media=c.media, spec=c.spec, learn=np.zeros((2, 3)), forget=np.ones((2, 3))
    )
    _, out = simulate(
        c3, cur, builtin_strategy("one_size", practice_count=1), seed=1, progress=False
    )
    assert out["mastered_true"].tolist() == [0, 0]


def test_skill_order_by_first_appearance_and_difficulty():
    log = pd.DataFrame(
        {
            "student_id": [1, 1, 2, 2, 3],
            "skill_id": ["late", "early", "early", "late", "early"],
            "order": [5, 0, 1, 9, 0],
            "correct": [1, 0, 1, 1, 0],
        }
    )
    assert skill_order(log) == ["early", "late"]
    m = _model()
    assert skill_order(model=m, by="difficulty") == ["c", "a b", -3]


# --------------------------------------------------------------------------- ranks


def _table(means: dict[str, dict[str, float]]) -> pd.DataFrame:
    rows = [
        {"strategy": s, "model": m, "metric": "posttest_mastery", "mean": v}
        for s, per in means.items()
        for m, v in per.items()
    ]
    return pd.DataFrame(rows)


def test_rank_change_flags_a_strategy_whose_rank_moves():
    t = _table(
        {
            "A": {"m1": 0.9, "m2": 0.5},
            "B": {"m1": 0.7, "m2": 0.7},
            "C": {"m1": 0.6, "m2": 0.6},
        }
    )
    r = rank_changes(t)
    assert r.loc["A", ["m1", "m2"]].tolist() == [1, 3]
    assert r.loc["B", ["m1", "m2"]].tolist() == [2, 1]
    assert r["rank_changes"].to_dict() == {"A": True, "B": True, "C": True}
    # B and C keep their order when A is left out: no flag
    r2 = rank_changes(t[t["strategy"] != "A"])
    assert not r2["rank_changes"].any()


def test_ties_within_tolerance_or_overlapping_intervals_do_not_flag():
    t = _table({"A": {"m1": 0.80, "m2": 0.79}, "B": {"m1": 0.79, "m2": 0.80}})
    assert rank_changes(t)["rank_changes"].all()
    assert not rank_changes(t, tolerance=0.02)["rank_changes"].any()
    pairwise = pd.DataFrame(
        [
            {
                "model": m,
                "strategy": a,
                "other": b,
                "difference": d,
                "ci_low": d - 0.05,
                "ci_high": d + 0.05,
            }
            for m, sign in (("m1", 1), ("m2", -1))
            for a, b, d in (("A", "B", 0.01 * sign), ("B", "A", -0.01 * sign))
        ]
    )
    assert not rank_changes(t, pairwise=pairwise)["rank_changes"].any()
    # lower is better (opportunities): ranks reverse
    r = rank_changes(_table({"A": {"m1": 10.0}, "B": {"m1": 20.0}}), better="lower")
    assert r["m1"].to_dict() == {"A": 1, "B": 2}


def test_reversals_need_significance_both_ways():
    from edstudy.investigations.real_cohort import RobustEvaluationMatrix

    def pw(d1, d2):
        return pd.DataFrame(
            [
                {
                    "model": m,
                    "strategy": a,
                    "other": b,
                    "metric": "posttest_mastery",
                    "difference": s * d,
                    "ci_low": s * d - 0.02,
                    "ci_high": s * d + 0.02,
                }
                for m, d in (("m1", d1), ("m2", d2))
                for a, b, s in (("A", "B", 1), ("B", "A", -1))
            ]
        )

    def rem(pairwise):
        return RobustEvaluationMatrix(
            table=pd.DataFrame(),
            pairwise=pairwise,
            ranks=pd.DataFrame(),
            outcomes=pd.DataFrame(),
            strategies=("A", "B"),
            models=("m1", "m2"),
        )

    r = rem(pw(0.05, -0.05)).reversals()
    assert r.to_dict(orient="records") == [
        {"strategy": "A", "other": "B", "a_better_in": "m1", "b_better_in": "m2"}
    ]
    assert rem(pw(0.05, -0.01)).reversals().empty  # m2: the interval covers 0


# --------------------------------------------------------------------------- thresholds


def test_threshold_analysis_forgetting_caps_the_estimate():
    base = _model("bkt")
    forgets = _model("forgets", forget=0.2)
    thr = mastery_threshold_analysis(
        {"bkt": base, "forgets": forgets},
        thresholds=(0.7, 0.95),
        n_students=500,
        max_opportunities=40,
    )
    f95 = thr[(thr["model"] == "forgets") & (thr["threshold"] == 0.95)]
    assert (f95["share_reached"] == 0).all()  # estimate can never exceed 1 - forget = 0.8
    b = thr[thr["model"] == "bkt"].pivot(
        index="skill_id", columns="threshold", values="mean_opportunities"
    )
    assert (b[0.95] >= b[0.7]).all()
    b95 = thr[(thr["model"] == "bkt") & (thr["threshold"] == 0.95)]
    assert (b95["share_reached"] > 0.9).all()
    assert b95["p_known_at_stop"].between(0.8, 1.0).all()
    assert "never" in threshold_table(thr, 0.95).loc["a b", "forgets"]


# --------------------------------------------------------------------------- real data


def test_pipeline_on_assistments2009(real_data):
    from edstudy.datasets import load_assistments2009

    log = load_assistments2009(real_data / "assistments2009_skillbuilder", verbose=False)
    settings = RealCohortSettings(
        top_skills=3,
        fit_students=150,
        models=("bkt", "bkt_forgets", "ibkt"),
        matrix=MatrixSettings(STRATEGIES, n_students=60),
        threshold_students=200,
    )
    res = run_real_cohort_pipeline(log, settings, seed=0)
    assert res.log["skill_id"].nunique() == 3
    top = log["skill_id"].value_counts().index[:3]
    assert set(res.log["skill_id"]) == set(top)
    assert res.matrix.pivot().shape == (3, 5)  # + the default kt columns, Best-LR and PFA
    assert res.matrix.models[3:] == ("best_lr", "pfa")
    assert res.timings["total"] > 0
    assert res.scores.shape[0] == 5
    assert res.best_predicting_model() in res.headline()


def test_video_vs_text_and_oulad_assessments(real_data):
    from edstudy.datasets import load_oulad_assessments
    from edstudy.investigations.video_vs_text import video_vs_text_check

    ab = video_vs_text_check(path=real_data / "assistments_ab_video_vs_text")
    assert (ab.n_treatment, ab.n_control) == (337, 346)
    assert ab.table.loc[0, "estimate"] == pytest.approx(205 / 337 - 193 / 346)
    al = load_oulad_assessments(real_data / "oulad", verbose=False)
    assert al["correct"].notna().all()
    assert al["student_id"].str.contains(":").all()
    assert al.attrs["load_report"].dropped == {"no score": 173}  # rows with a blank score, counted
