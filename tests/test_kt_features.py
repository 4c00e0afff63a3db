"""Online features of edstudy.kt against a tiny log computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edstudy.kt.design import Indexed, Shared, fit_matrix, linear_predictor
from edstudy.kt.features import build_timeline, online_features, sequence_features
from edstudy.schema import validate_log


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    """Student A: x(i1)=1; {x, y}(i2)=0 (one multi-skill attempt); y(i2)=1; x(i1)=1.
    Student B: y(i3)=0. Rows shuffled on purpose."""
    log = pd.DataFrame(
        {
            "student_id": ["A", "A", "A", "A", "A", "B"],
            "skill_id": ["x", "x", "y", "y", "x", "y"],
            "order": [0, 1, 1, 2, 3, 0],
            "correct": [1, 0, 0, 1, 1, 0],
            "item_id": ["i1", "i2", "i2", "i2", "i1", "i3"],
            "timestamp": pd.to_datetime([0, 1000, 1000, 2000, 4000, 50], unit="s"),
        }
    )
    return log.iloc[[3, 0, 5, 2, 4, 1]]


def _by_row(tl, values):
    """Values in the caller's row order (the fixture's index labels)."""
    out = np.empty(len(values), dtype=np.asarray(values).dtype)
    out[tl.row_index] = values
    return out


def test_timeline_groups_attempts(tiny):
    tl = build_timeline(validate_log(tiny))
    assert tl.n_rows == 6
    assert tl.n_attempts == 5  # A: 0, 1 (two rows), 2, 3; B: 0
    sizes = _by_row(tl, tl.attempt_size)
    # fixture rows: [y o2, x o0, B y o0, y o1, x o3, x o1]
    assert sizes.tolist() == [1, 1, 1, 2, 1, 2]


def test_counts_before_each_row(tiny):
    tl = build_timeline(validate_log(tiny))
    c = online_features(tl, windows=(3600.0,))
    skill_att = _by_row(tl, c["skill"].attempts[:, 0])
    skill_win = _by_row(tl, c["skill"].wins[:, 0])
    # rows: y o2 / x o0 / B y o0 / y o1 / x o3 / x o1
    assert skill_att.tolist() == [1, 0, 0, 0, 2, 1]
    assert skill_win.tolist() == [0, 0, 0, 0, 1, 1]
    item_att = _by_row(tl, c["item"].attempts[:, 0])
    item_win = _by_row(tl, c["item"].wins[:, 0])
    assert item_att.tolist() == [1, 0, 0, 0, 1, 0]  # i2 counted once for the two-skill attempt
    assert item_win.tolist() == [0, 0, 0, 0, 1, 0]
    tot_att = _by_row(tl, c["total"].attempts[:, 0])
    tot_win = _by_row(tl, c["total"].wins[:, 0])
    assert tot_att.tolist() == [2, 0, 0, 1, 3, 1]  # the multi-skill attempt is one attempt
    assert tot_win.tolist() == [1, 0, 0, 1, 2, 1]
    # window of one hour at t = 4000 s: only events after 400 s (t = 1000 and 2000) count
    assert _by_row(tl, c["total"].attempts[:, 1])[4] == 2
    assert _by_row(tl, c["total"].wins[:, 1])[4] == 1
    assert _by_row(tl, c["skill"].attempts[:, 1])[4] == 1  # x at 1000 s, not x at 0 s
    assert _by_row(tl, c["skill"].wins[:, 1])[4] == 0


def test_decayed_log_odds(tiny):
    tl = build_timeline(validate_log(tiny))
    c = online_features(tl, half_lives=(1.0,))
    dec = _by_row(tl, c["total"].decayed[:, 0])
    # before A's o3: answers 1, 0, 1 with weights .25, .5, 1 -> wins 1.25, all 1.75
    assert dec[4] == pytest.approx(np.log((1.25 + 1) / (0.5 + 1)))
    assert dec[1] == pytest.approx(0.0)  # no history: log(1 / 1)


def test_sequence_features(tiny):
    tl = build_timeline(validate_log(tiny))
    s = sequence_features(tl)
    # rows: y o2 / x o0 / B y o0 / y o1 / x o3 / x o1
    assert _by_row(tl, s.pattern).tolist() == [5, 0, 0, 2, 12, 2]
    assert _by_row(tl, s.run_pattern).tolist() == [1, 0, 0, 0, 0, 0]
    assert _by_row(tl, s.run_length) == pytest.approx([np.log(2), 0, 0, 0, 0, 0])
    assert _by_row(tl, s.skill_pattern).tolist() == [1, 0, 0, 0, 5, 2]
    assert _by_row(tl, s.since_skill) == pytest.approx([np.log(2), 0, 0, 0, np.log(3), np.log(2)])


def test_unscored_rows_add_no_events(tiny):
    log = tiny.copy()
    log["correct"] = log["correct"].astype("Int8")
    log.loc[log.index[1], "correct"] = pd.NA  # A's o0 (x, i1) unscored
    tl = build_timeline(validate_log(log))
    c = online_features(tl)
    assert _by_row(tl, c["total"].attempts[:, 0]).tolist() == [1, 0, 0, 0, 2, 0]


def test_design_sums_skills_of_an_attempt_and_predicts_identically(tiny):
    tl = build_timeline(validate_log(tiny))
    c = online_features(tl)
    blocks = [
        Indexed("skill", tl.skill_id, np.ones(tl.n_rows)),
        Indexed("skill_attempts", tl.skill_id, c["skill"].attempts[:, 0], base="skill"),
        Indexed("item", tl.item_id, np.ones(tl.n_rows), group=tl.skill_id, combine="row"),
        Shared("total", c["total"].attempts, ("attempts",)),
    ]
    fit_rows = np.ones(tl.n_rows, dtype=bool)
    X, layout = fit_matrix(tl, blocks, fit_rows)
    dense = X.toarray()
    a = tl.attempt
    two = np.flatnonzero(np.bincount(a)[a] == 2)
    assert np.allclose(dense[two[0]], dense[two[1]])  # same design row for the attempt
    skill_cols = slice(0, 2)
    assert dense[two[0], skill_cols].sum() == 2  # both skills' columns are on
    rng = np.random.default_rng(0)
    coef = rng.normal(size=X.shape[1])
    pos = 0
    for fb in layout:
        fb.coef = coef[pos : pos + len(fb.levels)]
        pos += len(fb.levels)
    eta_fit = X @ coef + 0.3
    from edstudy.kt.design import uncenter

    b0 = uncenter(layout, 0.3)
    eta, unseen = linear_predictor(tl, blocks, layout, b0)
    assert np.allclose(eta, eta_fit)
    assert unseen == {}


def test_online_state_follows_the_batch_kernels():
    """The simulator's running state gives every row the batch features, row by row."""
    from edstudy.kt._online_state import OnlineState

    rng = np.random.default_rng(5)
    rows = []
    for s in range(6):
        t, item = 0.0, None
        for o in range(25):
            item = item if item and rng.random() < 0.4 else f"i{rng.integers(5)}"
            skills = ["a", "b"] if item == "i4" else ["ab"[int(item[1]) % 2]]
            t += rng.exponential(1500.0)
            y = rng.integers(0, 2)
            for k in skills:
                rows.append((s, k, o, y if rng.random() > 0.1 else pd.NA, item, t))
    log = pd.DataFrame(rows, columns=["student_id", "skill_id", "order", "correct", "item_id", "t"])
    log["correct"] = log["correct"].astype("Int8")
    log["timestamp"] = pd.to_datetime(log.pop("t"), unit="s")
    tl = build_timeline(validate_log(log))
    windows = (3600.0, 86400.0)
    batch = online_features(tl, windows=windows)
    seq = sequence_features(tl)
    state = OnlineState(6, windows)
    secs = (log["timestamp"].to_numpy()[tl.row_index] - np.datetime64(0, "s")) / np.timedelta64(
        1, "s"
    )
    secs = secs - secs.min()
    for a in range(tl.n_attempts):
        r = np.arange(tl.attempt_start[a], tl.attempt_start[a + 1])
        st = tl.student[r]
        counts, sq = state.read(st, tl.skill_id[r], tl.item_id[r], secs[r])
        for g in ("skill", "item", "total"):
            for f in ("attempts", "wins", "decayed"):
                np.testing.assert_allclose(
                    getattr(counts[g], f), getattr(batch[g], f)[r], err_msg=f"{g} {f} {a}"
                )
        for f in ("pattern", "skill_pattern", "run_pattern", "run_length", "since_skill"):
            np.testing.assert_allclose(getattr(sq, f), getattr(seq, f)[r], err_msg=f"{f} {a}")
        state.add(st, tl.skill_id[r], tl.item_id[r], tl.correct[r], secs[r])
