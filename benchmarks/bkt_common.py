"""Shared helpers of the BKT benchmarks: data, pyBKT virtual environments, the pyBKT subprocess.

pyBKT is not a dependency of edstudy. It runs in its own virtual environments, called in a
subprocess (``benchmarks/pybkt_worker.py``):

* ``.venv-pybkt``     the C++ build: ``numpy setuptools wheel "scikit-learn<1.8" pandas`` then
                      ``pip install --no-binary pyBKT --no-build-isolation pyBKT``
* ``.venv-pybkt-py``  the pure-Python fallback: ``numpy==2.3.5 scikit-learn==1.7.2 pandas pyBKT``

:func:`ensure_pybkt` creates them when missing (needs network access to the package index) and
checks which build each one runs (``pyBKT.version`` ends in ``(Python/C++)`` or ``(Python)``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EDSTUDY_SHARED_DATA", ROOT.parent / "shared" / "data" / "real"))
WORKER = Path(__file__).with_name("pybkt_worker.py")
SKIP_EXIT = 77  # benchmarks/run_all.py reports this exit status as "skipped"

VENVS = {
    "cpp": (
        ROOT / ".venv-pybkt",
        [
            ["numpy", "setuptools", "wheel", "scikit-learn<1.8", "pandas"],
            ["--no-binary", "pyBKT", "--no-build-isolation", "pyBKT"],
        ],
        "(Python/C++)",
    ),
    "python": (
        ROOT / ".venv-pybkt-py",
        [["numpy==2.3.5", "scikit-learn==1.7.2", "pandas", "setuptools", "wheel"], ["pyBKT"]],
        "(Python)",
    ),
}


def venv_python(kind: str) -> Path:
    return VENVS[kind][0] / "bin" / "python"


def pybkt_version(kind: str) -> str | None:
    py = venv_python(kind)
    if not py.exists():
        return None
    out = subprocess.run(
        [str(py), "-c", "import pyBKT; print(pyBKT.version)"], capture_output=True, text=True
    )
    return out.stdout.strip() if out.returncode == 0 else None


def ensure_pybkt(kind: str) -> str:
    """Create the pyBKT venv ``kind`` ("cpp" or "python") if needed; return ``pyBKT.version``."""
    path, steps, suffix = VENVS[kind]
    version = pybkt_version(kind)
    if version is None:
        print(f"creating {path} (pyBKT {kind} build) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        (path / ".gitignore").write_text("*\n")
        pip = [str(path / "bin" / "python"), "-m", "pip", "install", "-q"]
        try:
            for step in steps:
                subprocess.run(pip + step, check=True)
        except subprocess.CalledProcessError:
            print(
                f"could not install pyBKT into {path}; create it by hand:\n"
                f"  python3 -m venv {path}\n"
                + "".join(
                    f"  {path}/bin/pip install {' '.join(repr(s) for s in step)}\n"
                    for step in steps
                ),
                file=sys.stderr,
            )
            raise SystemExit(SKIP_EXIT) from None
        version = pybkt_version(kind)
    if version is None or not version.endswith(suffix):
        print(
            f"{path} runs pyBKT {version!r}, expected the {suffix} build; delete it and rerun",
            file=sys.stderr,
        )
        raise SystemExit(SKIP_EXIT)
    return version


# ---------------------------------------------------------------------------------- data
def load_assistments2009() -> pd.DataFrame:
    """ASSISTments 2009 skill builders as a response log (edstudy's loader when present)."""
    try:
        from edstudy.datasets import load_assistments2009 as load

        return load(verbose=False)
    except ImportError:
        pass
    path = SHARED / "assistments2009_skillbuilder" / "interactions.csv.gz"
    if not path.exists():
        raise FileNotFoundError(f"ASSISTments 2009 not found at {path}")
    raw = pd.read_csv(path)
    log = pd.DataFrame(
        {
            "student_id": raw["user_id"],
            "skill_id": raw["skill_name"],
            "order": raw["seq_idx"],
            "correct": raw["correct"],
            "item_id": raw["problem_id"],
        }
    )
    return log.drop_duplicates(["student_id", "skill_id", "order"], keep="first").reset_index(
        drop=True
    )


def synthetic_log(n_rows: int, seed: int = 0, n_skills: int = 5, n_opportunities: int = 20):
    """Standard-model log of about ``n_rows`` rows: ``n_skills`` skills x ``n_opportunities``
    opportunities per student (the layout of the peers' pyBKT timings); returns (log, truth)."""
    from edstudy.bkt import BKT, BKTParams, SkillParams

    rng = np.random.default_rng(seed)
    truth = BKTParams.from_skills(
        {
            f"skill{k}": SkillParams(
                prior=rng.uniform(0.1, 0.6),
                learn=rng.uniform(0.05, 0.3),
                guess=rng.uniform(0.1, 0.3),
                slip=rng.uniform(0.05, 0.15),
            )
            for k in range(n_skills)
        }
    )
    n_students = max(1, n_rows // (n_skills * n_opportunities))
    log = BKT.from_params(truth).sample(n_students, n_opportunities, seed=seed + 1)
    return log, truth


def to_pybkt_frame(log: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The log in pyBKT's columns. Skill names become ``k0, k1, ...`` because pyBKT matches
    skill names as regular expressions; ``order_id`` is the row's rank in (student, order)."""
    codes, skills = pd.factorize(log["skill_id"], sort=True)
    st_codes, _ = pd.factorize(log["student_id"], sort=True)
    rank = np.lexsort((codes, log["order"].to_numpy(), st_codes))
    order_id = np.empty(len(log), dtype=np.int64)
    order_id[rank] = np.arange(len(log))
    df = pd.DataFrame(
        {
            "row": np.arange(len(log)),
            "user_id": st_codes,
            "skill_name": np.array([f"k{c}" for c in range(len(skills))], dtype=object)[codes],
            "correct": log["correct"].to_numpy(dtype=np.int64),
            "order_id": order_id + 1,
        }
    )
    return df, {f"k{c}": s for c, s in enumerate(skills)}


def run_pybkt(kind: str, task: dict, frame: pd.DataFrame, timeout: float = 3600) -> dict:
    """Run ``task`` in the pyBKT venv ``kind`` on ``frame``; return the worker's JSON answer."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.csv"
        frame.to_csv(data, index=False)
        task = {**task, "data": str(data), "out": str(Path(tmp) / "out.json")}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        proc = subprocess.run(
            [str(venv_python(kind)), str(WORKER), json.dumps(task)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"pyBKT worker failed:\n{proc.stderr[-3000:]}")
        return json.loads(Path(task["out"]).read_text())


def pybkt_params_frame(coef: dict, names: dict) -> pd.DataFrame:
    """pyBKT's ``coef_`` (per skill: prior, learns, forgets, guesses, slips) as edstudy's tidy
    parameter table, for evaluating its fit with edstudy's forward pass."""
    rows = []
    for k, c in coef.items():
        skill = names[k]
        rows += [
            (skill, "prior", "all", c["prior"]),
            (skill, "learn", "all", c["learns"][0]),
            (skill, "forget", "all", c["forgets"][0]),
            (skill, "guess", "all", c["guesses"][0]),
            (skill, "slip", "all", c["slips"][0]),
        ]
    return pd.DataFrame(rows, columns=["skill", "parameter", "class", "value"])


def cpu_seconds() -> float:
    """CPU seconds of this process, all threads."""
    return time.process_time()


def timed(fn, repeat: int = 3):
    """(median wall seconds, median CPU seconds, last result) of ``repeat`` calls."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(times)), float(np.median(cpu)), result
