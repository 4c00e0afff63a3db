"""Strategies: ordered pathway rules that an instructional designer can read, diff and tune.

A strategy file (YAML or JSON) looks like::

    name: individualized
    description: Pre-test placement, mastery gating, remediation after errors.
    params:                        # named knobs; sweeps and study arms override them
      mastery_threshold: 0.95
      remediate_after_errors: 3
      teacher_medium: text
    sequence: curriculum           # next skill: curriculum order, or the student's 'interest'
    use_pretest: true              # the tutor's mastery estimate starts from the pre-test
    rules:
      # Skip what the pre-test shows the student already knows.
      - when: opportunities == 0 and pretest_skill >= 1
        do: accelerate
      - when: mastery >= mastery_threshold
        do: advance
      - when: error_streak >= remediate_after_errors
        do: remediate
        activity: worked_example
      - do: practice               # no 'when': always
        medium: teacher_medium

Each tick of the simulation, for every active student, the rules are tried in order and the
first whose ``when`` holds decides what happens. Actions (:data:`ACTIONS`):

``practice``  one practice opportunity in ``medium``: a medium name, a parameter holding one, or
              ``stated_preference`` / ``estimated_best`` / ``thompson`` (Thompson sampling on the
              student's own per-medium learning gains; optional ``stated_prior``) / ``random``.
``offer_choice``  the student picks one of ``size`` media offered at random (``pick: preference``,
              their stated preference when offered, or ``pick: random``); logged ``chosen=True``.
``remediate`` one opportunity with a remediation ``activity`` (``worked_example``, ``hint``).
``advance``   move on to the next skill (by ``sequence``); the rules run again on it at once.
``accelerate``  skip the current skill (placement or acceleration); the rules run again at once.
``alert_teacher``  count an alert and set ``alerted`` for this skill, then keep reading rules.
``stop``      the student is finished.

A student for whom no rule fires practises in the curriculum's first medium. Conditions use the
language of :mod:`edstudy.sim.rules`. Python callables extend it: pass ``functions=`` (named
:class:`~edstudy.sim.rules.ConditionFunction`) to :func:`load_strategy`, or build a
:class:`Rule` whose ``when`` is a callable ``f(state) -> bool array`` where ``state(name)``
returns a state variable for the active students.

Every mistake is reported before anything runs, as a :class:`~edstudy.sim.ConfigError` naming the
file, line, rule number and field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from edstudy.sim._config import ConfigError, Source, check_keys, load_yaml, parse_yaml, suggest
from edstudy.sim.curriculum import Curriculum, data_path
from edstudy.sim.params import KNOWN_PARAMS, ParamRange, declared_range
from edstudy.sim.rules import (
    STATE_VARIABLES,
    Condition,
    ConditionError,
    ConditionFunction,
    _param_type,
    parse_condition,
)

__all__ = [
    "ACTIONS",
    "MEDIUM_CHOICES",
    "STRATEGY_NAMES",
    "Rule",
    "Strategy",
    "load_strategy",
    "strategy_from_dict",
    "builtin_strategy",
]

#: action -> {argument: (required, meaning)}
ACTIONS: dict[str, dict[str, tuple[bool, str]]] = {
    "practice": {
        "medium": (
            True,
            "medium name, parameter, stated_preference, estimated_best, thompson or random",
        ),
        "stated_prior": (
            False,
            "thompson only: prior mean learning-gain advantage of the stated preference",
        ),
        "prior_sd": (False, "thompson only: prior sd of each medium's learning gain"),
    },
    "offer_choice": {
        "size": (True, "how many media are offered (number or parameter)"),
        "pick": (
            False,
            "'preference' (default) or 'random' (or a parameter): how the student picks",
        ),
    },
    "remediate": {"activity": (True, "remediation activity, e.g. worked_example or hint")},
    "advance": {},
    "accelerate": {},
    "alert_teacher": {},
    "stop": {},
}
#: actions that let later rules run in the same tick
SIDE_EFFECTS = frozenset({"alert_teacher"})
#: medium words that are not medium names
MEDIUM_CHOICES = ("stated_preference", "estimated_best", "thompson", "random")
#: the strategies shipped as package data (edstudy/data/strategies/)
STRATEGY_NAMES = (
    "one_size",
    "differentiated",
    "individualized",
    "personalized",
    "blended",
    "adaptive",
)

_TOP_KEYS = ("name", "description", "params", "sequence", "use_pretest", "rules")
_RULE_BASE = ("name", "note", "when", "do")


@dataclass(frozen=True)
class Rule:
    """One rule: when ``when`` holds, do ``action`` with ``args``.

    Parameters
    ----------
    action : str
        One of :data:`ACTIONS`.
    when : Condition, callable or None
        A parsed condition, a Python callable ``f(state) -> bool array`` (``state(name)`` returns
        a state variable for the active students), or None for "always".
    args : mapping
        The action's arguments (see :data:`ACTIONS`).
    name, note : str
        For people: a short name and why the rule is there.
    line : int or None
        Line of the rule in its file, for error messages.
    """

    action: str
    when: Condition | Callable[..., Any] | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    note: str = ""
    line: int | None = field(default=None, compare=False)
    field_lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}{suggest(self.action, ACTIONS)}")
        object.__setattr__(self, "args", dict(self.args))
        for key in self.args:
            if key not in ACTIONS[self.action]:
                raise ValueError(f"action {self.action!r} takes no argument {key!r}")
        for key, (required, _) in ACTIONS[self.action].items():
            if required and key not in self.args:
                raise ValueError(f"action {self.action!r} needs argument {key!r}")

    @property
    def names(self) -> frozenset[str]:
        """State variables this rule's condition reads (all of them for a callable)."""
        if isinstance(self.when, Condition):
            return self.when.names
        if self.when is None:
            return frozenset()
        return frozenset(STATE_VARIABLES)


