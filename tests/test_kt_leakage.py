"""No leakage: a prediction never depends on its own answer, its attempt's or later answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edstudy.kt import MODELS, make_model

pytestmark = pytest.mark.filterwarnings("ignore::edstudy.bkt.ConvergenceWarning")

#: item -> skills (two items carry two skills, as multi-skill ASSISTments problems do)
Q = {"i0": ["a"], "i1": ["a"], "i2": ["b"], "i3": ["b", "c"], "i4": ["c"], "i5": ["a", "c"]}


def _log(n_students: int = 40, n_attempts: int = 14, seed: int = 0) -> pd.DataFrame:
    """Random attempts (some on multi-skill items, some repeated), answers from a simple
    logistic truth, timestamps so that the time-window models use their windows."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_students):
        ability = rng.normal()
        t = 0.0
        item = None
        for o in range(n_attempts):
            item = item if item is not None and rng.random() < 0.3 else f"i{rng.integers(6)}"
            y = int(rng.random() < 1 / (1 + np.exp(-(ability + 0.1 * o - 0.5))))
            t += rng.exponential(2000.0)
            for k in Q[item]:
                rows.append((f"s{s}", k, 2 * o, y, item, t))
    log = pd.DataFrame(rows, columns=["student_id", "skill_id", "order", "correct", "item_id", "t"])
    log["timestamp"] = pd.to_datetime(log.pop("t"), unit="s")
    return log.sample(frac=1.0, random_state=1).reset_index(drop=True)  # row order is arbitrary


@pytest.fixture(scope="module")
def data():
    log = _log()
    test_students = [f"s{i}" for i in range(32, 40)]
    test = log["student_id"].isin(test_students).to_numpy()
    return log[~test], log[test]


@pytest.mark.parametrize("name", list(MODELS))
def test_future_answers_do_not_change_earlier_predictions(data, name):
    train, test = data
    model = make_model(name, restarts=1) if MODELS[name].family == "bkt" else make_model(name)
    model.fit(train)
    base = model.predict_proba(test)
    rng = np.random.default_rng(2)
    for cut in (0, 6, 12):
        changed = test.copy()
        later = (changed["order"] > cut).to_numpy()
        # shuffle the later answers of every test student and flip some of them
        y = changed.loc[later, "correct"].to_numpy().copy()
        y = rng.permutation(y)
        y[rng.random(y.size) < 0.5] ^= 1
        changed.loc[later, "correct"] = y
        p = model.predict_proba(changed)
        early = ~later
        np.testing.assert_allclose(p[early], base[early], rtol=0, atol=1e-12, err_msg=name)
        assert not np.allclose(p[later], base[later]), f"{name}: later answers are not used"


@pytest.mark.parametrize("name", list(MODELS))
def test_rows_of_one_attempt_do_not_see_each_other(data, name):
    train, test = data
    model = make_model(name, restarts=1) if MODELS[name].family == "bkt" else make_model(name)
    model.fit(train)
    base = model.predict_proba(test)
    # the first multi-skill attempt of a test student: flip the answer of one of its rows only
    multi = test.groupby(["student_id", "order"])["skill_id"].transform("size") > 1
    row = test.index[multi.to_numpy()][0]
    s, o = test.loc[row, ["student_id", "order"]]
    changed = test.copy()
    changed.loc[row, "correct"] = 1 - changed.loc[row, "correct"]
    p = model.predict_proba(changed)
    same_attempt = ((test["student_id"] == s) & (test["order"] == o)).to_numpy()
    np.testing.assert_allclose(p[same_attempt], base[same_attempt], atol=1e-12, err_msg=name)
