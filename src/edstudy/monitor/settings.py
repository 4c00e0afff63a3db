"""The thresholds of class monitoring, validated once, and the constants the tables use.

:class:`MonitorSettings` gathers the ten thresholds :func:`edstudy.monitor.class_snapshot` applies
(they used to be ten keyword arguments). It is frozen and checks every value on construction, so
a snapshot never starts with a bad threshold and the dashboard's sliders build one per change.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_REMEDIATION",
    "FLAGS",
    "FLAG_COLUMNS",
    "RECOMMENDATION_COLUMNS",
    "MonitorSettings",
]

#: The flag kinds, in the order tables list them.
FLAGS: tuple[str, ...] = ("stuck", "off_pace", "disengaged")
#: Activity recommended to a stuck student when the curriculum names no remediation.
DEFAULT_REMEDIATION = "worked_example"
#: Activities treated as remediation (not media) when no curriculum says which are media.
REMEDIATION_NAMES = frozenset({"worked_example", "hint"})
#: Columns of :attr:`ClassSnapshot.flags`.
FLAG_COLUMNS: tuple[str, ...] = ("student_id", "flag", "skill_id", "reason")
#: Columns of :attr:`ClassSnapshot.recommendations`.
RECOMMENDATION_COLUMNS: tuple[str, ...] = ("student_id", "skill_id", "activity", "reason")


# ---------------------------------------------------------------------------------- checks
def check_prob(name: str, value: Any, *, open_low: bool = True) -> float:
    """``value`` as a float in (0, 1] (``open_low``) or [0, 1]; else a ValueError naming it."""
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    v = float(value) if ok else float("nan")
    if not (math.isfinite(v) and (0.0 < v if open_low else 0.0 <= v) and v <= 1.0):
        interval = "(0, 1]" if open_low else "[0, 1]"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return v


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (bools and floats refused); else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def check_positive(name: str, value: Any) -> float:
    """``value`` as a finite float > 0; else a ValueError naming it."""
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not ok or not (math.isfinite(float(value)) and float(value) > 0):
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


# ---------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class MonitorSettings:
    """The thresholds behind the mastery table, the flags and the recommendations.

    Every value is checked on construction (a ``ValueError`` names the field, the allowed range
    and the value given) and stored as a plain ``float`` / ``int``. Change one with
    :meth:`with_changes`; :meth:`to_dict` and ``MonitorSettings(**d)`` round-trip.

    Parameters
    ----------
    mastery_threshold : float, default 0.95
        P(mastered) from which a skill counts as mastered (the usual BKT mastery criterion);
        in (0, 1].
    stuck_after : int, default 10
        Scored tries on one skill without mastery after which a student is *stuck*
        (wheel-spinning, Beck & Gong 2013); >= 1.
    off_pace_ratio : float, default 0.5
        A student is *off pace* when their skills mastered per try is below this fraction of the
        class median; in (0, 1].
    min_tries : int, default 10
        Scored tries a student needs before the off-pace comparison applies to them; >= 1.
    recent : int, default 10
        Last responses of each student looked at for disengagement; >= 1.
    rapid_fraction : float, default 0.1
        A response is rapid when it took less than this fraction of the class mean
        ``duration_s`` (Wise & Ma's 10 % normative threshold); in (0, 1].
    rapid_share : float, default 0.5
        Share of rapid recent responses that flags a student; in (0, 1].
    hint_rate : float, default 0.5
        Hints per recent response that flags a student; > 0.
    error_streak : int, default 6
        Trailing errors in a row (over all skills) that flag a student; >= 1.
    min_medium_tries : int, default 3
        Scored tries in a medium before its results count as evidence for recommending it; >= 1.

    Raises
    ------
    ValueError
        For a value out of range or of the wrong type, e.g. ``"stuck_after must be a whole
        number >= 1, got 2.5"``.
    """

    mastery_threshold: float = 0.95
    stuck_after: int = 10
    off_pace_ratio: float = 0.5
    min_tries: int = 10
    recent: int = 10
    rapid_fraction: float = 0.1
    rapid_share: float = 0.5
    hint_rate: float = 0.5
    error_streak: int = 6
    min_medium_tries: int = 3

    def __post_init__(self) -> None:
        checked = {
            "mastery_threshold": check_prob("mastery_threshold", self.mastery_threshold),
            "stuck_after": check_count("stuck_after", self.stuck_after),
            "off_pace_ratio": check_prob("off_pace_ratio", self.off_pace_ratio),
            "min_tries": check_count("min_tries", self.min_tries),
            "recent": check_count("recent", self.recent),
            "rapid_fraction": check_prob("rapid_fraction", self.rapid_fraction),
            "rapid_share": check_prob("rapid_share", self.rapid_share),
            "hint_rate": check_positive("hint_rate", self.hint_rate),
            "error_streak": check_count("error_streak", self.error_streak),
            "min_medium_tries": check_count("min_medium_tries", self.min_medium_tries),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def with_changes(self, **changes: Any) -> MonitorSettings:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, float | int]:
        """``{field: value}`` in field order; ``MonitorSettings(**s.to_dict()) == s``."""
        return asdict(self)