@dataclass(frozen=True)
class Strategy:
    """An ordered list of rules with named parameters.

    Parameters
    ----------
    name : str
    rules : tuple of Rule
    params : mapping of str to number, bool or text
    sequence : {"curriculum", "interest"}
        How the next skill is picked on ``advance``/``accelerate`` (and at the start): the first
        unfinished skill in curriculum order whose prerequisites are done, or among those the one
        the student is most interested in (a student choice, as in personalized products).
    use_pretest : bool
        Start the tutor's mastery estimate from the pre-test answers (else from the prior).
    description : str
    file : str or None
        Where it was read from, for error messages.
    functions : mapping of str to ConditionFunction
        Extra condition functions the rules may call.
    """

    name: str
    rules: tuple[Rule, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    sequence: str = "curriculum"
    use_pretest: bool = True
    description: str = ""
    file: str | None = field(default=None, compare=False)
    functions: Mapping[str, ConditionFunction] = field(default_factory=dict, compare=False)
    param_ranges: Mapping[str, ParamRange] = field(default_factory=dict, compare=False)
    _doc: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "params", dict(self.params))
        ranges = {k: r for k, r in KNOWN_PARAMS.items() if k in self.params}
        object.__setattr__(self, "param_ranges", {**ranges, **dict(self.param_ranges)})
        if not self.rules:
            raise ValueError(f"strategy {self.name!r} has no rules")
        if self.sequence not in ("curriculum", "interest"):
            raise ValueError("sequence must be 'curriculum' or 'interest'")
        for k, v in self.params.items():
            _param_type(v)
            if k in STATE_VARIABLES or k in MEDIUM_CHOICES:
                raise ValueError(f"parameter {k!r} shadows a state variable or medium word")
            rng = self.param_ranges.get(k)
            why = rng.problem(v) if rng is not None else None
            if why is not None:
                raise ValueError(f"strategy {self.name!r}: parameter '{k}' {why}, got {v!r}")

    @property
    def where(self) -> str:
        return self.file or f"<strategy {self.name!r}>"

    def with_params(self, overrides: Mapping[str, Any] | None) -> Strategy:
        """A copy with some parameters changed (sweeps, study arms); re-checks every rule.

        Raises
        ------
        ConfigError
            For a parameter the strategy does not have or a value of the wrong type.
        """
        if not overrides:
            return self
        params = dict(self.params)
        for k, v in overrides.items():
            if k not in params:
                raise ConfigError(
                    f"strategy {self.name!r} has no parameter '{k}'{suggest(k, params)}; "
                    f"its parameters are {sorted(params)}",
                    file=self.where,
                    field=f"params.{k}",
                )
            old, new = _param_type(params[k]), _safe_type(v)
            if old != new:
                raise ConfigError(
                    f"parameter '{k}' must be a {old} like {params[k]!r}, got {v!r}",
                    file=self.where,
                    field=f"params.{k}",
                )
            rng = self.param_ranges.get(k)
            why = rng.problem(v) if rng is not None else None
            if why is not None:
                raise ConfigError(
                    f"parameter '{k}' {why}, got {v!r}", file=self.where, field=f"params.{k}"
                )
            params[k] = (
                float(v)
                if isinstance(v, int | float)
                and not isinstance(v, bool)
                and isinstance(params[k], float)
                else v
            )
        doc = dict(self._doc) if self._doc is not None else None
        if doc is not None:
            written = dict(doc.get("params") or {})
            for k, v in params.items():  # a declared parameter keeps its declaration
                written[k] = {**written[k], "value": v} if isinstance(written.get(k), dict) else v
            doc["params"] = written
        rules = []
        for i, r in enumerate(self.rules, start=1):
            when = r.when
            if isinstance(when, Condition):
                try:
                    when = parse_condition(when.text, params=params, functions=self.functions)
                except ConditionError as err:
                    line = r.field_lines.get("when", r.line)
                    raise ConfigError(
                        str(err), file=self.where, line=line, rule=i, field="when"
                    ) from None
            rules.append(replace(r, when=when))
        return replace(self, params=params, rules=tuple(rules), _doc=doc)

    def check(self, curriculum: Curriculum) -> None:
        """Check the strategy against a curriculum (media and activity names); raise ConfigError."""
        bind_strategy(self, curriculum)

    def to_dict(self) -> dict[str, Any]:
        """The strategy as a plain document (what was read, with current parameters).

        Raises
        ------
        ValueError
            When a rule uses a Python callable, which cannot be written to YAML.
        """
        if self._doc is not None:
            return json.loads(json.dumps(self._doc))
        rules = []
        for r in self.rules:
            if r.when is not None and not isinstance(r.when, Condition):
                raise ValueError(
                    f"strategy {self.name!r}: a rule with a Python condition cannot be saved"
                )
            entry: dict[str, Any] = {}
            if r.name:
                entry["name"] = r.name
            if r.note:
                entry["note"] = r.note
            if r.when is not None:
                entry["when"] = r.when.text
            entry["do"] = r.action
            entry.update(r.args)
            rules.append(entry)
        return {
            "name": self.name,
            "description": self.description,
            "params": dict(self.params),
            "sequence": self.sequence,
            "use_pretest": self.use_pretest,
            "rules": rules,
        }


