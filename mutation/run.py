"""Mutation testing of edstudy's core modules with cosmic-ray: ``make mutation [MODULE=name]``.

For each module of ``mutation/config.toml`` this writes a cosmic-ray configuration and a session
under ``.mutation/<module>/``, filters the operators, checks that the selected tests pass on the
unmutated code (the baseline), runs every mutant one at a time, and prints the score. Results are
kept per mutant, so an interrupted run resumes where it stopped; a session whose module source
changed since it was created is started over.

    python mutation/run.py [MODULE ...]          run (or resume) these modules; default: all
    python mutation/run.py --fresh MODULE        start the module's session over
    python mutation/run.py --retest MODULE       run the survivors again (after adding tests);
                                                 mutants a stopped run left pending stay so
    python mutation/run.py --report [MODULE ...] scores, and .mutation/<module>/survivors.md
    python mutation/run.py --max-minutes 30 ...  stop each module's run after 30 minutes
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
import contextlib
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
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


def _env(cache: str) -> dict[str, str]:
    """Environment of one mutant's test run."""
    return {
        "PYTHONPATH": str(ROOT / "src"),
        "NUMBA_CACHE_DIR": cache,  # empty: the (mutated) kernels are compiled, never loaded
        "NUMBA_OPT": "0",
        # an index past an array's end raises IndexError instead of silently reading or writing
        # the memory next to it (a mutated shape would otherwise survive by luck)
        "NUMBA_BOUNDSCHECK": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # nbval, playwright, xdist: seconds per run
        "CI": "1",  # tests/conftest.py: hypothesis draws the same examples every run
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _pytest_here(name: str) -> int:
    """Run the module's tests in this process, refusing an edstudy that is not this checkout's."""
    import importlib.util

    spec = importlib.util.find_spec("edstudy")
    src = (ROOT / "src").resolve()
    if spec is None or src not in Path(spec.origin or "").resolve().parents:
        print(f"edstudy resolves to {spec and spec.origin}, not to {src}: refusing", flush=True)
        return 99
    import pytest

    args = ["-x", "-q", "-p", "no:cacheprovider", *_test_args(_module(_config(), name))]
    return int(pytest.main(args))


# A fork server: one process that has imported the heavy third-party libraries (never edstudy,
# never numba) forks a child per mutant, which imports edstudy from the mutated source and runs
# pytest. It saves the seconds of those imports on every mutant.
HEAVY = ("numpy", "pandas", "scipy.stats", "statsmodels.api", "statsmodels.formula.api",
         "pandera.pandas", "hypothesis", "pytest", "yaml")  # fmt: skip


def _wait(pid: int, conn: socket.socket, timeout: float) -> int:
    """Exit status of the child; kill it when the client goes away or the time is up."""
    end = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        readable, _, _ = select.select([conn], [], [], 0.2)
        gone = bool(readable) and not conn.recv(1)
        if gone or time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return 124


def serve(path: str, name: str, timeout: float) -> None:
    import importlib

    for module in HEAVY:
        importlib.import_module(module)
    assert "edstudy" not in sys.modules and "numba" not in sys.modules
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    running: list[int] = []

    def stop(signum, frame):  # the driver stops the server: stop the mutant's run with it
        for pid in running:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        conn, _ = srv.accept()
        if conn.makefile().readline().strip() == "stop":
            break
        with tempfile.TemporaryDirectory(prefix="edstudy-mutant-") as cache:
            out = Path(cache) / "output.txt"
            pid = os.fork()
            if pid == 0:  # the child: this mutant's test run
                srv.close()
                conn.close()
                os.environ.update(_env(cache))
                os.chdir(ROOT)
                sys.path.insert(0, str(ROOT / "src"))
                sys.dont_write_bytecode = True
                fd = os.open(out, os.O_WRONLY | os.O_CREAT)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                code = 1
                try:
                    code = _pytest_here(name)
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            running[:] = [pid]
            code = _wait(pid, conn, timeout)
            running.clear()
            tail = out.read_text(errors="replace")[-3000:] if out.exists() else ""
            if code == 124:
                tail += f"\nmutation-timeout after {timeout:.0f} s"
        try:
            conn.sendall(f"{code}\n{tail}".encode())
        except OSError:
            pass
        conn.close()


def run_tests(name: str) -> int:
    """One mutant's test run: through the fork server when one is running, else a new process
    (with a fresh numba cache either way)."""
    path = os.environ.get("EDSTUDY_MUTATION_SERVER")
    if path:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.connect(path)
            c.sendall(b"run\n")
            reply = c.makefile(errors="replace").read()
        code, _, output = reply.partition("\n")
        print(output)
        return int(code)
    with tempfile.TemporaryDirectory(prefix="edstudy-mutant-") as cache:
        env = {**os.environ, **_env(cache)}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--pytest", name]
        return subprocess.call(cmd, cwd=ROOT, env=env)


@contextlib.contextmanager
def _server(name: str, timeout: float):
    """A fork server for the module's runs, named in EDSTUDY_MUTATION_SERVER meanwhile."""
    folder = tempfile.mkdtemp(prefix="edstudy-mut-")
    path = os.path.join(folder, "socket")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", path, "--timeout",
           str(timeout), name]  # fmt: skip
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **threads})  # fork-safe BLAS
    try:
        while not os.path.exists(path):
            if proc.poll() is not None:
                raise SystemExit("the mutation test server did not start")
            time.sleep(0.2)
        os.environ["EDSTUDY_MUTATION_SERVER"] = path
        yield
    finally:
        os.environ.pop("EDSTUDY_MUTATION_SERVER", None)
        proc.terminate()
        proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _digest(cfg: dict, mod: dict) -> str:
    """What a session's mutants and results depend on: the source, the tests chosen, the
    operators (changing a test file's content keeps the session: --retest reruns survivors)."""
    h = hashlib.sha256(mod["file"].read_bytes())
    h.update(json.dumps([mod["tests"], mod.get("timeout"), cfg["operators"]["keep"]]).encode())
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
    base["timeout"] = _timeout(mod) + 30.0  # the fork server stops a run at the module's limit
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


