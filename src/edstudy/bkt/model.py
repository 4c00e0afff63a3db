"""The Bayesian Knowledge Tracing estimator.

:class:`BKT` fits a two-state hidden Markov model per skill (Corbett & Anderson, 1995) to a
response log (``student_id, skill_id, order, correct``, optional ``item_id, activity``) by
expectation-maximization (Baum-Welch) and predicts every row one step ahead. Variants are explicit
keyword options and combine freely:

========================  =======================================================================
option                    model
========================  =======================================================================
``forgets=True``          a mastered skill can be forgotten: P(forget) per skill (or activity)
``item_guess_slip=True``  KT-IDEM (Pardos & Heffernan, 2011): guess and slip per (skill, item)
``activity_learn=True``   learning (and forgetting) rate per (skill, activity): the activity of a
                          row drives the transition that follows it, so the rates say how much a
                          video, a text or a hands-on task teaches (the link to personalized
                          learning)
``student_prior=True``    individualized BKT (Yudelson, Koedinger & Gordon, 2013): a logit effect
``student_learn=True``    per student on the prior / on every learning rate, shared across skills:
                          ``logit P = logit P_skill + effect_student``, with an L2 penalty
                          ``sum(effect^2) / (2 student_effect_sd^2)`` (MAP under a Normal(0,
                          sd^2) prior); students unseen at predict time get effect 0
========================  =======================================================================

Unscored rows (``correct`` missing, e.g. a watched video) are kept as steps with a learning
transition and no evidence, so activities without an answer still teach.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numba
import numpy as np
import pandas as pd

from edstudy._options import EstimatorOptions, check_bool, check_int, check_number
from edstudy.bkt import _kernels as K
from edstudy.bkt import metrics as M
from edstudy.bkt._design import Design, Encoding, design_fit, design_predict
from edstudy.bkt._document import document_options, read_model_document, write_model_document
from edstudy.bkt._em import (
    Options,
    Tables,
    fit_coupled,
    fit_independent,
    logit,
    sigmoid,
)
from edstudy.bkt._prepare import (
    UnscoredSkillWarning,
    _threads,
    _without_unscored_skills,
    resolve_fixed,
)
from edstudy.bkt.params import BKTParams
from edstudy.bkt.sampling import sample_log
from edstudy.schema import validate_log

__all__ = ["BKT", "ConvergenceWarning", "NotFittedError", "UnscoredSkillWarning"]

MODEL_FORMAT = "edstudy.bkt.BKT/1"
HANDLE_UNKNOWN = ("error", "average")
DEFAULT_METRICS = ("auc", "rmse", "log_loss", "accuracy")


class NotFittedError(ValueError, AttributeError):
    """The estimator is used before :meth:`BKT.fit` (or :meth:`BKT.from_params`)."""


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before the log-likelihood settled."""


