"""Student models of edstudy.kt on real logs, beside the published knowledge-tracing numbers.

Usage::

    .venv/bin/python benchmarks/kt_benchmark.py                     # all datasets, all models
    .venv/bin/python benchmarks/kt_benchmark.py --datasets assistments2009 --models best_lr,irt
    .venv/bin/python benchmarks/kt_benchmark.py --quick             # the pyBKT examples only

Runs :func:`edstudy.kt.benchmark` (student-level 5-fold cross-validation, the same folds for every
model, seed 0) on ASSISTments 2009 (skill builders, AKT's processing), ASSISTments 2017 (AKT's
processing, "noskill" rows dropped by the loader) and the two pyBKT example files, scores
both levels (every skill row; one prediction per attempt), times one fit of each model on the
whole log, prints the tables beside the published figures (``../shared/PEERS.md``) and writes
``benchmarks/results_kt.md``. Needs the shared data (``../shared/data/real`` beside the checkout or
``$EDSTUDY_SHARED_DATA``); exits with status 77 ("skipped") when it is absent.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EDSTUDY_SHARED_DATA", ROOT.parent / "shared" / "data" / "real"))
SKIP_EXIT = 77

DATASET_LABEL = {
    "assistments2009": "ASSISTments 2009 skill builders (AKT processing)",
    "assistments2017": "ASSISTments 2017 (AKT processing, noskill rows dropped)",
    "pybkt_as": "pyBKT example as.csv (ASSISTments 2009, 2 skills)",
    "pybkt_ct": "pyBKT example ct.csv (Cognitive Tutor, 11 students, timestamps)",
}


def load(name: str):
    from edstudy.datasets import load_assistments2009, load_assistments2017, load_pybkt_example

    if name == "assistments2009":
        return load_assistments2009(SHARED / "assistments2009_skillbuilder", verbose=False)
    if name == "assistments2017":
        return load_assistments2017(SHARED / "assistments2017", verbose=False)
    folder = SHARED / "pybkt_examples"
    if name == "pybkt_as":
        return load_pybkt_example(folder / "as_assistments2009_2skills.csv.gz", verbose=False)
    return load_pybkt_example(
        folder / "ct_cognitive_tutor_algebra_11students.csv.gz", verbose=False
    )


def table_md(df, columns, floats=3) -> str:
    head = "| " + " | ".join(columns) + " |"
    sep = "|" + "|".join("---:" if c not in ("model", "source", "note") else "---" for c in columns)
    lines = [head, sep + "|"]
    for _, row in df.iterrows():
        cells = []
        for c in columns:
            v = row[c]
            if c == "sim_per_s":
                cells.append(f"{v:,.0f}")
            elif c in ("fit_s", "full_fit_s"):
                cells.append(f"{v:.1f}")
            elif isinstance(v, float):
                cells.append(f"{v:.{floats}f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="assistments2009,assistments2017,pybkt_as,pybkt_ct")
    ap.add_argument("--models", default=None, help="comma-separated names (default: all)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="the pyBKT examples only")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results_kt.md"))
    args = ap.parse_args()
    if not SHARED.is_dir():
        print(f"skipped: the shared real datasets are not at {SHARED} (set EDSTUDY_SHARED_DATA)")
        return SKIP_EXIT

    import numpy as np
    import pandas as pd
    import scipy
    import sklearn

    from edstudy.bkt.model import ConvergenceWarning
    from edstudy.kt import DEFAULT_BENCHMARK, MODELS, PUBLISHED, benchmark, make_model

    datasets = ["pybkt_as", "pybkt_ct"] if args.quick else args.datasets.split(",")
    models = args.models.split(",") if args.models else list(DEFAULT_BENCHMARK)
    command = "PYTHONPATH=src .venv/bin/python benchmarks/kt_benchmark.py " + " ".join(
        a for a in sys.argv[1:] if not a.startswith("--out")
    )
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M")
    sections, summary = [], []
    for name in datasets:
        log = load(name)
        n_att = log.groupby(["student_id", "order"]).ngroups
        print(
            f"\n== {DATASET_LABEL[name]}: {len(log):,} rows, {n_att:,} attempts, "
            f"{log['student_id'].nunique():,} students, {log['skill_id'].nunique():,} skills",
            flush=True,
        )
        t = time.perf_counter()
        tab = benchmark(
            log,
            models,
            folds=args.folds,
            seed=args.seed,
            level="both",
            per_fold=True,
            progress=lambda s: print("  " + s, flush=True),
        )
        per_fold = tab[tab["fold"] != "pooled"]
        tab = tab[tab["fold"] == "pooled"].drop(columns="fold").reset_index(drop=True)
        full, sim_rate = {}, {}
        top = log["skill_id"].value_counts().index[:10].to_numpy(dtype=object)
        for m in models:  # one fit on the whole log: "seconds, not minutes"
            est = make_model(m, seed=args.seed)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(log)
            full[m] = time.perf_counter() - t0
            # simulated students answering 50 opportunities on the 10 largest skills
            sim, rng = est.simulator(1000, seed=args.seed), np.random.default_rng(args.seed)
            t0 = time.perf_counter()
            for j in range(50):  # one answer every 10 minutes (for the time windows)
                sim.step(top[rng.integers(0, top.size, 1000)], times=600.0 * j)
            sim_rate[m] = 50_000 / (time.perf_counter() - t0)
        tab["full_fit_s"] = tab["model"].map(full)
        tab["sim_per_s"] = tab["model"].map(sim_rate).round(-2)
        took = time.perf_counter() - t
        cols = ["model", "auc", "rmse", "log_loss", "fit_s", "full_fit_s", "sim_per_s", "n"]
        text = [
            f"### {DATASET_LABEL[name]}",
            "",
            f"{len(log):,} rows, {n_att:,} attempts, {log['student_id'].nunique():,} "
            f"students, {log['skill_id'].nunique():,} skills; benchmark took {took:.0f} s.",
            "",
        ]
        single = n_att == len(log)
        for lev, title in (
            ("attempt", "one prediction per attempt (item level)"),
            ("row", "every skill row (skill level)"),
        ):
            if single and lev == "row":
                text += ["One row per attempt: the row level is the same.", ""]
                continue
            part = tab[tab["level"] == lev].sort_values("auc", ascending=False)
            print(f"-- {title}\n" + part[cols].round(4).to_string(index=False), flush=True)
            text += [f"Scored {title}:", "", table_md(part, cols, 4), ""]
        pub = PUBLISHED[PUBLISHED["dataset"] == name].drop(columns="dataset")
        if len(pub):
            best = tab[tab["level"] == "attempt"].sort_values("auc", ascending=False).iloc[0]
            print("-- published\n" + pub.to_string(index=False), flush=True)
            text += [
                "Published (AUC):",
                "",
                table_md(pub, ["source", "model", "auc", "note"], 3),
                "",
            ]
            pf = per_fold[(per_fold["model"] == best["model"]) & (per_fold["level"] == "attempt")]
            summary.append(
                (name, best["model"], best["auc"], pub, pf["auc"].min(), pf["auc"].max())
            )
        sections.append("\n".join(text))
        tab.insert(0, "dataset", name)

    doc = [
        "# edstudy.kt: knowledge-tracing benchmark on real data",
        "",
        f"Command (from the repository root): `{command.strip()}` "
        f"(started {started}; `--quick` runs only the pyBKT examples).",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, load average "
        f"{load_before[0]:.1f} at the start and {os.getloadavg()[0]:.1f} at the end (the machine "
        "is shared: times are upper bounds). Python "
        f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, scipy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}.",
        "",
        "## Protocol",
        "",
        f"- Student-level {args.folds}-fold cross-validation, seed {args.seed}: every student's "
        "rows in one test fold, the same folds for every model (`edstudy.kt.student_folds`, the "
        "recipe of `BKT.cross_validate`); metrics over all out-of-fold predictions pooled.",
        "- One-step-ahead predictions: a row sees only the student's rows with a smaller `order`;"
        " abilities are inferred online from earlier answers (no fitted ability of a test "
        "student exists). No sequence is cut or dropped; every test row is scored.",
        "- Multi-skill problems: ASSISTments 2009 keeps one row per (attempt, skill), rows of one "
        "attempt sharing one `order` (they never see each other). *Attempt level* scores one "
        "prediction per attempt (the mean of its rows; logistic models give all rows the same): "
        "the item-level AUC of Gervet et al. *Row level* scores every skill row (an attempt "
        "with k skills counts k times). ASSISTments 2017 has one skill per row (levels agree).",
        "- `fit_s`: mean seconds of one fold's fit (80% of the students); `full_fit_s`: one fit "
        "on the whole log; `sim_per_s`: simulated answers per second of that fit "
        "(`model.simulator(1000)`, 50 steps on the 10 largest skills), the speed at which it can "
        "serve as a column of the Robust Evaluation Matrix. Models: "
        + ", ".join(f"`{m}` ({MODELS[m].description})" for m in models)
        + ".",
        "",
        "## How this differs from the published protocols",
        "",
        "- Gervet et al. 2020: one 80/20 student split per run (5 runs), preprocessing of the "
        "original files (ASSISTments 2009 deduplicated by `order_id`, students with < 10 "
        "interactions dropped; ASSISTments 2017 with timestamps, so their Best-LR has time "
        'windows, and the "noskill" tag kept). Here: AKT\'s processed copies (ASSISTments '
        "2009: 4,151 students; ASSISTments 2017: no timestamps, so no time windows, and the "
        "loader drops the 78,035 noskill rows), every student kept, 5 folds.",
        '- pyKT: deep models only, question-level "fused" AUC, 20% of students held out (seed '
        "1024), 5 folds on the rest, sequences shorter than 3 dropped, 200-step windows; its "
        "maintainers note that a skill-level AUC leaks labels when a question's skills are "
        "predicted from each other, which cannot happen here (rows of one attempt share an "
        "order).",
        "- Khajah et al. 2016 and the pyBKT examples' BKT+forgets .83 use an ASSISTments 2009 copy "
        "that repeats a multi-skill problem once per skill as consecutive rows: predicting the "
        "second copy from the first inflates AUC. Not comparable with the numbers here.",
        "",
        "## Results",
        "",
        *sections,
        "## Against the goals",
        "",
    ]
    for name, model, auc, pub, lo, hi in summary:
        ref = {r.model: r.auc for r in pub.itertuples()}
        goal = ref.get("Best-LR") if name == "assistments2009" else ref.get("DKT")
        rel = ">=" if name == "assistments2009" else ">"
        ok = auc >= goal if name == "assistments2009" else auc > goal
        doc.append(
            f"- {DATASET_LABEL[name]}: best interpretable model `{model}`, pooled attempt-level "
            f"AUC {auc:.4f} (folds {lo:.4f} to {hi:.4f}); goal {rel} {goal:.2f} "
            f"({'reached' if ok else 'not reached'}"
            + (", by less than the spread between folds" if ok and auc - goal < hi - lo else "")
            + ")."
        )
    doc += [
        "",
        "The published figures were measured on other preparations of the data (see above), so "
        "these comparisons say where edstudy stands, not that one model beats another on the "
        "same rows. Where the protocols are closest, edstudy's Best-LR lands on the published "
        "Best-LR figures of Gervet et al. (.77 and .71) and PFA within .02 of theirs, which "
        "suggests the comparison is fair; a goal met by less than the fold-to-fold spread is "
        "met only narrowly.",
    ]
    Path(args.out).write_text("\n".join(doc) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
