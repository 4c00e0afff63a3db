"""pyBKT's figures on one fold of ASSISTments 2009, stored in tests/test_bkt_assistments_fold.py.

The fast real-data check of ``make test`` fits edstudy's BKT on four fifths of the students and
compares its accuracy on the held-out fifth with pyBKT's on the same rows. pyBKT is not a
dependency of edstudy, so its figures are computed here once and copied into the test.

Protocol (the same code as the test): ``interactions.csv.gz`` of
``../shared/data/real/assistments2009_skillbuilder`` as a response log (``user_id``,
``skill_name``, ``seq_idx``, ``correct``; duplicate keys dropped, the first kept); students
sorted, shuffled with seed 0 and dealt round-robin into 5 folds (as
``bkt_accuracy_vs_pybkt.py``); fold 0 held out; rows of skills absent from the training students
left out; standard and forgets models, 5 restarts (pyBKT ``num_fits=5``, seed 0); AUC by
scikit-learn and RMSE on the held-out rows.

Run from the repository root: ``.venv/bin/python benchmarks/bkt_one_fold_reference.py``
(creates ``.venv-pybkt`` with pyBKT's C++ build when missing; about a minute).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bkt_common as C  # noqa: E402

from edstudy.bkt import BKT, ConvergenceWarning  # noqa: E402


def load(folder: Path) -> pd.DataFrame:
    raw = pd.read_csv(folder / "interactions.csv.gz")
    log = pd.DataFrame(
        {
            "student_id": raw["user_id"],
            "skill_id": raw["skill_name"],
            "order": raw["seq_idx"],
            "correct": raw["correct"],
        }
    )
    return log.drop_duplicates(["student_id", "skill_id", "order"]).reset_index(drop=True)


def folds_by_student(log: pd.DataFrame, k: int = 5, seed: int = 0) -> np.ndarray:
    codes, uniques = pd.factorize(log["student_id"], sort=True)
    fold_of = np.empty(len(uniques), dtype=np.int64)
    fold_of[np.random.default_rng(seed).permutation(len(uniques))] = np.arange(len(uniques)) % k
    return fold_of[codes]


def figures(y: np.ndarray, p: np.ndarray) -> dict:
    return {"auc": float(roc_auc_score(y, p)), "rmse": float(np.sqrt(np.mean((y - p) ** 2)))}


def main() -> int:
    folder = C.SHARED / "assistments2009_skillbuilder"
    if not (folder / "interactions.csv.gz").is_file():
        print(f"skipped: no {folder / 'interactions.csv.gz'}", file=sys.stderr)
        return C.SKIP_EXIT
    log = load(folder)
    fold0 = folds_by_student(log) == 0
    train = log[~fold0]
    test = fold0 & log["skill_id"].isin(set(train["skill_id"])).to_numpy()
    y = log.loc[test, "correct"].to_numpy(float)
    version = C.ensure_pybkt("cpp")
    frame, _ = C.to_pybkt_frame(log)
    frame["fold"] = np.where(fold0, 0, 1)  # the worker fits on fold != 0, predicts fold 0
    frame = frame[~fold0 | test]
    print(f"fold 0: {len(train):,} training rows, {int(test.sum()):,} held-out rows "
          f"({int((fold0 & ~test).sum())} of skills unseen in training left out); "
          f"pyBKT {version}")  # fmt: skip
    for forgets in (False, True):
        out = C.run_pybkt(
            "cpp", {"task": "cv", "folds": 1, "forgets": forgets, "num_fits": 5, "seed": 0}, frame
        )
        p = np.full(len(log), np.nan)
        p[np.asarray(out["row"], dtype=np.int64)] = out["p"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = BKT(forgets=forgets, restarts=5, seed=0).fit(train)
        mine = model.predict_proba(log[test])
        name = "forgets" if forgets else "standard"
        print(f"{name}: pyBKT {figures(y, p[test])}  edstudy {figures(y, mine)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