def _safe_type(v: Any) -> str:
    try:
        return _param_type(v)
    except TypeError:
        return type(v).__name__


def strategy_from_dict(
    doc: Mapping[str, Any],
    *,
    source: Source | None = None,
    functions: Mapping[str, ConditionFunction] | None = None,
) -> Strategy:
    """Parse a strategy document (the content of a rule file).

    Raises
    ------
    ConfigError
        At the first problem, naming file, line, rule number (1-based) and field.
    """
    src = source or Source(
        name=f"<strategy {doc.get('name', '?') if isinstance(doc, Mapping) else '?'}>"
    )
    fns = dict(functions or {})
    check_keys(doc, _TOP_KEYS, src, required=("rules",))
    raw_params = doc.get("params") or {}
    if not isinstance(raw_params, Mapping):
        raise src.error("params must be a mapping of names to values", ["params"])
    params: dict[str, Any] = {}
    ranges: dict[str, ParamRange] = {}
    for k, raw in raw_params.items():
        if not isinstance(k, str) or not k.isidentifier():
            raise src.error(
                f"parameter name {k!r} must be a simple name", ["params", k], field=f"params.{k}"
            )
        try:
            v, ranges[k] = declared_range(k, raw)
            _param_type(v)
        except (TypeError, ValueError) as err:
            raise src.error(str(err), ["params", k], field=f"params.{k}") from None
        params[k] = v
        if k in STATE_VARIABLES or k in MEDIUM_CHOICES:
            raise src.error(
                f"parameter '{k}' has the name of a state variable",
                ["params", k],
                field=f"params.{k}",
            )
    sequence = doc.get("sequence", "curriculum")
    if sequence not in ("curriculum", "interest"):
        raise src.error(
            f"sequence must be 'curriculum' or 'interest', got {sequence!r}", ["sequence"]
        )
    use_pretest = doc.get("use_pretest", True)
    if not isinstance(use_pretest, bool):
        raise src.error(f"use_pretest must be true or false, got {use_pretest!r}", ["use_pretest"])
    raw = doc["rules"]
    if not isinstance(raw, list) or not raw:
        raise src.error("rules must be a non-empty list", ["rules"])
    rules = []
    for i, r in enumerate(raw):
        n = i + 1
        path: list[str | int] = ["rules", i]
        if not isinstance(r, Mapping):
            raise src.error(
                f"each rule must be a mapping with 'do', got {r!r}", path, rule=n, field="do"
            )
        if "do" not in r:
            raise src.error("missing required key 'do' (the action)", path, rule=n, field="do")
        action = r["do"]
        if not isinstance(action, str) or action not in ACTIONS:
            raise src.error(
                f"unknown action {action!r}{suggest(str(action), ACTIONS)}; "
                f"actions: {', '.join(ACTIONS)}",
                [*path, "do"],
                rule=n,
                field="do",
            )
        allowed = [*_RULE_BASE, *ACTIONS[action]]
        check_keys(r, allowed, src, path, rule=n)
        for key, (required, meaning) in ACTIONS[action].items():
            if required and key not in r:
                raise src.error(f"'{action}' needs '{key}': {meaning}", path, rule=n, field=key)
        args = {k: r[k] for k in ACTIONS[action] if k in r}
        _check_args(action, args, params, src, path, n)
        when = None
        if "when" in r:
            try:
                when = parse_condition(r["when"], params=params, functions=fns)
            except ConditionError as err:
                raise src.error(str(err), [*path, "when"], rule=n, field="when") from None
        for k in ("name", "note"):
            if k in r and not isinstance(r[k], str):
                raise src.error(f"{k} must be text", [*path, k], rule=n, field=k)
        rules.append(
            Rule(
                action=action,
                when=when,
                args=args,
                name=r.get("name", ""),
                note=r.get("note", ""),
                line=src.line(path),
                field_lines={str(key): src.line([*path, key]) for key in r},
            )
        )
    name = doc.get("name") or (Path(src.name).stem if source is not None else "strategy")
    plain = json.loads(json.dumps(doc, default=str))
    return Strategy(
        name=str(name),
        rules=tuple(rules),
        params=dict(params),
        sequence=sequence,
        use_pretest=use_pretest,
        description=str(doc.get("description", "") or "").strip(),
        file=src.name,
        functions=fns,
        param_ranges=ranges,
        _doc=plain,
    )


