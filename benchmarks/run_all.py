"""Run every benchmark script in this folder, one after another, and print their output.

``make bench`` calls this after the slow tests. Each script prints its own table, with ratios
against a peer measured in the same run where one exists; copy the numbers into README.md here.
A script that needs something missing (pyBKT's virtual environment, ../shared/data) says so and is
reported as skipped, not failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP_EXIT = 77  # scripts exit with this when a prerequisite is missing
BENCHMARKS = (
    "bkt_vs_pybkt.py",
    "bkt_accuracy_vs_pybkt.py",
    "kt_benchmark.py",
    "sim_speed.py",
    "dask_big_study.py",
    "bayes_speed.py",
    "real_cohort_pipeline.py",
)


def main() -> int:
    scripts = [HERE / name for name in BENCHMARKS]
    missing = [p.name for p in scripts if not p.is_file()]
    if missing:
        print(f"benchmark scripts listed but missing: {', '.join(missing)}")
        return 1
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        took = time.perf_counter() - start
        status = {0: "ok", SKIP_EXIT: "skipped"}.get(code, f"FAILED (exit {code})")
        print(f"--- {script.name}: {status} in {took:.0f} s", flush=True)
        if status.startswith("FAILED"):
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
