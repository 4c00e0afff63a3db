"""Reading YAML configuration with errors that say where: file, line, rule and field.

Curriculum, strategy and study files are written by people; a mistake must be reported as
``strategies/individualized.yaml, line 14, rule 2, field 'when': unknown name 'mastry'
(did you mean 'mastery'?)`` and nothing may run until every file has been read and checked.
This private module holds the error type and the helpers the three loaders share.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ConfigError", "Source", "load_yaml", "parse_yaml", "suggest"]


class ConfigError(ValueError):
    """A configuration file (curriculum, strategy, study) or document is invalid.

    Attributes
    ----------
    file : str or None
        The file, or a description such as ``"<strategy 'x'>"`` for an in-memory document.
    line : int or None
        1-based line of the offending entry when it is known.
    rule : int or None
        1-based rule number, for strategy files.
    field : str or None
        The key (or dotted path) that is wrong.
    reason : str
        What is wrong, without the location.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        rule: int | None = None,
        field: str | None = None,
    ):
        self.reason = reason
        self.file = file
        self.line = line
        self.rule = rule
        self.field = field
        where = []
        if file is not None:
            where.append(str(file))
        if line is not None:
            where.append(f"line {line}")
        if rule is not None:
            where.append(f"rule {rule}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {reason}" if where else reason)


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True)
class Source:
    """Where a document came from, to locate errors in it.

    Parameters
    ----------
    name : str
        File path or a description of an in-memory document.
    node : yaml.Node or None
        The composed YAML node tree (line numbers); None for documents built in Python.
    """

    name: str
    node: Any = None

    def line(self, path: Sequence[str | int]) -> int | None:
        """1-based line of the entry at ``path`` (keys and list indices), or its nearest parent."""
        node = self.node
        if node is None:
            return None
        line = node.start_mark.line + 1
        for key in path:
            if isinstance(node, yaml.MappingNode) and isinstance(key, str):
                for k, v in node.value:
                    if getattr(k, "value", None) == key:
                        line = k.start_mark.line + 1
                        node = v
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                if 0 <= key < len(node.value):
                    node = node.value[key]
                    line = node.start_mark.line + 1
                else:
                    return line
            else:
                return line
        return line

    def error(
        self,
        reason: str,
        path: Sequence[str | int] = (),
        *,
        rule: int | None = None,
        field: str | None = None,
    ) -> ConfigError:
        """A :class:`ConfigError` located at ``path`` in this document."""
        if field is None:
            names = [p for p in path if isinstance(p, str)]
            field = ".".join(str(p) for p in path) if names else None
        return ConfigError(reason, file=self.name, line=self.line(path), rule=rule, field=field)


#: Bounds on what a configuration file may be: they are small documents written by people, so
#: anything beyond these is a mistake or an attack (a "billion laughs" alias bomb).
MAX_CONFIG_BYTES = 2_000_000
MAX_EXPANDED_ENTRIES = 100_000
MAX_NESTING_DEPTH = 100


