"""The safe condition language of pathway rules: parse, type-check, evaluate over many students.

A rule's ``when`` is a small expression over the tutor's state, for example::

    mastery >= mastery_threshold and error_streak < remediate_after_errors
    opportunities == 0 and pretest_skill >= placement_threshold
    stated_preference in ['video', 'audio'] or not alerted

Grammar (lowest precedence first)::

    expr    := or
    or      := and ('or' and)*
    and     := not ('and' not)*
    not     := 'not' not | compare
    compare := sum [('==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in') sum]
    sum     := product (('+' | '-') product)*
    product := unary (('*' | '/') unary)*
    unary   := '-' unary | atom
    atom    := NUMBER | 'text' | "text" | true | false | always | NAME | NAME '(' args ')'
               | '(' expr ')' | '[' items ']'

Names are the tutor's state variables (:data:`STATE_VARIABLES`), the strategy's ``params`` and the
functions ``min, max, abs`` plus any the researcher registers (:class:`ConditionFunction`).
Nothing is ever passed to Python's ``eval``: a tokenizer and a recursive-descent parser build a
small tree, a type checker rejects mistakes such as ``mastery == 'video'`` or ``streak and 3``
before anything runs, and the tree is compiled into numpy operations that evaluate one rule for
all active students at once.

Types are ``number``, ``bool``, ``medium`` (a medium of the curriculum, compared with quoted
names) and ``text`` (quoted literals).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from edstudy.sim._config import suggest

__all__ = [
    "STATE_VARIABLES",
    "ConditionError",
    "ConditionFunction",
    "Condition",
    "parse_condition",
]

#: name -> (type, meaning). The engine provides each of these for every active student.
STATE_VARIABLES: dict[str, tuple[str, str]] = {
    "mastery": ("number", "tutor's estimated P(mastered) of the current skill (BKT, 0-1)"),
    "opportunities": ("number", "practice opportunities on the current skill so far"),
    "total_opportunities": ("number", "practice opportunities on all skills so far"),
    "streak": ("number", "consecutive correct answers on the current skill"),
    "error_streak": ("number", "consecutive incorrect answers on the current skill"),
    "errors": ("number", "incorrect answers on the current skill"),
    "remediations": ("number", "remediation activities on the current skill"),
    "time_used": ("number", "minutes of work so far"),
    "time_on_skill": ("number", "minutes on the current skill"),
    "time_left": ("number", "minutes left in the study's budget"),
    "pretest": ("number", "pre-test proportion correct, all skills (0-1)"),
    "pretest_skill": ("number", "pre-test proportion correct on the current skill (0-1)"),
    "skills_done": ("number", "skills the tutor has moved on from"),
    "skills_left": ("number", "skills not yet done"),
    "goal": ("number", "the student's self-set mastery goal (0-1)"),
    "interest": ("number", "the student's stated interest in the current skill (0-1)"),
    "stated_preference": ("medium", "medium the student says they prefer (survey)"),
    "estimated_best": ("medium", "medium with the best estimated learning gain for this student"),
    "alerted": ("bool", "the teacher has been alerted on the current skill"),
}

_BUILTIN_FUNCTIONS = {"min": "number", "max": "number", "abs": "number"}
#: Bounds that keep a condition readable, and its parser and evaluator far from Python's
#: recursion limit whatever a rule file holds.
MAX_CONDITION_LENGTH = 2000
MAX_NESTING = 32
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "always"}


class ConditionError(ValueError):
    """A condition does not parse or does not type-check; ``column`` is 1-based when known."""

    def __init__(self, reason: str, *, text: str = "", column: int | None = None):
        self.reason = reason
        self.text = text
        self.column = column
        where = f" at column {column} of {text!r}" if column is not None and text else ""
        super().__init__(f"{reason}{where}")


@dataclass(frozen=True)
class ConditionFunction:
    """A Python function usable in conditions, to extend the rule language for research.

    Parameters
    ----------
    fn : callable
        Receives one numpy array per argument (numbers as float arrays of the active students,
        or scalars for constants) and returns an array of that length (or a scalar).
    returns : {"number", "bool"}
    n_args : int or None
        Required number of arguments; None accepts any.
    """

    fn: Callable[..., Any]
    returns: str = "number"
    n_args: int | None = None

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError("ConditionFunction.fn must be callable")
        if self.returns not in ("number", "bool"):
            raise ValueError("ConditionFunction.returns must be 'number' or 'bool'")


# --- tokens -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    value: str
    col: int


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            col = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            ch = text[col - 1]
            hint = " (use 'and', 'or', 'not')" if ch in "&|!" else ""
            if ch == "=":
                hint = " (use '==' to compare)"
            raise ConditionError(f"unexpected character {ch!r}{hint}", text=text, column=col)
        kind = m.lastgroup or ""
        value = m.group(kind)
        col = m.start(kind) + 1
        if kind == "name" and value in _KEYWORDS:
            kind = "kw"
        elif kind == "name" and value in ("True", "False"):
            kind, value = "kw", value.lower()
        toks.append(_Tok(kind, value, col))
        pos = m.end()
    toks.append(_Tok("end", "", len(text) + 1))
    return toks


# --- syntax tree --------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    col: int


@dataclass(frozen=True)
class Num(Node):
    value: float


@dataclass(frozen=True)
class Text(Node):
    value: str


@dataclass(frozen=True)
class Bool(Node):
    value: bool


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class ListOf(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    def nested(self, parse: Callable[[], Node], tok: _Tok) -> Node:
        """Parse one nested part (brackets, a call, ``not``, unary minus), bounding the depth."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(
                f"nested more than {MAX_NESTING} levels deep; simplify the condition", tok
            )
        try:
            return parse()
        finally:
            self.depth -= 1

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def error(self, reason: str, tok: _Tok | None = None) -> ConditionError:
        tok = tok or self.tok
        return ConditionError(reason, text=self.text, column=tok.col)

    def take(self, kind: str, value: str | None = None) -> _Tok | None:
        t = self.tok
        if t.kind == kind and (value is None or t.value == value):
            self.i += 1
            return t
        return None

    def expect(self, kind: str, value: str) -> _Tok:
        t = self.take(kind, value)
        if t is None:
            got = "the end" if self.tok.kind == "end" else repr(self.tok.value)
            raise self.error(f"expected '{value}', found {got}")
        return t

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self.error("empty condition")
        node = self.or_()
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.value!r}")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while (t := self.take("kw", "or")) is not None:
            node = Binary(t.col, "or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while (t := self.take("kw", "and")) is not None:
            node = Binary(t.col, "and", node, self.not_())
        return node

    def not_(self) -> Node:
        t = self.take("kw", "not")
        if t is not None:
            return Unary(t.col, "not", self.nested(self.not_, t))
        return self.compare()

    def compare(self) -> Node:
        node = self.sum()
        t = self.tok
        if t.kind == "op" and t.value in ("==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            node = Binary(t.col, t.value, node, self.sum())
        elif t.kind == "kw" and t.value == "in":
            self.i += 1
            node = Binary(t.col, "in", node, self.sum())
        elif t.kind == "kw" and t.value == "not" and self.toks[self.i + 1].value == "in":
            self.i += 2
            node = Unary(t.col, "not", Binary(t.col, "in", node, self.sum()))
        else:
            return node
        t = self.tok
        if t.kind == "op" and t.value in ("==", "!=", "<", "<=", ">", ">="):
            raise self.error("chained comparisons are not allowed; join them with 'and'")
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.tok.kind == "op" and self.tok.value in ("+", "-"):
            t = self.tok
            self.i += 1
            node = Binary(t.col, t.value, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.value in ("*", "/"):
            t = self.tok
            self.i += 1
            node = Binary(t.col, t.value, node, self.unary())
        return node

    def unary(self) -> Node:
        t = self.take("op", "-")
        if t is not None:
            return Unary(t.col, "-", self.nested(self.unary, t))
        return self.atom()

    def atom(self) -> Node:
        t = self.tok
        if t.kind == "number":
            self.i += 1
            return Num(t.col, float(t.value))
        if t.kind == "string":
            self.i += 1
            return Text(t.col, t.value[1:-1])
        if t.kind == "kw" and t.value in ("true", "false", "always"):
            self.i += 1
            return Bool(t.col, t.value != "false")
        if t.kind == "name":
            self.i += 1
            if self.take("op", "(") is not None:
                args: list[Node] = []
                if self.take("op", ")") is None:
                    args.append(self.nested(self.or_, t))
                    while self.take("op", ",") is not None:
                        args.append(self.nested(self.or_, t))
                    self.expect("op", ")")
                return Call(t.col, t.value, tuple(args))
            return Name(t.col, t.value)
        if self.take("op", "(") is not None:
            node = self.nested(self.or_, t)
            self.expect("op", ")")
            return node
        if self.take("op", "[") is not None:
            items: list[Node] = []
            if self.take("op", "]") is None:
                items.append(self.nested(self.sum, t))
                while self.take("op", ",") is not None:
                    items.append(self.nested(self.sum, t))
                self.expect("op", "]")
            return ListOf(t.col, tuple(items))
        if t.kind == "end":
            raise self.error("condition ends too early")
        raise self.error(f"unexpected {t.value!r}")


# --- types --------------------------------------------------------------------------------


def _param_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    raise TypeError(f"parameter values must be numbers, true/false or text, got {value!r}")


class _Checker:
    def __init__(
        self, text: str, params: Mapping[str, Any], functions: Mapping[str, ConditionFunction]
    ):
        self.text = text
        self.params = params
        self.functions = functions
        self.names_used: set[str] = set()

    def error(self, reason: str, node: Node) -> ConditionError:
        return ConditionError(reason, text=self.text, column=node.col)

    def type_of(self, node: Node) -> str:
        if isinstance(node, Num):
            return "number"
        if isinstance(node, Text):
            return "text"
        if isinstance(node, Bool):
            return "bool"
        if isinstance(node, Name):
            if node.id in STATE_VARIABLES:
                self.names_used.add(node.id)
                return STATE_VARIABLES[node.id][0]
            if node.id in self.params:
                return _param_type(self.params[node.id])
            known = [*STATE_VARIABLES, *self.params]
            raise self.error(f"unknown name '{node.id}'{suggest(node.id, known)}", node)
        if isinstance(node, ListOf):
            kinds = {self.type_of(i) for i in node.items}
            if len(kinds) > 1:
                raise self.error("a list must hold values of one type", node)
            return f"list[{kinds.pop() if kinds else 'text'}]"
        if isinstance(node, Call):
            if node.func in _BUILTIN_FUNCTIONS:
                if not node.args or (node.func == "abs" and len(node.args) != 1):
                    raise self.error(
                        f"{node.func}() takes "
                        f"{'one' if node.func == 'abs' else 'one or more'} argument(s)",
                        node,
                    )
                for a in node.args:
                    if self.type_of(a) != "number":
                        raise self.error(f"{node.func}() needs numbers", a)
                return "number"
            if node.func in self.functions:
                f = self.functions[node.func]
                if f.n_args is not None and len(node.args) != f.n_args:
                    raise self.error(
                        f"{node.func}() takes {f.n_args} argument(s), got {len(node.args)}", node
                    )
                for a in node.args:
                    self.type_of(a)
                return f.returns
            known = [*_BUILTIN_FUNCTIONS, *self.functions]
            raise self.error(f"unknown function '{node.func}'{suggest(node.func, known)}", node)
        if isinstance(node, Unary):
            t = self.type_of(node.operand)
            if node.op == "not":
                if t != "bool":
                    raise self.error(f"'not' needs true/false, got a {t}", node.operand)
                return "bool"
            if t != "number":
                raise self.error(f"'-' needs a number, got a {t}", node.operand)
            return "number"
        if isinstance(node, Binary):
            lt, rt = self.type_of(node.left), self.type_of(node.right)
            op = node.op
            if op in ("and", "or"):
                for side, t in ((node.left, lt), (node.right, rt)):
                    if t != "bool":
                        raise self.error(f"'{op}' joins true/false conditions, got a {t}", side)
                return "bool"
            if op in ("+", "-", "*", "/"):
                for side, t in ((node.left, lt), (node.right, rt)):
                    if t != "number":
                        raise self.error(f"'{op}' needs numbers, got a {t}", side)
                return "number"
            if op in ("<", "<=", ">", ">="):
                for side, t in ((node.left, lt), (node.right, rt)):
                    if t != "number":
                        raise self.error(f"'{op}' compares numbers, got a {t}", side)
                return "bool"
            if op in ("==", "!="):
                textlike = {"medium", "text"}
                if lt == rt or (lt in textlike and rt in textlike):
                    if lt == "text" and rt == "text":
                        return "bool"
                    return "bool"
                raise self.error(f"cannot compare a {lt} with a {rt}", node)
            if op == "in":
                if not rt.startswith("list["):
                    raise self.error(
                        "'in' needs a list on its right, e.g. ['video', 'audio']", node.right
                    )
                inner = rt[5:-1]
                if not (inner == lt or (lt == "medium" and inner == "text")):
                    raise self.error(f"cannot look for a {lt} in a list of {inner}", node)
                return "bool"
        raise self.error("unsupported expression", node)  # pragma: no cover


# --- compiled conditions --------------------------------------------------------------------

Env = Callable[[str], np.ndarray]


@dataclass(frozen=True)
class Condition:
    """A parsed, type-checked condition.

    Attributes
    ----------
    text : str
        The source text.
    tree : Node
    names : frozenset of str
        State variables it reads (the engine computes only those).
    """

    text: str
    tree: Node
    names: frozenset[str]

    def compile(
        self,
        *,
        params: Mapping[str, Any],
        media: tuple[str, ...],
        functions: Mapping[str, ConditionFunction] | None = None,
    ) -> Callable[[Env, int], np.ndarray]:
        """A function ``f(env, n) -> bool array (n,)``; ``env(name)`` returns a state array.

        Raises
        ------
        ConditionError
            When a quoted medium name is not one of ``media``.
        """
        fns = dict(functions or {})
        inner = _compile(self.tree, self.text, params, media, fns)

        def run(env: Env, n: int) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out = inner(env)
            return np.broadcast_to(np.asarray(out, dtype=bool), (n,))

        return run


def parse_condition(
    text: str | bool,
    *,
    params: Mapping[str, Any] | None = None,
    functions: Mapping[str, ConditionFunction] | None = None,
) -> Condition:
    """Parse and type-check a condition.

    Parameters
    ----------
    text : str or bool
        The expression; YAML's ``true``/``false`` arrive as bools and are accepted.
    params : mapping
        The strategy's named parameters (their values fix their types).
    functions : mapping of name to ConditionFunction
        Extra functions.

    Raises
    ------
    ConditionError
        With the reason and the column, e.g. ``unknown name 'mastry' (did you mean 'mastery'?)
        at column 1 of 'mastry > 0.9'``.
    """
    if isinstance(text, bool):
        text = "true" if text else "false"
    if not isinstance(text, str):
        raise ConditionError(f"a condition must be text, got {text!r}")
    if len(text) > MAX_CONDITION_LENGTH:
        raise ConditionError(
            f"a condition of {len(text):,} characters is too long to read (at most "
            f"{MAX_CONDITION_LENGTH:,}); split it into several rules or use a parameter"
        )
    tree = _Parser(text).parse()
    checker = _Checker(text, dict(params or {}), dict(functions or {}))
    kind = checker.type_of(tree)
    if kind != "bool":
        raise ConditionError(
            f"a condition must be true or false, but this is a {kind}", text=text, column=1
        )
    return Condition(text=text, tree=tree, names=frozenset(checker.names_used))


def _compile(
    node: Node,
    text: str,
    params: Mapping[str, Any],
    media: tuple[str, ...],
    functions: Mapping[str, ConditionFunction],
) -> Callable[[Env], Any]:
    """Closure tree; medium names become integer codes, parameters become constants."""

    def medium_code(t: Node) -> int:
        name = t.value if isinstance(t, Text) else params[t.id]  # type: ignore[union-attr]
        if name not in media:
            raise ConditionError(
                f"unknown medium {name!r}{suggest(name, media)}; "
                f"the curriculum's media are {list(media)}",
                text=text,
                column=t.col,
            )
        return media.index(name)

    def is_medium(t: Node) -> bool:
        return (
            isinstance(t, Name) and t.id in STATE_VARIABLES and STATE_VARIABLES[t.id][0] == "medium"
        )

    def is_text(t: Node) -> bool:
        return isinstance(t, Text) or (
            isinstance(t, Name)
            and t.id not in STATE_VARIABLES
            and isinstance(params.get(t.id), str)
        )

    c = lambda n: _compile(n, text, params, media, functions)  # noqa: E731
    if isinstance(node, Num | Bool):
        v = node.value
        return lambda env: v
    if isinstance(node, Text):
        v = node.value
        return lambda env: v
    if isinstance(node, Name):
        if node.id in STATE_VARIABLES:
            name = node.id
            return lambda env: env(name)
        v = params[node.id]
        return lambda env: v
    if isinstance(node, Call):
        args = [c(a) for a in node.args]
        if node.func in ("min", "max"):
            red = np.minimum if node.func == "min" else np.maximum

            def minmax(env: Env) -> Any:
                out = args[0](env)
                for a in args[1:]:
                    out = red(out, a(env))
                return out

            return minmax
        if node.func == "abs":
            return lambda env: np.abs(args[0](env))
        fn = functions[node.func].fn
        return lambda env: fn(*(a(env) for a in args))
    if isinstance(node, Unary):
        x = c(node.operand)
        if node.op == "not":
            return lambda env: np.logical_not(x(env))
        return lambda env: np.negative(x(env))
    if isinstance(node, Binary):
        op = node.op
        if op in ("==", "!=") and (is_medium(node.left) or is_medium(node.right)):
            # medium against a quoted name (or param): compare codes
            lhs, rhs = node.left, node.right
            if is_medium(rhs) and not is_medium(lhs):
                lhs, rhs = rhs, lhs
            left = c(lhs)
            if is_text(rhs):
                code = medium_code(rhs)
                right = lambda env: code  # noqa: E731
            else:
                right = c(rhs)
            if op == "==":
                return lambda env: np.equal(left(env), right(env))
            return lambda env: np.not_equal(left(env), right(env))
        if op == "in":
            left = c(node.left)
            items = node.right.items if isinstance(node.right, ListOf) else None
            if items is None:  # pragma: no cover - type checker only allows list literals
                raise ConditionError("'in' needs a list literal", text=text, column=node.col)
            if is_medium(node.left):
                values = np.array([medium_code(i) for i in items], dtype=np.int64)
            else:
                values = np.array([_const(i, params) for i in items])
            return lambda env: np.isin(left(env), values)
        left, right = c(node.left), c(node.right)
        ufunc = {
            "and": np.logical_and,
            "or": np.logical_or,
            "+": np.add,
            "-": np.subtract,
            "*": np.multiply,
            "/": np.true_divide,
            "<": np.less,
            "<=": np.less_equal,
            ">": np.greater,
            ">=": np.greater_equal,
            "==": np.equal,
            "!=": np.not_equal,
        }[op]
        return lambda env: ufunc(left(env), right(env))
    raise ConditionError("unsupported expression", text=text, column=node.col)  # pragma: no cover


def _const(node: Node, params: Mapping[str, Any]) -> Any:
    if isinstance(node, Num | Text | Bool):
        return node.value
    if isinstance(node, Name) and node.id in params:
        return params[node.id]
    raise ConditionError("list items must be constants", column=node.col)
