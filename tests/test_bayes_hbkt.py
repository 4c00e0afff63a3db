"""Hierarchical BKT (edstudy.bayes): exact likelihood, fast paths, recovery, mastery posterior.

Kept small for the normal suite (a few seconds of sampling each); the repeated-simulation coverage
and the simulation-based calibration are in ``test_bayes_slow.py`` (``-m slow``).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from edstudy.bayes import FitSettings
from edstudy.bayes._data import bkt_arrays
from edstudy.bayes.synthetic import simulate_hbkt
from edstudy.bkt.filtering import p_correct, update_mastery

pm = pytest.importorskip("pymc")
pytensor = pytest.importorskip("pytensor")

from edstudy.bayes.hbkt import (  # noqa: E402
    POPULATION_VARS,
    HierarchicalBKT,
    build_hbkt_model,
    fit_hbkt,
    mastery_posterior,
)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def forward_loglik(d, l0, learn, guess, slip):
    """Reference: the BKT forward algorithm, one opportunity at a time (per sequence arrays)."""
    correct, mask = d.padded()
    p = l0.copy()
    ll = np.zeros(d.n_sequences)
    for t in range(d.horizon):
        on, y = mask[:, t], correct[:, t]
        pc = p_correct(p, guess, slip)
        ll += np.where(on, np.where(y == 1, np.log(pc), np.log1p(-pc)), 0.0)
        p = np.where(on, update_mastery(p, y, guess=guess, slip=slip, learn=learn), p)
    return ll


def ragged_log(seed: int, n_students: int = 40, n_opportunities: int = 9) -> pd.DataFrame:
    log, _ = simulate_hbkt(
        n_students=n_students, n_skills=3, n_opportunities=n_opportunities, seed=seed
    )
    rng = np.random.default_rng(seed)
    # drop the tail of random sequences and a few whole sequences
    cut = rng.integers(1, n_opportunities + 1, size=(n_students, 3))
    student = log["student_id"].str[1:].astype(int).to_numpy()
    skill = log["skill_id"].str[1:].astype(int).to_numpy()
    t = log["order"].to_numpy() % n_opportunities
    keep = t < cut[student, skill]
    keep &= ~((student % 7 == 3) & (skill == 1))
    return log[keep].sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _logp_and_grad(model):
    pot = model.replace_rvs_by_values([model.potentials[0]])[0]
    grads = pytensor.grad(pot, model.value_vars)
    return pytensor.function(model.value_vars, [pot, *grads], on_unused_input="ignore")


def test_importing_edstudy_and_bkt_does_not_import_pymc():
    code = (
        "import sys, edstudy, edstudy.bkt, edstudy.bayes, edstudy.bayes.synthetic, "
        "edstudy.bayes.priors, edstudy.bayes._data\n"
        "bad = [m for m in ('pymc', 'pytensor', 'arviz') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("likelihood", ["kernel", "graph"])
def test_closed_form_likelihood_equals_forward_algorithm(likelihood):
    log = ragged_log(seed=3)
    d = bkt_arrays(log)
    model = build_hbkt_model(log, likelihood=likelihood)
    f = _logp_and_grad(model)
    rng = np.random.default_rng(0)
    for _ in range(3):
        point = {
            v.name: rng.normal(0.0, 0.8, size=np.shape(model.initial_point()[v.name]))
            for v in model.value_vars
        }
        value = f(**point)[0]
        sp, sl = np.exp(point["sigma_prior_log__"]), np.exp(point["sigma_learn_log__"])
        l0 = _sigmoid(point["mu_prior"][d.seq_skill] + sp * point["z_prior"][d.seq_student])
        learn = _sigmoid(point["mu_learn"][d.seq_skill] + sl * point["z_learn"][d.seq_student])
        guess = 0.5 * _sigmoid(point["guess_frac_logodds__"])[d.seq_skill]
        slip = 0.5 * _sigmoid(point["slip_frac_logodds__"])[d.seq_skill]
        expected = forward_loglik(d, l0, learn, guess, slip).sum()
        np.testing.assert_allclose(value, expected, rtol=1e-10)


def test_kernel_gradient_equals_graph_gradient():
    log = ragged_log(seed=4)
    fk = _logp_and_grad(build_hbkt_model(log, likelihood="kernel"))
    model = build_hbkt_model(log, likelihood="graph")
    fg = _logp_and_grad(model)
    rng = np.random.default_rng(1)
    point = {
        v.name: rng.normal(0.0, 1.0, size=np.shape(model.initial_point()[v.name]))
        for v in model.value_vars
    }
    for a, b in zip(fk(**point), fg(**point), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def tau_enumeration_loglik(y, l0, learn, guess, slip):
    """Reference in log space: enumerate tau, the first mastered opportunity, for one sequence."""
    from scipy.special import logsumexp

    n = len(y)
    tau = np.arange(n + 1)
    right_before = np.r_[0, np.cumsum(y == 1)]
    wrong_before = np.r_[0, np.cumsum(y == 0)]
    log_prior = np.where(
        tau == 0,
        np.log(l0),
        np.log1p(-l0)
        + np.clip(tau - 1, 0, None) * np.log1p(-learn)
        + np.where(tau < n, np.log(learn), 0.0),
    )
    right_after = right_before[-1] - right_before
    wrong_after = wrong_before[-1] - wrong_before
    emit = (
        right_before * np.log(guess)
        + wrong_before * np.log1p(-guess)
        + right_after * np.log1p(-slip)
        + wrong_after * np.log(slip)
    )
    return logsumexp(log_prior + emit)


def test_kernel_is_stable_on_long_sequences():
    """600 wrong then 600 right answers (and the reverse) push the weights through extreme ranges
    where a probability-space forward pass loses the unmastered branch; compare in log space."""
    n = 1200
    runs = np.r_[np.zeros(n // 2), np.ones(n // 2)].astype(np.int8)
    log = pd.DataFrame(
        {
            "student_id": ["a"] * n + ["b"] * n,
            "skill_id": "k",
            "order": np.r_[np.arange(n), np.arange(n)],
            "correct": np.r_[runs, 1 - runs],
        }
    )
    model = build_hbkt_model(log)
    f = _logp_and_grad(model)
    point = {v.name: np.zeros(np.shape(model.initial_point()[v.name])) for v in model.value_vars}
    point["mu_learn"] = np.array([-6.0])
    value, *grads = f(**point)
    learn = _sigmoid(-6.0)
    expected = sum(tau_enumeration_loglik(y, 0.5, learn, 0.25, 0.25) for y in (runs, 1 - runs))
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_bkt_arrays_truncates_and_keeps_order():
    log = ragged_log(seed=5)
    full = bkt_arrays(log)
    short = bkt_arrays(log, max_opportunities=4)
    assert short.lengths.max() == 4
    np.testing.assert_array_equal(short.lengths, np.minimum(full.lengths, 4))
    first = full.correct[full.offsets[:-1]]
    np.testing.assert_array_equal(short.correct[short.offsets[:-1]], first)
    with pytest.raises(ValueError, match="max_opportunities must be >= 1"):
        bkt_arrays(log, max_opportunities=0)


@pytest.fixture(scope="module")
def small_fit():
    """One short NUTS fit shared by the recovery and mastery tests."""
    log, truth = simulate_hbkt(
        n_students=200,
        n_skills=2,
        n_opportunities=15,
        mu_prior=[-1.0, 0.0],
        mu_learn=[-1.5, -2.2],
        sigma_prior=0.8,
        sigma_learn=0.5,
        guess=[0.2, 0.3],
        slip=[0.1, 0.15],
        seed=11,
    )
    idata = fit_hbkt(log, settings=FitSettings(draws=400, tune=400, chains=2, cores=1), seed=2)
    return log, truth, idata


def test_fit_returns_inferencedata_with_coords(small_fit):
    log, _, idata = small_fit
    post = idata.posterior
    assert list(post["skill"].to_numpy()) == ["k0", "k1"]
    assert post["z_prior"].dims == ("chain", "draw", "student")
    assert post.sizes["student"] == 200
    for name in ("prior", "learn", "guess", "slip"):
        assert post[name].dims == ("chain", "draw", "skill")
    assert idata.attrs["model"] == "hierarchical_bkt"
    assert "diverging" in idata.sample_stats


def test_nuts_recovers_population_parameters(small_fit):
    _, truth, idata = small_fit
    post = idata.posterior
    inside, total = 0, 0
    for name, value in truth.population().items():
        draws = post[name].to_numpy().reshape(-1, *np.shape(value))
        lo, hi = np.quantile(draws, [0.01, 0.99], axis=0)
        inside += int(np.sum((lo <= value) & (value <= hi)))
        total += int(np.size(value))
    assert inside >= total - 1, f"{inside}/{total} true values inside the 98% intervals"
    # the well-identified emission parameters are also close in absolute terms
    np.testing.assert_allclose(post["guess"].mean(("chain", "draw")), truth.guess, atol=0.05)
    np.testing.assert_allclose(post["slip"].mean(("chain", "draw")), truth.slip, atol=0.05)
    assert int(idata.sample_stats["diverging"].sum()) <= 5


def test_mastery_posterior_tracks_true_parameter_filter(small_fit):
    log, truth, idata = small_fit
    table = mastery_posterior(idata, log, interval=0.9, max_draws=300, seed=0)
    assert list(table.columns) == [
        "student_id",
        "skill_id",
        "n_responses",
        "mean",
        "lower",
        "upper",
    ]
    assert len(table) == 200 * 2
    assert ((table["lower"] <= table["mean"]) & (table["mean"] <= table["upper"])).all()
    assert table[["mean", "lower", "upper"]].stack().between(0, 1).all()
    # reference: filter each sequence with its true parameters
    d = bkt_arrays(log)
    l0 = _sigmoid(truth.mu_prior[d.seq_skill] + truth.sigma_prior * truth.z_prior[d.seq_student])
    learn = _sigmoid(truth.mu_learn[d.seq_skill] + truth.sigma_learn * truth.z_learn[d.seq_student])
    correct, mask = d.padded()
    p = l0.copy()
    for t in range(d.horizon):
        upd = update_mastery(
            p,
            correct[:, t],
            guess=truth.guess[d.seq_skill],
            slip=truth.slip[d.seq_skill],
            learn=learn,
        )
        p = np.where(mask[:, t], upd, p)
    ref = pd.Series(
        p, index=pd.MultiIndex.from_arrays([d.students[d.seq_student], d.skills[d.seq_skill]])
    )
    got = table.set_index(["student_id", "skill_id"])["mean"].reindex(ref.index)
    assert np.corrcoef(got, ref)[0, 1] > 0.95
    assert np.abs(got - ref).mean() < 0.06


def test_mastery_posterior_new_students_and_unpracticed_skills(small_fit):
    log, _, idata = small_fit
    new = pd.DataFrame(
        {
            "student_id": ["new1"] * 3 + ["s000"],
            "skill_id": ["k0"] * 3 + ["k1"],
            "order": [0, 1, 2, 0],
            "correct": [1, 1, 1, 0],
        }
    )
    a = mastery_posterior(idata, new, seed=3)
    b = mastery_posterior(idata, new, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["student_id"]) == {"new1", "s000"}
    row = a.set_index(["student_id", "skill_id"])
    assert row.loc[("new1", "k1"), "n_responses"] == 0
    assert row.loc[("new1", "k0"), "mean"] > row.loc[("new1", "k1"), "mean"]
    with pytest.raises(KeyError, match="not known"):
        mastery_posterior(idata, new.assign(skill_id="k9"))


@pytest.mark.parametrize("method", ["advi", "map"])
def test_fast_paths(method):
    log, truth = simulate_hbkt(n_students=80, n_skills=2, n_opportunities=12, seed=21)
    settings = FitSettings(method=method, draws=200, advi_steps=3000)
    model = HierarchicalBKT(settings=settings, seed=0).fit(log)
    post = model.idata_.posterior
    assert model.idata_.attrs["method"] == method
    assert post.sizes["student"] == 80
    params = model.skill_parameters()
    assert list(params.index) == ["k0", "k1"]
    assert params[["prior", "learn", "guess", "slip"]].stack().between(0, 1).all()
    np.testing.assert_allclose(params["guess"], truth.guess, atol=0.1)
    np.testing.assert_allclose(params["slip"], truth.slip, atol=0.1)
    mastery = model.mastery(log)
    assert len(mastery) == 160


def test_population_vars_are_in_the_model():
    log, _ = simulate_hbkt(n_students=5, n_skills=1, n_opportunities=3, seed=0)
    model = build_hbkt_model(log)
    assert set(POPULATION_VARS) <= set(model.named_vars)


def test_fast_kernel_path_equals_log_space_path():
    from edstudy.bayes._kernels import hbkt_lse, hbkt_lse_logspace

    rng = np.random.default_rng(7)
    for length in (1, 2, 5, 40, 400):
        n = 300
        correct = (rng.random(n * length) < 0.6).astype(np.int8)
        offsets = np.arange(0, n * length + 1, length, dtype=np.int64)
        args = [
            rng.normal(0, 3, n),
            rng.normal(-1, 3, n),
            rng.normal(-1, 1, n),
            rng.normal(1, 1, n),
        ]
        v1, j1 = hbkt_lse(correct, offsets, *args)
        v2, j2 = hbkt_lse_logspace(correct, offsets, *args)
        np.testing.assert_allclose(v1, v2, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(j1, j2, rtol=1e-8, atol=1e-10)


def test_sampler_and_method_errors(monkeypatch):
    import importlib.util

    log, _ = simulate_hbkt(n_students=5, n_skills=1, n_opportunities=3, seed=0)
    with pytest.raises(ValueError, match="method must be 'nuts', 'advi' or 'map'"):
        FitSettings(method="laplace")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "nutpie" else find_spec(name, *a),
    )
    with pytest.raises(ImportError, match="pip install nutpie"):
        fit_hbkt(log, settings=FitSettings(sampler="nutpie"))


def test_mastery_posterior_blocks_give_the_same_answer(small_fit, monkeypatch):
    import edstudy.bayes.hbkt as hbkt

    log, _, idata = small_fit
    whole = mastery_posterior(idata, log, max_draws=100, seed=1)
    monkeypatch.setattr(hbkt, "_MASTERY_BLOCK", 100 * 2 * 7)  # blocks of 7 students
    blocked = mastery_posterior(idata, log, max_draws=100, seed=1)
    pd.testing.assert_frame_equal(whole, blocked)
