"""A strategy as text and back: the round trip behind the rule editor.

An instructional designer edits a strategy as YAML. :func:`rule_text` gives the text of a shipped
strategy, a rule file or a :class:`~edstudy.sim.strategies.Strategy`; :func:`parse_rules` reads
edited text back, checked against a curriculum, with errors that name the line, rule and field;
:func:`check_edits` tries several edits of a file and says what the parser answers to each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import yaml

from edstudy.sim._config import ConfigError
from edstudy.sim.curriculum import Curriculum, data_path, default_curriculum
from edstudy.sim.strategies import STRATEGY_NAMES, Strategy, strategy_from_text

__all__ = ["check_edits", "parse_rules", "rule_text", "strategy_to_text"]


def strategy_to_text(strategy: Strategy) -> str:
    """The YAML text of a strategy object (its current rules and parameters)."""
    return yaml.safe_dump(
        json.loads(json.dumps(strategy.to_dict())),
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )


def parse_rules(
    text: str, *, curriculum: Curriculum | None = None, name: str = "rules.yaml"
) -> Strategy:
    """Parse and check a strategy document given as YAML (or JSON) text.

    Parameters
    ----------
    text : str
        The content of a rule file.
    curriculum : Curriculum, optional
        Media and activity names are checked against it (default: the shipped curriculum).
    name : str
        What error messages call the document.

    Raises
    ------
    ConfigError
        At the first problem, naming ``name``, the line, the rule number and the field.
    """
    strategy = strategy_from_text(text, name=name)
    strategy.check(curriculum or default_curriculum())
    return strategy


def rule_text(strategy: Strategy | str | Path) -> str:
    """The YAML text of a shipped strategy (by name), a rule file, or a Strategy."""
    return source_text(strategy)[0]


def check_edits(
    text: str,
    edits: Mapping[str, tuple[str, str]],
    *,
    curriculum: Curriculum | None = None,
    name: str = "rules.yaml",
) -> pd.DataFrame:
    """What the rule parser says about each of a few edits of a rule file.

    Parameters
    ----------
    text : str
        The rule file.
    edits : mapping of description to (old, new)
        Each edit replaces the first ``old`` by ``new`` in ``text``.

    Returns
    -------
    DataFrame
        ``edit, message`` (``"valid"`` when the edited file parses).

    Raises
    ------
    ValueError
        When ``old`` is not in the text.
    """
    rows = []
    for what, (old, new) in edits.items():
        if old not in text:
            raise ValueError(f"edit {what!r}: {old!r} is not in the rule file")
        try:
            parse_rules(text.replace(old, new, 1), curriculum=curriculum, name=name)
            message = "valid"
        except (ConfigError, ValueError, TypeError) as err:
            message = str(err)
        rows.append({"edit": what, "message": message})
    return pd.DataFrame(rows)


def source_text(strategy: Strategy | str | Path) -> tuple[str, str]:
    """(YAML text, display name) of a strategy, a shipped name or a rule file."""
    if isinstance(strategy, Strategy):
        return strategy_to_text(strategy), f"{strategy.name}.yaml"
    path = Path(strategy)
    if not path.is_file() and str(strategy) in STRATEGY_NAMES:
        path = data_path(f"strategies/{strategy}.yaml")
    if not path.is_file():
        raise FileNotFoundError(
            f"no rule file {str(strategy)!r}; shipped strategies: {', '.join(STRATEGY_NAMES)}"
        )
    return path.read_text(encoding="utf-8"), path.name
