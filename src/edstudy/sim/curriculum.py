"""Curriculum: skills with prerequisites (a DAG), items, activities in several media, tests.

A curriculum is what every arm of a study teaches. Each skill carries the *generating* BKT
parameters of the population (``prior, learn, guess, slip``: what the simulator's students
really do) and, optionally, the parameters the tutor *believes* (``tutor``), which default to the
generating ones. Students draw individual deviations from these (see :mod:`edstudy.sim.population`).

Activities are the instruction that comes with a practice opportunity: four media (``video``,
``audio``, ``hands_on``, ``text`` by default) that a strategy can assign or offer, and remediation
activities (``worked_example``, ``hint``) a strategy can prescribe after errors. Each has a mean
duration and a ``learn_multiplier`` that applies to *every* student (a medium may simply be better
for everyone); whether a medium teaches a given student better because it is "their" medium is the
population's meshing knob, not a property of the curriculum.

The pre-test and the post-test score ``items_per_skill`` items of every skill.

Load one from YAML with :func:`load_curriculum`; the default ships as
``edstudy/data/curriculum_default.yaml`` (:func:`default_curriculum`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from edstudy.sim._config import ConfigError, Source, check_keys, load_yaml, number, suggest

__all__ = [
    "Activity",
    "Skill",
    "Curriculum",
    "load_curriculum",
    "curriculum_from_dict",
    "default_curriculum",
    "data_path",
    "DEFAULT_ACTIVITIES",
]


def data_path(name: str = "") -> Path:
    """Path of a configuration file shipped with edstudy (the default curriculum, the default
    study, the strategies' rule files).

    They are package data (``edstudy/data/`` inside the installed package, so a wheel installed
    anywhere finds them); ``$EDSTUDY_CONFIG_DIR`` points to another folder of the same layout.
    """
    env = os.environ.get("EDSTUDY_CONFIG_DIR")
    base = Path(env).expanduser() if env else Path(str(files("edstudy") / "data"))
    return base / name if name else base


@dataclass(frozen=True)
class Activity:
    """One kind of activity: a medium or a remediation.

    Parameters
    ----------
    name : str
        E.g. ``"video"``; appears in the log's ``activity`` column.
    kind : {"medium", "remediation"}
        Media can be assigned, offered and preferred; remediation is prescribed after errors.
    duration_s : float
        Mean seconds a student spends on one opportunity with this activity (> 0).
    learn_multiplier : float
        Multiplies every student's learning rate on an opportunity with this activity (> 0);
        1 means "as good as any other".
    """

    name: str
    kind: str = "medium"
    duration_s: float = 240.0
    learn_multiplier: float = 1.0

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError("activity name must be a non-empty string")
        if self.kind not in ("medium", "remediation"):
            raise ValueError(f"activity {self.name!r}: kind must be 'medium' or 'remediation'")
        if not self.duration_s > 0:
            raise ValueError(f"activity {self.name!r}: duration_s must be > 0")
        if not self.learn_multiplier > 0:
            raise ValueError(f"activity {self.name!r}: learn_multiplier must be > 0")


DEFAULT_ACTIVITIES: tuple[Activity, ...] = (
    Activity("video", "medium", 240.0, 1.0),
    Activity("audio", "medium", 240.0, 1.0),
    Activity("hands_on", "medium", 240.0, 1.0),
    Activity("text", "medium", 240.0, 1.0),
    Activity("worked_example", "remediation", 300.0, 1.5),
    Activity("hint", "remediation", 120.0, 1.2),
)


def _check_prob(name: str, value: float, *, low: float = 0.0, high: float = 1.0) -> None:
    if not (low <= value <= high):
        raise ValueError(f"{name} must be in [{low:g}, {high:g}], got {value!r}")


@dataclass(frozen=True)
class Skill:
    """A skill (knowledge component).

    Parameters
    ----------
    id : str
        Identifier, the log's ``skill_id``.
    prerequisites : tuple of str
        Skills that must be mastered first; learning without them is slowed by the curriculum's
        ``prerequisite_penalty``.
    n_items : int
        Distinct practice items (cycled through).
    prior, learn, guess, slip : float
        Generating BKT parameters of the population (students deviate around them).
    tutor : tuple (prior, learn, guess, slip) or None
        What the tutor's mastery estimate assumes; None means the generating values.
    title : str
        Readable name.
    """

    id: str
    prerequisites: tuple[str, ...] = ()
    n_items: int = 10
    prior: float = 0.2
    learn: float = 0.15
    guess: float = 0.2
    slip: float = 0.1
    tutor: tuple[float, float, float, float] | None = None
    title: str = ""

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise ValueError("skill id must be a non-empty string")
        object.__setattr__(self, "prerequisites", tuple(self.prerequisites))
        if int(self.n_items) != self.n_items or self.n_items < 1:
            raise ValueError(f"skill {self.id!r}: n_items must be a whole number >= 1")
        for name in ("prior", "learn", "guess", "slip"):
            _check_prob(f"skill {self.id!r}: {name}", getattr(self, name))
        if self.guess + self.slip >= 1:
            raise ValueError(f"skill {self.id!r}: guess + slip must be < 1")
        if self.tutor is not None:
            t = tuple(float(v) for v in self.tutor)
            if len(t) != 4:
                raise ValueError(f"skill {self.id!r}: tutor must be (prior, learn, guess, slip)")
            for name, v in zip(("prior", "learn", "guess", "slip"), t, strict=True):
                _check_prob(f"skill {self.id!r}: tutor {name}", v, low=1e-6, high=1 - 1e-6)
            object.__setattr__(self, "tutor", t)

    @property
    def tutor_params(self) -> tuple[float, float, float, float]:
        """(prior, learn, guess, slip) the tutor uses, clipped away from 0 and 1."""
        t = self.tutor or (self.prior, self.learn, self.guess, self.slip)
        return tuple(float(np.clip(v, 1e-6, 1 - 1e-6)) for v in t)  # type: ignore[return-value]


@dataclass(frozen=True)
class Curriculum:
    """Skills in a prerequisite order, activities, and the two tests.

    Parameters
    ----------
    skills : tuple of Skill
        Any order; stored in a stable topological order (prerequisites first, otherwise the
        given order), which is the "curriculum sequence" strategies follow.
    activities : tuple of Activity
        At least one medium; remediation activities are optional.
    pretest_items, posttest_items : int
        Items per skill on each test (>= 1).
    prerequisite_penalty : float
        In (0, 1]: learning-rate multiplier while any prerequisite is not truly mastered.
    name, description : str
    """

    skills: tuple[Skill, ...]
    activities: tuple[Activity, ...] = DEFAULT_ACTIVITIES
    pretest_items: int = 2
    posttest_items: int = 3
    prerequisite_penalty: float = 0.5
    name: str = "curriculum"
    description: str = ""

    def __post_init__(self) -> None:
        skills = tuple(self.skills)
        if not skills:
            raise ValueError("a curriculum needs at least one skill")
        ids = [s.id for s in skills]
        known = set(ids)  # sets, not lists: a curriculum of 30,000 skills is checked in ms
        dup = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dup:
            raise ValueError(f"duplicate skill id(s): {', '.join(dup)}")
        for s in skills:
            for p in s.prerequisites:
                if p not in known:
                    raise ValueError(f"skill {s.id!r}: unknown prerequisite {p!r}{suggest(p, ids)}")
                if p == s.id:
                    raise ValueError(f"skill {s.id!r} lists itself as a prerequisite")
        object.__setattr__(self, "skills", _topological(skills))
        acts = tuple(self.activities)
        names = [a.name for a in acts]
        if len(set(names)) != len(names):
            raise ValueError("duplicate activity names")
        if not any(a.kind == "medium" for a in acts):
            raise ValueError("a curriculum needs at least one medium activity")
        # media first, then remediation, each in the given order
        acts = tuple(a for a in acts if a.kind == "medium") + tuple(
            a for a in acts if a.kind == "remediation"
        )
        object.__setattr__(self, "activities", acts)
        for name in ("pretest_items", "posttest_items"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a whole number >= 1")
        if not (0 < self.prerequisite_penalty <= 1):
            raise ValueError("prerequisite_penalty must be in (0, 1]")

    # -- derived views -------------------------------------------------------------------
    @property
    def skill_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.skills)

    @property
    def media(self) -> tuple[str, ...]:
        """Names of the medium activities, in code order (0..M-1)."""
        return tuple(a.name for a in self.activities if a.kind == "medium")

    @property
    def remediations(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.activities if a.kind == "remediation")

    @property
    def activity_names(self) -> tuple[str, ...]:
        """All activities in code order: media then remediation."""
        return tuple(a.name for a in self.activities)

    def prerequisite_matrix(self) -> np.ndarray:
        """Boolean (K, K) matrix, ``[k, j]`` True when skill j is a prerequisite of skill k."""
        index = {s: i for i, s in enumerate(self.skill_ids)}
        m = np.zeros((len(self.skills), len(self.skills)), dtype=bool)
        for k, s in enumerate(self.skills):
            for p in s.prerequisites:
                m[k, index[p]] = True
        return m

    def bkt_arrays(self) -> dict[str, np.ndarray]:
        """Generating ``prior, learn, guess, slip`` as float arrays of shape (K,)."""
        return {
            name: np.array([getattr(s, name) for s in self.skills], dtype=float)
            for name in ("prior", "learn", "guess", "slip")
        }

    def tutor_arrays(self) -> dict[str, np.ndarray]:
        """The tutor's ``prior, learn, guess, slip`` as float arrays of shape (K,)."""
        t = np.array([s.tutor_params for s in self.skills], dtype=float)
        return {"prior": t[:, 0], "learn": t[:, 1], "guess": t[:, 2], "slip": t[:, 3]}

    def with_tutor(self, params: Mapping[str, tuple[float, float, float, float]]) -> Curriculum:
        """A copy whose tutor uses ``params[skill_id] = (prior, learn, guess, slip)``.

        For example the parameters a BKT model fitted on real data, to study a tutor whose model is
        wrong about the students.
        """
        unknown = sorted(set(params) - set(self.skill_ids))
        if unknown:
            raise KeyError(f"unknown skill(s) {unknown}")
        skills = tuple(
            replace(s, tutor=tuple(params[s.id])) if s.id in params else s for s in self.skills
        )
        return replace(self, skills=skills)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that :func:`curriculum_from_dict` reads back (used in saved studies)."""
        return {
            "name": self.name,
            "description": self.description,
            "prerequisite_penalty": self.prerequisite_penalty,
            "pretest": {"items_per_skill": int(self.pretest_items)},
            "posttest": {"items_per_skill": int(self.posttest_items)},
            "activities": {
                a.name: {
                    "kind": a.kind,
                    "duration_s": a.duration_s,
                    "learn_multiplier": a.learn_multiplier,
                }
                for a in self.activities
            },
            "skills": [
                {
                    "id": s.id,
                    **({"title": s.title} if s.title else {}),
                    "prerequisites": list(s.prerequisites),
                    "items": int(s.n_items),
                    "bkt": {"prior": s.prior, "learn": s.learn, "guess": s.guess, "slip": s.slip},
                    **(
                        {
                            "tutor": dict(
                                zip(("prior", "learn", "guess", "slip"), s.tutor, strict=True)
                            )
                        }
                        if s.tutor is not None
                        else {}
                    ),
                }
                for s in self.skills
            ],
        }


def _topological(skills: tuple[Skill, ...]) -> tuple[Skill, ...]:
    """Stable Kahn ordering; a cycle raises ValueError naming the skills in it."""
    remaining = list(skills)
    placed: list[Skill] = []
    done: set[str] = set()
    while remaining:
        for i, s in enumerate(remaining):
            if all(p in done for p in s.prerequisites):
                placed.append(s)
                done.add(s.id)
                del remaining[i]
                break
        else:
            cycle = _find_cycle({s.id: s.prerequisites for s in remaining})
            raise ValueError(f"prerequisites form a cycle: {' -> '.join(cycle)}")
    return tuple(placed)


def _find_cycle(graph: dict[str, tuple[str, ...]]) -> list[str]:
    start = next(iter(graph))
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        node = next(p for p in graph[node] if p in graph)
        if node in seen:
            return path[seen[node] :] + [node]
        seen[node] = len(path)
        path.append(node)


_TOP_KEYS = (
    "name",
    "description",
    "activities",
    "prerequisite_penalty",
    "pretest",
    "posttest",
    "skills",
)
_SKILL_KEYS = ("id", "title", "prerequisites", "items", "bkt", "tutor")
_BKT_KEYS = ("prior", "learn", "guess", "slip")
_ACT_KEYS = ("kind", "duration_s", "learn_multiplier")


def curriculum_from_dict(doc: Mapping[str, Any], *, source: Source | None = None) -> Curriculum:
    """Build a :class:`Curriculum` from its YAML/JSON document.

    Raises
    ------
    ConfigError
        Naming the file, line and field of the first problem.
    """
    src = source or Source(name="<curriculum>")
    check_keys(doc, _TOP_KEYS, src, required=("skills",))
    activities = DEFAULT_ACTIVITIES
    if "activities" in doc:
        acts = doc["activities"]
        check_keys(acts, list(acts) if isinstance(acts, Mapping) else [], src, ["activities"])
        activities = []
        for name, spec in acts.items():
            path = ["activities", name]
            spec = spec or {}
            check_keys(spec, _ACT_KEYS, src, path)
            kind = spec.get(
                "kind", "remediation" if name in ("worked_example", "hint") else "medium"
            )
            if kind not in ("medium", "remediation"):
                raise src.error(
                    f"kind must be 'medium' or 'remediation', got {kind!r}", [*path, "kind"]
                )
            dur = number(
                spec.get("duration_s", 240.0), src, [*path, "duration_s"], low=0, low_open=True
            )
            mult = number(
                spec.get("learn_multiplier", 1.0),
                src,
                [*path, "learn_multiplier"],
                low=0,
                low_open=True,
            )
            activities.append(Activity(str(name), kind, dur, mult))
        if not any(a.kind == "medium" for a in activities):
            raise src.error("at least one activity must have kind 'medium'", ["activities"])
    tests = {}
    for test in ("pretest", "posttest"):
        spec = doc.get(test, {}) or {}
        check_keys(spec, ("items_per_skill",), src, [test])
        default = 2 if test == "pretest" else 3
        tests[test] = number(
            spec.get("items_per_skill", default),
            src,
            [test, "items_per_skill"],
            low=1,
            integer=True,
        )
    penalty = number(
        doc.get("prerequisite_penalty", 0.5),
        src,
        ["prerequisite_penalty"],
        low=0,
        high=1,
        low_open=True,
    )
    raw_skills = doc["skills"]
    if not isinstance(raw_skills, list) or not raw_skills:
        raise src.error("skills must be a non-empty list", ["skills"])
    skills = []
    ids = [s.get("id") if isinstance(s, Mapping) else None for s in raw_skills]
    for i, s in enumerate(raw_skills):
        path: list[str | int] = ["skills", i]
        check_keys(s, _SKILL_KEYS, src, path, required=("id",))
        sid = s["id"]
        if not isinstance(sid, str | int) or isinstance(sid, bool) or str(sid) == "":
            raise src.error(f"skill id must be a name, got {sid!r}", [*path, "id"])
        if ids.count(sid) > 1:
            raise src.error(f"duplicate skill id {sid!r}", [*path, "id"])
        prereq = s.get("prerequisites", []) or []
        if isinstance(prereq, str):
            prereq = [prereq]
        for p in prereq:
            if p not in ids:
                raise src.error(
                    f"unknown prerequisite {p!r}{suggest(str(p), [str(x) for x in ids])}",
                    [*path, "prerequisites"],
                )
        bkt = s.get("bkt", {}) or {}
        check_keys(bkt, _BKT_KEYS, src, [*path, "bkt"])
        values = {
            k: number(bkt.get(k, d), src, [*path, "bkt", k], low=0, high=1)
            for k, d in zip(_BKT_KEYS, (0.2, 0.15, 0.2, 0.1), strict=True)
        }
        if values["guess"] + values["slip"] >= 1:
            raise src.error("guess + slip must be < 1", [*path, "bkt"])
        tutor = None
        if s.get("tutor") is not None:
            check_keys(s["tutor"], _BKT_KEYS, src, [*path, "tutor"], required=_BKT_KEYS)
            tutor = tuple(
                number(
                    s["tutor"][k],
                    src,
                    [*path, "tutor", k],
                    low=0,
                    high=1,
                    low_open=True,
                    high_open=True,
                )
                for k in _BKT_KEYS
            )
        items = number(s.get("items", 10), src, [*path, "items"], low=1, integer=True)
        skills.append(
            Skill(
                id=str(sid),
                prerequisites=tuple(str(p) for p in prereq),
                n_items=int(items),
                tutor=tutor,
                title=str(s.get("title", "")),
                **values,
            )
        )
    try:
        return Curriculum(
            skills=tuple(skills),
            activities=tuple(activities),
            pretest_items=int(tests["pretest"]),
            posttest_items=int(tests["posttest"]),
            prerequisite_penalty=penalty,
            name=str(doc.get("name", Path(src.name).stem if source else "curriculum")),
            description=str(doc.get("description", "") or ""),
        )
    except ValueError as err:
        raise src.error(str(err), ["skills"]) from None


def load_curriculum(path: str | Path) -> Curriculum:
    """Read a curriculum YAML file (see ``edstudy/data/curriculum_default.yaml`` for the format).

    Raises
    ------
    ConfigError
        With file, line and field, e.g. ``curriculum.yaml, line 12, field 'skills.2.bkt.slip':
        must be <= 1, got 1.2``.
    """
    doc, src = load_yaml(path)
    if not isinstance(doc, Mapping):
        raise ConfigError("a curriculum file must be a YAML mapping", file=str(path))
    return curriculum_from_dict(doc, source=src)


def default_curriculum() -> Curriculum:
    """The curriculum shipped as ``edstudy/data/curriculum_default.yaml``."""
    return load_curriculum(data_path("curriculum_default.yaml"))
