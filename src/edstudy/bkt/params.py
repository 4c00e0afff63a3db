"""BKT parameters as frozen, validated dataclasses with a tidy-table and JSON form.

Two containers:

* :class:`SkillParams`: the five probabilities of one skill in the standard model
  (``prior, learn, guess, slip, forget``), convenient for writing parameters by hand.
* :class:`BKTParams`: a whole model. Guess/slip are stored per *guess/slip class* and
  learn/forget per *transition class*; a class is the skill itself (label ``"all"``), a
  (skill, item) pair for KT-IDEM (``item_guess_slip``) or a (skill, activity) pair for
  ``activity_learn``. Individualized models add one logit effect per student on the prior and/or
  the learning rate.

The tidy form (:meth:`BKTParams.to_frame`) has one row per value with columns
``skill, parameter, class, value``; ``parameter`` is one of ``prior, learn, forget, guess, slip``,
or ``student_prior`` / ``student_learn`` for the students' logit effects (``skill`` is then
missing and ``class`` holds the student id).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ALL", "PARAMETERS", "BKTParams", "SkillParams"]

#: Class label of a skill-wide parameter (the standard model).
ALL = "all"
#: Names of the per-skill parameters, in table order.
PARAMETERS: tuple[str, ...] = ("prior", "learn", "forget", "guess", "slip")
STUDENT_PARAMETERS: tuple[str, ...] = ("student_prior", "student_learn")
FORMAT = "edstudy.bkt/1"


def _check_probability(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}") from None
    if not (0.0 <= v <= 1.0):  # also rejects NaN
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return v


def _check_probabilities(name: str, values: Any, n: int) -> np.ndarray:
    arr = np.array(values, dtype=float, copy=True).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"{name} must have {n} values, got {arr.shape[0]}")
    bad = ~((arr >= 0.0) & (arr <= 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} must be probabilities in [0, 1]: {int(bad.sum())} values are not, "
            f"first at position {i} (value {float(arr[i])!r})"
        )
    arr.setflags(write=False)
    return arr


def _jsonable(x: Any) -> Any:
    """A label as a JSON value (ints and strings round-trip; numpy scalars are unwrapped)."""
    if isinstance(x, np.generic):
        x = x.item()
    if x is None or isinstance(x, bool | int | str):
        return x
    if isinstance(x, float):
        if x.is_integer():
            return int(x)
        return x
    raise TypeError(f"cannot save id {x!r} of type {type(x).__name__} to JSON; use int or str ids")


@dataclass(frozen=True)
class SkillParams:
    """Parameters of one skill in the standard BKT model.

    Parameters
    ----------
    prior : float
        P(mastered) before the first opportunity, P(L0).
    learn : float
        P(unmastered -> mastered) after an opportunity, P(T).
    guess : float
        P(correct | unmastered), P(G).
    slip : float
        P(incorrect | mastered), P(S).
    forget : float, default 0
        P(mastered -> unmastered) after an opportunity.

    Raises
    ------
    ValueError
        If a value is not a probability, e.g. ``guess must be a probability in [0, 1], got 1.5``.
    """

    prior: float
    learn: float
    guess: float
    slip: float
    forget: float = 0.0

    def __post_init__(self) -> None:
        for name in ("prior", "learn", "guess", "slip", "forget"):
            object.__setattr__(self, name, _check_probability(name, getattr(self, name)))


@dataclass(frozen=True, eq=False)
class BKTParams:
    """All parameters of a fitted (or given) BKT model.

    Arrays are read-only copies. Classes are sorted by skill; each skill has at least one guess/slip
    class and one transition class.

    Attributes
    ----------
    skills : tuple, length n_skills
        Skill ids.
    prior : float array (n_skills,)
        P(mastered) before the first opportunity (for a student with effect 0).
    tr_skill : int array (n_tr,)
        Skill position of each transition class.
    tr_label : tuple, length n_tr
        ``"all"`` or the activity of the class.
    learn, forget : float arrays (n_tr,)
    gs_skill : int array (n_gs,); gs_label : tuple, length n_gs
        Skill position and ``"all"`` / item id of each guess/slip class.
    guess, slip : float arrays (n_gs,)
    tr_weight, gs_weight : float arrays
        Rows behind each class in the training log (weights of the averages used for unseen
        classes); 1 when not known.
    students : tuple or None
        Student ids of the individual effects.
    student_prior, student_learn : float arrays (n_students,) or None
        Logit effects added to each skill's logit prior / logit learning rate.
    student_effect_sd : float or None
        SD of the Normal prior of the effects (used to draw new students in :meth:`sample`).
    """

    skills: tuple
    prior: np.ndarray
    tr_skill: np.ndarray
    tr_label: tuple
    learn: np.ndarray
    forget: np.ndarray
    gs_skill: np.ndarray
    gs_label: tuple
    guess: np.ndarray
    slip: np.ndarray
    tr_weight: np.ndarray | None = None
    gs_weight: np.ndarray | None = None
    students: tuple | None = None
    student_prior: np.ndarray | None = None
    student_learn: np.ndarray | None = None
    student_effect_sd: float | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        skills = tuple(self.skills)
        n = len(skills)
        if n == 0:
            raise ValueError("a BKT model needs at least one skill")
        if len(set(skills)) != n:
            raise ValueError("skills must be unique")
        object.__setattr__(self, "skills", skills)
        object.__setattr__(self, "prior", _check_probabilities("prior", self.prior, n))
        for kind, params in (("tr", ("learn", "forget")), ("gs", ("guess", "slip"))):
            sk = np.array(getattr(self, f"{kind}_skill"), dtype=np.int64).reshape(-1)
            labels = tuple(getattr(self, f"{kind}_label"))
            m = sk.shape[0]
            if len(labels) != m:
                raise ValueError(f"{kind}_label must have {m} values, got {len(labels)}")
            if m and (sk.min() < 0 or sk.max() >= n):
                raise ValueError(f"{kind}_skill must be skill positions in 0..{n - 1}")
            if m and np.any(np.diff(sk) < 0):
                raise ValueError(f"{kind} classes must be sorted by skill")
            if np.unique(sk).shape[0] != n:
                missing = sorted(set(range(n)) - set(sk.tolist()))
                raise ValueError(
                    f"every skill needs a {params[0]}/{params[1]} value; missing for "
                    f"{[skills[i] for i in missing[:5]]}"
                )
            pairs = set(zip(sk.tolist(), labels, strict=True))
            if len(pairs) != m:
                raise ValueError(f"{params[0]}/{params[1]} classes must be unique per skill")
            sk.setflags(write=False)
            object.__setattr__(self, f"{kind}_skill", sk)
            object.__setattr__(self, f"{kind}_label", labels)
            for p in params:
                object.__setattr__(self, p, _check_probabilities(p, getattr(self, p), m))
            w = getattr(self, f"{kind}_weight")
            w = np.ones(m) if w is None else np.array(w, dtype=float).reshape(-1)
            if w.shape[0] != m or np.any(~np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"{kind}_weight must be {m} finite values >= 0")
            w.setflags(write=False)
            object.__setattr__(self, f"{kind}_weight", w)
        has_effects = self.student_prior is not None or self.student_learn is not None
        if has_effects:
            if self.students is None:
                raise ValueError("student effects need students")
            students = tuple(self.students)
            object.__setattr__(self, "students", students)
            for name in STUDENT_PARAMETERS:
                v = getattr(self, name)
                if v is None:
                    continue
                arr = np.array(v, dtype=float).reshape(-1)
                if arr.shape[0] != len(students) or not np.all(np.isfinite(arr)):
                    raise ValueError(f"{name} must be {len(students)} finite logit effects")
                arr.setflags(write=False)
                object.__setattr__(self, name, arr)
        elif self.students is not None:
            object.__setattr__(self, "students", tuple(self.students))
        if self.student_effect_sd is not None:
            sd = float(self.student_effect_sd)
            if not (sd > 0 and math.isfinite(sd)):
                raise ValueError(
                    f"student_effect_sd must be a number > 0, got {self.student_effect_sd!r}"
                )
            object.__setattr__(self, "student_effect_sd", sd)

    # ------------------------------------------------------------------ properties
    @property
    def n_skills(self) -> int:
        return len(self.skills)

    @property
    def item_guess_slip(self) -> bool:
        """True when some guess/slip class is an item (KT-IDEM)."""
        return any(lab != ALL for lab in self.gs_label)

    @property
    def activity_learn(self) -> bool:
        """True when some transition class is an activity."""
        return any(lab != ALL for lab in self.tr_label)

    @property
    def forgets(self) -> bool:
        return bool(np.any(self.forget > 0))

    def skill_index(self) -> pd.Index:
        if "skills" not in self._cache:
            self._cache["skills"] = pd.Index(list(self.skills))
        return self._cache["skills"]

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_skills(cls, skills: Mapping[Any, SkillParams | Mapping[str, float]]) -> BKTParams:
        """A standard (or forgets) model from one :class:`SkillParams` (or dict) per skill.

        >>> p = BKTParams.from_skills({"fractions": SkillParams(.2, .1, .2, .1)})
        """
        if not skills:
            raise ValueError("a BKT model needs at least one skill")
        rows = []
        for skill, sp in skills.items():
            if not isinstance(sp, SkillParams):
                if not isinstance(sp, Mapping):
                    raise TypeError(
                        f"parameters of skill {skill!r} must be SkillParams or a dict, "
                        f"got {type(sp).__name__}"
                    )
                unknown = set(sp) - set(PARAMETERS)
                if unknown:
                    raise ValueError(
                        f"unknown parameter {sorted(unknown)[0]!r} for skill {skill!r}; "
                        f"allowed: {', '.join(PARAMETERS)}"
                    )
                sp = SkillParams(**sp)
            rows.append(sp)
        n = len(rows)
        return cls(
            skills=tuple(skills),
            prior=[r.prior for r in rows],
            tr_skill=np.arange(n),
            tr_label=(ALL,) * n,
            learn=[r.learn for r in rows],
            forget=[r.forget for r in rows],
            gs_skill=np.arange(n),
            gs_label=(ALL,) * n,
            guess=[r.guess for r in rows],
            slip=[r.slip for r in rows],
        )

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, *, student_effect_sd: float | None = None
    ) -> BKTParams:
        """Parameters from a tidy table with columns ``skill, parameter, class, value``.

        ``class`` is ``"all"`` for skill-wide values, else an item (guess/slip) or activity
        (learn/forget); it may be omitted when every value is skill-wide. ``forget`` rows may be
        omitted (0). Skills keep their first-appearance order.
        """
        missing = {"skill", "parameter", "value"} - set(frame.columns)
        if missing:
            raise ValueError(f"parameter table is missing column(s): {sorted(missing)}")
        df = frame.copy()
        if "class" not in df.columns:
            df["class"] = ALL
        params = df["parameter"].astype(object)
        known = set(PARAMETERS) | set(STUDENT_PARAMETERS)
        bad = ~params.isin(known)
        if bad.any():
            raise ValueError(
                f"unknown parameter {params[bad].iloc[0]!r}; allowed: {', '.join(PARAMETERS)}, "
                f"{', '.join(STUDENT_PARAMETERS)}"
            )
        main = df[params.isin(PARAMETERS).to_numpy()]
        skills = list(pd.unique(main["skill"].to_numpy(dtype=object)))
        pos = {s: i for i, s in enumerate(skills)}

        def table(names: tuple[str, ...], required: tuple[str, ...]):
            sub = main[main["parameter"].isin(names).to_numpy()]
            keys: dict[tuple[int, Any], dict[str, float]] = {}
            for skill, par, cls_, val in zip(
                sub["skill"], sub["parameter"], sub["class"], sub["value"], strict=True
            ):
                k = (pos[skill], cls_)
                d = keys.setdefault(k, {})
                if par in d:
                    raise ValueError(f"{par} given twice for skill {skill!r}, class {cls_!r}")
                d[par] = val
            ordered = sorted(keys, key=lambda k: (k[0], str(k[1]) != ALL, str(k[1])))
            out = {p: [] for p in names}
            for k in ordered:
                for p in names:
                    if p not in keys[k]:
                        if p in required:
                            raise ValueError(
                                f"{p} missing for skill {skills[k[0]]!r}, class {k[1]!r}"
                            )
                        keys[k][p] = 0.0
                    out[p].append(keys[k][p])
            return [k[0] for k in ordered], tuple(_label(k[1]) for k in ordered), out

        prior_rows = main[main["parameter"] == "prior"]
        prior = {}
        for skill, val in zip(prior_rows["skill"], prior_rows["value"], strict=True):
            if skill in prior:
                raise ValueError(f"prior given twice for skill {skill!r}")
            prior[skill] = val
        no_prior = [s for s in skills if s not in prior]
        if no_prior:
            raise ValueError(f"prior missing for skill(s) {no_prior[:5]}")
        tr_skill, tr_label, tr = table(("learn", "forget"), ("learn",))
        gs_skill, gs_label, gs = table(("guess", "slip"), ("guess", "slip"))
        students = None
        effects: dict[str, np.ndarray | None] = {"student_prior": None, "student_learn": None}
        eff = df[params.isin(STUDENT_PARAMETERS).to_numpy()]
        if len(eff):
            students = list(pd.unique(eff["class"].to_numpy(dtype=object)))
            spos = {s: i for i, s in enumerate(students)}
            for name in STUDENT_PARAMETERS:
                rows = eff[eff["parameter"] == name]
                if len(rows):
                    arr = np.zeros(len(students))
                    arr[[spos[s] for s in rows["class"]]] = rows["value"].to_numpy(dtype=float)
                    effects[name] = arr
        return cls(
            skills=tuple(skills),
            prior=[prior[s] for s in skills],
            tr_skill=tr_skill,
            tr_label=tr_label,
            learn=tr["learn"],
            forget=tr["forget"],
            gs_skill=gs_skill,
            gs_label=gs_label,
            guess=gs["guess"],
            slip=gs["slip"],
            students=tuple(students) if students is not None else None,
            student_prior=effects["student_prior"],
            student_learn=effects["student_learn"],
            student_effect_sd=student_effect_sd,
        )

    # ------------------------------------------------------------------ views
    def to_frame(self) -> pd.DataFrame:
        """The tidy table: one row per value, columns ``skill, parameter, class, value``."""
        skills = np.array(self.skills, dtype=object)
        parts = [
            pd.DataFrame({"skill": skills, "parameter": "prior", "class": ALL, "value": self.prior})
        ]
        for names, sk, labels in (
            (("learn", "forget"), self.tr_skill, self.tr_label),
            (("guess", "slip"), self.gs_skill, self.gs_label),
        ):
            for name in names:
                parts.append(
                    pd.DataFrame(
                        {
                            "skill": skills[sk],
                            "parameter": name,
                            "class": np.array(labels, dtype=object),
                            "value": getattr(self, name),
                        }
                    )
                )
        out = pd.concat(parts, ignore_index=True)
        order = {p: i for i, p in enumerate(PARAMETERS)}
        skill_pos = {s: i for i, s in enumerate(self.skills)}
        out["_s"] = out["skill"].map(skill_pos)
        out["_p"] = out["parameter"].map(order)
        out = out.sort_values(["_s", "_p"], kind="stable").drop(columns=["_s", "_p"])
        if self.students is not None:
            for name in STUDENT_PARAMETERS:
                v = getattr(self, name)
                if v is not None:
                    out = pd.concat(
                        [
                            out,
                            pd.DataFrame(
                                {
                                    "skill": None,
                                    "parameter": name,
                                    "class": np.array(self.students, dtype=object),
                                    "value": v,
                                }
                            ),
                        ],
                        ignore_index=True,
                    )
        out = out.reset_index(drop=True)
        out["skill"] = out["skill"].astype(object)
        out["class"] = out["class"].astype(object)
        out["parameter"] = out["parameter"].astype(object)
        return out

    def skill_table(self) -> pd.DataFrame:
        """One row per skill: ``prior, learn, forget, guess, slip`` averaged over its classes
        (weighted by their training rows)."""
        rows = {"prior": np.asarray(self.prior)}
        for names, sk, w in (
            (("learn", "forget"), self.tr_skill, self.tr_weight),
            (("guess", "slip"), self.gs_skill, self.gs_weight),
        ):
            tot = np.bincount(sk, weights=w, minlength=self.n_skills)
            cnt = np.bincount(sk, minlength=self.n_skills)
            for name in names:
                v = np.asarray(getattr(self, name))
                s = np.bincount(sk, weights=v * w, minlength=self.n_skills)
                plain = np.bincount(sk, weights=v, minlength=self.n_skills) / cnt
                rows[name] = np.where(tot > 0, s / np.where(tot > 0, tot, 1), plain)
        return pd.DataFrame(rows, index=pd.Index(list(self.skills), name="skill"))

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """A JSON-ready dict (ids must be int or str)."""

        def floats(a):
            return None if a is None else [float(x) for x in a]

        return {
            "format": FORMAT,
            "skills": [_jsonable(s) for s in self.skills],
            "prior": floats(self.prior),
            "transition_classes": {
                "skill": [int(x) for x in self.tr_skill],
                "label": [_jsonable(x) for x in self.tr_label],
                "learn": floats(self.learn),
                "forget": floats(self.forget),
                "weight": floats(self.tr_weight),
            },
            "guess_slip_classes": {
                "skill": [int(x) for x in self.gs_skill],
                "label": [_jsonable(x) for x in self.gs_label],
                "guess": floats(self.guess),
                "slip": floats(self.slip),
                "weight": floats(self.gs_weight),
            },
            "students": None if self.students is None else [_jsonable(s) for s in self.students],
            "student_prior": floats(self.student_prior),
            "student_learn": floats(self.student_learn),
            "student_effect_sd": self.student_effect_sd,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BKTParams:
        """Inverse of :meth:`to_dict`."""
        if d.get("format") != FORMAT:
            raise ValueError(f"not an edstudy BKT parameter document (format {d.get('format')!r})")
        tr = d["transition_classes"]
        gs = d["guess_slip_classes"]
        return cls(
            skills=tuple(d["skills"]),
            prior=d["prior"],
            tr_skill=tr["skill"],
            tr_label=tuple(tr["label"]),
            learn=tr["learn"],
            forget=tr["forget"],
            tr_weight=tr.get("weight"),
            gs_skill=gs["skill"],
            gs_label=tuple(gs["label"]),
            guess=gs["guess"],
            slip=gs["slip"],
            gs_weight=gs.get("weight"),
            students=None if d.get("students") is None else tuple(d["students"]),
            student_prior=d.get("student_prior"),
            student_learn=d.get("student_learn"),
            student_effect_sd=d.get("student_effect_sd"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> BKTParams:
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BKTParams):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _label(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    return x
