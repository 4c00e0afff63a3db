"""Experiment designs: arms, randomization, sizes, replications, scenarios, seeds, budget.

A :class:`Study` is the full, frozen configuration of a simulated experiment (configuration only:
:func:`edstudy.experiment.run_study` runs it). It is read from and
written to YAML (:meth:`Study.from_yaml`, :meth:`Study.to_yaml`); the written file holds
everything inline (curriculum, population, every strategy's rules and parameters, seeds), so a
study saved next to its results reproduces them exactly. A study file looks like::

    name: default
    seed: 20240917
    replications: 2
    design:
      n_students: 7000          # per replication, split across arms
      randomization: class      # student | class | school | none (every arm gets every student)
      class_size: 25
      classes_per_school: 4
    budget: {minutes: 240}
    curriculum: curriculum_default.yaml     # a path (relative to this file) or an inline mapping
    population: {preference_validity: 0.7}  # PopulationSpec fields
    scenarios:                              # worlds to compare, as population overrides
      meshing_0: {meshing_effect: 0.0}
      meshing_high: {meshing_effect: 1.0}
    arms:
      - name: individualized
        strategy: strategies/individualized.yaml   # path, shipped name, or inline mapping
        params: {mastery_threshold: 0.9}           # overrides of the strategy's params

Seeds. Replication ``r`` draws its cohort from ``SeedSequence([seed, r, 0])`` and its assignment
from ``[seed, r, 1]``; an arm simulates with ``[seed, r, 2, crc32(arm name)]``. Scenarios share
these seeds, so they compare the same students (common random numbers), and adding an arm does
not change the others. The cohort and simulation seeds are stream keys: every random number of
student ``i`` (its ``student_id``, the global index in the replication) is a function of the key,
``i``, a per-student counter and the purpose of the number (Philox4x32-10,
:mod:`edstudy.sim._random`), so a student's traits and rows do not depend on which students are
drawn or simulated with it; the runner splits arms into chunks on that guarantee.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from edstudy import __version__
from edstudy.sim._config import ConfigError, Source, check_keys, load_yaml, number, suggest
from edstudy.sim.curriculum import Curriculum, curriculum_from_dict, data_path, load_curriculum
from edstudy.sim.engine import Budget
from edstudy.sim.population import PopulationSpec
from edstudy.sim.strategies import STRATEGY_NAMES, Strategy, load_strategy, strategy_from_dict

__all__ = ["Arm", "Study", "RANDOMIZATION_UNITS", "SHIPPED_STUDIES", "study_file"]

#: Studies shipped with edstudy, by name (package data, see :func:`edstudy.sim.data_path`).
SHIPPED_STUDIES: dict[str, str] = {"default": "default_study.yaml"}


def study_file(path_or_name: str | Path) -> Path:
    """The study file at ``path_or_name``, or the shipped study of that name (``"default"``)."""
    p = Path(path_or_name).expanduser()
    if not p.exists() and str(path_or_name) in SHIPPED_STUDIES:
        return data_path(SHIPPED_STUDIES[str(path_or_name)])
    return p

RANDOMIZATION_UNITS = ("student", "class", "school", "none")
_TOP_KEYS = (
    "name",
    "description",
    "seed",
    "replications",
    "design",
    "budget",
    "curriculum",
    "population",
    "scenarios",
    "arms",
    "contrasts",
    "provenance",
)
_DESIGN_KEYS = ("n_students", "randomization", "class_size", "classes_per_school")


@dataclass(frozen=True)
class Arm:
    """One arm: a name and the strategy it runs (parameter overrides already applied).

    Parameters
    ----------
    name : str
        The ``arm`` column of the results.
    strategy : Strategy
    params : mapping
        The overrides that were applied to the strategy's own parameters (kept for reports).
    """

    name: str
    strategy: Strategy
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("arm name must be a non-empty string")
        object.__setattr__(self, "params", dict(self.params))

    @classmethod
    def of(
        cls,
        strategy: Strategy | str,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Arm:
        """An arm from a strategy (or the name/path of a rule file) and parameter overrides."""
        s = load_strategy(strategy) if isinstance(strategy, str | Path) else strategy
        s = s.with_params(params)
        return cls(name=name or s.name, strategy=s, params=dict(params or {}))

    @property
    def seed_key(self) -> int:
        return zlib.crc32(self.name.encode("utf-8"))


@dataclass(frozen=True)
class Study:
    """A simulated experiment (all keyword arguments).

    Parameters
    ----------
    arms : tuple of Arm
        At least one; names unique.
    curriculum : Curriculum
    population : PopulationSpec
    n_students : int
        Students per replication, split across arms by the randomization.
    randomization : {"student", "class", "school", "none"}
        The unit randomized to arms (balanced: units are shuffled and dealt out in turn);
        ``none`` gives every arm the whole cohort (a counterfactual comparison on the same
        simulated students, used by sweeps).
    class_size, classes_per_school : int
    replications : int
        Independent cohorts.
    seed : int
    budget : Budget
    scenarios : mapping of name to population overrides
        Each scenario is run with the same seeds; empty means one scenario, ``"base"``.
    contrasts : tuple of (arm, reference)
        Comparisons of interest for summaries; empty means every arm against the first.
    name, description : str
    """

    arms: tuple[Arm, ...]
    curriculum: Curriculum
    population: PopulationSpec = field(default_factory=PopulationSpec)
    n_students: int = 1000
    randomization: str = "class"
    class_size: int = 25
    classes_per_school: int = 4
    replications: int = 1
    seed: int = 0
    budget: Budget = field(default_factory=Budget)
    scenarios: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    contrasts: tuple[tuple[str, str], ...] = ()
    name: str = "study"
    description: str = ""

    def __post_init__(self) -> None:
        arms = tuple(self.arms)
        object.__setattr__(self, "arms", arms)
        if not arms:
            raise ValueError("a study needs at least one arm")
        names = [a.name for a in arms]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"arm names must be unique; repeated: {dup}")
        if self.randomization not in RANDOMIZATION_UNITS:
            raise ValueError(
                f"randomization must be one of {RANDOMIZATION_UNITS}, got {self.randomization!r}"
            )
        for name in ("n_students", "class_size", "classes_per_school", "replications"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {v!r}")
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int | np.integer)
            or self.seed < 0
        ):
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed!r}")
        scen = {str(k): dict(v) for k, v in dict(self.scenarios).items()}
        for sname, over in scen.items():
            self.population_for(sname, over)  # raises on unknown fields / bad values
        object.__setattr__(self, "scenarios", scen)
        pairs = tuple((str(a), str(b)) for a, b in self.contrasts)
        for a, b in pairs:
            for nm in (a, b):
                if nm not in names:
                    raise ValueError(f"contrast names unknown arm {nm!r}{suggest(nm, names)}")
        object.__setattr__(self, "contrasts", pairs)
        units = self._n_units()
        if self.randomization != "none" and units < len(arms):
            raise ValueError(
                f"{units} {self.randomization} unit(s) per replication cannot fill "
                f"{len(arms)} arms; "
                "add students or randomize a smaller unit"
            )
        self.population.shares_for(self.curriculum.media)
        for a in arms:
            a.strategy.check(self.curriculum)

    def _n_units(self) -> int:
        n_classes = -(-self.n_students // self.class_size)
        return {
            "student": self.n_students,
            "class": n_classes,
            "school": -(-n_classes // self.classes_per_school),
            "none": self.n_students,
        }[self.randomization]

    # --- derived ---------------------------------------------------------------------------
    @property
    def scenario_names(self) -> tuple[str, ...]:
        return tuple(self.scenarios) or ("base",)

    @property
    def arm_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.arms)

    def comparisons(self) -> tuple[tuple[str, str], ...]:
        """(arm, reference) pairs of interest: ``contrasts``, or every arm against the first."""
        if self.contrasts:
            return self.contrasts
        first = self.arms[0].name
        return tuple((a.name, first) for a in self.arms[1:]) or ((first, first),)

    def population_for(
        self, scenario: str, overrides: Mapping[str, Any] | None = None
    ) -> PopulationSpec:
        """The population of one scenario (the study's spec with the scenario's overrides)."""
        over = dict(self.scenarios.get(scenario, {}) if overrides is None else overrides)
        known = PopulationSpec.field_names()
        for k in over:
            if k not in known:
                raise ValueError(
                    f"scenario {scenario!r}: unknown population field '{k}'{suggest(k, known)}"
                )
        return replace(self.population, **over)

    def assignment(
        self, replication: int, class_id: np.ndarray, school_id: np.ndarray
    ) -> np.ndarray:
        """Arm index of every student of replication ``replication`` (-1: none; all arms)."""
        n = class_id.shape[0]
        if self.randomization == "none":
            return np.full(n, -1, dtype=np.int64)
        unit = {"student": np.arange(n), "class": class_id, "school": school_id}[self.randomization]
        units = np.unique(unit)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, replication, 1]))
        shuffled = rng.permutation(units)
        arm_of_unit = np.empty(units.size, dtype=np.int64)
        arm_of_unit[np.searchsorted(units, shuffled)] = np.arange(units.size) % len(self.arms)
        return arm_of_unit[np.searchsorted(units, unit)]

    @property
    def unit_column(self) -> str:
        """Column of the randomization unit, for intervals that respect clustering."""
        return self.cluster_column or "student_id"

    @property
    def cluster_column(self) -> str | None:
        """Column of the randomized cluster (None when students are randomized, or none are)."""
        return {"class": "class_id", "school": "school_id"}.get(self.randomization)

    # --- YAML --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The whole configuration as plain data, everything inline."""
        return {
            "name": self.name,
            "description": self.description,
            "seed": int(self.seed),
            "replications": int(self.replications),
            "design": {
                "n_students": int(self.n_students),
                "randomization": self.randomization,
                "class_size": int(self.class_size),
                "classes_per_school": int(self.classes_per_school),
            },
            "budget": {
                "minutes": float(self.budget.minutes),
                **(
                    {"max_steps": int(self.budget.max_steps)}
                    if self.budget.max_steps is not None
                    else {}
                ),
            },
            "curriculum": self.curriculum.to_dict(),
            "population": self.population.to_dict(),
            "scenarios": {k: dict(v) for k, v in self.scenarios.items()},
            "arms": [{"name": a.name, "strategy": a.strategy.to_dict()} for a in self.arms],
            "contrasts": [{"arm": a, "reference": b} for a, b in self.contrasts],
            "provenance": {
                "edstudy": __version__,
                "numpy": np.__version__,
                "note": "written by Study.to_yaml; Study.from_yaml reproduces the results from it",
            },
        }

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Write the full configuration as YAML (to ``path`` when given) and return the text."""
        text = yaml.safe_dump(
            _plain(self.to_dict()), sort_keys=False, allow_unicode=True, width=100
        )
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_yaml(cls, path: str | Path) -> Study:
        """Read a study file (see the module docstring). Everything is checked before returning.

        Raises
        ------
        ConfigError
            Naming the file, line and field of the first problem (also in referenced curriculum
            and strategy files).
        """
        path = study_file(path)
        doc, src = load_yaml(path)
        if not isinstance(doc, Mapping):
            raise ConfigError("a study file must be a YAML mapping", file=str(path))
        return cls.from_dict(doc, source=src, base_dir=path.resolve().parent)

    @classmethod
    def from_dict(
        cls, doc: Mapping[str, Any], *, source: Source | None = None, base_dir: Path | None = None
    ) -> Study:
        """Build a study from its document; relative paths resolve against ``base_dir``."""
        src = source or Source(name="<study>")
        base = base_dir or Path.cwd()
        check_keys(doc, _TOP_KEYS, src, required=("arms",))

        design = doc.get("design", {}) or {}
        check_keys(design, _DESIGN_KEYS, src, ["design"])
        kw: dict[str, Any] = {}
        for key, default in (("n_students", 1000), ("class_size", 25), ("classes_per_school", 4)):
            kw[key] = int(
                number(design.get(key, default), src, ["design", key], low=1, integer=True)
            )
        rand = design.get("randomization", "class")
        if rand not in RANDOMIZATION_UNITS:
            raise src.error(
                f"randomization must be one of {', '.join(RANDOMIZATION_UNITS)}, got {rand!r}"
                f"{suggest(str(rand), RANDOMIZATION_UNITS)}",
                ["design", "randomization"],
            )
        kw["randomization"] = rand
        kw["replications"] = int(
            number(doc.get("replications", 1), src, ["replications"], low=1, integer=True)
        )
        kw["seed"] = int(number(doc.get("seed", 0), src, ["seed"], low=0, integer=True))

        b = doc.get("budget", {}) or {}
        check_keys(b, ("minutes", "max_steps"), src, ["budget"])
        minutes = number(b.get("minutes", 240.0), src, ["budget", "minutes"], low=0, low_open=True)
        max_steps = b.get("max_steps")
        if max_steps is not None:
            max_steps = int(number(max_steps, src, ["budget", "max_steps"], low=1, integer=True))
        kw["budget"] = Budget(minutes=minutes, max_steps=max_steps)

        cur_doc = doc.get("curriculum", "default")
        if isinstance(cur_doc, Mapping):
            curriculum = curriculum_from_dict(cur_doc, source=_sub(src, ["curriculum"]))
        elif isinstance(cur_doc, str):
            p = (
                data_path("curriculum_default.yaml")
                if cur_doc == "default"
                else _resolve(cur_doc, base)
            )
            if not p.is_file():
                raise src.error(f"curriculum file not found: {p}", ["curriculum"])
            curriculum = load_curriculum(p)
        else:
            raise src.error(
                "curriculum must be a file path, 'default', or a mapping", ["curriculum"]
            )

        pop = doc.get("population", {}) or {}
        check_keys(pop, PopulationSpec.field_names(), src, ["population"])
        try:
            population = PopulationSpec(**pop)
            population.shares_for(curriculum.media)
        except (TypeError, ValueError) as err:
            raise src.error(str(err), ["population"]) from None

        scen = doc.get("scenarios", {}) or {}
        if not isinstance(scen, Mapping):
            raise src.error("scenarios must map names to population overrides", ["scenarios"])
        for sname, over in scen.items():
            over = over or {}
            check_keys(over, PopulationSpec.field_names(), src, ["scenarios", sname])
            try:
                replace(population, **over).shares_for(curriculum.media)
            except (TypeError, ValueError) as err:
                raise src.error(str(err), ["scenarios", sname]) from None

        raw_arms = doc["arms"]
        if isinstance(raw_arms, Mapping):  # name: spec
            raw_arms = [
                {"name": k, **(v if isinstance(v, Mapping) else {"strategy": v})}
                for k, v in raw_arms.items()
            ]
        if not isinstance(raw_arms, list) or not raw_arms:
            raise src.error("arms must be a non-empty list", ["arms"])
        arms = []
        for i, a in enumerate(raw_arms):
            path: list[str | int] = ["arms", i]
            if isinstance(a, str):
                a = {"strategy": a}
            check_keys(a, ("name", "strategy", "params"), src, path, required=("strategy",))
            sdoc = a["strategy"]
            if isinstance(sdoc, Mapping):
                strategy = strategy_from_dict(sdoc, source=_sub(src, [*path, "strategy"]))
            elif isinstance(sdoc, str):
                p = _resolve(sdoc, base)
                if not p.is_file() and sdoc in STRATEGY_NAMES:
                    p = data_path(f"strategies/{sdoc}.yaml")
                if not p.is_file():
                    raise src.error(
                        f"strategy file not found: {p}{suggest(sdoc, STRATEGY_NAMES)} "
                        f"(shipped strategies: {', '.join(STRATEGY_NAMES)})",
                        [*path, "strategy"],
                    )
                strategy = load_strategy(p)
            else:
                raise src.error(
                    "strategy must be a file path, a shipped name or a mapping", [*path, "strategy"]
                )
            params = a.get("params", {}) or {}
            if not isinstance(params, Mapping):
                raise src.error("params must be a mapping", [*path, "params"])
            try:
                strategy = strategy.with_params(params)
            except ConfigError as err:
                key = (err.field or "").removeprefix("params.")
                raise src.error(
                    err.reason, [*path, "params", key] if key else [*path, "params"]
                ) from None
            name = a.get("name", strategy.name)
            if not isinstance(name, str) or not name:
                raise src.error("arm name must be text", [*path, "name"])
            strategy.check(curriculum)  # errors name the strategy's file (or this one), rule, field
            arms.append(Arm(name=name, strategy=strategy, params=dict(params)))
        names = [a.name for a in arms]
        raw_c = doc.get("contrasts", []) or []
        if not isinstance(raw_c, list):
            raise src.error("contrasts must be a list of {arm, reference}", ["contrasts"])
        pairs = []
        for i, c in enumerate(raw_c):
            if isinstance(c, list | tuple) and len(c) == 2:
                c = {"arm": c[0], "reference": c[1]}
            check_keys(
                c, ("arm", "reference"), src, ["contrasts", i], required=("arm", "reference")
            )
            for key in ("arm", "reference"):
                if c[key] not in names:
                    raise src.error(
                        f"unknown arm {c[key]!r}{suggest(str(c[key]), names)}",
                        ["contrasts", i, key],
                    )
            pairs.append((c["arm"], c["reference"]))
        kw["contrasts"] = tuple(pairs)
        for i, nm in enumerate(names):
            if nm in names[:i]:
                raise src.error(
                    f"arm name {nm!r} is used twice; give each arm a distinct name",
                    ["arms", i, "name"],
                )
        try:
            return cls(
                arms=tuple(arms),
                curriculum=curriculum,
                population=population,
                scenarios={str(k): dict(v or {}) for k, v in scen.items()},
                name=str(doc.get("name", Path(src.name).stem)),
                description=str(doc.get("description", "") or "").strip(),
                **kw,
            )
        except ValueError as err:
            raise src.error(str(err), ["design"]) from None

    def with_changes(self, **changes: Any) -> Study:
        """A copy with some fields changed (e.g. ``n_students=200`` for a quick run)."""
        return replace(self, **changes)


def _resolve(path: str, base: Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else base / p


def _sub(src: Source, path: Sequence[str | int]) -> Source:
    """A Source for an inline sub-document, keeping line numbers."""
    node = src.node
    if node is None:
        return Source(name=src.name)
    for key in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
        if node is None:
            return Source(name=src.name)
    return Source(name=src.name, node=node)


def _plain(x: Any) -> Any:
    """Numpy scalars and tuples to plain YAML-safe Python."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x
