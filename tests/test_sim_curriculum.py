"""Curriculum: loading, the prerequisite DAG, and errors that name file, line and field."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from edstudy.sim import (
    ConfigError,
    Curriculum,
    Skill,
    curriculum_from_dict,
    default_curriculum,
    load_curriculum,
)


def write(tmp_path, text, name="cur.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_default_curriculum_is_a_ten_skill_dag():
    cur = default_curriculum()
    assert len(cur.skills) == 10
    assert cur.media == ("video", "audio", "hands_on", "text")
    assert cur.remediations == ("worked_example", "hint")
    pos = {s: i for i, s in enumerate(cur.skill_ids)}
    for s in cur.skills:
        for p in s.prerequisites:
            assert pos[p] < pos[s.id], "prerequisites come first"
    m = cur.prerequisite_matrix()
    assert m.shape == (10, 10) and not np.diag(m).any()


def test_topological_order_is_stable_and_round_trips():
    cur = Curriculum(skills=(Skill("b", prerequisites=("a",)), Skill("a"), Skill("c")))
    assert cur.skill_ids == ("a", "b", "c")
    again = curriculum_from_dict(cur.to_dict())
    assert again == cur


def test_cycle_is_reported_with_its_path():
    with pytest.raises(ValueError, match=r"cycle: (a -> b -> a|b -> a -> b)"):
        Curriculum(skills=(Skill("a", prerequisites=("b",)), Skill("b", prerequisites=("a",))))


def test_unknown_prerequisite_names_file_line_and_suggests(tmp_path):
    p = write(
        tmp_path,
        """\
        skills:
          - id: fractions
          - id: ratios
            prerequisites: [fractoins]
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_curriculum(p)
    msg = str(err.value)
    assert str(p) in msg and "line 4" in msg and "skills.1.prerequisites" in msg
    assert "did you mean 'fractions'" in msg


def test_bad_probability_names_field_and_line(tmp_path):
    p = write(
        tmp_path,
        """\
        skills:
          - id: a
            bkt: {prior: 0.2, learn: 0.1, guess: 0.2, slip: 1.5}
        """,
    )
    with pytest.raises(
        ConfigError, match=r"line 3, field 'skills.0.bkt.slip': must be <= 1, got 1.5"
    ):
        load_curriculum(p)


def test_unknown_key_is_rejected(tmp_path):
    p = write(tmp_path, "skills: [{id: a, itmes: 3}]\n")
    with pytest.raises(ConfigError, match=r"unknown key 'itmes' \(did you mean 'items'\?\)"):
        load_curriculum(p)


def test_yaml_syntax_error_has_a_line(tmp_path):
    p = write(tmp_path, "skills:\n  - id: a\n    bkt: {prior: 0.2\n")
    with pytest.raises(ConfigError, match=r"line \d+: not valid YAML"):
        load_curriculum(p)


def test_with_tutor_sets_believed_parameters():
    cur = default_curriculum()
    t = cur.with_tutor({"ratios": (0.3, 0.1, 0.25, 0.15)})
    arr = t.tutor_arrays()
    k = t.skill_ids.index("ratios")
    assert arr["prior"][k] == pytest.approx(0.3) and arr["slip"][k] == pytest.approx(0.15)
    assert cur.tutor_arrays()["prior"][k] == pytest.approx(0.10), "original untouched"
