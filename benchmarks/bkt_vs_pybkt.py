"""Fit time and final log-likelihood of edstudy's BKT next to pyBKT, in one run.

Same data, same model (standard BKT, free guess/slip as in pyBKT: ``max_guess=max_slip=1``),
same number of restarts (pyBKT ``num_fits``), both timed from a DataFrame in memory to fitted
parameters (edstudy's time includes validating the log and building the sequences; pyBKT's
includes its own data conversion). The log-likelihood of both fits is computed by the same code
(edstudy's forward pass with each library's fitted parameters), so a faster fit cannot hide a
worse optimum.

Stopping rules: pyBKT stops a skill when an iteration changes its log-likelihood by less than
1e-3 (C++ build; but it compares log-likelihoods truncated to integers, so in effect by less than
about 1) or 0.005 (pure-Python build); edstudy stops a skill when an iteration gains less than
``tol`` per scored answer. The table shows edstudy at its default ``tol=1e-6`` (0.04 for a
40,000-row skill: stricter than the C++ build's effective rule) and at ``tol = pyBKT's absolute
tolerance / rows of the largest skill`` ("same tol": at least as strict as pyBKT's nominal rule on
every skill). Timings are medians of ``--repeat`` runs after a warm-up (numba's compiled kernels
are cached on disk; the first call of a fresh process loads them, reported separately).

Sizes: synthetic logs of 200k and 1M rows (5 skills x 20 opportunities per student, the layout of
the peers' pyBKT timings), ASSISTments 2009 skill builders (325,637 rows, 110 skills), the
pure-Python pyBKT at 200k rows only (about 30 s per restart), and a 9M-row edstudy fit (the size
of KDD Cup 2010 Algebra) with its time split into validation, sequencing and EM.

Run from the repository root: ``.venv/bin/python benchmarks/bkt_vs_pybkt.py [--quick]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bkt_common as C  # noqa: E402

from edstudy.bkt import BKT, ConvergenceWarning  # noqa: E402

SAME_MODEL = {"max_guess": 1.0, "max_slip": 1.0}


def same_tol(log, absolute: float) -> float:
    """edstudy's per-answer tol at least as strict as an absolute per-skill tolerance."""
    return absolute / int(log["skill_id"].value_counts().max())


def edstudy_fit(log, restarts, repeat, forgets=False, tol=1e-6):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return BKT(restarts=restarts, forgets=forgets, seed=0, tol=tol, **SAME_MODEL).fit(log)

    return C.timed(run, repeat)


def pybkt_fit(kind, log, restarts, repeat, forgets=False):
    frame, names = C.to_pybkt_frame(log)
    out = C.run_pybkt(
        kind,
        {"task": "fit", "forgets": forgets, "num_fits": restarts, "seed": 0, "repeat": repeat},
        frame,
    )
    params = C.pybkt_params_frame(out["coef"], names)
    ll = BKT.from_params(params, **SAME_MODEL).score(log, "log_likelihood")["log_likelihood"]
    return float(np.median(out["times"])), float(np.median(out["cpu"])), ll


