"""One fold of ASSISTments 2009: edstudy's BKT against pyBKT's stored figures (fast, real data).

The fast form of the slow real-data checks (``tests/test_bkt_assistments.py``, nightly): fit on
the students of four folds, predict the held-out fold one step ahead, and compare AUC and RMSE
with pyBKT 1.4.3 (C++ build, ``num_fits=5``, seed 0) on the same 74,839 rows. pyBKT is not a
dependency, so its figures were computed once by ``benchmarks/bkt_one_fold_reference.py`` (which
holds the same loading and fold code as this test) and are stored below:

    fold 0: 250,798 training rows, 74,839 held-out rows; pyBKT 1.4 (Python/C++)
    standard: pyBKT auc 0.708718, rmse 0.435353   edstudy auc 0.709134, rmse 0.435198
    forgets:  pyBKT auc 0.715123, rmse 0.433943   edstudy auc 0.715579, rmse 0.433533

Tolerance: edstudy may fall at most 0.002 AUC below pyBKT and 0.001 RMSE above it. The two
libraries predict the same rows, so sampling error does not enter the comparison; two correct
EM fits differ only in the optimum they reach on some skills: +0.0004/+0.0005 AUC on this fold,
-0.00001/+0.0010 pooled over the benchmark's five folds (``benchmarks/results_bkt.md``). The
sampling SE of one fold's AUC (about 0.002) would be the scale of an unpaired comparison; a
wrong forward pass costs far more (predictions that ignore every answer, as a filtering step
that drops the evidence would give, reach an AUC of 0.611 on this fold).

Skipped with the reason when ``../shared/data/real`` is absent. About 5 CPU seconds (two fits
of 5 restarts on 250,798 rows).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from edstudy.bkt import BKT, ConvergenceWarning

pytestmark = pytest.mark.shared_data

PYBKT = {
    False: {"auc": 0.708718, "rmse": 0.435353},
    True: {"auc": 0.715123, "rmse": 0.433943},
}
HELD_OUT_ROWS = 74_839


@pytest.fixture(scope="module")
def fold(assistments2009_rows):
    log = assistments2009_rows
    # students sorted, shuffled with seed 0, dealt round-robin into 5 folds; fold 0 held out
    codes, uniques = pd.factorize(log["student_id"], sort=True)
    fold_of = np.empty(len(uniques), dtype=np.int64)
    fold_of[np.random.default_rng(0).permutation(len(uniques))] = np.arange(len(uniques)) % 5
    held = fold_of[codes] == 0
    train = log[~held]
    test = log[held & log["skill_id"].isin(set(train["skill_id"])).to_numpy()]
    return train, test


@pytest.mark.parametrize("forgets", [False, True], ids=["standard", "forgets"])
def test_one_fold_accuracy_matches_pybkt(fold, forgets):
    train, test = fold
    assert len(test) == HELD_OUT_ROWS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = BKT(forgets=forgets, restarts=5, seed=0).fit(train)
    p = model.predict_proba(test)
    y = test["correct"].to_numpy(float)
    auc = roc_auc_score(y, p)
    rmse = float(np.sqrt(np.mean((y - p) ** 2)))
    assert auc >= PYBKT[forgets]["auc"] - 0.002, auc
    assert rmse <= PYBKT[forgets]["rmse"] + 0.001, rmse