class BKT(EstimatorOptions):
    """Bayesian Knowledge Tracing fitted by EM, scikit-learn style.

    Parameters
    ----------
    forgets : bool, default False
        Estimate P(forget) (else fixed at 0).
    item_guess_slip : bool, default False
        KT-IDEM: guess and slip per (skill, item); needs ``item_id``.
    activity_learn : bool, default False
        Learn (and forget) rate per (skill, activity); needs ``activity``.
    student_prior, student_learn : bool, default False
        Individualized BKT: per-student logit effects on the prior / on the learning rates.
    student_effect_sd : float, default 1.0
        SD (logit scale) of the Normal prior of the student effects; the penalty added to the
        negative log-likelihood is ``sum(effect**2) / (2 * student_effect_sd**2)``. Smaller values
        shrink the effects more. Also the SD of new students drawn by :meth:`sample`.
    max_guess, max_slip : float, default 0.5
        Upper bounds of guess and slip. The default 0.5 keeps every skill non-degenerate
        (``guess + slip <= 1``: a mastered student answers right at least as often as an
        unmastered one, so a correct answer never lowers the mastery estimate). Use e.g.
        ``max_guess=0.3, max_slip=0.1`` for the stricter bounds of Baker et al. (2008), or 1.0
        to leave them free as pyBKT does. The M-step maximizes within the bounds exactly, so the
        log-likelihood still never decreases.
    restarts : int, default 5
        EM runs per skill: the first from a fixed typical start (prior .4, learn .15, guess .2,
        slip .1, forget .05), the others from random ones; each skill keeps its best run.
    max_iter : int, default 200
        Most M-steps per run.
    tol : float, default 1e-6
        A skill has converged when an iteration raises its log-likelihood by less than
        ``tol`` times its number of scored rows (a per-answer threshold: the same ``tol`` suits
        small and large logs). Individualized models apply it to the whole penalized
        log-likelihood.
    fixed : dict or DataFrame, optional
        Parameters held at given values: ``{"guess": 0.2}`` (every skill), ``{"slip": {"fractions":
        0.1}}`` (per skill), or a tidy table with columns ``skill, parameter, class, value``
        (``class`` "all" or missing fixes every class of the skill), e.g. rows of a fitted
        ``params_``.
    handle_unknown : {"error", "average"}, default "error"
        Skills, items or activities not seen in fit, at predict time: ``"error"`` raises
        ``ValueError`` naming them; ``"average"`` predicts an unseen item/activity with its skill's
        parameters averaged over its classes (weighted by training rows), and an unseen skill with
        the parameters averaged over all skills.
    seed : int or None, default 0
        Seed of the random restarts (and the default of :meth:`sample` / :meth:`cross_validate`).
    n_jobs : int or None, default None
        Threads of the compiled kernels (None: numba's setting, normally every core; -1: all).

    Attributes
    ----------
    model_ : BKTParams
        The fitted parameters.
    params_ : DataFrame
        The same as a tidy table ``skill, parameter, class, value``.
    history_ : float array (n_iter_ + 1,)
        Log-likelihood of the training log after each EM iteration (penalized for individualized
        models); it never decreases. Entry 0 is the starting point.
    log_likelihood_ : float
        Final (unpenalized) log-likelihood of the training log.
    n_iter_ : int
        EM iterations of the longest-running skill.
    converged_ : bool
        Whether every skill met ``tol`` before ``max_iter``.
    skills_ : Index
        Fitted skills.

    Examples
    --------
    >>> from edstudy.bkt import BKT, SkillParams
    >>> truth = BKT.from_params({"fractions": SkillParams(prior=.2, learn=.15, guess=.2, slip=.1)})
    >>> log = truth.sample(n_students=500, n_opportunities=10, seed=1)
    >>> model = BKT(forgets=True).fit(log)
    >>> round(float(model.params_.query("parameter == 'learn'")["value"].iloc[0]), 2)
    0.16
    >>> p = model.predict_proba(log)            # one step ahead, no leakage
    >>> scores = model.cross_validate(log, folds=5)  # per fold and pooled
    """

    def __init__(
        self,
        *,
        forgets: bool = False,
        item_guess_slip: bool = False,
        activity_learn: bool = False,
        student_prior: bool = False,
        student_learn: bool = False,
        student_effect_sd: float = 1.0,
        max_guess: float = 0.5,
        max_slip: float = 0.5,
        restarts: int = 5,
        max_iter: int = 200,
        tol: float = 1e-6,
        fixed: Mapping | pd.DataFrame | None = None,
        handle_unknown: str = "error",
        seed: int | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.forgets = forgets
        self.item_guess_slip = item_guess_slip
        self.activity_learn = activity_learn
        self.student_prior = student_prior
        self.student_learn = student_learn
        self.student_effect_sd = student_effect_sd
        self.max_guess = max_guess
        self.max_slip = max_slip
        self.restarts = restarts
        self.max_iter = max_iter
        self.tol = tol
        self.fixed = fixed
        self.handle_unknown = handle_unknown
        self.seed = seed
        self.n_jobs = n_jobs
        self._check_options()

    def _check_options(self) -> None:
        for name in (
            "forgets",
            "item_guess_slip",
            "activity_learn",
            "student_prior",
            "student_learn",
        ):
            check_bool(name, getattr(self, name))
        check_number("student_effect_sd", self.student_effect_sd, "> 0", lambda v: v > 0)
        check_number("max_guess", self.max_guess, "in (0, 1]", lambda v: 0 < v <= 1)
        check_number("max_slip", self.max_slip, "in (0, 1]", lambda v: 0 < v <= 1)
        check_int("restarts", self.restarts, 1)
        check_int("max_iter", self.max_iter, 1)
        check_number("tol", self.tol, ">= 0", lambda v: v >= 0)
        if self.handle_unknown not in HANDLE_UNKNOWN:
            raise ValueError(
                f"handle_unknown must be one of 'error', 'average', got {self.handle_unknown!r}"
            )
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer)
        ):
            raise ValueError(f"seed must be None or an int, got {self.seed!r}")
        nj = self.n_jobs
        if nj is not None and (
            isinstance(nj, bool) or not isinstance(nj, int | np.integer) or (nj < 1 and nj != -1)
        ):
            raise ValueError(f"n_jobs must be None, -1 or an int >= 1, got {nj!r}")
        if self.fixed is not None and not isinstance(self.fixed, Mapping | pd.DataFrame):
            raise ValueError(
                "fixed must be None, a dict or a DataFrame with columns skill, parameter, "
                f"class, value, got {type(self.fixed).__name__}"
            )

    @property
    def _individual(self) -> bool:
        return bool(self.student_prior or self.student_learn)

    def _fitted(self) -> BKTParams:
        model = getattr(self, "model_", None)
        if model is None:
            raise NotFittedError(
                "this BKT instance is not fitted yet; call fit(log) or BKT.from_params(...) first"
            )
        return model

    # ------------------------------------------------------------------ fit
    def fit(self, log: pd.DataFrame) -> BKT:
        """Fit the model to a response log.

        Parameters
        ----------
        log : DataFrame
            ``student_id, skill_id, order, correct`` (+ ``item_id`` / ``activity`` when the
            variant needs them). Validated with :func:`edstudy.schema.validate_log`; not modified.

        Returns
        -------
        self
        """
        self._check_options()
        v = _without_unscored_skills(validate_log(log))
        d, enc = design_fit(
            v,
            item_guess_slip=self.item_guess_slip,
            activity_learn=self.activity_learn,
            students=self._individual,
        )
        opt = Options(
            forgets=self.forgets,
            max_guess=float(self.max_guess),
            max_slip=float(self.max_slip),
            restarts=int(self.restarts),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            student_prior=self.student_prior,
            student_learn=self.student_learn,
            student_effect_sd=float(self.student_effect_sd),
            seed=None if self.seed is None else int(self.seed),
            fixed=resolve_fixed(self.fixed, enc, forgets=self.forgets),
        )
        with _threads(self.n_jobs):
            res = fit_independent(d, enc, opt)
            if self._individual:
                res = fit_coupled(d, enc, opt, res)
        t = res.tables
        self.model_ = BKTParams(
            skills=tuple(enc.skills),
            prior=t.prior,
            tr_skill=enc.tr_skill,
            tr_label=enc.tr_label,
            learn=t.learn,
            forget=t.forget,
            gs_skill=enc.gs_skill,
            gs_label=enc.gs_label,
            guess=t.guess,
            slip=t.slip,
            tr_weight=res.tr_weight,
            gs_weight=res.gs_weight,
            students=tuple(enc.students) if self._individual else None,
            student_prior=t.prior_eff,
            student_learn=t.learn_eff,
            student_effect_sd=float(self.student_effect_sd) if self._individual else None,
        )
        self.history_ = res.history
        self.log_likelihood_ = res.log_likelihood
        self.n_iter_ = res.n_iter
        self.converged_ = res.converged
        self._after_params()
        if not res.converged:
            if res.unconverged:
                names = [enc.skills[i] for i in res.unconverged]
                where = (
                    f" for {len(names)} of {len(enc.skills)} skills "
                    f"({', '.join(repr(n) for n in names[:3])}{', ...' if len(names) > 3 else ''})"
                )
            else:
                where = ""
            warnings.warn(
                f"EM reached max_iter={self.max_iter} before converging (tol={self.tol}){where}; "
                "increase max_iter or tol",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _after_params(self) -> None:
        """Derived fitted attributes and the prediction tables (with average slots)."""
        p = self.model_
        self.params_ = p.to_frame()
        self.skills_ = p.skill_index()
        self._encoding = Encoding.from_params(p)
        n = p.n_skills

        def extended(values, skill_of, weight):
            values = np.asarray(values, dtype=float)
            w = np.asarray(weight, dtype=float)
            cnt = np.bincount(skill_of, minlength=n).astype(float)
            tot = np.bincount(skill_of, weights=w, minlength=n)
            plain = np.bincount(skill_of, weights=values, minlength=n) / cnt
            per = np.where(
                tot > 0,
                np.bincount(skill_of, weights=values * w, minlength=n) / np.where(tot > 0, tot, 1),
                plain,
            )
            glob = (
                float(np.sum(values * w) / np.sum(w)) if np.sum(w) > 0 else float(np.mean(values))
            )
            return np.concatenate([values, per, [glob]])

        gs_sk, tr_sk = np.asarray(p.gs_skill), np.asarray(p.tr_skill)
        skill_w = np.bincount(gs_sk, weights=np.asarray(p.gs_weight), minlength=n)
        prior = np.asarray(p.prior)
        glob_prior = (
            float(np.sum(prior * skill_w) / np.sum(skill_w))
            if np.sum(skill_w) > 0
            else float(prior.mean())
        )
        self._tables = Tables(
            prior=np.concatenate([prior, [glob_prior]]),
            learn=extended(p.learn, tr_sk, p.tr_weight),
            forget=extended(p.forget, tr_sk, p.tr_weight),
            guess=extended(p.guess, gs_sk, p.gs_weight),
            slip=extended(p.slip, gs_sk, p.gs_weight),
            prior_eff=None if p.student_prior is None else np.asarray(p.student_prior),
            learn_eff=None if p.student_learn is None else np.asarray(p.student_learn),
        )

    # ------------------------------------------------------------------ predict
    def _design(self, log: pd.DataFrame) -> Design:
        self._fitted()
        self._check_options()
        v = validate_log(log)
        return design_predict(v, self._encoding, handle_unknown=self.handle_unknown)

    def _forward(self, d: Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = self._tables
        prior = t.prior[d.seq_skill]
        known = d.seq_student >= 0
        sidx = np.maximum(d.seq_student, 0)
        if t.prior_eff is not None:
            eff = np.where(known, t.prior_eff[sidx], 0.0)
            prior = sigmoid(logit(prior) + eff)
        use_shift = t.learn_eff is not None
        shift = np.where(known, t.learn_eff[sidx], 0.0) if use_shift else np.zeros(d.n_seq)
        learn_logit = logit(t.learn) if use_shift else t.learn
        n = d.n_rows
        pred, mastery, row_ll = np.empty(n), np.empty(n), np.empty(n)
        with _threads(self.n_jobs):
            blocks = K.blocks_by_rows(d.offsets, np.arange(d.n_seq), 4 * numba.get_num_threads())
            with K.threads_for(n):
                K.forward(
                    d.obs,
                    d.offsets,
                    blocks,
                    prior,
                    shift,
                    d.gs_idx,
                    d.tr_idx,
                    t.guess,
                    t.slip,
                    t.learn,
                    learn_logit,
                    t.forget,
                    use_shift,
                    pred,
                    mastery,
                    row_ll,
                )
        out = []
        for a in (pred, mastery, row_ll):
            o = np.empty(n)
            o[d.row_index] = a
            out.append(o)
        return out[0], out[1], out[2]

    def predict_proba(self, log: pd.DataFrame) -> np.ndarray:
        """One-step-ahead P(correct) of every row, from the earlier rows of its student and skill.

        Row ``t`` uses only rows of the same (student, skill) with a smaller ``order`` (and,
        for individualized models, the student's effects estimated in fit): no leakage of its own
        answer or later ones.

        Parameters
        ----------
        log : DataFrame
            A response log (``correct`` may be missing: such rows are predicted, and carry a
            learning transition without evidence).

        Returns
        -------
        float array (n_rows,)
            In the order of ``log``'s rows.
        """
        return self._forward(self._design(log))[0]

    def mastery(self, log: pd.DataFrame) -> np.ndarray:
        """Filtered P(mastered) after each row: the posterior given the answers up to and
        including the row, followed by the row's learning transition. Equals chaining
        :func:`edstudy.bkt.update_mastery` from the prior.

        Returns
        -------
        float array (n_rows,)
            In the order of ``log``'s rows.
        """
        return self._forward(self._design(log))[1]

    def score(
        self, log: pd.DataFrame, metrics: str | Iterable[str] = DEFAULT_METRICS
    ) -> dict[str, float]:
        """Metrics of the one-step-ahead predictions on the scored rows of ``log``.

        Parameters
        ----------
        metrics : str or iterable of str
            Any of ``auc, rmse, log_loss, accuracy, log_likelihood``.

        Returns
        -------
        dict
            ``{metric: value}``.
        """
        names = M.check_metrics(metrics)
        d = self._design(log)
        pred = self._forward(d)[0]
        y = log["correct"].to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(y)
        return M.compute(y[ok], pred[ok], names)

    def cross_validate(
        self,
        log: pd.DataFrame,
        folds: int = 5,
        by: str = "student",
        seed: int | None = None,
        metrics: str | Iterable[str] = DEFAULT_METRICS,
        return_predictions: bool = False,
    ) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray]:
        """K-fold cross-validation with whole groups (students by default) held out.

        Parameters
        ----------
        log : DataFrame
        folds : int, default 5
        by : str, default "student"
            ``"student"`` or the name of a log column whose values are kept together
            (e.g. ``"class_id"``, ``"school_id"``).
        seed : int, optional
            Shuffles the groups (default: the estimator's ``seed``).
        metrics : str or iterable of str
        return_predictions : bool
            Also return the out-of-fold P(correct) of every row.

        Returns
        -------
        DataFrame
            One row per fold (index ``0 .. folds-1``) and a ``"pooled"`` row (metrics over all
            out-of-fold predictions together); the metric columns plus ``n_rows`` (scored rows)
            and ``n_groups``.
        """
        names = M.check_metrics(metrics)
        check_int("folds", folds, 2)
        column = "student_id" if by == "student" else by
        if not isinstance(by, str) or column not in log.columns:
            raise ValueError(f"by must be 'student' or a column of the log, got {by!r}")
        v = validate_log(log)
        groups = v[column]
        if groups.isna().any():
            raise ValueError(
                f"{column} is missing in {int(groups.isna().sum())} rows; cannot split by it"
            )
        codes, uniques = pd.factorize(groups, sort=True)
        if len(uniques) < folds:
            raise ValueError(
                f"folds={folds} needs at least {folds} distinct {column} values, got {len(uniques)}"
            )
        rng = np.random.default_rng(self.seed if seed is None else seed)
        fold_of_group = np.empty(len(uniques), dtype=np.int64)
        fold_of_group[rng.permutation(len(uniques))] = np.arange(len(uniques)) % folds
        fold = fold_of_group[codes]
        oof = np.full(len(v), np.nan)
        y = v["correct"].to_numpy(dtype=float, na_value=np.nan)
        rows = []
        for k in range(folds):
            test = fold == k
            est = type(self)(**self.get_params())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(v[~test])
            p = est.predict_proba(v[test])
            oof[test] = p
            ok = test & ~np.isnan(y)
            res = M.compute(y[ok], oof[ok], names)
            res.update(n_rows=int(ok.sum()), n_groups=int(np.unique(codes[test]).size))
            rows.append(res)
        ok = ~np.isnan(y)
        pooled = M.compute(y[ok], oof[ok], names)
        pooled.update(n_rows=int(ok.sum()), n_groups=len(uniques))
        table = pd.DataFrame(
            rows + [pooled], index=pd.Index([*range(folds), "pooled"], dtype=object, name="fold")
        )
        if return_predictions:
            return table, oof
        return table

    # ------------------------------------------------------------------ simulate
    def sample(
        self,
        n_students: int,
        n_opportunities: int,
        seed: int | np.random.Generator | None = None,
        *,
        return_state: bool = False,
    ) -> pd.DataFrame:
        """Simulate a response log from the fitted (or given) parameters.

        See :func:`edstudy.bkt.sampling.sample_log`; ``seed`` defaults to the estimator's.
        """
        return sample_log(
            self._fitted(),
            n_students,
            n_opportunities,
            seed=self.seed if seed is None else seed,
            return_state=return_state,
        )

    @classmethod
    def from_params(cls, params: BKTParams | pd.DataFrame | Mapping, **options: Any) -> BKT:
        """An estimator that predicts and samples with given parameters (no fit needed).

        Parameters
        ----------
        params : BKTParams, tidy DataFrame (``skill, parameter, class, value``) or
            ``{skill: SkillParams or dict}``
        **options
            Constructor options (e.g. ``handle_unknown``, ``seed``, ``student_effect_sd``);
            the variant flags are set from the parameters.
        """
        if isinstance(params, pd.DataFrame):
            params = BKTParams.from_frame(
                params, student_effect_sd=options.get("student_effect_sd")
            )
        elif isinstance(params, Mapping):
            params = BKTParams.from_skills(params)
        elif not isinstance(params, BKTParams):
            raise TypeError(
                "params must be BKTParams, a DataFrame (skill, parameter, class, value) or a "
                f"dict of skills, got {type(params).__name__}"
            )
        flags = dict(
            forgets=params.forgets,
            item_guess_slip=params.item_guess_slip,
            activity_learn=params.activity_learn,
            student_prior=params.student_prior is not None,
            student_learn=params.student_learn is not None,
        )
        if params.student_effect_sd is not None:
            flags["student_effect_sd"] = params.student_effect_sd
        est = cls(**{**flags, **options})
        if est._individual and params.student_effect_sd is None:
            params = BKTParams(
                **{
                    **{k: getattr(params, k) for k in params.__dataclass_fields__ if k != "_cache"},
                    "student_effect_sd": float(est.student_effect_sd),
                }
            )
        est.model_ = params
        est.history_ = np.zeros(0)
        est.log_likelihood_ = float("nan")
        est.n_iter_ = 0
        est.converged_ = True
        est._after_params()
        return est

    # ------------------------------------------------------------------ persistence
    def to_json(self, path: str | os.PathLike) -> None:
        """Save options and fitted parameters as JSON (no pickle).

        Ids must be ints or strings; ``fixed`` must be None or a dict. The file is written to a
        temporary sibling and renamed into place; an existing file is replaced only when it is
        an edstudy BKT model (:class:`edstudy._output.OutputError` otherwise).
        """
        write_model_document(
            path,
            model_format=MODEL_FORMAT,
            options=self.get_params(),
            params=self._fitted().to_dict(),
            history=self.history_,
            log_likelihood=self.log_likelihood_,
            n_iter=self.n_iter_,
            converged=self.converged_,
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> BKT:
        """Load an estimator saved by :meth:`to_json`, after checking the whole document.

        Raises
        ------
        ValueError
            Naming the file and the key: not a model file, a missing or unknown key, a value of
            the wrong type or out of range, guess/slip that would make a correct answer lower
            mastery.
        """
        doc = read_model_document(path, model_format=MODEL_FORMAT, option_names=cls._option_names())
        try:
            est = cls(**document_options(doc))
            est._check_options()
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: options: {err}") from None
        try:
            est.model_ = BKTParams.from_dict(doc["params"])
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: params: {err}") from None
        fit = doc["fit"]
        est.history_ = np.array(fit["history"], dtype=float)
        ll = fit["log_likelihood"]
        est.log_likelihood_ = float("nan") if ll is None else float(ll)
        est.n_iter_ = int(fit["n_iter"])
        est.converged_ = bool(fit["converged"])
        est._after_params()
        return est
