"""The house rules of the package layout (docs/architecture.md), checked on the source itself.

Every ``import`` of an edstudy module is read from the source with :mod:`ast`, including imports
inside functions, and the tests fail when

- ``edstudy.stats`` imports the simulator, the student models or the Bayesian models;
- a non-UI module imports ``edstudy.widgets``;
- a package imports a package above it in the layer order (imports run one way);
- a circle of imports appears, between modules or between packages;
- a function imports an edstudy module lazily that is not one of the heavy optional ones (PyMC
  models, matplotlib figures, papermill reports), the way a circle is hidden;
- a source file grows past the size that says it holds more than one job.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "edstudy"

#: Layer of each top-level package: a package may import only packages of a lower layer.
LAYERS: dict[str, int] = {
    "_format": 0,
    "_output": 0,
    "schema": 0,
    "plots": 0,
    "datasets": 1,
    "stats": 1,
    "bkt": 2,
    "kt": 3,
    "bayes": 3,
    "sim": 4,
    "experiment": 5,
    "monitor": 5,
    "investigations": 6,
    "widgets": 7,
    "report": 7,
    "scaffold": 7,
    "cli": 8,
}
#: Modules a function may import lazily: they pull in PyMC, matplotlib or papermill/nbconvert.
LAZY_OK = (
    "edstudy.plots",
    "edstudy.bayes.hbkt",
    "edstudy.bayes.preference",
    "edstudy.bayes.meshing",
    "edstudy.bayes.sbc",
    "edstudy.bayes._sampling",
    "edstudy.report",
)
#: Lines a source file may have ("about 600"); the named ones are one cohesive algorithm each,
#: which reads best whole.
MAX_LINES = 620
LONG_OK = {
    "edstudy/bkt/model.py",  # the BKT estimator: fit, predict, score, CV, JSON of one model
    "edstudy/bkt/_em.py",  # the EM algorithm and its variants' M-steps
    "edstudy/sim/engine.py",  # the vectorized simulator loop
    "edstudy/sim/rules.py",  # the condition language: tokenizer, parser, compiler
    "edstudy/sim/strategies.py",  # the pathway-rule document: rules, actions, reading, checks
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> list[tuple[str, str, bool, int]]:
    """(importing module, imported edstudy module, inside a function?, line) for every import."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_function: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                in_function |= {id(n) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [base]
            else:
                continue
            for t in targets:
                if t == "edstudy" or t.startswith("edstudy."):
                    out.append((name, t, id(node) in in_function, node.lineno))
    return out


IMPORTS = _imports()


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "edstudy"


def test_every_package_has_a_layer():
    tops = {_top(_module_name(p)) for p in PACKAGE.rglob("*.py")} - {"edstudy"}
    assert tops <= set(LAYERS), f"give these packages a layer: {sorted(tops - set(LAYERS))}"


def test_stats_imports_no_models_and_no_simulator():
    bad = [
        f"{m} imports {t} (line {line})"
        for m, t, _, line in IMPORTS
        if _top(m) == "stats" and _top(t) in {"sim", "bkt", "bayes", "kt", "datasets"}
    ]
    assert not bad, bad


def test_only_ui_modules_import_widgets():
    bad = [
        f"{m} imports {t} (line {line})"
        for m, t, _, line in IMPORTS
        if _top(t) == "widgets" and _top(m) != "widgets"
    ]
    assert not bad, bad


def test_imports_run_one_way():
    bad = []
    for m, t, _, line in IMPORTS:
        a, b = _top(m), _top(t)
        if a == b or b == "edstudy" or a == "edstudy":
            continue
        if LAYERS[b] >= LAYERS[a]:
            bad.append(f"{m} (layer {LAYERS[a]}) imports {t} (layer {LAYERS[b]}), line {line}")
    assert not bad, "\n".join(bad)


def _cycles(edges: dict[str, set[str]]) -> list[str]:
    seen: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[str] = []

    def visit(v: str) -> None:
        seen.add(v)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w in on_stack:
                found.append(" -> ".join(stack[stack.index(w) :] + [w]))
            elif w not in seen:
                visit(w)
        stack.pop()
        on_stack.discard(v)

    for v in sorted(edges):
        if v not in seen:
            visit(v)
    return found


@pytest.mark.parametrize("level", ["module", "package"])
def test_no_import_circles(level):
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = defaultdict(set)
    for m, t, _, _ in IMPORTS:
        if level == "package":
            a, b = _top(m), _top(t)
            if a != b and "edstudy" not in (a, b):
                edges[a].add(b)
        elif t in files and t != m:
            # a package's __init__ only re-exports its modules: edges through it are not circles
            if "__init__.py" not in (files[m].name, files[t].name):
                edges[m].add(t)
    assert not _cycles(edges), _cycles(edges)


def test_lazy_imports_are_only_for_heavy_modules():
    bad = [
        f"{m} line {line}: {t}"
        for m, t, lazy, line in IMPORTS
        if lazy and _top(m) != "cli" and not t.startswith(LAZY_OK)
    ]
    assert not bad, "import at module level instead:\n" + "\n".join(bad)


def test_no_source_file_holds_several_jobs():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES and rel not in LONG_OK:
            long.append(f"{rel}: {n} lines")
    assert not long, long


def test_the_rules_catch_a_violation(monkeypatch):
    """The checks above are not vacuous: planted violations are found."""
    planted = [
        ("edstudy.stats.effect_sizes", "edstudy.sim.engine", False, 1),
        ("edstudy.sim.engine", "edstudy.experiment.runner", True, 2),
        ("edstudy.experiment.runner", "edstudy.sim.engine", False, 3),
    ]
    monkeypatch.setattr(sys.modules[__name__], "IMPORTS", IMPORTS + planted)
    with pytest.raises(AssertionError, match="stats.effect_sizes imports edstudy.sim.engine"):
        test_stats_imports_no_models_and_no_simulator()
    with pytest.raises(AssertionError, match="layer 1"):
        test_imports_run_one_way()
    with pytest.raises(AssertionError, match="sim.engine -> edstudy.experiment.runner"):
        test_no_import_circles("module")
    with pytest.raises(AssertionError, match="experiment -> sim -> experiment"):
        test_no_import_circles("package")
    with pytest.raises(AssertionError, match="import at module level"):
        test_lazy_imports_are_only_for_heavy_modules()


RESULTS = {
    "edstudy.stats": [
        "ABTestResult",
        "AttritionResult",
        "BaselineEquivalence",
        "EffectSize",
        "ModelResult",
        "ModerationResult",
        "PowerEstimate",
        "RiskDifference",
    ],
    "edstudy.stats.pilot": ["PilotEstimates"],
    "edstudy.stats.planning": ["PowerPlan"],
    "edstudy.experiment": ["StudyResult"],
    "edstudy.investigations.real_cohort": ["RobustEvaluationMatrix", "RealCohortResult"],
    "edstudy.investigations.knowledge_tracing": ["VariantComparison"],
    "edstudy.investigations.media_preferences": ["MediaExperiment"],
    "edstudy.investigations.oulad_preferences": ["OuladPreferences"],
    "edstudy.monitor": ["ClassSnapshot"],
    "edstudy.investigations.trial": ["TrialResult"],
}


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, ns in RESULTS.items() for n in ns])
def test_every_result_answers_the_same_way(module, name):
    import importlib

    cls = getattr(importlib.import_module(module), name)
    for method in ("to_frame", "to_markdown"):
        assert callable(getattr(cls, method, None)), f"{name} has no {method}()"
