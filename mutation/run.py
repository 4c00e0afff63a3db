"""Mutation testing of edstudy's core modules with cosmic-ray: ``make mutation [MODULE=name]``.

For each module of ``mutation/config.toml`` this writes a cosmic-ray configuration and a session
under ``.mutation/<module>/``, filters the operators, checks that the selected tests pass on the
unmutated code (the baseline), runs every mutant one at a time, and prints the score. Results are
kept per mutant, so an interrupted run resumes where it stopped; a session whose module source
changed since it was created is started over.

    python mutation/run.py [MODULE ...]          run (or resume) these modules; default: all
    python mutation/run.py --fresh MODULE        start the module's session over
    python mutation/run.py --retest MODULE       run the survivors again (after adding tests)
    python mutation/run.py --report [MODULE ...] scores, and .mutation/<module>/survivors.md
    python mutation/run.py --test MODULE         the test command cosmic-ray runs per mutant

Survivors listed in ``mutation/equivalent.toml`` (mutants that cannot change any result, each
with its reason) are reported apart from the unexplained ones.

Numba: the test command gives every mutant run a new, empty ``NUMBA_CACHE_DIR``, so a mutated
``@njit`` kernel is always compiled from the mutated source and never loaded from a cache
written for another mutant (``NUMBA_OPT=0`` halves the compile time; it does not change what
the code computes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "mutation" / "config.toml"
EQUIVALENT = ROOT / "mutation" / "equivalent.toml"
STATE = ROOT / ".mutation"
BIN = Path(sys.executable).parent


def _config() -> dict:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def _module(cfg: dict, name: str) -> dict:
    if name not in cfg["modules"]:
        raise SystemExit(f"unknown module {name!r}; configured: {', '.join(cfg['modules'])}")
    mod = dict(cfg["modules"][name])
    path = (ROOT / mod["path"]).resolve()
    if ROOT.resolve() not in path.parents or not path.is_file():
        raise SystemExit(f"{name}: {mod['path']} is not a file of this checkout ({ROOT})")
    mod["file"] = path
    return mod


def _test_args(mod: dict) -> list[str]:
    """The module's pytest arguments, without test files that do not exist (yet)."""
    args = []
    for arg in mod["tests"]:
        file = arg.split("::")[0]
        if file.startswith("tests/") and not (ROOT / file).is_file():
            print(f"note: {file} does not exist; left out", file=sys.stderr)
            continue
        args.append(arg)
    return args


def run_tests(name: str) -> int:
    """Run the module's tests on this checkout's src/ with a fresh numba cache (one mutant)."""
    mod = _module(_config(), name)
    with tempfile.TemporaryDirectory(prefix="edstudy-mutant-numba-") as cache:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT / "src"),
            NUMBA_CACHE_DIR=cache,
            NUMBA_OPT="0",
            NUMBA_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",  # nbval, playwright, xdist: seconds per run
            CI="1",  # tests/conftest.py: hypothesis draws the same examples every run
            PYTHONDONTWRITEBYTECODE="1",
        )
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
        return subprocess.call([*cmd, *_test_args(mod)], cwd=ROOT, env=env)


def _digest(mod: dict) -> str:
    h = hashlib.sha256(mod["file"].read_bytes())
    h.update(json.dumps([mod["tests"], mod.get("timeout")]).encode())
    return h.hexdigest()


def _operators_excluded(keep: list[str]) -> list[str]:
    names = subprocess.run(
        [str(BIN / "cosmic-ray"), "operators"], capture_output=True, text=True, check=True
    ).stdout.split()
    kept = re.compile("|".join(f"(?:{k})" for k in keep))
    return [re.escape(n) + "$" for n in names if not kept.fullmatch(n)]


def _write_config(cfg: dict, name: str, mod: dict, folder: Path) -> Path:
    base = dict(cfg["cosmic-ray"])
    base["module-path"] = str(mod["file"].relative_to(ROOT))
    base["timeout"] = float(mod.get("timeout", 120))
    base["test-command"] = f"{sys.executable} mutation/run.py --test {name}"
    base["filters"] = {
        "operators-filter": {"exclude-operators": _operators_excluded(cfg["operators"]["keep"])}
    }
    lines = ["# written by mutation/run.py from mutation/config.toml; do not edit", "[cosmic-ray]"]
    for key in ("module-path", "timeout", "test-command", "excluded-modules"):
        lines.append(f"{key} = {json.dumps(base[key])}")
    lines += ["", "[cosmic-ray.distributor]", f'name = "{base["distributor"]["name"]}"']
    lines += ["", "[cosmic-ray.filters.operators-filter]", "exclude-operators = ["]
    excluded = base["filters"]["operators-filter"]["exclude-operators"]
    lines += [f"    {json.dumps(e)}," for e in excluded]
    lines.append("]")
    path = folder / "cosmic-ray.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cr(*args: str) -> None:
    subprocess.run([str(BIN / args[0]), *args[1:]], cwd=ROOT, check=True)


def _guarded_exec(mod: dict, config: Path, session: Path) -> None:
    """``cosmic-ray exec``; whatever happens, the module's source is as it was before."""
    original = mod["file"].read_bytes()
    try:
        _cr("cosmic-ray", "exec", str(config), str(session))
    finally:
        if mod["file"].read_bytes() != original:
            mod["file"].write_bytes(original)
            print(f"warning: {mod['path']} was left mutated; restored", file=sys.stderr)


