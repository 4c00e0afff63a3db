"""The named parameters of pathway rules: what each one means and the values it may take.

A strategy's ``params`` are the knobs an instructional designer turns (``mastery_threshold:
0.95``). A value outside its range is a mistake that runs silently (a mastery gate of ``7`` can
never open), so every parameter has a declared type and range:

- the parameters of the shipped strategies are declared here, in :data:`KNOWN_PARAMS`;
- a rule file that adds its own parameter declares it in place, e.g.
  ``max_hints: {value: 3, min: 0, max: 10, whole: true}`` or
  ``style: {value: calm, choices: [calm, brisk]}``.

Values are checked when a rule file is read and whenever a study arm or a sweep overrides them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["KNOWN_PARAMS", "ParamRange", "declared_range"]


@dataclass(frozen=True)
class ParamRange:
    """The type and range of one parameter.

    Parameters
    ----------
    kind : {"number", "whole", "text", "bool"}
        ``whole`` is a whole number; ``text`` may list its ``choices`` (medium names are checked
        against the curriculum instead).
    low, high : float, optional
        Inclusive bounds of a number (``low_open`` / ``high_open`` make them exclusive).
    choices : tuple of str, optional
    meaning : str
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] | None = None
    meaning: str = ""

    def describe(self) -> str:
        """``a number in (0, 1]``, ``a whole number >= 1``, ``one of 'a', 'b'`` ..."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return "one of " + ", ".join(repr(c) for c in self.choices) if self.choices else "text"
        noun = "a whole number" if self.kind == "whole" else "a number"
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{noun} in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            return f"{noun} {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{noun} {'<' if self.high_open else '<='} {self.high:g}"
        return noun

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not allowed (None when it is)."""
        if self.kind == "bool":
            return None if isinstance(value, bool) else "must be true or false"
        if self.kind == "text":
            if not isinstance(value, str):
                return "must be text"
            if self.choices and value not in self.choices:
                return "must be " + self.describe()
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be " + self.describe()
        v = float(value)
        if not math.isfinite(v) or (self.kind == "whole" and v != int(v)):
            return "must be " + self.describe()
        too_low = self.low is not None and (v < self.low or (self.low_open and v == self.low))
        too_high = self.high is not None and (v > self.high or (self.high_open and v == self.high))
        return "must be " + self.describe() if too_low or too_high else None


def _unit(meaning: str, *, open_low: bool = False) -> ParamRange:
    return ParamRange("number", 0.0, 1.0, low_open=open_low, meaning=meaning)


def _count(meaning: str, low: float = 1) -> ParamRange:
    return ParamRange("whole", low, 10_000, meaning=meaning)


#: The parameters of the shipped strategies.
KNOWN_PARAMS: dict[str, ParamRange] = {
    "mastery_threshold": _unit("estimated P(mastered) at which a student moves on", open_low=True),
    "placement_threshold": ParamRange(
        "number",
        0.0,
        None,
        meaning="pre-test proportion that places a student out (above 1: never)",
    ),
    "remediate_after_errors": _count("consecutive errors that trigger remediation"),
    "accelerate_after": _count("a streak of correct answers this long moves a student on"),
    "max_opportunities": _count("opportunities on a skill before the tutor gives up"),
    "practice_count": _count("opportunities per skill for every student"),
    "practice_low": _count("opportunities per skill in the low group"),
    "practice_mid": _count("opportunities per skill in the middle group"),
    "practice_high": _count("opportunities per skill in the high group"),
    "low_below": _unit("pre-test proportion below which a student is in the low group"),
    "high_from": _unit("pre-test proportion from which a student is in the high group"),
    "choice_set_size": _count("media offered at each opportunity"),
    "stated_prior": ParamRange("number", 0.0, 1.0, meaning="prior head start of the stated medium"),
    "prior_sd": ParamRange("number", 0.0, 1.0, low_open=True, meaning="spread of media effects"),
    "teacher_medium": ParamRange("text", meaning="the medium the whole class uses"),
    "pick": ParamRange(
        "text", choices=("preference", "random"), meaning="how a student picks among media"
    ),
}

_DECLARATION_KEYS = ("value", "min", "max", "whole", "choices", "meaning")


def declared_range(name: str, raw: Any) -> tuple[Any, ParamRange]:
    """The value and range of one entry of a rule file's ``params``.

    ``raw`` is a plain value for a parameter of :data:`KNOWN_PARAMS`, or a declaration
    ``{value: ..., min: ..., max: ..., whole: true}`` / ``{value: ..., choices: [...]}``.

    Raises
    ------
    ValueError
        When the declaration is malformed, the parameter has no range, or the value is outside
        its range (the message says which and what is allowed).
    """
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in _DECLARATION_KEYS]
        if unknown or "value" not in raw:
            raise ValueError(
                f"a declared parameter is {{value: ..., min: ..., max: ..., whole: true}} or "
                f"{{value: ..., choices: [...]}}; got keys {sorted(map(str, raw))}"
            )
        value = raw["value"]
        if "choices" in raw:
            choices = raw["choices"]
            if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
                raise ValueError("choices must be a list of text values")
            rng = ParamRange("text", choices=tuple(choices), meaning=str(raw.get("meaning", "")))
        elif isinstance(value, bool):
            rng = ParamRange("bool", meaning=str(raw.get("meaning", "")))
        else:
            for bound in ("min", "max"):
                b = raw.get(bound)
                if b is not None and (isinstance(b, bool) or not isinstance(b, int | float)):
                    raise ValueError(f"{bound} must be a number, got {b!r}")
            if raw.get("min") is None and raw.get("max") is None:
                raise ValueError("declare at least one of min and max for a number parameter")
            rng = ParamRange(
                "whole" if raw.get("whole") else "number",
                raw.get("min"),
                raw.get("max"),
                meaning=str(raw.get("meaning", "")),
            )
    elif name in KNOWN_PARAMS:
        value, rng = raw, KNOWN_PARAMS[name]
    elif isinstance(raw, bool):
        value, rng = raw, ParamRange("bool")
    else:
        example = (
            f"{name}: {{value: {raw!r}, choices: [{raw!r}, ...]}}"
            if isinstance(raw, str)
            else f"{name}: {{value: {raw!r}, min: ..., max: ...}}"
        )
        raise ValueError(f"parameter '{name}' has no declared range; declare it as {example}")
    why = rng.problem(value)
    if why is not None:
        raise ValueError(f"parameter '{name}' {why}, got {value!r}")
    return value, rng
