"""Runtime of the real-cohort pipeline on ASSISTments 2009 (edstudy.investigations.real_cohort).

Usage::

    .venv/bin/python benchmarks/real_cohort_pipeline.py --profile full   # the report's settings
    .venv/bin/python benchmarks/real_cohort_pipeline.py --profile small  # the CI defaults
    .venv/bin/python benchmarks/real_cohort_pipeline.py --profile full --oulad --generality

Times one run of every step: loading the log, selecting skills and students, fitting the four
BKT-family student models (standard BKT, forgets, individualized BKT, hierarchical Bayesian BKT
by ADVI) and the kt columns (Best-LR and PFA, ``edstudy.kt``), scoring them on held-out students,
the Robust Evaluation Matrix (six strategies x six models; the kt columns' students answer through
the engine's responder hook) and the mastery-threshold analysis (BKT-family models); with
``--oulad`` also the OULAD preference model and its outcome models. Writes
``benchmarks/results_real_cohort_<profile>.json`` (timings, settings, machine, headline) and
``..._<profile>.md`` (the matrix); the notes are in ``benchmarks/results_real_cohort.md``.
Needs the shared data (``../shared/data/real``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

PROFILES = {
    "small": {
        "top_skills": 5,
        "fit_students": 400,
        "n_students": 300,
        "replications": 1,
        "threshold_students": 1000,
        "oulad_students": 300,
        "kt_models": ("best_lr", "pfa"),
    },
    "full": {
        "top_skills": 30,
        "fit_students": None,
        "n_students": 2000,
        "replications": 3,
        "threshold_students": 5000,
        "oulad_students": None,
        "kt_models": ("best_lr", "pfa"),
    },
}


def threshold_summary(thr):
    """Per source, model and threshold: mean over skills of the mean opportunities to reach
    it, mean share reaching it, and the number of skills where nobody reaches it."""
    g = thr.groupby(["source", "model", "threshold"], sort=False)
    out = g.agg(
        mean_opportunities=("mean_opportunities", "mean"),
        share_reached=("share_reached", "mean"),
        skills_never=("share_reached", lambda x: int((x == 0).sum())),
    )
    return out.round(3).reset_index().to_dict(orient="records")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", choices=sorted(PROFILES), default="full")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--oulad", action="store_true", help="also time the OULAD preference part")
    ap.add_argument(
        "--generality",
        action="store_true",
        help="also run small settings on ASSISTments 2017, pyBKT examples, OULAD assessments",
    )
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = ap.parse_args()
    p = PROFILES[args.profile]

    t0 = time.perf_counter()
    from edstudy._format import markdown_table
    from edstudy.datasets import load_log
    from edstudy.investigations import real_cohort as rc

    def settings(profile: dict) -> rc.RealCohortSettings:
        return rc.RealCohortSettings(
            top_skills=profile["top_skills"],
            fit_students=profile["fit_students"],
            kt_models=profile["kt_models"],
            matrix=rc.MatrixSettings(
                n_students=profile["n_students"], replications=profile["replications"]
            ),
            threshold_students=profile["threshold_students"],
        )

    t_import = time.perf_counter() - t0
    t = time.perf_counter()
    log = load_log("assistments2009")
    t_load = time.perf_counter() - t
    res = rc.run_real_cohort_pipeline(log, settings(p), seed=args.seed)
    timings = {"import": t_import, "load": t_load, **res.timings}
    oulad = None
    if args.oulad:
        from edstudy.datasets import load_oulad, load_oulad_outcomes
        from edstudy.investigations import oulad_preferences as pr
        from edstudy.investigations.video_vs_text import video_vs_text_check

        t = time.perf_counter()
        prefs = pr.fit_oulad_preferences(
            load_oulad(verbose=False),
            load_oulad_outcomes(verbose=False),
            n_students=p["oulad_students"],
            seed=args.seed,
        )
        assoc = pr.preference_outcome_models(prefs)
        ab = video_vs_text_check()
        timings["oulad_and_ab"] = time.perf_counter() - t
        oulad = {
            "notes": list(prefs.notes),
            "population": prefs.population.round(4).reset_index().to_dict(orient="records"),
            "spread": prefs.spread.round(4).reset_index().to_dict(orient="records"),
            "associations": assoc.round(4).to_dict(orient="records"),
            "ab_test": ab.table.round(4).to_dict(orient="records"),
        }
    timings["wall_total"] = time.perf_counter() - t0  # ASSISTments 2009 (+ OULAD)
    generality = None
    if args.generality:
        generality = {}
        small = PROFILES["small"]
        for name in ("assistments2017", "pybkt_as", "pybkt_ct", "oulad_assessments"):
            t = time.perf_counter()
            other = rc.run_real_cohort_pipeline(load_log(name), settings(small), seed=args.seed)
            generality[name] = {
                "summary": other.summary(),
                "seconds": round(time.perf_counter() - t, 2),
                "mastery": other.matrix.pivot("posttest_mastery").round(4).to_dict(),
                "ranks": other.matrix.ranks.reset_index().to_dict(orient="records"),
                "reversals": other.matrix.reversals().to_dict(orient="records"),
            }
    sel = res.log.attrs["selection"]
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    out = Path(args.out)
    doc = {
        "profile": args.profile,
        "settings": {**p, "seed": args.seed},
        "selection": sel,
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "machine": machine,
        "scores": res.scores.round(4).reset_index().to_dict(orient="records"),
        "ranks": res.matrix.ranks.reset_index().to_dict(orient="records"),
        "headline": res.headline(),
        "thresholds": threshold_summary(res.thresholds),
        "oulad": oulad,
        "generality": generality,
    }
    (out / f"results_real_cohort_{args.profile}.json").write_text(
        json.dumps(doc, indent=1, default=str)
    )
    thr = rc.threshold_table(res.thresholds, 0.95)
    md = [
        f"# Robust Evaluation Matrix, ASSISTments 2009, profile `{args.profile}`",
        "",
        res.summary(),
        "",
        res.matrix.to_markdown(),
        "",
        "## Opportunities to mastery at 0.95 (simulated; share reaching it)",
        "",
        markdown_table(thr.reset_index()),
        "",
    ]
    (out / f"results_real_cohort_{args.profile}.md").write_text("\n".join(md))
    print("\n".join(md))
    print(json.dumps(doc["timings_s"], indent=1))


if __name__ == "__main__":
    main()
