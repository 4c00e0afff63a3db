"""Cross-validated accuracy of edstudy's BKT next to pyBKT (C++ build) on ASSISTments 2009.

Protocol: 5-fold cross-validation with students held out (the same folds for both libraries:
students sorted, shuffled with ``--seed``, dealt round-robin into folds). Each library fits on the
training students and predicts every held-out row one step ahead; rows of skills absent from a
training fold are left out for both (pyBKT cannot predict them). Metrics are computed by the same
code (``edstudy.bkt.metrics``) on the pooled out-of-fold predictions, and averaged per fold.
Variants: the standard model and the forgets model, 5 restarts each (pyBKT ``num_fits=5``).

edstudy runs twice: with its defaults (guess, slip <= 0.5) and with free guess/slip
(``max_guess=max_slip=1``, pyBKT's model). The published reference is Khajah, Lindsey & Mozer
(2016), "How deep is knowledge tracing?", EDM: BKT .73 and BKT+forgets .83 AUC on ASSISTments 2009.

Run from the repository root: ``.venv/bin/python benchmarks/bkt_accuracy_vs_pybkt.py``
(creates ``.venv-pybkt`` with pyBKT's C++ build when missing).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bkt_common as C  # noqa: E402

from edstudy.bkt import BKT, ConvergenceWarning  # noqa: E402
from edstudy.bkt import metrics as M  # noqa: E402

PUBLISHED = {"standard": 0.73, "forgets": 0.83}  # Khajah et al. 2016, AUC


def folds_by_student(log: pd.DataFrame, k: int, seed: int) -> np.ndarray:
    codes, uniques = pd.factorize(log["student_id"], sort=True)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(uniques), dtype=np.int64)
    fold_of[rng.permutation(len(uniques))] = np.arange(len(uniques)) % k
    return fold_of[codes]


def edstudy_cv(log, fold, k, **options):
    pred = np.full(len(log), np.nan)
    times = []
    for f in range(k):
        train, test = fold != f, fold == f
        model = BKT(restarts=5, seed=0, **options)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(log[train])
        times.append(time.perf_counter() - t0)
        keep = test & log["skill_id"].isin(model.skills_).to_numpy()
        pred[keep] = model.predict_proba(log[keep])
    return pred, times


def pybkt_cv(log, fold, k, forgets, seed):
    frame, _ = C.to_pybkt_frame(log)
    frame["fold"] = fold
    out = C.run_pybkt(
        "cpp", {"task": "cv", "folds": k, "forgets": forgets, "num_fits": 5, "seed": seed}, frame
    )
    pred = np.full(len(log), np.nan)
    pred[np.asarray(out["row"], dtype=np.int64)] = out["p"]
    return pred, out["times"], out["version"]


def summarize(y, pred, fold, k):
    ok = ~np.isnan(pred)
    pooled = M.compute(y[ok], pred[ok], ("auc", "rmse", "log_loss", "accuracy"))
    per = [
        M.compute(y[ok & (fold == f)], pred[ok & (fold == f)], ("auc", "rmse")) for f in range(k)
    ]
    pooled["auc_fold_mean"] = float(np.mean([p["auc"] for p in per]))
    pooled["rmse_fold_mean"] = float(np.mean([p["rmse"] for p in per]))
    pooled["n_rows"] = int(ok.sum())
    return pooled


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-pybkt", action="store_true")
    args = ap.parse_args(argv)
    try:
        log = C.load_assistments2009()
    except Exception as err:  # the loader's DataNotFoundError or a missing file
        print(f"skipped: {err}", file=sys.stderr)
        raise SystemExit(C.SKIP_EXIT) from None
    log = log[["student_id", "skill_id", "order", "correct"]].copy()
    y = log["correct"].to_numpy(dtype=float)
    fold = folds_by_student(log, args.folds, args.seed)
    version = None if args.skip_pybkt else C.ensure_pybkt("cpp")
    print(
        f"ASSISTments 2009 skill builders: {len(log):,} rows, {log['student_id'].nunique():,} "
        f"students, {log['skill_id'].nunique()} skills; {args.folds}-fold CV by student, "
        f"seed {args.seed}; pyBKT {version}"
    )
    BKT(restarts=1).fit(log.head(2000))  # compile the kernels outside the timings
    rows = []
    for variant, forgets in (("standard", False), ("forgets", True)):
        runs = {}
        runs["edstudy (defaults: guess, slip <= .5)"] = edstudy_cv(
            log, fold, args.folds, forgets=forgets
        )
        runs["edstudy (free guess/slip, as pyBKT)"] = edstudy_cv(
            log, fold, args.folds, forgets=forgets, max_guess=1.0, max_slip=1.0
        )
        if not args.skip_pybkt:
            p, t, _ = pybkt_cv(log, fold, args.folds, forgets, args.seed)
            runs["pyBKT 1.4.3 C++"] = (p, t)
        common = np.logical_and.reduce([~np.isnan(p) for p, _ in runs.values()])
        for name, (p, t) in runs.items():
            q = np.where(common, p, np.nan)
            s = summarize(y, q, fold, args.folds)
            rows.append(
                {
                    "variant": variant,
                    "implementation": name,
                    **s,
                    "fit_s_per_fold": float(np.mean(t)),
                    "published_auc": PUBLISHED[variant],
                }
            )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 4):
        print(table.to_string(index=False))
    if not args.skip_pybkt:
        print("\ndifferences edstudy - pyBKT (pooled; AUC higher is better, RMSE lower is better):")
        for variant in PUBLISHED:
            sub = table[table["variant"] == variant].set_index("implementation")
            ref = sub.loc["pyBKT 1.4.3 C++"]
            for name in sub.index[:-1]:
                print(
                    f"  {variant:8s} {name:40s} dAUC {sub.loc[name, 'auc'] - ref['auc']:+.4f}  "
                    f"dRMSE {sub.loc[name, 'rmse'] - ref['rmse']:+.4f}"
                )
    return table


if __name__ == "__main__":
    main()