def load_yaml(path: str | Path) -> tuple[Any, Source]:
    """Read one YAML file, keeping line numbers for later error messages.

    Raises
    ------
    ConfigError
        Naming the file: it is missing, too large, not UTF-8 text, not valid YAML (with the line
        of the syntax error), repeats a key (with both lines) or expands through anchors and
        aliases beyond :data:`MAX_EXPANDED_ENTRIES`.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"file not found: {p}", file=str(p))
    size = p.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{size:,} bytes is too large for a configuration file (at most {MAX_CONFIG_BYTES:,})",
            file=str(p),
        )
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError(
            f"not UTF-8 text (byte 0x{raw[err.start]:02x}); save the file as UTF-8",
            file=str(p),
            line=line,
        ) from None
    return parse_yaml(text, name=str(p))


def _check_tree(node: yaml.Node, name: str) -> None:
    """Refuse repeated keys (naming both lines) and alias expansion beyond the bound.

    Sizes are counted with each node's expansion memoized, so a document whose aliases would
    expand to billions of entries is measured in time proportional to its text.
    """
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool, int]] = [(node, False, 1)]
    while stack:
        n, children_done, depth = stack.pop()
        if depth > MAX_NESTING_DEPTH:
            raise ConfigError(
                f"nested too deeply to read (more than {MAX_NESTING_DEPTH} levels)",
                file=name,
                line=n.start_mark.line + 1,
            )
        if id(n) in size:
            continue
        if isinstance(n, yaml.ScalarNode):
            size[id(n)] = 1
            continue
        pairs = n.value if isinstance(n, yaml.MappingNode) else [(None, v) for v in n.value]
        kids = [k for pair in pairs for k in pair if k is not None]
        if not children_done:
            if isinstance(n, yaml.MappingNode):
                seen: dict[str, int] = {}
                for k, _ in n.value:
                    if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                        line = k.start_mark.line + 1
                        if k.value in seen:
                            raise ConfigError(
                                f"key '{k.value}' appears twice (first at line {seen[k.value]}); "
                                "remove one",
                                file=name,
                                line=line,
                            )
                        seen[k.value] = line
            stack.append((n, True, depth))
            stack.extend((k, False, depth + 1) for k in kids if id(k) not in size)
            continue
        total = 1 + sum(size[id(k)] for k in kids)
        if total > MAX_EXPANDED_ENTRIES:
            raise ConfigError(
                f"the document expands to more than {MAX_EXPANDED_ENTRIES:,} entries through its "
                "anchors and aliases (&name / *name); write the entries out instead",
                file=name,
                line=n.start_mark.line + 1,
            )
        size[id(n)] = total


def parse_yaml(text: str, *, name: str) -> tuple[Any, Source]:
    """Parse YAML (or JSON) text, keeping line numbers; ``name`` is what errors call it.

    Raises
    ------
    ConfigError
        When the text is not valid YAML (with the line of the syntax error), repeats a key,
        expands beyond the alias bound, or is nested too deeply to read.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, Source(name=name, node=None)
        _check_tree(node, name)
        data = loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"not valid YAML: {problem}", file=name, line=line) from None
    except RecursionError:
        raise ConfigError("nested too deeply to read", file=name) from None
    finally:
        loader.dispose()
    return data, Source(name=name, node=node)


def check_keys(
    doc: Mapping[str, Any],
    allowed: Iterable[str],
    source: Source,
    path: Sequence[str | int] = (),
    *,
    required: Iterable[str] = (),
    rule: int | None = None,
) -> None:
    """Reject unknown keys and report missing required ones, naming the key and its line."""
    allowed = list(allowed)
    if not isinstance(doc, Mapping):
        where = ".".join(str(p) for p in path) or "document"
        raise source.error(
            f"{where} must be a mapping of keys to values, got {type(doc).__name__}",
            path,
            rule=rule,
        )
    for key in doc:
        if key not in allowed:
            raise source.error(
                f"unknown key '{key}'{suggest(str(key), allowed)}; allowed: {', '.join(allowed)}",
                [*path, key],
                rule=rule,
                field=str(key) if rule is not None else ".".join(str(p) for p in [*path, key]),
            )
    for key in required:
        if key not in doc:
            raise source.error(f"missing required key '{key}'", path, rule=rule, field=str(key))


def number(
    value: Any,
    source: Source,
    path: Sequence[str | int],
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that ``value`` is a number (an int when ``integer``) in the given range."""
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise source.error(f"must be {kind}, got {value!r}", path)
    if integer and float(value) != int(value):
        raise source.error(f"must be {kind}, got {value!r}", path)
    v = float(value)
    if v != v:
        raise source.error("must be a number, got NaN", path)
    if low is not None and (v < low or (low_open and v == low)):
        raise source.error(f"must be {'>' if low_open else '>='} {low:g}, got {value!r}", path)
    if high is not None and (v > high or (high_open and v == high)):
        raise source.error(f"must be {'<' if high_open else '<='} {high:g}, got {value!r}", path)
    return int(value) if integer else v