def cold_start_seconds() -> float:
    """Import edstudy.bkt and fit a tiny log in a fresh process (loads the cached kernels)."""
    code = (
        "import time; t=time.perf_counter(); from edstudy.bkt import BKT, BKTParams, SkillParams;"
        "p=BKTParams.from_skills({'a': SkillParams(.3,.1,.2,.1)});"
        "log=BKT.from_params(p).sample(50, 10, seed=0); m=BKT(restarts=2).fit(log);"
        "m.predict_proba(log); print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def nine_million(seed: int = 0) -> dict:
    from edstudy.bkt._design import design_fit
    from edstudy.schema import validate_log

    log, _ = C.synthetic_log(9_000_000, seed=seed)
    t0, c0 = time.perf_counter(), time.process_time()
    model = BKT(seed=0).fit(log)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    v = validate_log(log)
    t_valid = time.perf_counter() - t0
    t0 = time.perf_counter()
    design_fit(v, item_guess_slip=False, activity_learn=False, students=False)
    t_seq = time.perf_counter() - t0
    return {
        "rows": len(log),
        "fit_s": total,
        "fit_cpu_s": cpu,
        "validate_s": t_valid,
        "sequences_s": t_seq,
        "em_s": total - t_valid - t_seq,
        "iterations": model.n_iter_,
        "restarts": model.restarts,
        "log_likelihood": model.log_likelihood_,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--restarts", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip the pure-Python run and the 9M fit")
    args = ap.parse_args(argv)
    cpp = C.ensure_pybkt("cpp")
    py = None if args.quick else C.ensure_pybkt("python")
    print(f"pyBKT builds: .venv-pybkt {cpp!r}; .venv-pybkt-py {py!r}")
    cold = cold_start_seconds()
    BKT(restarts=1).fit(C.synthetic_log(2000)[0])  # load the kernels in this process
    BKT(restarts=2).fit(C.synthetic_log(200_000)[0])
    datasets = [
        ("synthetic 200k", C.synthetic_log(200_000, seed=1)[0]),
        ("synthetic 1M", C.synthetic_log(1_000_000, seed=2)[0]),
    ]
    try:
        real = C.load_assistments2009()[["student_id", "skill_id", "order", "correct"]]
        datasets.append(("ASSISTments 2009", real))
    except Exception as err:  # the loader's DataNotFoundError or a missing file
        print(f"ASSISTments 2009 skipped: {err}")
    rows = []

    def add(name, log, build, restarts, tol_label, ed, py):
        (t_ed, c_ed, model), (t_py, c_py, ll_py) = ed, py
        rows.append(
            {
                "data": name,
                "rows": len(log),
                "pyBKT": build,
                "restarts": restarts,
                "edstudy tol": tol_label,
                "edstudy_s": t_ed,
                "pybkt_s": t_py,
                "speedup": t_py / t_ed,
                "edstudy_cpu_s": c_ed,
                "pybkt_cpu_s": c_py,
                "cpu_ratio": c_py / c_ed,
                "edstudy_ll": model.log_likelihood_,
                "pybkt_ll": ll_py,
                "ll_gain": model.log_likelihood_ - ll_py,
                "iter": model.n_iter_,
            }
        )
        print(rows[-1], flush=True)

    for name, log in datasets:
        py = pybkt_fit("cpp", log, args.restarts, args.repeat)
        add(
            name,
            log,
            "C++",
            args.restarts,
            "1e-6 (default)",
            edstudy_fit(log, args.restarts, args.repeat),
            py,
        )
        tol = same_tol(log, 1e-3)
        add(
            name,
            log,
            "C++",
            args.restarts,
            f"{tol:.1e} (same tol)",
            edstudy_fit(log, args.restarts, args.repeat, tol=tol),
            py,
        )
    if not args.quick:
        name, log = datasets[0]
        py = pybkt_fit("python", log, 1, 1)
        tol = same_tol(log, 0.005)
        add(
            name,
            log,
            "pure Python",
            1,
            f"{tol:.1e} (same tol)",
            edstudy_fit(log, 1, args.repeat, tol=tol),
            py,
        )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print()
        print(table.to_string(index=False, float_format=lambda x: f"{x:,.3f}"))
    print(f"\nfirst fit in a fresh process (import + kernel load + tiny fit): {cold:.2f} s")
    if not args.quick:
        nm = nine_million()
        print(
            f"9M rows ({nm['restarts']} restarts, {nm['iterations']} EM iterations): fit "
            f"{nm['fit_s']:.2f} s = validate_log {nm['validate_s']:.2f} s + sequences "
            f"{nm['sequences_s']:.2f} s + EM {nm['em_s']:.2f} s; CPU {nm['fit_cpu_s']:.2f} s"
        )
    return table


if __name__ == "__main__":
    main()