def _check_args(
    action: str, args: Mapping[str, Any], params: Mapping[str, Any], src: Source, path: list, n: int
) -> None:
    """Types of action arguments that do not depend on the curriculum."""

    def err(key: str, reason: str) -> ConfigError:
        return src.error(reason, [*path, key], rule=n, field=key)

    if action == "practice":
        m = args["medium"]
        if not isinstance(m, str):
            raise err("medium", f"medium must be a name, got {m!r}")
        if m in params and not isinstance(params[m], str):
            raise err("medium", f"parameter '{m}' must hold a medium name, holds {params[m]!r}")
        for key, positive in (("stated_prior", False), ("prior_sd", True)):
            if key not in args:
                continue
            v = args[key]
            v = params.get(v, v) if isinstance(v, str) else v
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or v < 0
                or (positive and v == 0)
            ):
                raise err(
                    key, f"{key} must be a number {'>' if positive else '>='} 0, got {args[key]!r}"
                )
            if m != "thompson":
                raise err(key, f"{key} only applies to medium: thompson")
    if action == "offer_choice":
        s = args["size"]
        v = params.get(s, s) if isinstance(s, str) else s
        if isinstance(s, str) and s not in params:
            raise err("size", f"unknown parameter '{s}'{suggest(s, params)}")
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 1 or float(v) != int(v):
            raise err("size", f"size must be a whole number >= 1, got {s!r}")
        pick = args.get("pick", "preference")
        pick = params.get(pick, pick) if isinstance(pick, str) else pick
        if pick not in ("preference", "random"):
            raise err("pick", f"pick must be 'preference' or 'random', got {pick!r}")
    if action == "remediate":
        a = args["activity"]
        if not isinstance(a, str):
            raise err("activity", f"activity must be a name, got {a!r}")


