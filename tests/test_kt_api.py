"""The estimator API of edstudy.kt: registry, JSON, unseen entities, errors, benchmark, sim."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from edstudy.bkt import BKT
from edstudy.kt import (
    AVERAGE_ITEM,
    IRT,
    MODELS,
    PFA,
    BestLR,
    BKTExt,
    BKTModel,
    NotFittedError,
    benchmark,
    make_model,
)
from edstudy.kt._ability import grid
from edstudy.schema import SchemaError

pytestmark = pytest.mark.filterwarnings("ignore::edstudy.bkt.ConvergenceWarning")


def _log(n_students=30, n_opps=10, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_students):
        ab = rng.normal()
        for o in range(n_opps):
            k = "ab"[rng.integers(2)]
            item = f"{k}{rng.integers(4)}"
            y = int(rng.random() < 1 / (1 + np.exp(-(ab + 0.15 * o - 0.4))))
            rows.append((s, k, o, y, item))
    return pd.DataFrame(rows, columns=["student_id", "skill_id", "order", "correct", "item_id"])


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return _log()


def _fast(name):
    return make_model(name, restarts=1) if MODELS[name].family == "bkt" else make_model(name)


# ------------------------------------------------------------------ registry
def test_registry_names_every_model():
    assert set(MODELS) >= {"bkt", "bkt_forgets", "ibkt", "bkt_ext", "irt", "afm", "pfa"}
    assert {"das3h", "best_lr", "best_lr_plus"} <= set(MODELS)
    assert isinstance(make_model("best_lr_plus"), BestLR)
    assert make_model("best_lr_plus").recency is True
    assert make_model("bkt_forgets", seed=3).get_params()["seed"] == 3
    with pytest.raises(ValueError, match="unknown student model 'dkt'; known: bkt, "):
        make_model("dkt")


# ------------------------------------------------------------------ JSON
@pytest.mark.parametrize("name", list(MODELS))
def test_json_round_trip(log, tmp_path, name):
    m = _fast(name).fit(log)
    path = tmp_path / f"{name}.json"
    m.to_json(path)
    doc = json.loads(path.read_text())
    assert doc["format"].startswith("edstudy.kt.")
    back = type(m).from_json(path)
    np.testing.assert_allclose(back.predict_proba(log), m.predict_proba(log), atol=1e-12)
    pd.testing.assert_frame_equal(back.params_, m.params_)
    assert back.get_params() == m.get_params()


def _edit(path, fn):
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("cls", "edit", "message"),
    [
        (IRT, lambda d: d.update(format="edstudy.kt.PFA/1"), "key 'format' must be"),
        (IRT, lambda d: d["state"].pop("intercept"), "missing key state.intercept"),
        (IRT, lambda d: d["options"].update(foo=1), "unknown key options.foo"),
        (IRT, lambda d: d["options"].update(C=-1), "bad key 'options': C must be"),
        (IRT, lambda d: d["state"]["blocks"][0]["coef"].pop(), r"state.blocks\[0\].coef must be"),
        (IRT, lambda d: d["state"]["blocks"][0].pop("levels"), r"state.blocks\[0\]: missing key"),
        (IRT, lambda d: d["state"]["fit"].pop("n_iter"), "missing key state.fit.n_iter"),
        (BKTExt, lambda d: d["state"]["skill_params"].pop("learn"), "state.skill_params.learn"),
        (BKTModel, lambda d: d["state"]["params"].pop("prior"), "state.params.prior"),
    ],
)
def test_bad_documents_name_the_key(log, tmp_path, cls, edit, message):
    m = (cls(restarts=1) if cls is not IRT else cls()).fit(log)
    path = tmp_path / "m.json"
    m.to_json(path)
    _edit(path, edit)
    with pytest.raises(ValueError, match=message):
        cls.from_json(path)


def test_not_json_and_not_fitted(tmp_path, log):
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="is not JSON"):
        PFA.from_json(path)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        PFA().predict_proba(log)
    with pytest.raises(NotFittedError):
        BKTExt().to_json(path)


# ------------------------------------------------------------------ unseen entities
def test_unseen_items_and_skills(log):
    new = pd.DataFrame(
        {
            "student_id": ["new", "new", "new"],
            "skill_id": ["a", "a", "zz"],
            "order": [0, 1, 2],
            "correct": [1, 0, 1],
            "item_id": ["a_new", "a0", "zz0"],
        }
    )
    for cls in (IRT, BestLR, PFA):
        strict = cls(handle_unknown="error").fit(log)
        with pytest.raises(ValueError, match=r"skills not seen in fit: \['zz'\]"):
            strict.predict_proba(new)
    with pytest.raises(ValueError, match=r"items not seen in fit: \['a_new'\]"):
        IRT(handle_unknown="error").fit(log).predict_proba(new.iloc[:2])
    m = IRT().fit(log)
    assert m.coverage(new) == {"rows": 3, "unseen_skill": 1, "unseen_item": 2, "unseen_student": 3}
    p = m.predict_proba(new)
    assert np.all((p > 0) & (p < 1))
    # an unseen item of skill a takes the training-row weighted mean coefficient of a's items
    items = m.coef("item")
    a_items = [i for i in items.index if str(i).startswith("a")]
    w = log["item_id"].value_counts().reindex(a_items).to_numpy(dtype=float)
    eta = m.intercept_ + np.sum(items[a_items].to_numpy() * w) / w.sum()
    nodes, lw = grid(m.ability_sd_)
    wts = np.exp(lw) / np.exp(lw).sum()
    assert p[0] == pytest.approx(float(np.sum(wts / (1 + np.exp(-(eta + nodes))))), abs=1e-12)
    for name in ("bkt_ext", "bkt_idem", "best_lr_plus"):
        q = _fast(name).fit(log).predict_proba(new)
        assert np.all(np.isfinite(q)), name


# ------------------------------------------------------------------ bad input
def test_bad_input_messages(log):
    with pytest.raises(SchemaError, match="correct"):
        PFA().fit(log.drop(columns="correct"))
    with pytest.raises(ValueError, match="C must be a number > 0, got -1"):
        IRT(C=-1)
    with pytest.raises(ValueError, match="windows must be distinct seconds > 0"):
        BestLR(windows=(0.0,))
    with pytest.raises(ValueError, match="handle_unknown must be one of 'average', 'error'"):
        PFA(handle_unknown="zero")
    with pytest.raises(ValueError, match="recency must be True or False"):
        BestLR(recency="yes")
    with pytest.raises(ValueError, match="both correct and incorrect"):
        PFA().fit(log.assign(correct=1))
    with pytest.raises(ValueError, match="unknown option 'gamma'"):
        PFA().set_params(gamma=1)
    with pytest.raises(ValueError, match="max_guess must be a number in"):
        BKTModel(max_guess=2.0)


def test_unscored_rows_are_predicted_not_counted(log):
    part = log.copy()
    part["correct"] = part["correct"].astype("Int8")
    part.loc[part.index[::7], "correct"] = pd.NA
    for name in ("pfa", "best_lr_plus", "irt", "bkt_ext"):
        m = _fast(name).fit(part)
        p = m.predict_proba(part)
        assert np.all(np.isfinite(p)), name


# ------------------------------------------------------------------ benchmark
def test_benchmark_table_and_shared_folds(log):
    tab = benchmark(log, ["bkt", "pfa", "irt"], folds=3, seed=4)
    assert list(tab.columns[:5]) == ["model", "auc", "rmse", "log_loss", "fit_s"]
    assert tab["model"].tolist() == ["bkt", "pfa", "irt"]
    ref = BKT(handle_unknown="average", seed=4).cross_validate(log, folds=3, seed=4)
    got = tab.set_index("model").loc["bkt"]
    assert got["auc"] == pytest.approx(ref.loc["pooled", "auc"])
    assert got["rmse"] == pytest.approx(ref.loc["pooled", "rmse"])
    folds = benchmark(log, {"p": PFA(C=2.0)}, folds=3, per_fold=True, level="both")
    assert len(folds) == 2 * (3 + 1)
    assert set(folds["fold"]) == {0, 1, 2, "pooled"}
    assert set(folds["level"]) == {"row", "attempt"}
    table, preds = benchmark(log, ["pfa"], folds=3, return_predictions=True)
    assert preds["pfa"].notna().all() and set(preds["fold"]) == {0, 1, 2}
    with pytest.raises(ValueError, match="level must be one of"):
        benchmark(log, ["pfa"], level="item")
    with pytest.raises(ValueError, match=r"models\['x'\] is not an edstudy.kt model"):
        benchmark(log, {"x": object()})


def test_cross_validate_holds_out_students(log):
    cv = PFA().cross_validate(log, folds=3, seed=1)
    assert list(cv.index) == [0, 1, 2, "pooled"]
    assert cv.loc["pooled", "n_students"] == log["student_id"].nunique()
    assert 0.5 < cv.loc["pooled", "auc"] < 1


# ------------------------------------------------------------------ simulator
@pytest.mark.parametrize("name", ["pfa", "irt", "best_lr_plus", "bkt_forgets", "ibkt", "bkt_ext"])
def test_simulator_interface(log, name):
    m = _fast(name).fit(log)
    sim = m.simulator(5, seed=1)
    p = sim.p_next(["a", "b", "a", "a", "b"])
    assert p.shape == (5,) and np.all((p > 0) & (p < 1))
    y = sim.step("a", items="a1")
    assert y.dtype == np.int8 and y.shape == (5,)
    sim.step("b", students=[0, 2])
    out = sim.log()
    assert len(out) == 7 and out["order"].tolist()[:2] == [0, 1]
    assert sim.p_skills().shape == (5, 2)
    again = m.simulator(5, seed=1)
    again.p_next(["a", "b", "a", "a", "b"])
    assert np.array_equal(again.step("a", items="a1"), y)  # same seed, same draws
    with pytest.raises(ValueError, match="students must be indices in 0 .. 4"):
        sim.step("a", students=[7])


def test_simulator_uses_the_fit_time_features(log):
    """For a model without ability, P(next) equals predict_proba of the history plus that row."""
    m = BestLR(recency=True, item_context=True).fit(log)
    sim = m.simulator(1, seed=3)
    for k, it in [("a", "a1"), ("a", "a1"), ("b", "b2"), ("a", "a3")]:
        sim.step(k, items=it)
    p = sim.p_next("b", items="b2")[0]
    hist = sim.log()
    nxt = pd.DataFrame({"student_id": [0], "skill_id": ["b"], "order": [4], "correct": [pd.NA]})
    both = pd.concat([hist, nxt.assign(item_id="b2")], ignore_index=True)
    both["correct"] = both["correct"].astype("Int8")
    assert m.predict_proba(both)[-1] == pytest.approx(p, abs=1e-12)
    assert sim.p_next("b")[0] != pytest.approx(p)  # an average item differs from item b2
    assert AVERAGE_ITEM is not None


def test_simulate_schedule_is_reproducible(log):
    m = PFA().fit(log)
    sched = log.drop(columns="correct")
    a, b = m.simulate(sched, seed=5), m.simulate(sched, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["correct"].unique()) <= {0, 1} and len(a) == len(log)
    with pytest.raises(ValueError, match="schedule needs a 'order' column"):
        m.simulate(sched.drop(columns="order"))


@pytest.mark.parametrize("name", ["best_lr_plus", "bkt_forgets", "bkt_ext"])
def test_observe_and_mastered(log, name):
    """An engine can draw answers itself (observe) and read mastery for its outcomes."""
    m = _fast(name).fit(log)
    a, b = m.simulator(4, seed=2), m.simulator(4, seed=2)
    y = b.step(["a", "b", "a", "b"])
    a.p_next(["a", "b", "a", "b"])
    a.observe(["a", "b", "a", "b"], y)
    pd.testing.assert_frame_equal(a.log(), b.log())
    if MODELS[name].family != "bkt":  # (BKT's hidden transitions use the simulator's stream)
        np.testing.assert_allclose(a.p_next("a"), b.p_next("a"))
    assert a.mastered(0.5).shape == (4, 2) and a.mastered(0.5).dtype == bool
    if MODELS[name].family == "bkt":
        assert a.mastered().shape == (4, 2)  # the true hidden states
    else:
        with pytest.raises(ValueError, match="no hidden knowledge state"):
            a.mastered(None)
    with pytest.raises(ValueError, match="correct must be 4 values 0 or 1"):
        a.observe("a", [1, 2, 0, 1])


@pytest.mark.parametrize("name", ["bkt_forgets", "bkt_ext"])
def test_observe_with_the_callers_uniforms(log, name):
    """Hidden-state transitions can come from the caller's own uniforms (a strategy engine's
    per-student streams): the same uniforms give the same states whatever the simulator's seed,
    and a student's path does not depend on who else is observed with it."""
    m = _fast(name).fit(log)
    kw = {"known": np.zeros((4, 2), dtype=bool)} if name == "bkt_ext" else {}
    a, b = m.simulator(4, seed=1, **kw), m.simulator(4, seed=99, **kw)
    if name != "bkt_ext":  # start both from the same hidden states
        b.known[:] = a.known
    u = np.array([0.01, 0.99, 0.5, 0.3])
    for sim in (a, b):
        sim.observe(["a", "b", "a", "b"], [1, 0, 1, 1], uniforms=u)
    np.testing.assert_array_equal(a.mastered(), b.mastered())
    c = m.simulator(4, seed=1, **kw)
    c.observe(["a", "a"], [1, 1], students=[2, 0], uniforms=u[[2, 0]])
    c.observe(["b", "b"], [0, 1], students=[1, 3], uniforms=u[[1, 3]])
    np.testing.assert_array_equal(c.mastered(), a.mastered())
    if name == "bkt_ext":
        assert not a.mastered()[1, 1] and a.mastered()[0, 0]  # 0.99 >= learn, 0.01 < learn
        with pytest.raises(ValueError, match="known must be a"):
            m.simulator(4, seed=1, known=np.zeros((4, 3), dtype=bool))
    with pytest.raises(ValueError, match="uniforms must be 4 numbers"):
        a.observe("a", [1, 0, 0, 1], uniforms=[0.5, 1.0, 0.2, 0.1])
