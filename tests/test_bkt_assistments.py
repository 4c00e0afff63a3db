"""BKT on the real ASSISTments 2009 skill-builder data (slow; needs ../shared/data).

Reference values come from ``benchmarks/bkt_accuracy_vs_pybkt.py`` and
``benchmarks/bkt_vs_pybkt.py`` (see ``benchmarks/results_bkt.md``): pyBKT 1.4.3 (C++ build,
5 restarts) reaches a training log-likelihood of -185,117 (standard) and -183,977 (forgets) and a
pooled 5-fold student-split CV AUC of 0.714 (standard) and 0.720 (forgets).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edstudy.bkt import BKT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.shared_data,
    pytest.mark.filterwarnings("ignore::edstudy.bkt.ConvergenceWarning"),
]

PYBKT_LL = {False: -185_117.1, True: -183_977.3}
PYBKT_AUC = {False: 0.7143, True: 0.7198}


@pytest.fixture(scope="module")
def log(assistments2009_rows) -> pd.DataFrame:
    return assistments2009_rows


@pytest.mark.parametrize("forgets", [False, True])
def test_fit_beats_pybkt_likelihood(log, forgets):
    model = BKT(forgets=forgets, max_guess=1.0, max_slip=1.0).fit(log)
    assert model.log_likelihood_ > PYBKT_LL[forgets]
    assert np.all(np.diff(model.history_) >= 0)


@pytest.mark.parametrize("forgets", [False, True])
def test_cross_validated_auc_matches_pybkt(log, forgets):
    table = BKT(forgets=forgets, handle_unknown="average").cross_validate(log, folds=5, seed=0)
    assert table.loc["pooled", "auc"] > PYBKT_AUC[forgets] - 0.005
    assert table.loc["pooled", "n_rows"] == len(log)