@dataclass(frozen=True)
class BoundRule:
    """A rule compiled against a curriculum: what the engine runs."""

    action: str
    test: Callable[..., Any] | None
    medium: int | str | None = None  # code, or one of MEDIUM_CHOICES
    stated_prior: float = 0.05
    prior_sd: float = 0.1
    size: int = 0
    pick: str = "preference"
    activity: int = -1
    side_effect: bool = False


def bind_strategy(strategy: Strategy, curriculum: Curriculum) -> tuple[BoundRule, ...]:
    """Compile every rule for ``curriculum``; raises ConfigError naming file, rule and field."""
    media = curriculum.media
    acts = curriculum.activity_names
    out = []
    p = strategy.params
    for i, r in enumerate(strategy.rules, start=1):

        def err(fieldname: str, reason: str, _r: Rule = r, _i: int = i) -> ConfigError:
            line = _r.field_lines.get(fieldname, _r.line)
            return ConfigError(reason, file=strategy.where, line=line, rule=_i, field=fieldname)

        test: Callable[..., Any] | None
        if isinstance(r.when, Condition):
            try:
                test = r.when.compile(params=p, media=media, functions=strategy.functions)
            except ConditionError as e:
                raise err("when", str(e)) from None
        elif r.when is None:
            test = None
        else:
            fn = r.when

            def test(env: Any, n: int, _fn: Callable[..., Any] = fn) -> Any:
                import numpy as np

                return np.broadcast_to(np.asarray(_fn(env), dtype=bool), (n,))

        kw: dict[str, Any] = {}
        if r.action == "practice":
            m = r.args["medium"]
            m = p.get(m, m)
            if m in MEDIUM_CHOICES:
                kw["medium"] = m
            elif m in media:
                kw["medium"] = media.index(m)
            else:
                raise err(
                    "medium",
                    f"unknown medium {m!r}{suggest(str(m), [*media, *MEDIUM_CHOICES])}; "
                    f"use one of {[*media, *MEDIUM_CHOICES]}",
                )
            sp = r.args.get("stated_prior", 0.05)
            kw["stated_prior"] = float(p.get(sp, sp) if isinstance(sp, str) else sp)
            sd = r.args.get("prior_sd", 0.1)
            kw["prior_sd"] = float(p.get(sd, sd) if isinstance(sd, str) else sd)
        elif r.action == "offer_choice":
            s = r.args["size"]
            value = p.get(s, s) if isinstance(s, str) else s
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or value < 1
                or value != int(value)
            ):
                raise err("size", f"size must be a whole number >= 1, got {value!r}")
            size = int(value)
            kw["size"] = min(size, len(media))
            pick = r.args.get("pick", "preference")
            pick = p.get(pick, pick)
            if pick not in ("preference", "random"):
                raise err("pick", f"pick must be 'preference' or 'random', got {pick!r}")
            kw["pick"] = pick
        elif r.action == "remediate":
            a = r.args["activity"]
            a = p.get(a, a)
            if a not in acts:
                raise err(
                    "activity",
                    f"unknown activity {a!r}{suggest(str(a), acts)}; "
                    f"the curriculum has {list(acts)}",
                )
            kw["activity"] = acts.index(a)
        out.append(
            BoundRule(action=r.action, test=test, side_effect=r.action in SIDE_EFFECTS, **kw)
        )
    return tuple(out)