def run_module(cfg: dict, name: str, *, fresh: bool = False) -> None:
    mod = _module(cfg, name)
    folder = STATE / name
    folder.mkdir(parents=True, exist_ok=True)
    session = folder / "session.sqlite"
    stamp = folder / "digest"
    digest = _digest(mod)
    if session.exists() and (fresh or not stamp.exists() or stamp.read_text() != digest):
        print(f"{name}: starting over (fresh, or the module or its test selection changed)")
        session.unlink()
    config = _write_config(cfg, name, mod, folder)
    start = time.perf_counter()
    if run_tests(name) != 0:
        raise SystemExit(f"{name}: the tests fail on the unmutated code; fix that first")
    print(f"{name}: baseline passes in {time.perf_counter() - start:.0f} s")
    if not session.exists():
        _cr("cosmic-ray", "init", str(config), str(session))
        _cr("cr-filter-operators", str(session), str(config))
        stamp.write_text(digest)
    _guarded_exec(mod, config, session)
    report(cfg, [name])


def retest(cfg: dict, name: str) -> None:
    """Forget the survivors' results and run them again (after new tests were added)."""
    session = STATE / name / "session.sqlite"
    if not session.exists():
        raise SystemExit(f"{name}: no session yet; run `make mutation MODULE={name}` first")
    mod = _module(cfg, name)
    if (STATE / name / "digest").read_text() != _digest(mod):
        print(f"{name}: the module or its test selection changed; running it whole")
        run_module(cfg, name)
        return
    with sqlite3.connect(session) as db:
        n = db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'").rowcount
    print(f"{name}: running {n} survivor(s) again")
    config = _write_config(cfg, name, mod, STATE / name)
    _guarded_exec(mod, config, session)
    report(cfg, [name])


# --- report -------------------------------------------------------------------------------------


def _norm(line: str) -> str:
    return " ".join(line.split())


def _changed_lines(diff: str) -> tuple[str, str]:
    before = [_norm(x[1:]) for x in diff.splitlines() if x.startswith("-") and x[1:2] != "-"]
    after = [_norm(x[1:]) for x in diff.splitlines() if x.startswith("+") and x[1:2] != "+"]
    return " | ".join(before), " | ".join(after)


def _equivalents() -> list[dict]:
    if not EQUIVALENT.is_file():
        return []
    return tomllib.loads(EQUIVALENT.read_text(encoding="utf-8")).get("equivalent", [])


def _results(session: Path) -> list[dict]:
    with sqlite3.connect(session) as db:
        rows = db.execute(
            "SELECT s.operator_name, s.start_pos_row, s.definition_name, r.worker_outcome, "
            "r.test_outcome, r.output, r.diff FROM mutation_specs s LEFT JOIN work_results r "
            "ON s.job_id = r.job_id"
        ).fetchall()
    keys = ("operator", "line", "function", "worker", "test", "output", "diff")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def score(name: str) -> dict | None:
    session = STATE / name / "session.sqlite"
    if not session.exists():
        return None
    equivalents = [e for e in _equivalents() if e["module"] == name]
    out = {"module": name, "killed": 0, "timeout": 0, "survived": [], "equivalent": [],
           "pending": 0, "skipped": 0, "incompetent": 0}  # fmt: skip
    for r in _results(session):
        if r["worker"] is None:
            out["pending"] += 1
        elif r["worker"] == "SKIPPED":
            out["skipped"] += 1
        elif r["test"] == "KILLED":
            out["killed"] += 1
            out["timeout"] += r["output"] == "timeout"
        elif r["test"] == "SURVIVED":
            before, after = _changed_lines(r["diff"] or "")
            match = [
                e for e in equivalents
                if e["operator"] == r["operator"] and _norm(e["before"]) == before
                and _norm(e["after"]) == after
            ]  # fmt: skip
            r["before"], r["after"] = before, after
            (out["equivalent"] if match else out["survived"]).append(r)
            if match:
                r["reason"] = match[0]["reason"]
        else:
            out["incompetent"] += 1
    out["total"] = out["killed"] + len(out["survived"]) + len(out["equivalent"])
    return out


def report(cfg: dict, names: list[str]) -> None:
    print("| module | mutants | killed | equivalent | unexplained survivors | score | pending |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        s = score(name)
        if s is None:
            print(f"| {name} | (not run) | | | | | |")
            continue
        total = s["total"]
        pct = 100 * s["killed"] / total if total else float("nan")
        print(
            f"| {name} | {total} | {s['killed']} ({s['timeout']} by timeout) | "
            f"{len(s['equivalent'])} | {len(s['survived'])} | {pct:.1f}% | {s['pending']} |"
        )
        lines = [f"# {name}: surviving mutants\n"]
        for title, rows in (("Unexplained", s["survived"]), ("Equivalent", s["equivalent"])):
            lines.append(f"## {title} ({len(rows)})\n")
            for r in sorted(rows, key=lambda r: (r["line"], r["operator"])):
                lines.append(f"- line {r['line']} ({r['function']}), `{r['operator']}`")
                lines.append(f"  - before: `{r['before']}`\n  - after: `{r['after']}`")
                if "reason" in r:
                    lines.append(f"  - why equivalent: {r['reason']}")
            lines.append("")
        (STATE / name / "survivors.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--fresh", action="store_true", help="start the sessions over")
    group.add_argument("--retest", action="store_true", help="run the survivors again")
    group.add_argument("--report", action="store_true", help="print the scores only")
    group.add_argument("--test", action="store_true", help="run one module's tests (per mutant)")
    args = parser.parse_args(argv)
    cfg = _config()
    names = args.modules or list(cfg["modules"])
    if args.test:
        if len(names) != 1:
            parser.error("--test takes one module")
        return run_tests(names[0])
    if args.report:
        report(cfg, names)
        return 0
    for name in names:
        if args.retest:
            retest(cfg, name)
        else:
            run_module(cfg, name, fresh=args.fresh)
    if len(names) > 1:
        report(cfg, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
