"""Big studies: 1,000,000 students x 10 skills on a 2-worker Dask LocalCluster vs the local run.

Usage::

    .venv/bin/python benchmarks/dask_big_study.py [--students 1000000] [--workers 2]
        [--chunk-size 20000] [--modes local-memory,local-disk,dask-disk]

The study: the default 10-skill curriculum and population, two arms (``individualized`` and
``one_size``) randomized by class (classes of 25), one replication, 240-minute budget. Modes:

``local-memory``
    ``run_study(study)`` in one process, the classic way: every chunk's outcomes and log are
    concatenated in memory (what a client holds when it gathers the log).
``local-disk``
    ``run_study(study, out_dir=...)`` in one process: each chunk is written as Parquet parts,
    only its statistics are kept.
``dask-disk``
    The same on a ``distributed.LocalCluster(n_workers, threads_per_worker=1, processes=True)``:
    workers simulate the chunks and write the parts, the client merges statistics.
``dask-memory`` (not run by default)
    The Dask run gathering every log into the client, as the runner did before chunking.

Each mode runs in a fresh subprocess, so its **peak client memory** is the peak resident set
size of that process alone (``resource.getrusage(RUSAGE_SELF).ru_maxrss``: kernel-tracked, so it
sees numpy, pandas and pyarrow buffers alike, which ``tracemalloc`` would not, and costs nothing
while running). With Dask the client process also hosts the LocalCluster's scheduler; the
workers are separate processes, and their own peaks are read with ``client.run`` at the end.
Wall time is the whole ``run_study`` call (cluster start-up excluded, reported apart). The script
checks that every mode gives the same summary, bit for bit, and prints a Markdown table for
``benchmarks/results_dask.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = ("local-memory", "local-disk", "dask-disk", "dask-memory")


def _study(n_students: int):
    from edstudy.experiment import Arm, Study
    from edstudy.sim import Budget, PopulationSpec, builtin_strategy, default_curriculum

    return Study(
        arms=(
            Arm.of(builtin_strategy("individualized"), name="individualized"),
            Arm.of(builtin_strategy("one_size"), name="one_size"),
        ),
        curriculum=default_curriculum(),
        population=PopulationSpec(),
        n_students=n_students,
        randomization="class",
        budget=Budget(),
        seed=20240917,
        name="big",
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def one(mode: str, n_students: int, workers: int, chunk_size: int, out: Path) -> dict:
    """Run one mode in this process and return its figures."""
    from edstudy.experiment import run_study
    from edstudy.sim import default_curriculum, draw_cohort
    from edstudy.sim.population import PopulationSpec

    study = _study(n_students)
    draw_cohort(PopulationSpec(), default_curriculum(), 10, seed=0)  # load the numba kernels
    figures: dict = {"mode": mode, "students": n_students, "chunk_size": chunk_size}
    baseline = _peak_mb()
    if mode.startswith("dask"):
        from dask.distributed import Client, LocalCluster

        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
        figures["cluster_start_s"] = time.perf_counter() - t0
        figures["workers"] = workers
    else:
        client = None
    t0 = time.perf_counter()
    if mode.endswith("disk"):
        result = run_study(study, client=client, chunk_size=chunk_size, out_dir=out, progress=False)
        figures["log_rows"] = None
        figures["parquet_mb"] = _du(out) / 2**20
    else:
        result = run_study(study, client=client, chunk_size=chunk_size, progress=False)
        figures["log_rows"] = len(result.log)
    summary = result.summary()
    figures["wall_s"] = time.perf_counter() - t0
    figures["peak_client_mb"] = _peak_mb()
    figures["client_before_run_mb"] = baseline
    if client is not None:
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
        figures["peak_worker_mb"] = max(peaks.values())
        client.close()
        cluster.close()
    if mode.endswith("disk"):
        parts = list((out / "log.parquet").glob("part-*.parquet"))
        figures["tasks"] = len(parts)
        import pyarrow.parquet as pq

        figures["log_rows"] = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
    exact = summary.astype({"scenario": str, "arm": str}).to_numpy().tolist()
    figures["summary"] = hashlib.sha256(repr(exact).encode()).hexdigest()  # repr: every bit
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=20_000)
    ap.add_argument("--modes", default="local-memory,local-disk,dask-disk")
    ap.add_argument("--one", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.one:
        res = one(args.one, args.students, args.workers, args.chunk_size, args.out)
        print("RESULT " + json.dumps(res))
        return

    import importlib.util

    import numpy as np

    missing = [m for m in ("distributed", "pyarrow") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"skipped: needs {', '.join(missing)} (pip install 'edstudy[dask]')")
        sys.exit(77)
    print(
        f"{args.students:,} students x 10 skills, 2 arms, chunk {args.chunk_size:,}, "
        f"{os.cpu_count()} cores, {platform.machine()}, numpy {np.__version__}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    rows = []
    for mode in args.modes.split(","):
        tmp = Path(tempfile.mkdtemp(prefix="edstudy-big-"))
        try:
            cmd = [
                sys.executable,
                __file__,
                "--one",
                mode,
                "--students",
                str(args.students),
                "--workers",
                str(args.workers),
                "--chunk-size",
                str(args.chunk_size),
                "--out",
                str(tmp / "result"),
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if proc.returncode != 0 or not line:
                print(f"{mode}: failed (exit {proc.returncode})\n{proc.stderr[-3000:]}")
                continue
            res = json.loads(line[0][len("RESULT ") :])
            rows.append(res)
            print(
                f"{mode:13s} {res['wall_s']:8.1f} s  peak client {res['peak_client_mb']:8.0f} MB"
                + (f"  peak worker {res['peak_worker_mb']:6.0f} MB" if "workers" in res else "")
                + f"  log rows {res['log_rows']:,}",
                flush=True,
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if len({r["summary"] for r in rows}) == 1:
        print(f"summaries of all {len(rows)} modes are identical, bit for bit")
    elif rows:
        print("SUMMARIES DIFFER between modes")
    print()
    print(
        "| mode | wall time | peak client memory (RSS) | peak worker memory | log rows | Parquet |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        worker = f"{r['peak_worker_mb']:,.0f} MB" if "peak_worker_mb" in r else "–"
        parquet = f"{r['parquet_mb']:,.0f} MB" if "parquet_mb" in r else "–"
        start = f" (+{r['cluster_start_s']:.1f} s cluster start)" if "cluster_start_s" in r else ""
        print(
            f"| {r['mode']} | {r['wall_s']:.1f} s{start} | {r['peak_client_mb']:,.0f} MB | "
            f"{worker} | {r['log_rows']:,} | {parquet} |"
        )


if __name__ == "__main__":
    main()
