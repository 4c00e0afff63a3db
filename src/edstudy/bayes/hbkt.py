"""Hierarchical (individualized) Bayesian Knowledge Tracing in PyMC.

Model
-----
For skill ``k`` and student ``i`` (logit scale, partial pooling of students)::

    mu_prior[k] ~ Normal(prior_logit_mean, prior_logit_sd)      # median student's logit P(L0)
    mu_learn[k] ~ Normal(learn_logit_mean, learn_logit_sd)      # median student's logit P(T)
    sigma_prior, sigma_learn ~ HalfNormal(student_sd_scale)
    z_prior[i], z_learn[i] ~ Normal(0, 1)                       # non-centred student effects
    guess[k] = guess_max * Beta(*guess_beta),  slip[k] = slip_max * Beta(*slip_beta)
    P(L0)_ik = sigmoid(mu_prior[k] + sigma_prior z_prior[i])
    P(T)_ik  = sigmoid(mu_learn[k] + sigma_learn z_learn[i])

and the usual BKT hidden Markov model without forgetting for every (student, skill) sequence.

Marginal likelihood in closed form
----------------------------------
Without forgetting, mastery is absorbing, so the hidden path of a sequence padded to ``H``
opportunities is determined by ``tau``, the first opportunity spent in the mastered state
(``tau = H``: not within the horizon), with ``P(tau=0) = L0``,
``P(tau=t) = (1-L0)(1-T)^(t-1) T`` for ``0 < t < H`` and ``P(tau=H) = (1-L0)(1-T)^(H-1)``. Given
``tau``, the answers before it come from the unmastered emission and the rest from the mastered
one, so ::

    log p(y) = logsumexp_tau [ log P(tau) + c_<tau (log g - log(1-s)) + w_<tau (log(1-g) - log s) ]
               + c log(1-s) + w log s

with ``c_<tau`` / ``w_<tau`` the correct / incorrect counts before ``tau``. On a padded
(sequences x horizon) matrix, padding cells add nothing to the counts and the prior mass of all
``tau`` at or beyond a shorter sequence's end sums to its "not yet mastered" probability, so the
padded expression is exact too.
This is the forward algorithm's result without a ``scan``, vectorized over all students and
skills. Two implementations compute it: a compiled numba kernel with its analytic gradient over
the flat, unpadded answers (default; :mod:`edstudy.bayes._kernels`), and a pure PyTensor
expression on the padded (sequences x horizon+1) matrix (``likelihood="graph"``, any backend).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import arviz as az
import numba
import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from edstudy.bayes._data import BKTArrays, bkt_arrays, tau_design
from edstudy.bayes._kernels import hbkt_loglik_grad
from edstudy.bayes._sampling import fit_model
from edstudy.bayes.priors import HBKTPriors
from edstudy.bayes.settings import FitSettings
from edstudy.bkt.filtering import update_mastery

__all__ = [
    "HBKTPriors",
    "HierarchicalBKT",
    "POPULATION_VARS",
    "build_hbkt_model",
    "fit_hbkt",
    "hbkt_loglik",
    "mastery_posterior",
]

Likelihood = Literal["kernel", "graph"]

#: The population-level parameters (checked by simulation-based calibration).
POPULATION_VARS: tuple[str, ...] = (
    "mu_prior",
    "mu_learn",
    "sigma_prior",
    "sigma_learn",
    "guess",
    "slip",
)


def _log_sigmoid(x: pt.TensorVariable) -> pt.TensorVariable:
    return -pt.softplus(-x)


class HBKTLogLik(Op):
    """PyTensor Op around :func:`edstudy.bayes._kernels.hbkt_loglik_grad`.

    Inputs: the data ``correct (int8, n_rows), offsets (int64, n_sequences+1), seq_student,
    seq_skill (int64, n_sequences), right, wrong (float64, n_skills)`` and the parameters
    ``mu_prior, mu_learn (n_skills), eff_prior, eff_learn (n_students), guess, slip (n_skills)``.
    Outputs the total log-likelihood (scalar) and its gradient with respect to each parameter,
    which the Op's own gradient reuses (first derivatives only, as NUTS and ADVI need). One
    compiled call does the whole likelihood, so the C and numba backends run the same code.
    """

    __props__ = ()
    n_data = 6

    def make_node(self, *inputs):  # type: ignore[override]
        if len(inputs) != self.n_data + 6:
            raise TypeError(f"HBKTLogLik takes {self.n_data + 6} inputs, got {len(inputs)}")
        data = [pt.as_tensor(x) for x in inputs[: self.n_data]]
        params = [pt.as_tensor(x).astype("float64") for x in inputs[self.n_data :]]
        outputs = [pt.dscalar()] + [pt.dvector() for _ in params]
        return Apply(self, data + params, outputs)

    def perform(self, node, inputs, output_storage):  # type: ignore[override]
        results = hbkt_loglik_grad(*inputs)
        output_storage[0][0] = np.asarray(results[0])
        for storage, value in zip(output_storage[1:], results[1:], strict=True):
            storage[0] = value

    def infer_shape(self, fgraph, node, input_shapes):  # type: ignore[override]
        return [()] + list(input_shapes[self.n_data :])

    def connection_pattern(self, node):  # type: ignore[override]
        n_out = len(node.outputs)
        return [[False] * n_out] * self.n_data + [[True] * n_out] * 6

    def L_op(self, inputs, outputs, output_grads):  # type: ignore[override]
        if any(not isinstance(g.type, DisconnectedType) for g in output_grads[1:]):
            return [
                grad_not_implemented(self, i, x, "second derivatives") for i, x in enumerate(inputs)
            ]
        g_total = output_grads[0]
        return [disconnected_type() for _ in range(self.n_data)] + [
            g_total * grad for grad in outputs[1:]
        ]


_hbkt_loglik_op = HBKTLogLik()

try:  # let PyTensor's numba backend (used by nutpie) call the kernel directly
    from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def _hbkt_loglik_numba(
        correct,
        offsets,
        seq_student,
        seq_skill,
        right,
        wrong,
        mu_prior,
        mu_learn,
        eff_prior,
        eff_learn,
        guess,
        slip,
    ):  # pragma: no cover - compiled
        total, g0, g1, g2, g3, g4, g5 = hbkt_loglik_grad(
            correct,
            offsets,
            seq_student,
            seq_skill,
            right,
            wrong,
            mu_prior,
            mu_learn,
            eff_prior,
            eff_learn,
            guess,
            slip,
        )
        return np.asarray(total), g0, g1, g2, g3, g4, g5

    @register_funcify_default_op_cache_key(HBKTLogLik)
    def _numba_funcify_hbkt(op, node=None, **kwargs):  # noqa: ARG001
        return _hbkt_loglik_numba
except ImportError:  # pragma: no cover - older PyTensor: falls back to object mode
    pass


def hbkt_loglik(
    data: BKTArrays,
    *,
    mu_prior: pt.TensorVariable,
    mu_learn: pt.TensorVariable,
    eff_prior: pt.TensorVariable,
    eff_learn: pt.TensorVariable,
    guess: pt.TensorVariable,
    slip: pt.TensorVariable,
    likelihood: Likelihood = "kernel",
) -> pt.TensorVariable:
    """Exact marginal log-likelihood of all sequences (closed-form forward algorithm).

    Sequence ``j`` of student ``i`` on skill ``k`` has logit P(L0) ``mu_prior[k] + eff_prior[i]``
    and logit P(T) ``mu_learn[k] + eff_learn[i]``.

    Parameters
    ----------
    data : BKTArrays
    mu_prior, mu_learn, guess, slip : tensors, shape (n_skills,)
    eff_prior, eff_learn : tensors, shape (n_students,)
    likelihood : {"kernel", "graph"}
        ``"kernel"``: one compiled numba call computes the value and the analytic gradient from
        the flat answers (fast; ragged sequences cost their length; C and numba backends).
        ``"graph"``: the same sum as a PyTensor expression on the padded
        (sequences x horizon+1) matrix (any backend, e.g. JAX; slower).

    Returns
    -------
    scalar tensor
    """
    sk, st = data.seq_skill, data.seq_student
    if likelihood == "kernel":
        right = np.bincount(sk, weights=data.n_correct, minlength=len(data.skills))
        wrong = np.bincount(sk, weights=data.n_wrong, minlength=len(data.skills))
        outputs = _hbkt_loglik_op(
            data.correct,
            data.offsets,
            st,
            sk,
            right,
            wrong,
            mu_prior,
            mu_learn,
            eff_prior,
            eff_learn,
            guess,
            slip,
        )
        return outputs[0]
    if likelihood != "graph":
        raise ValueError(f"likelihood must be 'kernel' or 'graph', got {likelihood!r}")
    logit_prior = mu_prior[sk] + eff_prior[st]
    logit_learn = mu_learn[sk] + eff_learn[st]
    log_g, log_not_g = pt.log(guess), pt.log1p(-guess)
    log_s, log_not_s = pt.log(slip), pt.log1p(-slip)
    a = (log_g - log_not_s)[sk]
    b = (log_not_g - log_s)[sk]
    mastered_all = data.n_correct * log_not_s[sk] + data.n_wrong * log_s[sk]
    log_l0, log_not_l0 = _log_sigmoid(logit_prior), _log_sigmoid(-logit_prior)
    log_t, log_not_t = _log_sigmoid(logit_learn), _log_sigmoid(-logit_learn)
    design = tau_design(data.horizon)
    right_before, wrong_before = data.counts_before()
    terms = (
        log_l0[:, None] * design[0]
        + log_not_l0[:, None] * design[1]
        + log_not_t[:, None] * design[2]
        + log_t[:, None] * design[3]
        + pt.as_tensor(right_before) * a[:, None]
        + pt.as_tensor(wrong_before) * b[:, None]
    )
    return (pt.logsumexp(terms, axis=1) + mastered_all).sum()


def build_hbkt_model(
    log: pd.DataFrame,
    *,
    priors: HBKTPriors | None = None,
    max_opportunities: int | None = None,
    likelihood: Likelihood = "kernel",
    data: BKTArrays | None = None,
) -> pm.Model:
    """Build the hierarchical BKT model of a scored response log.

    Parameters
    ----------
    log : DataFrame
        ``student_id, skill_id, order, correct`` (no missing ``correct``; drop unscored rows).
    priors : HBKTPriors, optional
    max_opportunities : int, optional
        Use only the first responses of each (student, skill) sequence.
    likelihood : {"kernel", "graph"}
        Implementation of the marginal likelihood, see :func:`hbkt_loglik`.
    data : BKTArrays, optional
        Precomputed arrays of ``log`` (skips the preparation).

    Returns
    -------
    pymc.Model
        Coords ``skill`` (n_skills) and ``student`` (n_students). Free variables ``mu_prior,
        mu_learn`` (skill), ``sigma_prior, sigma_learn``, ``z_prior, z_learn`` (student),
        ``guess_frac, slip_frac`` (skill); deterministics ``guess, slip, prior, learn`` (skill;
        ``prior`` and ``learn`` are the median student's probabilities).
    """
    p = priors if priors is not None else HBKTPriors()
    d = data if data is not None else bkt_arrays(log, max_opportunities=max_opportunities)
    coords = {"skill": list(d.skills), "student": list(d.students)}
    with pm.Model(coords=coords) as model:
        mu_prior = pm.Normal("mu_prior", p.prior_logit_mean, p.prior_logit_sd, dims="skill")
        mu_learn = pm.Normal("mu_learn", p.learn_logit_mean, p.learn_logit_sd, dims="skill")
        sigma_prior = pm.HalfNormal("sigma_prior", p.student_sd_scale)
        sigma_learn = pm.HalfNormal("sigma_learn", p.student_sd_scale)
        z_prior = pm.Normal("z_prior", 0.0, 1.0, dims="student")
        z_learn = pm.Normal("z_learn", 0.0, 1.0, dims="student")
        guess_frac = pm.Beta("guess_frac", *p.guess_beta, dims="skill")
        slip_frac = pm.Beta("slip_frac", *p.slip_beta, dims="skill")
        guess = pm.Deterministic("guess", p.guess_max * guess_frac, dims="skill")
        slip = pm.Deterministic("slip", p.slip_max * slip_frac, dims="skill")
        pm.Deterministic("prior", pm.math.sigmoid(mu_prior), dims="skill")
        pm.Deterministic("learn", pm.math.sigmoid(mu_learn), dims="skill")
        loglik = hbkt_loglik(
            d,
            mu_prior=mu_prior,
            mu_learn=mu_learn,
            eff_prior=sigma_prior * z_prior,
            eff_learn=sigma_learn * z_learn,
            guess=guess,
            slip=slip,
            likelihood=likelihood,
        )
        pm.Potential("responses", loglik)
    return model


def fit_hbkt(
    log: pd.DataFrame,
    *,
    settings: FitSettings | None = None,
    priors: HBKTPriors | None = None,
    max_opportunities: int | None = None,
    likelihood: Likelihood = "kernel",
    seed: int | None = None,
) -> az.InferenceData:
    """Fit the hierarchical BKT model; see :func:`build_hbkt_model` for the model.

    Parameters
    ----------
    log : DataFrame
        Scored response log.
    settings : FitSettings, optional
        How to fit: NUTS for reports (the default); ``FitSettings.fast()`` (ADVI) or
        ``method="map"`` as the fast path for widgets.
    seed : int, optional
    priors : HBKTPriors, optional
    max_opportunities : int, optional
    likelihood : {"kernel", "graph"}
        See :func:`hbkt_loglik`.

    Returns
    -------
    InferenceData
        Posterior with coords ``skill`` and ``student``; ``attrs["model"] == "hierarchical_bkt"``.
    """
    model = build_hbkt_model(
        log, priors=priors, max_opportunities=max_opportunities, likelihood=likelihood
    )
    idata = fit_model(model, settings, seed=seed)
    idata.attrs["model"] = "hierarchical_bkt"
    return idata


_MASTERY_BLOCK = 2_000_000  # elements of one (draws x students x skills) work array


def _flat_draws(idata: az.InferenceData, name: str) -> np.ndarray:
    x = idata.posterior[name].to_numpy()
    return x.reshape((-1, *x.shape[2:]))


def mastery_posterior(
    idata: az.InferenceData,
    log: pd.DataFrame,
    *,
    interval: float = 0.9,
    max_draws: int = 1000,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Posterior P(mastered) of each student on each skill after their last response in ``log``.

    For every posterior draw the student's own BKT parameters (skill parameters plus the student's
    random effects) trace the student's answers with :func:`edstudy.bkt.update_mastery`; the
    value after the last answer includes the learning transition, i.e. it is P(mastered) at the
    next opportunity, as the online tracer reports it. Students the model was not fitted on get
    random effects drawn from the population distribution.

    Parameters
    ----------
    idata : InferenceData
        From :func:`fit_hbkt`.
    log : DataFrame
        Scored response log (may hold more responses than the fit used).
    interval : float
        Probability of the equal-tailed credible interval.
    max_draws : int
        Use at most this many posterior draws (a seeded random subset).
    seed : int, optional
        For the draw subset and the effects of new students.

    Returns
    -------
    DataFrame, one row per (student in ``log``, skill of the model)
        ``student_id, skill_id, n_responses, mean, lower, upper``; a pair without responses
        holds the student's individualized P(L0).
    """
    if not 0 < interval < 1:
        raise ValueError(f"interval must be in (0, 1), got {interval}")
    rng = np.random.default_rng(seed)
    skills = pd.Index(idata.posterior["skill"].to_numpy())
    fitted_students = pd.Index(idata.posterior["student"].to_numpy())
    d = bkt_arrays(log, skills=skills)
    correct, mask = d.padded()
    n_total = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    pick = np.sort(rng.choice(n_total, size=min(max_draws, n_total), replace=False))
    draws = {
        name: _flat_draws(idata, name)[pick] for name in (*POPULATION_VARS, "z_prior", "z_learn")
    }
    n_draws = len(pick)

    # Student effects for the log's students: fitted ones from the posterior, new ones from the
    # population distribution.
    code = fitted_students.get_indexer(d.students)
    known = code >= 0
    z = {}
    for name in ("z_prior", "z_learn"):
        zz = rng.standard_normal((n_draws, len(d.students)))
        zz[:, known] = draws[name][:, code[known]]
        z[name] = zz
    eff_prior = draws["sigma_prior"][:, None] * z["z_prior"]  # (draws, students)
    eff_learn = draws["sigma_learn"][:, None] * z["z_learn"]

    def sig(x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-x))

    n_students, n_skills = len(d.students), len(skills)
    st, sk = d.seq_student, d.seq_skill
    mean = np.empty((n_students, n_skills))
    lo = np.empty((n_students, n_skills))
    hi = np.empty((n_students, n_skills))
    q = [(1 - interval) / 2, (1 + interval) / 2]
    # Blocks of students keep the (draws x students x skills) work arrays near 16 MB.
    block = max(1, int(_MASTERY_BLOCK // max(1, n_draws * n_skills)))
    for first in range(0, n_students, block):
        rows = slice(first, min(first + block, n_students))
        # every (student, skill) pair starts from the student's individualized P(L0)
        p_all = sig(draws["mu_prior"][:, None, :] + eff_prior[:, rows, None])
        on_seq = np.flatnonzero((st >= rows.start) & (st < rows.stop))
        s_st, s_sk = st[on_seq], sk[on_seq]
        p = p_all[:, s_st - rows.start, s_sk]  # (draws, sequences of the block)
        learn = sig(draws["mu_learn"][:, s_sk] + eff_learn[:, s_st])
        guess, slip = draws["guess"][:, s_sk], draws["slip"][:, s_sk]
        for t in range(int(d.lengths[on_seq].max(initial=0))):
            on = mask[on_seq, t]
            updated = update_mastery(p, correct[on_seq, t], guess=guess, slip=slip, learn=learn)
            p = np.where(on[None, :], updated, p)
        p_all[:, s_st - rows.start, s_sk] = p
        mean[rows] = p_all.mean(axis=0)
        lo[rows], hi[rows] = np.quantile(p_all, q, axis=0)
    n_resp = np.zeros((n_students, n_skills), dtype=np.int64)
    n_resp[st, sk] = d.lengths
    ii, kk = np.meshgrid(np.arange(len(d.students)), np.arange(len(skills)), indexing="ij")
    return pd.DataFrame(
        {
            "student_id": d.students.to_numpy()[ii.ravel()],
            "skill_id": skills.to_numpy()[kk.ravel()],
            "n_responses": n_resp.ravel(),
            "mean": mean.ravel(),
            "lower": lo.ravel(),
            "upper": hi.ravel(),
        }
    )


@dataclass
class HierarchicalBKT:
    """Estimator front end of the hierarchical BKT model (scikit-learn verbs).

    Parameters
    ----------
    settings : FitSettings
        Sampler settings, see :func:`fit_hbkt`.
    priors : HBKTPriors
    seed : int, optional

    Attributes
    ----------
    idata_ : InferenceData
        Set by :meth:`fit`.
    """

    settings: FitSettings = field(default_factory=FitSettings)
    priors: HBKTPriors | None = None
    seed: int | None = None

    def fit(self, log: pd.DataFrame) -> HierarchicalBKT:
        """Fit on a scored response log; returns ``self`` with ``idata_`` set."""
        self.idata_ = fit_hbkt(log, settings=self.settings, priors=self.priors, seed=self.seed)
        return self

    def skill_parameters(self, *, interval: float = 0.9) -> pd.DataFrame:
        """Posterior mean and equal-tailed interval of ``prior, learn, guess, slip`` per skill.

        Returns
        -------
        DataFrame indexed by skill_id, columns ``<param>``, ``<param>_lower``, ``<param>_upper``.
        """
        post = self.idata_.posterior
        q = [(1 - interval) / 2, (1 + interval) / 2]
        out = {}
        for name in ("prior", "learn", "guess", "slip"):
            x = post[name]
            out[name] = x.mean(("chain", "draw")).to_numpy()
            lo, hi = x.quantile(q, dim=("chain", "draw")).to_numpy()
            out[f"{name}_lower"], out[f"{name}_upper"] = lo, hi
        return pd.DataFrame(out, index=pd.Index(post["skill"].to_numpy(), name="skill_id"))

    def mastery(
        self, log: pd.DataFrame, *, interval: float = 0.9, seed: int | None = 0
    ) -> pd.DataFrame:
        """Per student x skill posterior P(mastered); see :func:`mastery_posterior`."""
        return mastery_posterior(self.idata_, log, interval=interval, seed=seed)
