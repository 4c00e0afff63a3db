"""Class monitoring: mastery table, flags, recommendations and summary on a hand-made log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edstudy.bkt import BKT, SkillParams
from edstudy.monitor import (
    FLAGS,
    ClassSnapshot,
    MonitorSettings,
    ResponseReplay,
    append_responses,
    class_snapshot,
)
from edstudy.plots import mastery_heatmap
from edstudy.schema import SchemaError
from edstudy.sim import Curriculum, Skill

PARAMS = {
    "a": SkillParams(prior=0.2, learn=0.2, guess=0.2, slip=0.1),
    "b": SkillParams(prior=0.1, learn=0.2, guess=0.2, slip=0.1),
    "c": SkillParams(prior=0.1, learn=0.2, guess=0.2, slip=0.1),
}
CURRICULUM = Curriculum(
    skills=(Skill("a"), Skill("b", prerequisites=("a",)), Skill("c", prerequisites=("b",)))
)


def _seq(student, skill, answers, activity, duration=30.0, hints=0, chosen=False):
    return [
        {
            "student_id": student,
            "skill_id": skill,
            "correct": c,
            "activity": activity,
            "duration_s": duration,
            "hints": hints,
            "chosen": chosen,
        }
        for c in answers
    ]


def hand_log() -> pd.DataFrame:
    """Five students whose situation is known by construction.

    ann masters a and b; bob wheel-spins on a (12 tries, never above 0.95); cat answers a
    correctly but in 1 s each (rapid responses); dan alternates on a, then asks hints and fails
    b six times in a row; eve has two tries, both in a medium she chose.
    """
    rows = (
        _seq("ann", "a", [1, 1, 1, 1], "video")
        + _seq("ann", "b", [1, 1, 1, 1], "text")
        + _seq("bob", "a", [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1], "hands_on")
        + _seq("cat", "a", [1, 1, 1, 1, 1], "audio", duration=1.0)
        + _seq("dan", "a", [1, 0, 1, 0, 1, 0, 1, 0, 1], "video")
        + _seq("dan", "b", [0, 0, 0, 0, 0, 0], "text", hints=1)
        + _seq("eve", "a", [1, 0], "video", chosen=True)
    )
    log = pd.DataFrame(rows)
    log["order"] = log.groupby("student_id").cumcount()
    return log


@pytest.fixture(scope="module")
def model() -> BKT:
    return BKT.from_params(PARAMS)


@pytest.fixture(scope="module")
def snap(model) -> ClassSnapshot:
    return class_snapshot(
        hand_log(), model, curriculum=CURRICULUM, settings=MonitorSettings(min_tries=5)
    )


def chained(skill: str, answers: list[int]) -> float:
    """P(mastered) after the answers, by the textbook BKT recursion (independent of edstudy)."""
    p_ = PARAMS[skill]
    p = p_.prior
    for c in answers:
        if c:
            post = p * (1 - p_.slip) / (p * (1 - p_.slip) + (1 - p) * p_.guess)
        else:
            post = p * p_.slip / (p * p_.slip + (1 - p) * (1 - p_.guess))
        p = post + (1 - post) * p_.learn
    return p


def test_mastery_is_the_last_filtered_value_and_the_prior_when_unpractised(snap):
    m = snap.mastery
    assert list(m.index) == ["ann", "bob", "cat", "dan", "eve"]
    assert list(m.columns) == ["a", "b", "c"]
    expected = {
        ("ann", "a"): chained("a", [1, 1, 1, 1]),
        ("ann", "b"): chained("b", [1, 1, 1, 1]),
        ("bob", "a"): chained("a", [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1]),
        ("cat", "a"): chained("a", [1] * 5),
        ("dan", "a"): chained("a", [1, 0, 1, 0, 1, 0, 1, 0, 1]),
        ("dan", "b"): chained("b", [0] * 6),
        ("eve", "a"): chained("a", [1, 0]),
    }
    for (s, k), v in expected.items():
        assert m.loc[s, k] == pytest.approx(v, abs=1e-12)
    # never practised: the prior
    assert m.loc["bob", "b"] == pytest.approx(0.1)
    assert np.allclose(m["c"].to_numpy(), 0.1)
    assert snap.tries.loc["dan"].tolist() == [9, 6, 0]
    assert snap.tries.loc["bob", "a"] == 12


def test_exact_flags(snap):
    got = [(r.student_id, r.flag, r.skill_id) for r in snap.flags.itertuples()]
    assert got == [
        ("bob", "stuck", "a"),
        ("bob", "off_pace", None),
        ("cat", "disengaged", None),
        ("dan", "off_pace", None),
        ("dan", "disengaged", None),
    ]
    reasons = snap.flags["reason"].tolist()
    assert reasons[0] == "12 tries on 'a' without reaching 0.95 (now 0.68)"
    # ann 2/8 and cat 1/5 per try, bob and dan 0: median 0.1, cut at 0.05
    assert reasons[1] == (
        "0 skills mastered in 12 tries (0.000 per try), below 50% of the class median "
        "(0.100 per try)"
    )
    # class mean duration (37 rows x 30 s + 5 x 1 s) / 42 = 26.5 s, 10% of it = 2.65 s
    assert reasons[2] == "5 of the last 5 responses took under 3 s (10% of the class mean time)"
    assert reasons[4] == "6 hints in the last 10 responses; 6 errors in a row on the latest tries"
    assert snap.flagged() == {"bob", "cat", "dan"}
    assert snap.flagged("stuck") == {"bob"}


def test_thresholds_change_the_flags(model):
    log = hand_log()
    base = MonitorSettings(min_tries=5)
    low = class_snapshot(
        log, model, curriculum=CURRICULUM, settings=base.with_changes(mastery_threshold=0.6)
    )
    assert low.flagged("stuck") == set()  # bob's 0.68 now counts as mastered
    late = class_snapshot(
        log, model, curriculum=CURRICULUM, settings=base.with_changes(stuck_after=13)
    )
    assert late.flagged("stuck") == set()
    # min_tries 10 leaves only bob and dan eligible: both 0 per try, median 0, nobody off pace
    assert class_snapshot(log, model, curriculum=CURRICULUM).flagged("off_pace") == set()
    streak = class_snapshot(
        log,
        model,
        curriculum=CURRICULUM,
        settings=base.with_changes(error_streak=7, hint_rate=1.0),
    )
    assert streak.flagged("disengaged") == {"cat"}


def test_recommendations(snap):
    r = snap.recommendations.set_index("student_id")
    assert list(r.index) == ["ann", "bob", "cat", "dan", "eve"]
    assert r.loc["ann", "skill_id"] == "c"
    assert r.loc["ann", "reason"].startswith(
        "next unmastered skill in curriculum order (now 0.10), prerequisites mastered (b); "
        "best results in text: 100% correct over 4 tries"
    )
    assert r.loc["ann", "activity"] == "text"
    assert (r.loc["bob", "skill_id"], r.loc["bob", "activity"]) == ("a", "worked_example")
    assert r.loc["bob", "reason"] == (
        "stuck on 'a' (12 tries, now 0.68): a worked example before more practice"
    )
    assert (r.loc["cat", "skill_id"], r.loc["cat", "activity"]) == ("b", "audio")
    # dan has not mastered a (0.87): b waits for its prerequisite
    assert (r.loc["dan", "skill_id"], r.loc["dan", "activity"]) == ("a", "video")
    # eve: two tries only, under min_medium_tries=3, so her most chosen medium
    assert (r.loc["eve", "skill_id"], r.loc["eve", "activity"]) == ("a", "video")
    assert r.loc["eve", "reason"].endswith("most chosen: video (2 of 2 choices)")
    assert snap.recommendation("bob")["activity"] == "worked_example"


def test_summary(snap):
    s = snap.summary
    assert (s.n_students, s.n_responses, s.n_flagged) == (5, 42, 3)
    assert dict(s.flag_counts) == {"stuck": 1, "off_pace": 2, "disengaged": 2}
    assert list(s.skills.index) == ["a", "b", "c"]
    assert s.skills["pct_mastered"].tolist() == [40.0, 20.0, 0.0]
    assert s.skills["n_practised"].tolist() == [5, 2, 0]
    assert s.skills.loc["a", "mean_mastery"] == pytest.approx(snap.mastery["a"].mean())
    assert s.flag_text() == "3 of 5 students flagged: 1 stuck, 2 off pace, 2 disengaged"
    assert s.text().startswith("5 students, 42 responses; mean mastery 0.39")


def test_all_mastered_and_no_curriculum(model):
    log = pd.DataFrame(
        {"student_id": 1, "skill_id": ["a"] * 6 + ["b"] * 6 + ["c"] * 6, "correct": 1}
    ).assign(order=range(18))
    snap = class_snapshot(log, model)
    rec = snap.recommendation(1)
    assert rec == {"skill_id": None, "activity": None, "reason": "all 3 skills mastered at 0.95"}
    assert snap.flags.empty and list(snap.flags.columns) == [
        "student_id",
        "flag",
        "skill_id",
        "reason",
    ]
    assert "activity not in the log: no medium recommended" in snap.notes
    assert "duration_s not in the log: rapid responses not checked" in snap.notes
    assert snap.notes[0] == "disengagement checked from: error streaks"


def test_next_skill_without_curriculum_follows_skill_order(model):
    log = pd.DataFrame({"student_id": 1, "skill_id": ["a"] * 6, "correct": 1, "order": range(6)})
    rec = class_snapshot(log, model).recommendation(1)
    assert (rec["skill_id"], rec["activity"]) == ("b", "practice")
    assert rec["reason"] == "next unmastered skill in skill order (now 0.10)"


def test_caller_frame_is_not_modified(model):
    log = hand_log()
    before = log.copy()
    class_snapshot(log, model, curriculum=CURRICULUM)
    pd.testing.assert_frame_equal(log, before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mastery_threshold": 1.5}, "mastery_threshold must be a number in (0, 1], got 1.5"),
        ({"stuck_after": 0}, "stuck_after must be a whole number >= 1, got 0"),
        ({"stuck_after": 2.5}, "stuck_after must be a whole number >= 1, got 2.5"),
        ({"hint_rate": -1}, "hint_rate must be a number > 0, got -1"),
        ({"off_pace_ratio": 0}, "off_pace_ratio must be a number in (0, 1], got 0"),
        ({"min_tries": True}, "min_tries must be a whole number >= 1, got True"),
        ({"recent": "10"}, "recent must be a whole number >= 1, got '10'"),
        ({"rapid_fraction": float("nan")}, "rapid_fraction must be a number in (0, 1], got nan"),
        ({"rapid_share": 1.01}, "rapid_share must be a number in (0, 1], got 1.01"),
        ({"hint_rate": float("inf")}, "hint_rate must be a number > 0, got inf"),
        ({"error_streak": 0}, "error_streak must be a whole number >= 1, got 0"),
        ({"min_medium_tries": -3}, "min_medium_tries must be a whole number >= 1, got -3"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError) as err:
        MonitorSettings(**kwargs)
    assert str(err.value) == message
    # changing a valid settings object is checked the same way
    with pytest.raises(ValueError) as err:
        MonitorSettings().with_changes(**kwargs)
    assert str(err.value) == message


def test_settings_defaults_round_trip_and_types():
    s = MonitorSettings()
    assert s.to_dict() == {
        "mastery_threshold": 0.95,
        "stuck_after": 10,
        "off_pace_ratio": 0.5,
        "min_tries": 10,
        "recent": 10,
        "rapid_fraction": 0.1,
        "rapid_share": 0.5,
        "hint_rate": 0.5,
        "error_streak": 6,
        "min_medium_tries": 3,
    }
    custom = MonitorSettings(
        mastery_threshold=np.float64(0.8), stuck_after=np.int64(7), hint_rate=2
    )
    assert MonitorSettings(**custom.to_dict()) == custom
    # numpy scalars and ints are stored as plain float / int
    assert type(custom.mastery_threshold) is float and type(custom.stuck_after) is int
    assert type(custom.hint_rate) is float and custom.hint_rate == 2.0
    changed = custom.with_changes(stuck_after=12)
    assert changed.stuck_after == 12 and custom.stuck_after == 7  # frozen: a new object
    assert changed.mastery_threshold == 0.8
    with pytest.raises(AttributeError):
        custom.stuck_after = 3  # type: ignore[misc]


def test_snapshot_keeps_its_settings_and_refuses_a_dict(model, snap):
    assert snap.settings == MonitorSettings(min_tries=5)
    assert snap.summary.mastery_threshold == snap.settings.mastery_threshold == 0.95
    assert class_snapshot(hand_log(), model).settings == MonitorSettings()
    with pytest.raises(TypeError, match="settings must be a MonitorSettings, got dict"):
        class_snapshot(hand_log(), model, settings={"min_tries": 5})  # type: ignore[arg-type]


def test_to_frame_is_tidy(snap):
    frame = snap.to_frame()
    assert list(frame.columns) == ["student_id", "skill_id", "mastery", "tries", "mastered"]
    assert len(frame) == 5 * 3
    assert frame["student_id"].tolist()[:4] == ["ann", "ann", "ann", "bob"]
    assert frame["skill_id"].tolist()[:4] == ["a", "b", "c", "a"]
    cells = frame.set_index(["student_id", "skill_id"])
    for (sid, skill), row in cells.iterrows():
        assert row["mastery"] == snap.mastery.loc[sid, skill]
        assert row["tries"] == snap.tries.loc[sid, skill]
    assert cells.loc[("bob", "a")].tolist() == [pytest.approx(0.68, abs=0.005), 12, False]
    assert bool(cells.loc[("ann", "b"), "mastered"])
    pct = 100.0 * frame.groupby("skill_id", sort=False)["mastered"].mean()
    assert pct.tolist() == snap.summary.skills["pct_mastered"].tolist()
    frame.loc[0, "mastery"] = -1.0  # a new frame: the snapshot is untouched
    assert snap.mastery.loc["ann", "a"] > 0


def test_to_markdown(snap, model):
    text = snap.to_markdown()
    assert text.startswith(snap.summary.text() + "\n")
    assert "| skill | mean P(mastered) | % mastered | students practised | tries per student |" in (
        text
    )
    assert "| student_id | flag | skill_id | reason |" in text
    assert "| bob | stuck | a | 12 tries on 'a' without reaching 0.95 (now 0.68) |" in text
    assert "| cat | disengaged |  | 5 of the last 5 responses took under 3 s" in text
    assert text.count("| dan |") == 2
    log = pd.DataFrame({"student_id": 1, "skill_id": ["a"] * 6, "correct": 1, "order": range(6)})
    quiet = class_snapshot(log, model).to_markdown()
    assert "No student is flagged." in quiet
    assert "- activity not in the log: no medium recommended" in quiet


def test_plot_is_the_heatmap(snap):
    fig = snap.plot(skills=["a", "c"], highlight="cat")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["ann", "bob [SP]"]
    assert "0.95" in ax.get_title()
    assert len(fig.axes) == 2  # the heatmap and its colour bar


def test_unknown_skill_and_bad_log(model):
    log = hand_log()
    log.loc[0, "skill_id"] = "zzz"
    with pytest.raises(ValueError, match="zzz"):
        class_snapshot(log, model)
    bad = hand_log()
    bad.loc[3, "correct"] = 2
    with pytest.raises(SchemaError, match=r"correct must be 0 or 1: 1 row, first at index 3"):
        class_snapshot(bad, model)


def test_append_responses():
    log = hand_log()
    before = log.copy()
    new = pd.DataFrame(
        {"student_id": ["eve", "fay"], "skill_id": "a", "order": [2, 0], "correct": [1, 0]}
    )
    out = append_responses(log, new)
    pd.testing.assert_frame_equal(log, before)
    assert len(out) == len(log) + 2
    assert out.index.tolist() == list(range(len(out)))
    assert out.iloc[-1][["student_id", "order"]].tolist() == ["fay", 0]
    with pytest.raises(ValueError) as err:
        append_responses(log, new.assign(order=[1, 0]))
    assert str(err.value) == (
        "new responses must come after the student's earlier ones: 1 rows do not, first at "
        "index 0 (student 'eve', order 1, but the log already has order 1)"
    )
    with pytest.raises(SchemaError, match="correct must be 0 or 1"):
        append_responses(log, new.assign(correct=[1, 5]))
    with pytest.raises(SchemaError, match="missing required column 'order'"):
        append_responses(log, new.drop(columns="order"))


def test_response_replay():
    log = hand_log()
    rep = ResponseReplay(log, start=3, step=4)
    first = rep.initial
    assert first.groupby("student_id").size().to_dict() == {
        "ann": 3,
        "bob": 3,
        "cat": 3,
        "dan": 3,
        "eve": 2,
    }
    shown = first
    while True:
        more = rep.next()
        if more.empty:
            break
        assert more.groupby("student_id").size().max() <= 4
        shown = append_responses(shown, more)
    assert len(shown) == len(log) and rep.remaining == 0
    with pytest.raises(ValueError, match="step must be a whole number >= 1"):
        ResponseReplay(log, step=0)


@pytest.mark.filterwarnings("ignore::edstudy.bkt.ConvergenceWarning")
def test_snapshot_of_a_simulated_class():
    from edstudy.sim import PopulationSpec, default_curriculum, draw_cohort, load_strategy, simulate

    cur = default_curriculum()
    log, _ = simulate(
        draw_cohort(PopulationSpec(), cur, 12, seed=3), cur, load_strategy("adaptive"), seed=3
    )
    model = BKT(restarts=1, seed=0).fit(log)
    snap = class_snapshot(log, model, curriculum=cur)
    assert snap.mastery.shape == (12, len(cur.skills))
    assert list(snap.mastery.columns) == list(cur.skill_ids)
    assert np.all((snap.mastery.to_numpy() >= 0) & (snap.mastery.to_numpy() <= 1))
    assert set(snap.flags["flag"]) <= set(FLAGS)
    assert len(snap.recommendations) == 12
    media_or_remediation = set(cur.media) | {"worked_example"}
    assert set(snap.recommendations["activity"].dropna()) <= media_or_remediation


def test_heatmap(snap):
    fig = mastery_heatmap(snap, skills=["a", "b"], highlight="bob")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "ann",
        "bob [SP]",
        "cat [D]",
        "dan [PD]",
        "eve",
    ]
    with pytest.raises(ValueError, match="choose at least one skill"):
        mastery_heatmap(snap, skills=[])


def test_a_skipped_prerequisite_counts_as_known(model):
    # gus mastered b without ever practising a (placed out of it): a is not sent back to
    log = pd.DataFrame({"student_id": "gus", "skill_id": "b", "correct": 1, "order": range(6)})
    snap = class_snapshot(log, model, curriculum=CURRICULUM)
    assert snap.mastery.loc["gus", "a"] == pytest.approx(0.2)  # the prior, as BKT says
    assert snap.recommendation("gus") == {
        "skill_id": "c",
        "activity": "practice",
        "reason": "next unmastered skill in curriculum order (now 0.10), prerequisites mastered "
        "(b); known without practice: a",
    }
    # without a curriculum nothing says that b builds on a
    assert class_snapshot(log, model).recommendation("gus")["skill_id"] == "a"


@pytest.mark.filterwarnings("ignore::edstudy.bkt.ConvergenceWarning")
def test_simulated_class_seeds():
    from edstudy.monitor import simulated_class
    from edstudy.sim import PopulationSpec, default_curriculum, draw_cohort, load_strategy, simulate

    demo = simulated_class(6, history_students=8, start=4, step=3, seed=5)
    cur, rules = default_curriculum(), load_strategy("adaptive")
    # last year: cohort and simulation seeded seed + 1; this year: seed and seed
    history, _ = simulate(draw_cohort(PopulationSpec(), cur, 8, seed=6), cur, rules, seed=6)
    current, _ = simulate(draw_cohort(PopulationSpec(), cur, 6, seed=5), cur, rules, seed=5)
    pd.testing.assert_frame_equal(demo.history, history)
    pd.testing.assert_frame_equal(demo.log, ResponseReplay(current, start=4).initial)
    assert demo.log.groupby("student_id").size().max() <= 4
    assert demo.model.model_ is not None and demo.curriculum.skill_ids == cur.skill_ids
    with pytest.raises(ValueError, match="history_students must be a whole number >= 1, got 0"):
        simulated_class(history_students=0)
