"""Rule conditions against Python's own evaluation of the same text (differential, hypothesis).

The condition language's syntax is a subset of Python's, with the same precedence and
associativity (``or`` < ``and`` < ``not`` < comparisons < ``+ -`` < ``* /`` < unary minus <
calls and atoms). So a generated expression is printed once, with only the parentheses its tree
needs (and some redundant ones), then

- parsed, type-checked and compiled by :func:`parse_condition` / :meth:`Condition.compile` exactly
  as the engine does (``compile(params=..., media=...)``, then ``run(env, n)`` with ``env`` a
  getter of per-student arrays), and evaluated for every student at once;
- evaluated by Python's ``eval`` student by student, with each state variable a numpy float64
  scalar (IEEE arithmetic: a division by zero gives inf or nan, as numpy does; an expression whose
  literals alone divide by zero is discarded).

Semantics mapped by hand: ``and``/``or``/``not`` join booleans (Python's short-circuit operators
give the same truth values); ``/`` is true division in both; ``min``/``max`` are the language's
elementwise IEEE minimum/maximum, which propagate nan and, between equal values, return the right
operand (``np.minimum``; it only shows on signed zeros), written out below in Python; media are
compared by name in Python and by integer code in the compiled condition. Numeric subexpressions
are compared exactly through a registered function that records its argument (``show``).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edstudy.sim import ConditionFunction, parse_condition

MEDIA = ("video", "audio", "hands_on", "text")
NUMBERS = ("mastery", "opportunities", "streak", "error_streak", "time_left")
PARAMS = {"threshold": 0.75, "max_opps": 6, "strict": True, "lenient": False, "fav": "audio"}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- expression trees

# precedence of what a node prints as (higher binds tighter)
OR, AND, NOT, CMP, SUM, PROD, NEG, ATOM = range(1, 9)
PREC = {"or": OR, "and": AND, "+": SUM, "-": SUM, "*": PROD, "/": PROD}


@dataclass(frozen=True)
class E:
    kind: str  # "atom", "bin", "cmp", "not", "neg", "call", "in"
    text: str = ""
    op: str = ""
    args: tuple = ()
    paren: bool = False  # print redundant parentheses around this node

    @property
    def prec(self) -> int:
        if self.kind == "bin":
            return PREC[self.op]
        return {"cmp": CMP, "in": CMP, "not": NOT, "neg": NEG}.get(self.kind, ATOM)


def show_text(e: E, need: int = 0) -> str:
    """Print with the parentheses the tree needs (``need``: the least precedence that may stand
    here without them), plus the redundant ones the tree asks for."""
    if e.kind == "atom":
        s = e.text
    elif e.kind == "bin":
        p = PREC[e.op]
        # left-associative: the left operand may share the precedence, the right one may not
        s = f"{show_text(e.args[0], p)} {e.op} {show_text(e.args[1], p + 1)}"
    elif e.kind == "cmp":
        s = f"{show_text(e.args[0], SUM)} {e.op} {show_text(e.args[1], SUM)}"
    elif e.kind == "in":
        items = ", ".join(e.args[1])
        s = f"{show_text(e.args[0], SUM)} {e.op} [{items}]"
    elif e.kind == "not":
        s = f"not {show_text(e.args[0], NOT)}"
    elif e.kind == "neg":
        s = f"-{show_text(e.args[0], NEG)}"
    else:  # call
        s = f"{e.text}({', '.join(show_text(a) for a in e.args)})"
    return f"({s})" if e.paren or e.prec < need else s


# Literals are written as floats: Python's integer 0 has no sign, so ``x / -0`` would be +inf in
# Python and -inf in the language (whose numbers are floats). Integer literals are checked by hand.
literals = st.sampled_from(["0.0", "1.0", "2.", "3.0", ".5", "2.5", "1e1", "0.25", "7.0", "15e-1"])
num_atoms = st.one_of(
    st.builds(lambda t: E("atom", t), literals),
    st.builds(lambda t: E("atom", t), st.sampled_from(NUMBERS)),
    st.builds(lambda t: E("atom", t), st.sampled_from(["threshold", "max_opps"])),
)


# redundant parentheses now and then
parens = st.sampled_from([False, False, False, True])


@st.composite
def chain(draw, children, ops):
    """``x op x op x ...`` of one precedence level, built left to right as the grammar reads it:
    where associativity shows (``a - 3 - 2``, ``a / 2 / 5``)."""
    node = draw(children)
    for _ in range(draw(st.integers(1, 4))):
        node = E("bin", op=draw(st.sampled_from(ops)), args=(node, draw(children)))
    return node


def _num(children):
    return st.one_of(
        chain(children, "+-"),
        chain(children, "*/"),
        chain(children, "+-*/"),
        st.builds(
            lambda op, a, b, p: E("bin", op=op, args=(a, b), paren=p),
            st.sampled_from("+-*/"), children, children, parens,
        ),
        st.builds(lambda a, p: E("neg", args=(a,), paren=p), children, parens),
        st.builds(
            lambda f, a: E("call", f, args=tuple(a)),
            st.sampled_from(["min", "max"]), st.lists(children, min_size=1, max_size=3),
        ),
        st.builds(lambda a: E("call", "abs", args=(a,)), children),
    )  # fmt: skip


numbers = st.recursive(num_atoms, _num, max_leaves=10)

bool_atoms = st.one_of(
    st.builds(lambda t: E("atom", t), st.sampled_from(["alerted", "strict", "lenient"])),
    st.builds(lambda t: E("atom", t), st.sampled_from(["True", "False"])),
    st.builds(
        lambda op, a, b: E("cmp", op=op, args=(a, b)),
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), numbers, numbers,
    ),
    st.builds(
        lambda op, a, items: E("in", op=op, args=(a, tuple(items))),
        st.sampled_from(["in", "not in"]), numbers, st.lists(literals, min_size=1, max_size=3),
    ),
    st.builds(
        lambda op, m: E("cmp", op=op, args=(E("atom", "stated_preference"), E("atom", m))),
        st.sampled_from(["==", "!="]), st.sampled_from([*(repr(m) for m in MEDIA), "fav"]),
    ),
    st.builds(
        lambda op, items: E("in", op=op, args=(E("atom", "stated_preference"), tuple(items))),
        st.sampled_from(["in", "not in"]),
        st.lists(st.sampled_from([repr(m) for m in MEDIA]), min_size=1, max_size=3),
    ),
)  # fmt: skip


def _bool(children):
    return st.one_of(
        chain(children, ["and", "or"]),
        st.builds(
            lambda op, a, b, p: E("bin", op=op, args=(a, b), paren=p),
            st.sampled_from(["and", "or"]), children, children, parens,
        ),
        st.builds(lambda a, p: E("not", args=(a,), paren=p), children, parens),
        st.builds(
            lambda op, a, b: E("cmp", op=op, args=(a, b)),
            st.sampled_from(["==", "!="]), children, children,
        ),
    )  # fmt: skip


conditions = st.recursive(bool_atoms, _bool, max_leaves=6)


# --------------------------------------------------------------------------- the two evaluations


def _min2(a, b):
    return math.nan if a != a or b != b else (a if a < b else b)


def _max2(a, b):
    return math.nan if a != a or b != b else (a if a > b else b)


def _fold(f):
    def reduce(first, *rest):
        out = first
        for x in rest:
            out = f(out, x)
        return out

    return reduce


@st.composite
def students(draw):
    n = draw(st.integers(1, 6))
    value = st.one_of(
        st.sampled_from([0.0, 1.0, 2.0, 3.0, 0.5, 0.75, -1.0, 6.0, 10.0]),
        st.floats(-20, 20, allow_nan=False),
    )
    env = {name: np.array([draw(value) for _ in range(n)]) for name in NUMBERS}
    env["alerted"] = np.array([draw(st.booleans()) for _ in range(n)])
    env["stated_preference"] = np.array([draw(st.integers(0, 3)) for _ in range(n)])
    return n, env


def language(text: str, env: dict, n: int, functions=None) -> np.ndarray:
    """Compile and run the condition the way the engine does."""
    cond = parse_condition(text, params=PARAMS, functions=functions)
    test = cond.compile(params=PARAMS, media=MEDIA, functions=functions)
    return test(env.__getitem__, n)


def python(text: str, env: dict, i: int, extra=None):
    """Python's evaluation of the same text for student ``i``, or None when its literals alone
    divide by zero."""
    scope = {name: np.float64(env[name][i]) for name in NUMBERS}
    scope["alerted"] = bool(env["alerted"][i])
    scope["stated_preference"] = MEDIA[env["stated_preference"][i]]
    scope.update(PARAMS, min=_fold(_min2), max=_fold(_max2), abs=abs, **(extra or {}))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return eval(text, {"__builtins__": {}}, scope)  # noqa: S307 - the reference
        except ZeroDivisionError:
            return None


@SETTINGS
@given(tree=conditions, data=students())
def test_conditions_agree_with_python(tree, data):
    n, env = data
    text = show_text(tree)
    expected = [python(text, env, i) for i in range(n)]
    assume(None not in expected)
    got = language(text, env, n)
    assert got.dtype == bool and got.shape == (n,)
    assert got.tolist() == [bool(x) for x in expected], text
    words = set(re.findall(r"[A-Za-z_]\w*", text))
    names = words & {*NUMBERS, "alerted", "stated_preference"}
    assert parse_condition(text, params=PARAMS).names == names


@SETTINGS
@given(tree=numbers, data=students())
def test_arithmetic_agrees_with_python_exactly(tree, data):
    n, env = data
    text = show_text(tree)
    seen = []

    def record(x):
        seen.append(np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy())
        return np.ones(n, dtype=bool)

    fns = {"show": ConditionFunction(record, returns="bool", n_args=1)}
    expected = [python(text, env, i) for i in range(n)]
    assume(None not in expected)
    assert language(f"show({text})", env, n, functions=fns).all()
    np.testing.assert_array_equal(seen[0], np.array(expected, dtype=float), err_msg=text)


# --------------------------------------------------------------------------- chosen by hand


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Z - 3 - 2", 5.0),  # left-associative: (10 - 3) - 2, not 10 - (3 - 2)
        ("Z - (3 - 2)", 9.0),
        ("Z / 2 / 5", 1.0),
        ("Z / (2 / 5)", 25.0),
        ("Z - 2 * 3", 4.0),
        ("(Z - 2) * 3", 24.0),
        ("Z * 2 - 3 * 2", 14.0),
        ("-Z + 3", -7.0),
        ("-(Z + 3)", -13.0),
        ("- -Z", 10.0),
        ("Z - -Z", 20.0),
        ("2 * -Z", -20.0),
        ("min(Z, 3) + max(Z, 3) * 2", 23.0),
        ("abs(3 - Z) - 1", 6.0),
        ("min(Z)", 10.0),
        ("max(1, 2, Z, 4)", 10.0),
        ("1e1 + .5 + 2.", 12.5),
    ],
)
def test_worked_arithmetic(text, value):
    seen = []
    fns = {"show": ConditionFunction(lambda x: seen.append(x) or True, returns="bool", n_args=1)}
    env = {"mastery": np.array([10.0])}
    assert language(f"show({text.replace('Z', 'mastery')})", env, 1, functions=fns).all()
    assert float(np.asarray(seen[0]).reshape(-1)[0]) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("True or False and False", True),  # and binds tighter than or
        ("(True or False) and False", False),
        ("not False and False", False),  # not binds tighter than and
        ("not (False and False)", True),
        ("not 1 > 2", True),  # comparisons bind tighter than not
        ("1 + 1 == 2", True),
        ("2 < 1 + 1.5", True),
        ("False == (1 > 2)", True),
        ("not not True", True),
        ("1 != 1 or 2 >= 2 and 3 <= 2", False),
        ("3 in [1, 2, 3] and 4 not in [1, 2]", True),
        ("1 + 1 in [2]", True),
    ],
)
def test_worked_logic(text, expected):
    assert language(text, {"mastery": np.zeros(3)}, 3).tolist() == [expected] * 3
    assert eval(text, {"__builtins__": {}}) is expected  # noqa: S307 - the same in Python


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mastery / 1e-310 > 1e300", True),  # overflows to inf, as 10.0 / 1e-310 does in Python
        ("mastery * 1e308 < 0", False),
        ("-mastery * 1e308 < 0", True),
        ("mastery / 0 > 0", True),  # division by zero gives inf, like numpy
    ],
)
def test_overflow_and_division_by_zero_are_quiet(text, expected):
    env = {"mastery": np.array([10.0])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        assert bool(language(text, env, 1)[0]) is expected
