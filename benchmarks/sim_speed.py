"""Speed of the simulator: a 100,000-student, 10-skill study of one arm.

Usage::

    .venv/bin/python benchmarks/sim_speed.py [--students N] [--repeats 3] [--arm individualized]

Reports, for each timing, the median of ``--repeats`` runs after one warm-up run (which also
compiles the numba kernels): drawing the cohort, ``simulate`` without and with schema validation,
and the whole one-arm ``Study.run`` (cohort, assignment, simulation, validation, tidy tables).
A *student-step* is one practice opportunity of one student, i.e. one row of the response log.
Numbers go into benchmarks/results_sim.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from edstudy.experiment import Arm, Study, run_study
from edstudy.sim import (
    Budget,
    PopulationSpec,
    builtin_strategy,
    default_curriculum,
    draw_cohort,
    simulate,
)


def timed(fn, repeats):
    fn()  # warm-up (numba compilation, caches)
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--arm", default="individualized")
    args = ap.parse_args()

    cur = default_curriculum()
    spec = PopulationSpec()
    strategy = builtin_strategy(args.arm)
    n = args.students
    print(
        f"{n:,} students x {len(cur.skills)} skills, arm {args.arm!r}, "
        f"{os.cpu_count()} cores, {platform.machine()}, numpy {np.__version__}"
    )

    t_draw, cohort = timed(lambda: draw_cohort(spec, cur, n, seed=1), args.repeats)
    t_sim, (log, _) = timed(
        lambda: simulate(cohort, cur, strategy, seed=2, validate=False, progress=False),
        args.repeats,
    )
    rows = len(log)
    t_val, _ = timed(
        lambda: simulate(cohort, cur, strategy, seed=2, validate=True, progress=False), args.repeats
    )
    study = Study(
        arms=(Arm.of(strategy, name=args.arm),),
        curriculum=cur,
        population=spec,
        n_students=n,
        randomization="student",
        budget=Budget(),
        seed=1,
    )
    t_study, res = timed(lambda: run_study(study, progress=False), args.repeats)

    print(f"log rows (student-steps): {rows:,}  ({rows / n:.1f} per student)")
    print(f"draw_cohort               {t_draw:6.2f} s")
    print(f"simulate, no validation   {t_sim:6.2f} s  {rows / t_sim:12,.0f} student-steps/s")
    print(f"simulate, validated       {t_val:6.2f} s  {rows / t_val:12,.0f} student-steps/s")
    print(
        f"Study.run (one arm)       {t_study:6.2f} s  "
        f"{len(res.log) / t_study:12,.0f} student-steps/s"
    )


if __name__ == "__main__":
    main()