def _guarded_exec(mod: dict, config: Path, session: Path, minutes: float | None) -> None:
    """``cosmic-ray exec``, stopped (by SIGINT, so that cosmic-ray writes the original source
    back) after ``minutes``; whatever happens, the module's source is as it was before."""
    original = mod["file"].read_bytes()
    proc = subprocess.Popen([str(BIN / "cosmic-ray"), "exec", str(config), str(session)], cwd=ROOT)
    try:
        proc.wait(timeout=None if minutes is None else 60 * minutes)
    except subprocess.TimeoutExpired:
        print(f"{mod['path']}: time budget of {minutes:g} min used; stopping (resume later)")
        proc.send_signal(signal.SIGINT)
        proc.wait()
    except BaseException:
        proc.send_signal(signal.SIGINT)
        proc.wait()
        raise
    finally:
        if mod["file"].read_bytes() != original:
            mod["file"].write_bytes(original)
            print(f"warning: {mod['path']} was left mutated; restored", file=sys.stderr)


def run_module(cfg: dict, name: str, *, fresh: bool = False, minutes: float | None = None) -> None:
    mod = _module(cfg, name)
    folder = STATE / name
    folder.mkdir(parents=True, exist_ok=True)
    session = folder / "session.sqlite"
    stamp = folder / "digest"
    digest = _digest(cfg, mod)
    if session.exists() and (fresh or not stamp.exists() or stamp.read_text() != digest):
        print(f"{name}: starting over (fresh, or the module or its test selection changed)")
        session.unlink()
    config = _write_config(cfg, name, mod, folder)
    if not session.exists():
        _cr("cosmic-ray", "init", str(config), str(session))
        _cr("cr-filter-operators", str(session), str(config))
        stamp.write_text(digest)
    with _server(name, _timeout(mod)):
        _baseline(name)
        _guarded_exec(mod, config, session, minutes)
    report(cfg, [name])


def _timeout(mod: dict) -> float:
    return float(mod.get("timeout", 120))


def _baseline(name: str) -> None:
    start = time.perf_counter()
    if run_tests(name) != 0:
        raise SystemExit(f"{name}: the tests fail on the unmutated code; fix that first")
    print(f"{name}: the tests pass on the unmutated code in {time.perf_counter() - start:.0f} s")


_PARKED = "parked while the survivors run again"


def retest(cfg: dict, name: str, minutes: float | None = None) -> None:
    """Forget the survivors' results and run them again (after new tests were added)."""
    session = STATE / name / "session.sqlite"
    if not session.exists():
        raise SystemExit(f"{name}: no session yet; run `make mutation MODULE={name}` first")
    mod = _module(cfg, name)
    if (STATE / name / "digest").read_text() != _digest(cfg, mod):
        print(f"{name}: the module or its test selection changed; running it whole")
        run_module(cfg, name, minutes=minutes)
        return
    with sqlite3.connect(session) as db:
        # Mutants not run yet (a stopped run) are parked while the survivors run again, so that
        # a sampled module's sample stays the same mutants; they are pending again afterwards.
        db.execute(
            "INSERT INTO work_results (job_id, worker_outcome, output) "
            "SELECT job_id, 'SKIPPED', ? FROM work_items "
            "WHERE job_id NOT IN (SELECT job_id FROM work_results)",
            (_PARKED,),
        )
        n = db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'").rowcount
    print(f"{name}: running {n} survivor(s) again")
    config = _write_config(cfg, name, mod, STATE / name)
    try:
        with _server(name, _timeout(mod)):
            _baseline(name)
            _guarded_exec(mod, config, session, minutes)
    finally:
        with sqlite3.connect(session) as db:
            db.execute("DELETE FROM work_results WHERE output = ?", (_PARKED,))
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
            out["timeout"] += "timeout" in (r["output"] or "")[-80:]
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
    print(
        "| module | mutants | killed | equivalent | unexplained survivors | killed / mutants "
        "| killed / non-equivalent | pending |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        s = score(name)
        if s is None:
            print(f"| {name} | (not run) | | | | | | |")
            continue
        total, killed = s["total"], s["killed"]
        pct = 100 * killed / total if total else float("nan")
        real = total - len(s["equivalent"])
        pct_real = 100 * killed / real if real else float("nan")
        print(
            f"| {name} | {total} | {killed} ({s['timeout']} by timeout) | "
            f"{len(s['equivalent'])} | {len(s['survived'])} | {pct:.1f}% | {pct_real:.1f}% | "
            f"{s['pending']} |"
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
    group.add_argument("--pytest", action="store_true", help=argparse.SUPPRESS)
    group.add_argument("--serve", metavar="SOCKET", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=120.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--max-minutes", type=float, help="stop each module's run after this long (it resumes)"
    )
    args = parser.parse_args(argv)
    cfg = _config()
    names = args.modules or list(cfg["modules"])
    if args.test or args.pytest or args.serve:
        if len(names) != 1:
            parser.error("--test takes one module")
        if args.serve:
            serve(args.serve, names[0], args.timeout)
            return 0
        return _pytest_here(names[0]) if args.pytest else run_tests(names[0])
    if args.report:
        report(cfg, names)
        return 0
    for name in names:
        if args.retest:
            retest(cfg, name, args.max_minutes)
        else:
            run_module(cfg, name, fresh=args.fresh, minutes=args.max_minutes)
    if len(names) > 1:
        report(cfg, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