def load_strategy(
    path: str | Path,
    *,
    functions: Mapping[str, ConditionFunction] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Strategy:
    """Parse one rule file (YAML or JSON) into a :class:`Strategy`.

    Parameters
    ----------
    path : str or Path
        The file. A bare name of a shipped strategy (``"individualized"``) also works.
    functions : mapping, optional
        Extra condition functions (:class:`~edstudy.sim.rules.ConditionFunction`).
    params : mapping, optional
        Parameter overrides applied after reading.

    Raises
    ------
    ConfigError
        Naming file, line, rule and field, e.g. ``individualized.yaml, line 21, rule 3,
        field 'when': unknown name 'mastry' (did you mean 'mastery'?) at column 1 of
        'mastry >= 0.9'``.
    """
    p = Path(path)
    if not p.exists() and str(path) in STRATEGY_NAMES:
        p = data_path(f"strategies/{path}.yaml")
    elif not p.exists() and p.suffix == "" and len(p.parts) == 1:
        raise ConfigError(
            f"no shipped strategy or rule file {str(path)!r}{suggest(str(path), STRATEGY_NAMES)}; "
            f"shipped strategies: {', '.join(STRATEGY_NAMES)}",
            file=str(path),
        )
    doc, src = load_yaml(p)
    return _strategy_from_document(doc, src, functions).with_params(params)


def strategy_from_text(
    text: str,
    *,
    name: str = "rules.yaml",
    functions: Mapping[str, ConditionFunction] | None = None,
) -> Strategy:
    """Parse a rule document given as YAML/JSON text (e.g. from an editor) into a Strategy.

    Errors name ``name``, the line, the rule number and the field, as for :func:`load_strategy`.
    """
    doc, src = parse_yaml(text, name=name)
    return _strategy_from_document(doc, src, functions)


def _strategy_from_document(
    doc: Any, src: Source, functions: Mapping[str, ConditionFunction] | None
) -> Strategy:
    if not isinstance(doc, Mapping):
        raise ConfigError(
            "a strategy document must be a YAML/JSON mapping with 'rules'", file=src.name
        )
    return strategy_from_dict(doc, source=src, functions=functions)


def builtin_strategy(name: str, **params: Any) -> Strategy:
    """One of the shipped strategies (:data:`STRATEGY_NAMES`), with parameter overrides."""
    if name not in STRATEGY_NAMES:
        raise KeyError(
            f"no shipped strategy {name!r}{suggest(name, STRATEGY_NAMES)}; "
            f"they are {list(STRATEGY_NAMES)}"
        )
    return load_strategy(data_path(f"strategies/{name}.yaml"), params=params)
