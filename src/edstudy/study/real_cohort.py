"""Real cohorts: compare strategies on students drawn from student models fitted to a real log.

A real response log records one instructional policy, so it cannot say directly how another
strategy would have done. The comparison is therefore model-based (Doroudi, Aleven & Brunskill,
2017): fit several student models to the log, let every strategy teach students drawn from each
fitted model, and look at how much the verdict depends on the model.

Pipeline (every step takes any log in the response-log schema, see :mod:`edstudy.schema`):

1. :func:`select_log` keeps the skills and students to study (e.g. the most-practised skills and a
   random sample of students) and reports what it dropped.
2. :func:`fit_student_models` fits standard BKT, BKT with forgets, individualized BKT (per-student
   prior and learning rate, Yudelson et al. 2013) and the hierarchical Bayesian BKT
   (:mod:`edstudy.bayes`, its fast ADVI/MAP path), each as a
   :class:`~edstudy.sim.from_model.StudentModel`; :func:`score_student_models` scores them on
   held-out students (skills or students unseen in the fit are predicted with averaged parameters
   and counted).
3. :func:`robust_evaluation_matrix` runs every named strategy on cohorts drawn from each model
   (:func:`~edstudy.sim.from_model.cohort_from_model`) and returns the **Robust Evaluation
   Matrix**: rows strategies, columns student models, cells the expected post-test mastery
   (share of skills truly known at the end), practice opportunities, over-practice (opportunities
   on skills already known) and under-practice (skills left while unknown; Lee & Brunskill 2012),
   with 95% intervals, plus the strategies' ranks per column and a flag on every strategy whose
   rank changes across columns (:func:`rank_changes`).
4. :func:`mastery_threshold_analysis` asks how many opportunities a mastery-threshold policy
   gives per skill under each model and threshold (Rollinson & Brunskill, 2015), both on
   students simulated from the model and replayed on the real sequences.

:func:`run_real_cohort_pipeline` chains the four steps with timings.

What the comparison can and cannot say
    Real logs have no media: every column runs with **one neutral medium** (``text``) and meshing
    0, so strategies that choose media (``blended``, ``adaptive``, the media choice of
    ``personalized``) differ from ``individualized`` only through pacing rules, never through the
    medium. No prerequisites are known, so none are used. Remediation activities teach like any
    other opportunity. The tutor's mastery estimate uses the standard BKT fit in every column
    (a deployed tutor's model), so columns differ only in how the simulated students really learn.
    Intervals cover the simulation and the sampling of students, not the uncertainty of the
    fitted parameters.

References
----------
Doroudi, S., Aleven, V., & Brunskill, E. (2017). Robust evaluation matrix: Towards a more
principled offline exploration of instructional policies. *Proceedings of L@S 2017*, 3-12.
Lee, J. I., & Brunskill, E. (2012). The impact on individualizing student models on necessary
practice opportunities. *Proceedings of EDM 2012*, 118-125.
Rollinson, J., & Brunskill, E. (2015). From predictive models to instructional policies.
*Proceedings of EDM 2015*, 179-186.
Yudelson, M. V., Koedinger, K. R., & Gordon, G. J. (2013). Individualized Bayesian Knowledge
Tracing models. *AIED 2013*, 171-180.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from edstudy.bkt.filtering import update_mastery
from edstudy.schema import validate_log
from edstudy.sim.engine import Budget, simulate
from edstudy.sim.from_model import (
    StudentModel,
    cohort_from_model,
    curriculum_from_model,
    skill_order,
)
from edstudy.sim.population import PopulationSpec
from edstudy.sim.strategies import STRATEGY_NAMES, Strategy, builtin_strategy
from edstudy.study.runner import summarize

__all__ = [
    "MODEL_LABELS",
    "MODEL_NAMES",
    "REM_METRICS",
    "RealCohortResult",
    "RobustEvaluationMatrix",
    "REAL_DATASETS",
    "fit_student_models",
    "load_log",
    "markdown_table",
    "mastery_threshold_analysis",
    "quiet_pymc",
    "rank_changes",
    "robust_evaluation_matrix",
    "run_real_cohort_pipeline",
    "score_student_models",
    "select_log",
    "split_students",
    "synthetic_log",
    "threshold_table",
]

#: The student models fitted by default, in column order.
MODEL_NAMES: tuple[str, ...] = ("bkt", "bkt_forgets", "ibkt", "hbkt")
MODEL_LABELS: dict[str, str] = {
    "bkt": "standard BKT",
    "bkt_forgets": "BKT with forgets",
    "ibkt": "individualized BKT (per-student prior and learning rate)",
    "hbkt": "hierarchical Bayesian BKT (student random effects)",
}
#: Cell metrics of the matrix (outcome columns of the simulated students).
REM_METRICS: tuple[str, ...] = (
    "posttest_mastery",
    "opportunities",
    "over_practice",
    "under_practice",
    "expected_posttest",
)
METRIC_LABELS: dict[str, str] = {
    "posttest_mastery": "expected post-test mastery (share of skills truly known at the end)",
    "opportunities": "practice opportunities per student",
    "over_practice": "over-practice: opportunities on skills already known",
    "under_practice": "under-practice: skills left while not yet known",
    "expected_posttest": "expected post-test score (no test noise)",
}


# --------------------------------------------------------------------------------------------
# 1. The log
# --------------------------------------------------------------------------------------------

#: Real response logs :func:`load_log` knows by name.
REAL_DATASETS: dict[str, str] = {
    "assistments2009": "ASSISTments 2009-10 skill builders",
    "assistments2017": "ASSISTments 2017 competition data",
    "pybkt_as": "pyBKT example: ASSISTments 2009, 2 skills",
    "pybkt_ct": "pyBKT example: Cognitive Tutor Algebra, 11 students",
    "oulad_assessments": "OULAD assessments (correct = score >= 40)",
}


def load_log(dataset: str, path: Any = None) -> pd.DataFrame:
    """A real response log by name (:data:`REAL_DATASETS`), or any CSV in the log schema.

    Parameters
    ----------
    dataset : str
        A key of :data:`REAL_DATASETS`, or ``"csv"`` with ``path`` a CSV file that already has
        the response-log columns.
    path : path-like, optional
        Where the data are (default: the loaders' search, ``../shared/data/real`` first).

    Raises
    ------
    edstudy.datasets.DataNotFoundError
        When the data are absent, naming where they were looked for.
    """
    from edstudy import datasets as ds

    if dataset == "assistments2009":
        return ds.load_assistments2009(path, verbose=False)
    if dataset == "assistments2017":
        return ds.load_assistments2017(path, verbose=False)
    if dataset in ("pybkt_as", "pybkt_ct"):
        return ds.load_pybkt_example(path or dataset.split("_")[1], verbose=False)
    if dataset == "oulad_assessments":
        from edstudy.study.preferences_real import oulad_assessment_log

        return oulad_assessment_log(path)
    if dataset == "csv":
        if path is None:
            raise ValueError("dataset='csv' needs path=")
        return ds.load_csv(path, verbose=False)
    raise ValueError(f"unknown dataset {dataset!r}; known: {[*REAL_DATASETS, 'csv']}")


def synthetic_log(
    n_students: int = 200,
    n_opportunities: int = 8,
    *,
    seed: int = 0,
    unscored_share: float = 0.05,
    drop_share: float = 0.15,
) -> pd.DataFrame:
    """A response log with awkward but valid ids, to exercise the pipeline without real data.

    Students are a mix of text ids with spaces and negative integers; skills are ``"skill one"``,
    ``-7`` and ``"fractions / decimals"``; every student's ``order`` has gaps (rows dropped at
    random, orders spread out); a few unscored rows (``correct`` missing) are added; rows are
    shuffled. The answers follow individualized BKT with known parameters (``attrs["truth"]``).
    """
    from edstudy.bkt.params import BKTParams, SkillParams
    from edstudy.bkt.sampling import sample_log

    rng = np.random.default_rng(seed)
    truth = {
        "skill one": SkillParams(prior=0.35, learn=0.2, guess=0.2, slip=0.1),
        -7: SkillParams(prior=0.2, learn=0.12, guess=0.25, slip=0.12),
        "fractions / decimals": SkillParams(prior=0.5, learn=0.25, guess=0.15, slip=0.08),
    }
    params = BKTParams.from_skills(truth)
    eff_p = rng.normal(0, 0.7, n_students)
    eff_l = rng.normal(0, 0.5, n_students)
    log = sample_log(
        params, n_students, n_opportunities, seed=rng, student_prior=eff_p, student_learn=eff_l
    )
    names = np.array(
        [f"student {i} of class {i % 7}" if i % 2 else -(i + 1) for i in range(n_students)],
        dtype=object,
    )
    log["student_id"] = names[log["student_id"].to_numpy()]
    log["skill_id"] = log["skill_id"].astype(object)
    log["order"] = log["order"].to_numpy() * 3 + rng.integers(0, 3, len(log))
    log = log[rng.random(len(log)) >= drop_share]
    n_extra = int(unscored_share * len(log))
    extra = log.sample(n_extra, random_state=int(rng.integers(2**31))).copy()
    extra["order"] = extra["order"] + 1_000_000
    extra["correct"] = pd.array([pd.NA] * n_extra, dtype="Int8")
    log = pd.concat([log, extra]).sample(frac=1.0, random_state=int(rng.integers(2**31)))
    log = log.reset_index(drop=True)
    log.attrs["truth"] = {str(k): v for k, v in truth.items()}
    return log


def select_log(
    log: pd.DataFrame,
    *,
    skills: Sequence[Any] | None = None,
    top_skills: int | None = None,
    n_students: int | None = None,
    min_responses: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """The part of a response log to study: scored rows of some skills and students.

    Parameters
    ----------
    log : DataFrame
        Any response log (validated here; not modified).
    skills : sequence, optional
        Keep these skills (ids as in the log).
    top_skills : int, optional
        Else keep the ``top_skills`` skills with the most scored rows (ties by id order).
    n_students : int, optional
        Keep a random sample of this many students (seeded) among those with at least
        ``min_responses`` scored rows on the kept skills.
    min_responses : int
        Students with fewer scored rows on the kept skills are dropped.
    seed : int

    Returns
    -------
    DataFrame
        The kept rows (validated dtypes, original index). ``attrs["selection"]`` records rows,
        students and skills read and kept and why rows were dropped.
    """
    v = validate_log(log)
    n0, s0, k0 = len(v), v["student_id"].nunique(), v["skill_id"].nunique()
    dropped: dict[str, int] = {}
    scored = v["correct"].notna().to_numpy()
    if not scored.all():
        dropped["unscored (correct missing)"] = int((~scored).sum())
        v = v[scored]
    if skills is not None:
        wanted = list(skills)
        absent = [s for s in wanted if s not in set(v["skill_id"])]
        if absent:
            raise KeyError(f"skills not in the log: {absent[:5]}")
        keep = v["skill_id"].isin(wanted).to_numpy()
    elif top_skills is not None:
        if int(top_skills) < 1:
            raise ValueError(f"top_skills must be >= 1, got {top_skills!r}")
        counts = v["skill_id"].value_counts(sort=False)
        ranked = sorted(counts.index, key=lambda s: (-counts[s], str(s)))
        keep = v["skill_id"].isin(ranked[: int(top_skills)]).to_numpy()
    else:
        keep = np.ones(len(v), dtype=bool)
    if not keep.all():
        dropped["skill not selected"] = int((~keep).sum())
        v = v[keep]
    per_student = v.groupby("student_id", sort=False, observed=True).size()
    few = per_student.index[per_student < min_responses]
    if len(few):
        mask = v["student_id"].isin(few).to_numpy()
        dropped[f"student with < {min_responses} scored rows"] = int(mask.sum())
        v = v[~mask]
    if n_students is not None:
        students = pd.unique(v["student_id"].to_numpy())
        if int(n_students) < len(students):
            rng = np.random.default_rng(seed)
            chosen = students[np.sort(rng.choice(len(students), int(n_students), replace=False))]
            mask = v["student_id"].isin(chosen).to_numpy()
            dropped["student not sampled"] = int((~mask).sum())
            v = v[mask]
    if len(v) == 0:
        raise ValueError("select_log kept no rows; relax skills, top_skills or min_responses")
    v = v.copy()
    v.attrs["selection"] = {
        "rows_read": n0,
        "students_read": int(s0),
        "skills_read": int(k0),
        "rows_kept": len(v),
        "students_kept": int(v["student_id"].nunique()),
        "skills_kept": int(v["skill_id"].nunique()),
        "dropped": dropped,
    }
    return v


def split_students(
    log: pd.DataFrame, test_fraction: float = 0.2, *, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a log by student into a training and a test part (whole students held out)."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction!r}")
    students = pd.unique(log["student_id"].to_numpy())
    n_test = int(round(test_fraction * len(students)))
    if n_test == 0:
        return log, log.iloc[:0]
    rng = np.random.default_rng(seed)
    test = students[rng.choice(len(students), n_test, replace=False)]
    mask = log["student_id"].isin(test).to_numpy()
    return log[~mask], log[mask]


# --------------------------------------------------------------------------------------------
# 2. Student models
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_pymc():
    """Silence PyMC's INFO messages (ADVI's "Finished [100%]" lines) and warnings."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _fit_one(
    name: str,
    log: pd.DataFrame,
    *,
    seed: int,
    bkt_options: Mapping[str, Any],
    hbkt_method: str,
    hbkt_options: Mapping[str, Any],
) -> StudentModel:
    from edstudy.bkt import BKT, ConvergenceWarning

    start = time.perf_counter()
    variants = {
        "bkt": {},
        "bkt_forgets": {"forgets": True},
        "ibkt": {"student_prior": True, "student_learn": True},
    }
    if name in variants:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = BKT(**{**dict(bkt_options), **variants[name]}, seed=seed).fit(log)
        model = StudentModel.from_bkt(est, name, description=MODEL_LABELS[name])
    else:
        from edstudy.bayes import fit_hbkt

        options = {"draws": 200, "advi_steps": 20_000, **dict(hbkt_options)}
        # Fit on integer codes so any ids (mixed types included) survive the model's coords.
        skill_codes, skill_ids = pd.factorize(log["skill_id"])
        student_codes, student_ids = pd.factorize(log["student_id"])
        coded = log.assign(skill_id=skill_codes, student_id=student_codes)
        with quiet_pymc():
            idata = fit_hbkt(coded, method=hbkt_method, seed=seed, **options)
        model = StudentModel.from_hbkt(idata, name, description=MODEL_LABELS[name])
        model = replace(
            model,
            skills=tuple(skill_ids[np.asarray(model.skills, dtype=np.int64)]),
            students=tuple(student_ids[np.asarray(model.students, dtype=np.int64)]),
        )
    model.info.update(
        fit_seconds=time.perf_counter() - start,
        rows=len(log),
        students=int(log["student_id"].nunique()),
    )
    return model


def fit_student_models(
    log: pd.DataFrame,
    models: Sequence[str] = MODEL_NAMES,
    *,
    seed: int = 0,
    hbkt_method: str = "advi",
    hbkt_options: Mapping[str, Any] | None = None,
    bkt_options: Mapping[str, Any] | None = None,
) -> dict[str, StudentModel]:
    """Fit student models to a scored response log.

    Parameters
    ----------
    log : DataFrame
        Response log (validated; unscored rows are left out).
    models : sequence of str
        Any of :data:`MODEL_NAMES`: ``bkt`` (standard BKT, EM), ``bkt_forgets``, ``ibkt``
        (individualized BKT: per-student logit effects on prior and learning rate, penalized EM),
        ``hbkt`` (hierarchical Bayesian BKT in PyMC).
    seed : int
    hbkt_method : {"advi", "map", "nuts"}
        ``advi`` (default) is the fast path; ``map`` is faster still but lets the spread of the
        student effects run off to extremes on real data; ``nuts`` is the full posterior.
    hbkt_options : dict, optional
        Passed to :func:`edstudy.bayes.fit_hbkt` (``draws``, ``advi_steps``, ``priors``, ...).
    bkt_options : dict, optional
        Passed to :class:`edstudy.bkt.BKT` (``restarts``, ``max_iter``, ``n_jobs``, ...).

    Returns
    -------
    dict of str to StudentModel
        In the order of ``models``; ``info`` holds rows, students and fit seconds.
    """
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown:
        raise ValueError(f"unknown student model(s) {unknown}; available: {list(MODEL_NAMES)}")
    if not models:
        raise ValueError("models must name at least one student model")
    v = validate_log(log)
    v = v[v["correct"].notna().to_numpy()]
    if len(v) == 0:
        raise ValueError("the log has no scored rows (correct is missing everywhere)")
    return {
        name: _fit_one(
            name,
            v,
            seed=seed,
            bkt_options=bkt_options or {},
            hbkt_method=hbkt_method,
            hbkt_options=hbkt_options or {},
        )
        for name in models
    }


def score_student_models(models: Mapping[str, StudentModel], log: pd.DataFrame) -> pd.DataFrame:
    """One-step-ahead accuracy of each model on a (held-out) log.

    Skills or students a model was not fitted on are predicted with averaged skill parameters /
    effect 0 (the median student); their rows are counted.

    Returns
    -------
    DataFrame indexed by model
        ``auc, rmse, log_loss, accuracy, n_rows, rows_unseen_skill, rows_unseen_student``.
    """
    from edstudy.bkt import BKT

    v = validate_log(log)
    v = v[v["correct"].notna().to_numpy()]
    rows = {}
    for name, m in models.items():
        if len(v) == 0:
            rows[name] = {"n_rows": 0}
            continue
        est = BKT.from_params(m.to_bkt_params(), handle_unknown="average")
        res = est.score(v, metrics=("auc", "rmse", "log_loss", "accuracy"))
        res["n_rows"] = len(v)
        res["rows_unseen_skill"] = int((~v["skill_id"].isin(list(m.skills))).sum())
        res["rows_unseen_student"] = (
            int((~v["student_id"].isin(list(m.students))).sum()) if m.students else 0
        )
        rows[name] = res
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    return out


# --------------------------------------------------------------------------------------------
# 3. The Robust Evaluation Matrix
# --------------------------------------------------------------------------------------------


def rank_changes(
    table: pd.DataFrame,
    metric: str = "posttest_mastery",
    *,
    better: str = "higher",
    tolerance: float = 0.0,
    pairwise: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each strategy's rank per column and whether it changes across columns.

    Strategy ``a`` beats ``b`` in a column when ``pairwise`` (rows ``model, strategy, other,
    difference, ci_low, ci_high`` for ``strategy - other``) says the interval of the difference
    lies entirely on the better side of 0; without ``pairwise``, when its mean is better by more
    than ``tolerance``. A strategy's rank is 1 + the number of strategies that beat it, so
    strategies that cannot be told apart share a rank and noise alone never moves a rank.

    Parameters
    ----------
    table : DataFrame
        Tidy matrix with ``strategy, model, metric, mean``.
    metric : str
    better : {"higher", "lower"}
    tolerance : float
    pairwise : DataFrame, optional

    Returns
    -------
    DataFrame indexed by strategy
        One rank column per model (in ``table`` order), ``rank_min, rank_max`` and
        ``rank_changes`` (True when ``rank_min != rank_max``).
    """
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', got {better!r}")
    sign = 1.0 if better == "higher" else -1.0
    t = table[table["metric"] == metric]
    if t.empty:
        raise ValueError(f"no rows of metric {metric!r} in the table")
    strategies = list(pd.unique(t["strategy"]))
    models = list(pd.unique(t["model"]))
    means = t.pivot(index="strategy", columns="model", values="mean").loc[strategies, models]
    pw = None
    if pairwise is not None:
        pw = pairwise[pairwise["metric"] == metric] if "metric" in pairwise else pairwise
        pw = pw.set_index(["model", "strategy", "other"])
    ranks = pd.DataFrame(index=pd.Index(strategies, name="strategy"), columns=models, dtype=int)
    for m in models:
        for s in strategies:
            beaten_by = 0
            for o in strategies:
                if o == s:
                    continue
                if pw is not None and (m, o, s) in pw.index:
                    row = pw.loc[(m, o, s)]
                    lo, hi = float(row["ci_low"]), float(row["ci_high"])
                    wins = lo > 0 if sign > 0 else hi < 0
                else:
                    wins = sign * (means.loc[o, m] - means.loc[s, m]) > tolerance
                beaten_by += bool(wins)
            ranks.loc[s, m] = 1 + beaten_by
    ranks = ranks.astype(int)
    ranks["rank_min"] = ranks[models].min(axis=1)
    ranks["rank_max"] = ranks[models].max(axis=1)
    ranks["rank_changes"] = ranks["rank_min"] != ranks["rank_max"]
    return ranks


@dataclass(frozen=True)
class RobustEvaluationMatrix:
    """Strategies (rows) x student models (columns), from :func:`robust_evaluation_matrix`.

    Attributes
    ----------
    table : DataFrame
        Tidy: ``strategy, model, metric, n_students, mean, ci_low, ci_high`` (95% intervals over
        students and replications).
    pairwise : DataFrame
        Paired differences ``strategy - other`` per model and metric (same students):
        ``model, strategy, other, metric, difference, ci_low, ci_high, n_students``; the
        intervals are simultaneous over the strategy pairs of a column (Bonferroni).
    ranks : DataFrame
        :func:`rank_changes` of the main metric (``posttest_mastery``) using ``pairwise``.
    outcomes : DataFrame
        The simulated students' outcomes with ``model, replication, strategy``.
    strategies, models : tuple of str
    settings : dict
    notes : tuple of str
        What the comparison assumes (one medium, tutor model, ...).
    seconds : float
    """

    table: pd.DataFrame
    pairwise: pd.DataFrame
    ranks: pd.DataFrame
    outcomes: pd.DataFrame
    strategies: tuple[str, ...]
    models: tuple[str, ...]
    settings: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    def pivot(self, metric: str = "posttest_mastery", *, text: bool = False, digits: int = 3):
        """Strategies x models of one metric: means, or ``"mean [low, high]"`` text."""
        t = self.table[self.table["metric"] == metric]
        if text:
            f = f"{{:.{digits}f}}"
            t = t.assign(
                cell=[
                    f"{f.format(m)} [{f.format(lo)}, {f.format(hi)}]"
                    for m, lo, hi in zip(t["mean"], t["ci_low"], t["ci_high"], strict=True)
                ]
            )
            out = t.pivot(index="strategy", columns="model", values="cell")
        else:
            out = t.pivot(index="strategy", columns="model", values="mean")
        return out.reindex(index=list(self.strategies), columns=list(self.models))

    def rank_changes(self, metric: str = "posttest_mastery", better: str = "higher"):
        """:func:`rank_changes` of another metric (with the paired intervals)."""
        return rank_changes(self.table, metric, better=better, pairwise=self.pairwise)

    def reversals(self, metric: str = "posttest_mastery") -> pd.DataFrame:
        """Pairs of strategies whose order flips across columns, each order being significant.

        Stronger than a rank change: strategy ``a`` beats ``b`` (simultaneous interval above 0)
        under some student models, and ``b`` beats ``a`` under others.

        Returns
        -------
        DataFrame
            ``strategy, other, a_better_in, b_better_in`` (model names, comma-separated); empty
            when the verdict on every pair is the same wherever it is clear.
        """
        pw = self.pairwise[self.pairwise["metric"] == metric]
        rows = []
        names = list(self.strategies)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                d = pw[(pw["strategy"] == a) & (pw["other"] == b)]
                a_wins = d.loc[d["ci_low"] > 0, "model"].tolist()
                b_wins = d.loc[d["ci_high"] < 0, "model"].tolist()
                if a_wins and b_wins:
                    rows.append(
                        {
                            "strategy": a,
                            "other": b,
                            "a_better_in": ", ".join(a_wins),
                            "b_better_in": ", ".join(b_wins),
                        }
                    )
        return pd.DataFrame(rows, columns=["strategy", "other", "a_better_in", "b_better_in"])

    def matrix(self, digits: int = 2) -> pd.DataFrame:
        """The matrix with one text cell per (strategy, model): mastery, opportunities,
        over- and under-practice, each ``mean [low, high]``, plus the rank-change flag."""
        parts = {
            "mastery": self.pivot("posttest_mastery", text=True, digits=digits),
            "opportunities": self.pivot("opportunities", text=True, digits=1),
            "over": self.pivot("over_practice", text=True, digits=1),
            "under": self.pivot("under_practice", text=True, digits=digits),
        }
        cells = pd.DataFrame(index=list(self.strategies), columns=list(self.models), dtype=object)
        for s in self.strategies:
            for m in self.models:
                cells.loc[s, m] = "; ".join(f"{k} {v.loc[s, m]}" for k, v in parts.items())
        cells["rank_changes"] = self.ranks["rank_changes"].reindex(cells.index)
        cells.index.name = "strategy"
        return cells

    def to_markdown(self, digits: int = 3) -> str:
        """One markdown table per metric (``mean [95% CI]``), the ranks and the notes."""
        lines = []
        for metric in REM_METRICS:
            if metric not in set(self.table["metric"]):
                continue
            p = self.pivot(
                metric,
                text=True,
                digits=1 if metric in ("opportunities", "over_practice") else digits,
            )
            lines += [
                f"**{METRIC_LABELS.get(metric, metric)}**",
                "",
                markdown_table(p.reset_index()),
                "",
            ]
        r = self.ranks.reset_index()
        lines += [
            "**rank by post-test mastery** (1 + the strategies that beat it: paired difference "
            "above 0 with simultaneous 95% intervals within the column; `rank_changes` flags a "
            "rank that differs across columns)",
            "",
            markdown_table(r),
            "",
        ]
        rev = self.reversals()
        lines += [
            "**significant reversals** (a pair whose order flips between columns, both ways "
            "significant): "
            + (
                "; ".join(
                    f"{r.strategy} > {r.other} under {r.a_better_in}, "
                    f"{r.other} > {r.strategy} under {r.b_better_in}"
                    for r in rev.itertuples()
                )
                or "none"
            ),
            "",
        ]
        lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines)


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table (index not included)."""
    cols = [str(c) for c in df.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        out.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(out)


def _pairwise(
    outcomes: pd.DataFrame, strategies: Sequence[str], metrics: Sequence[str], confidence: float
) -> pd.DataFrame:
    """Paired differences ``strategy - other`` per model (same simulated students), with
    intervals simultaneous over the strategy pairs of a column (Bonferroni, t quantile)."""
    from scipy import stats

    n_pairs = max(len(strategies) * (len(strategies) - 1) // 2, 1)
    alpha = (1.0 - confidence) / n_pairs
    keys = ["model", "replication", "student_id"]
    rows = []
    for metric in metrics:
        wide = outcomes.pivot_table(index=keys, columns="arm", values=metric, observed=True)
        for model, g in wide.groupby(level="model", sort=False):
            for a in strategies:
                for b in strategies:
                    if a == b:
                        continue
                    d = (g[a] - g[b]).dropna().to_numpy(dtype=float)
                    n = d.size
                    mean = float(d.mean()) if n else np.nan
                    se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
                    q = stats.t.ppf(1 - alpha / 2, n - 1) if n > 1 else np.nan
                    rows.append(
                        {
                            "model": model,
                            "strategy": a,
                            "other": b,
                            "metric": metric,
                            "difference": mean,
                            "ci_low": mean - q * se,
                            "ci_high": mean + q * se,
                            "n_students": n,
                        }
                    )
    return pd.DataFrame(rows)


def _strategies(strategies: Sequence[str | Strategy], params: Mapping[str, Mapping[str, Any]]):
    out = []
    for s in strategies:
        if isinstance(s, Strategy):
            out.append(s.with_params(params.get(s.name)))
        else:
            out.append(builtin_strategy(s, **dict(params.get(s, {}))))
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValueError(f"strategy names must be unique, got {names}")
    return out


def robust_evaluation_matrix(
    models: Mapping[str, StudentModel],
    strategies: Sequence[str | Strategy] = STRATEGY_NAMES,
    n_students: int = 300,
    replications: int = 1,
    seed: int = 0,
    *,
    tutor: str | StudentModel = "bkt",
    log: pd.DataFrame | None = None,
    order: Sequence[Any] | None = None,
    order_by: str = "first_appearance",
    minutes_per_skill: float = 60.0,
    population: PopulationSpec | Mapping[str, Any] | None = None,
    strategy_params: Mapping[str, Mapping[str, Any]] | None = None,
    curriculum_options: Mapping[str, Any] | None = None,
    rank_confidence: float = 0.95,
) -> RobustEvaluationMatrix:
    """Run every strategy on cohorts drawn from every fitted student model.

    In each column (model) and replication one cohort is drawn and every strategy teaches the
    same students with the same random numbers (common random numbers), so the paired
    differences between strategies are precise.

    Parameters
    ----------
    models : mapping of str to StudentModel
        The columns, e.g. from :func:`fit_student_models`; they must share the skills.
    strategies : sequence of str or Strategy
        The rows; names of shipped strategies (:data:`edstudy.sim.STRATEGY_NAMES`) or objects.
    n_students : int
        Students per column and replication.
    replications : int
        Independent cohorts per column.
    seed : int
    tutor : str or StudentModel
        The tutor's beliefs (its BKT parameters) in every column: a key of ``models``
        (default ``"bkt"``, or the first model when there is none) or a model.
        ``"own"`` lets each column's tutor know that column's skill parameters.
    log : DataFrame, optional
        To order the skills by first appearance (see :func:`~edstudy.sim.from_model.skill_order`).
    order : sequence, optional
        Explicit skill order (overrides ``log``/``order_by``).
    order_by : {"first_appearance", "difficulty"}
    minutes_per_skill : float
        Time budget per student: this many minutes per skill (240 s per opportunity by default:
        60 minutes is 15 opportunities per skill, the strategies' own cap).
    population : PopulationSpec or dict, optional
        Non-learning traits; see :func:`~edstudy.sim.from_model.cohort_from_model`.
    strategy_params : dict, optional
        ``{strategy: {param: value}}`` overrides.
    curriculum_options : dict, optional
        Passed to :func:`~edstudy.sim.from_model.curriculum_from_model` (``medium``,
        ``remediation_learn``, ``posttest_items``, ...).
    rank_confidence : float
        Simultaneous level of the paired differences within a column (Bonferroni over the
        strategy pairs), which decide the ranks: with six strategies (15 pairs per column) noise
        alone rarely moves a rank. The cells' own intervals are 95%.

    Returns
    -------
    RobustEvaluationMatrix
    """
    start = time.perf_counter()
    if not models:
        raise ValueError("models must hold at least one fitted student model")
    if int(n_students) < 2 or int(replications) < 1:
        raise ValueError("n_students must be >= 2 and replications >= 1")
    names = list(models)
    skill_sets = {n: set(m.skills) for n, m in models.items()}
    first = skill_sets[names[0]]
    for n in names[1:]:
        if skill_sets[n] != first:
            raise ValueError(
                f"models {names[0]!r} and {n!r} were fitted on different skills; fit every model "
                "on the same log"
            )
    strats = _strategies(strategies, strategy_params or {})
    if isinstance(tutor, StudentModel):
        tutor_model: StudentModel | None = tutor
    elif tutor == "own":
        tutor_model = None
    elif tutor in models:
        tutor_model = models[tutor]
    elif tutor == "bkt":  # no standard BKT among the columns: the first model's beliefs
        tutor_model = models[names[0]]
    else:
        raise ValueError(f"tutor must be 'own', a model or one of {names}, got {tutor!r}")
    reference = tutor_model or models[names[0]]
    if order is None:
        order = (
            skill_order(log, reference, by=order_by)
            if (log is not None or order_by == "difficulty")
            else list(reference.skills)
        )
    copts = dict(curriculum_options or {})
    k = len(order)
    budget = Budget(minutes=float(minutes_per_skill) * k)
    parts = []
    for mi, name in enumerate(names):
        model = models[name]
        cur = curriculum_from_model(model, order=order, tutor=tutor_model or model, **copts)
        for r in range(int(replications)):
            cohort = cohort_from_model(
                model,
                cur,
                int(n_students),
                seed=np.random.SeedSequence([seed, r, mi, 0]),
                population=population,
            )
            for strategy in strats:
                _, out = simulate(
                    cohort,
                    cur,
                    strategy,
                    seed=np.random.SeedSequence([seed, r, mi, 1]),
                    budget=budget,
                    progress=False,
                    validate=False,
                )
                out = out.assign(
                    model=name,
                    replication=r,
                    posttest_mastery=out["mastered_true"] / k,
                    expected_posttest=out["true_expected_posttest"],
                )
                parts.append(out)
    outcomes = pd.concat(parts, ignore_index=True)
    outcomes["arm"] = outcomes["arm"].astype(str)
    outcomes["unit"] = outcomes["student_id"]  # simulated students are independent
    metrics = list(REM_METRICS)
    s = summarize(outcomes, metrics=metrics, by=("model", "arm"), unit="unit")
    table = s.rename(columns={"arm": "strategy"})[
        ["strategy", "model", "metric", "n_students", "mean", "ci_low", "ci_high"]
    ]
    order_s = {st.name: i for i, st in enumerate(strats)}
    order_m = {n: i for i, n in enumerate(names)}
    order_x = {x: i for i, x in enumerate(metrics)}
    table = (
        table.assign(
            _s=table["strategy"].map(order_s),
            _m=table["model"].map(order_m),
            _x=table["metric"].map(order_x),
        )
        .sort_values(["_x", "_s", "_m"])
        .drop(columns=["_s", "_m", "_x"])
        .reset_index(drop=True)
    )
    snames = [st.name for st in strats]
    pairwise = _pairwise(outcomes, snames, ("posttest_mastery", "opportunities"), rank_confidence)
    ranks = rank_changes(table, "posttest_mastery", pairwise=pairwise)
    ranks = ranks[[*names, "rank_min", "rank_max", "rank_changes"]]
    tutor_name = "each column's own model" if tutor_model is None else tutor_model.name
    notes = (
        "Real logs have no media: one neutral medium (text), meshing 0; blended and adaptive "
        "choose among that one medium, so they differ from individualized only by chance.",
        f"The tutor's mastery estimate uses {tutor_name!r} parameters in every column; columns "
        "differ only in how the simulated students learn.",
        "No prerequisites (none are known from the log); remediation activities teach like any "
        f"opportunity; budget {minutes_per_skill:g} minutes per skill (about "
        f"{minutes_per_skill * 60 / copts.get('duration_s', 240.0):.0f} opportunities); "
        "nobody drops out.",
        "Intervals: 95%, over simulated students and replications; fitted parameters are "
        "taken as known.",
    )
    settings = {
        "n_students": int(n_students),
        "replications": int(replications),
        "seed": seed,
        "skills": [str(s) for s in order],
        "tutor": tutor_name,
        "minutes_per_skill": float(minutes_per_skill),
    }
    return RobustEvaluationMatrix(
        table=table,
        pairwise=pairwise,
        ranks=ranks,
        outcomes=outcomes,
        strategies=tuple(snames),
        models=tuple(names),
        settings=settings,
        notes=notes,
        seconds=time.perf_counter() - start,
    )


# --------------------------------------------------------------------------------------------
# 4. Mastery thresholds
# --------------------------------------------------------------------------------------------


def _first_crossing_simulated(
    model: StudentModel,
    thresholds: np.ndarray,
    n_students: int,
    max_opportunities: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Opportunities before a self-traced mastery estimate first reaches each threshold.

    Arrays of shape (T thresholds, n students, K skills): ``opps`` (-1: not within the cap) and
    ``known`` (true state when the policy stops).
    """
    d = model.draw_students(n_students, rng)
    p0, learn, guess, slip, forget = (
        d[x] for x in ("p_known0", "learn", "guess", "slip", "forget")
    )
    known = rng.random(p0.shape) < p0
    est = p0.copy()
    T = len(thresholds)
    opps = np.full((T, *p0.shape), -1, dtype=np.int64)
    known_at = np.zeros((T, *p0.shape), dtype=bool)
    for t in range(max_opportunities + 1):
        hit = (est[None] >= thresholds[:, None, None]) & (opps < 0)
        opps[hit] = t
        known_at |= hit & known[None]
        if t == max_opportunities:
            break
        correct = rng.random(p0.shape) < np.where(known, 1.0 - slip, guess)
        est = update_mastery(est, correct, guess=guess, slip=slip, learn=learn, forget=forget)
        u = rng.random(p0.shape)
        known = np.where(known, u >= forget, u < learn)
    return {"opps": opps, "known": known_at}


def _first_crossing_real(
    model: StudentModel, log: pd.DataFrame, thresholds: np.ndarray
) -> pd.DataFrame:
    """Per real (student, skill) sequence and threshold: answers before the model's estimate
    first reaches the threshold (-1: not within the sequence) and the sequence length."""
    from edstudy.bkt import BKT

    v = log[log["skill_id"].isin(list(model.skills)).to_numpy()]
    v = v[v["correct"].notna().to_numpy()]
    est = BKT.from_params(model.to_bkt_params(), handle_unknown="average")
    after = est.mastery(v)
    frame = pd.DataFrame(
        {
            "student_id": v["student_id"].to_numpy(),
            "skill_id": v["skill_id"].to_numpy(),
            "order": v["order"].to_numpy(),
            "after": after,
        }
    ).sort_values(["skill_id", "student_id", "order"], kind="stable")
    # the estimate before the first answer: the (individualized) prior
    skill_pos = pd.Index(list(model.skills))
    first = frame.drop_duplicates(["skill_id", "student_id"])
    k = skill_pos.get_indexer(first["skill_id"])
    logit_prior = np.log(model.prior[k]) - np.log1p(-model.prior[k])
    if model.student_prior is not None:
        spos = pd.Index(list(model.students)).get_indexer(first["student_id"])
        logit_prior = logit_prior + np.where(spos >= 0, model.student_prior[np.maximum(spos, 0)], 0)
    prior = 1.0 / (1.0 + np.exp(-logit_prior))
    seq = frame.groupby(["skill_id", "student_id"], sort=False, observed=True)
    pos = seq.cumcount().to_numpy() + 1  # answers given when "after" holds
    out = first[["skill_id", "student_id"]].reset_index(drop=True)
    out["length"] = seq.size().to_numpy()
    code = seq.ngroup().to_numpy()
    for thr in thresholds:
        crossed = frame["after"].to_numpy() >= thr
        big = np.where(crossed, pos, np.iinfo(np.int64).max)
        first_pos = np.full(len(out), np.iinfo(np.int64).max)
        np.minimum.at(first_pos, code, big)
        first_pos = np.where(first_pos == np.iinfo(np.int64).max, -1, first_pos)
        first_pos = np.where(prior >= thr, 0, first_pos)
        out[f"thr_{thr:g}"] = first_pos
    return out


def mastery_threshold_analysis(
    models: Mapping[str, StudentModel],
    *,
    log: pd.DataFrame | None = None,
    thresholds: Sequence[float] = (0.8, 0.9, 0.95, 0.98),
    n_students: int = 1000,
    max_opportunities: int = 50,
    seed: int = 0,
) -> pd.DataFrame:
    """Opportunities a mastery-threshold policy gives per skill, under each model and threshold.

    The policy stops practice on a skill when the model's own estimate P(mastered) (traced with
    the student's own parameters where the model has them) first reaches the threshold.

    ``simulated``
        ``n_students`` students drawn from the model practise up to ``max_opportunities`` times;
        ``mean_opportunities`` / ``median_opportunities`` are over the students who reached the
        threshold within the cap (``share_reached``), and ``p_known_at_stop`` is the share of
        them who truly knew the skill when the policy stopped (the threshold's real accuracy).
        With forgetting, the estimate levels off at ``learn / (learn + forget)`` (for a student who
        keeps answering correctly, a little higher), so a high threshold may never be reached.
    ``real``
        The real sequences of ``log`` replayed through the model: the number of real answers
        after which the estimate first reaches the threshold, among the sequences where it does
        (``share_reached``: of all sequences). Real sequences end by the platform's own rule
        (ASSISTments skill builders: three correct in a row), which censors this count.

    Returns
    -------
    DataFrame
        ``source, model, skill_id, threshold, n, share_reached, mean_opportunities,
        median_opportunities, p_known_at_stop`` (the last for ``simulated`` only).
    """
    thr = np.asarray(sorted(float(t) for t in thresholds))
    if thr.size == 0 or np.any((thr <= 0) | (thr >= 1)):
        raise ValueError("thresholds must be numbers strictly between 0 and 1")
    rows = []
    for mi, (name, model) in enumerate(models.items()):
        rng = np.random.default_rng(np.random.SeedSequence([seed, mi, 7]))
        res = _first_crossing_simulated(model, thr, int(n_students), int(max_opportunities), rng)
        for ti, t in enumerate(thr):
            for j, skill in enumerate(model.skills):
                o = res["opps"][ti, :, j]
                reached = o >= 0
                rows.append(
                    {
                        "source": "simulated",
                        "model": name,
                        "skill_id": skill,
                        "threshold": t,
                        "n": int(n_students),
                        "share_reached": float(reached.mean()),
                        "mean_opportunities": float(o[reached].mean()) if reached.any() else np.nan,
                        "median_opportunities": float(np.median(o[reached]))
                        if reached.any()
                        else np.nan,
                        "p_known_at_stop": float(res["known"][ti, reached, j].mean())
                        if reached.any()
                        else np.nan,
                    }
                )
        if log is not None:
            real = _first_crossing_real(model, log, thr)
            for t in thr:
                col = real[f"thr_{t:g}"]
                for skill, g in col.groupby(real["skill_id"], sort=False):
                    reached = g.to_numpy() >= 0
                    vals = g.to_numpy()[reached]
                    rows.append(
                        {
                            "source": "real",
                            "model": name,
                            "skill_id": skill,
                            "threshold": t,
                            "n": len(g),
                            "share_reached": float(reached.mean()),
                            "mean_opportunities": float(vals.mean()) if vals.size else np.nan,
                            "median_opportunities": float(np.median(vals)) if vals.size else np.nan,
                            "p_known_at_stop": np.nan,
                        }
                    )
    return pd.DataFrame(rows)


def threshold_table(
    analysis: pd.DataFrame,
    threshold: float = 0.95,
    *,
    source: str = "simulated",
    digits: int = 1,
) -> pd.DataFrame:
    """Skills x models at one threshold: ``"mean opportunities (share reached)"`` text, ``never``
    when no student reached it."""
    a = analysis[(analysis["source"] == source) & np.isclose(analysis["threshold"], threshold)]
    if a.empty:
        raise ValueError(f"no {source!r} rows at threshold {threshold}")
    cell = [
        "never" if not r > 0 else f"{m:.{digits}f} ({r:.0%})"
        for m, r in zip(a["mean_opportunities"], a["share_reached"], strict=True)
    ]
    out = a.assign(cell=cell).pivot(index="skill_id", columns="model", values="cell")
    return out.reindex(index=list(pd.unique(a["skill_id"])), columns=list(pd.unique(a["model"])))


# --------------------------------------------------------------------------------------------
# The whole pipeline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RealCohortResult:
    """What :func:`run_real_cohort_pipeline` produced, with the time each step took."""

    log: pd.DataFrame
    models: dict[str, StudentModel]
    scores: pd.DataFrame
    matrix: RobustEvaluationMatrix
    thresholds: pd.DataFrame
    timings: dict[str, float]
    settings: dict

    def skill_parameters(self) -> pd.DataFrame:
        """Fitted per-skill parameters of every model (tidy: model, skill_id, parameter...)."""
        parts = [
            m.skill_table().reset_index().assign(model=name) for name, m in self.models.items()
        ]
        out = pd.concat(parts, ignore_index=True)
        return out[["model", "skill_id", "prior", "learn", "guess", "slip", "forget"]]

    def summary(self) -> str:
        sel = self.log.attrs.get("selection", {})
        t = ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items())
        return (
            f"{sel.get('rows_kept', len(self.log)):,} rows, "
            f"{sel.get('students_kept', self.log['student_id'].nunique()):,} students, "
            f"{sel.get('skills_kept', self.log['skill_id'].nunique())} skills; "
            f"models {', '.join(self.models)}; strategies {', '.join(self.matrix.strategies)}; "
            f"timings: {t}"
        )


def run_real_cohort_pipeline(
    log: pd.DataFrame,
    *,
    skills: Sequence[Any] | None = None,
    top_skills: int | None = 5,
    fit_students: int | None = None,
    min_responses: int = 1,
    test_fraction: float = 0.2,
    models: Sequence[str] = MODEL_NAMES,
    strategies: Sequence[str | Strategy] = STRATEGY_NAMES,
    n_students: int = 300,
    replications: int = 1,
    thresholds: Sequence[float] = (0.8, 0.9, 0.95, 0.98),
    threshold_students: int = 1000,
    hbkt_method: str = "advi",
    hbkt_options: Mapping[str, Any] | None = None,
    bkt_options: Mapping[str, Any] | None = None,
    seed: int = 0,
    **matrix_options: Any,
) -> RealCohortResult:
    """Select, fit, score, build the Robust Evaluation Matrix and the threshold analysis.

    Parameters
    ----------
    log : DataFrame
        Any response log.
    skills, top_skills, fit_students, min_responses
        See :func:`select_log` (``fit_students`` is its ``n_students``).
    test_fraction : float
        Students held out to score the models (0: no scoring).
    models : sequence of str
        See :func:`fit_student_models`.
    strategies, n_students, replications
        See :func:`robust_evaluation_matrix`.
    thresholds, threshold_students
        See :func:`mastery_threshold_analysis` (real sequences: the training log).
    hbkt_method, hbkt_options, bkt_options, seed
    **matrix_options
        More options of :func:`robust_evaluation_matrix` (``tutor``, ``minutes_per_skill``, ...).

    Returns
    -------
    RealCohortResult
        ``timings`` in seconds per step: ``select, fit_<model>, score, matrix, thresholds,
        total``.
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    sel = select_log(
        log,
        skills=skills,
        top_skills=None if skills is not None else top_skills,
        n_students=fit_students,
        min_responses=min_responses,
        seed=seed,
    )
    train, test = split_students(sel, test_fraction, seed=seed)
    timings["select"] = time.perf_counter() - t0
    fitted = fit_student_models(
        train,
        models,
        seed=seed,
        hbkt_method=hbkt_method,
        hbkt_options=hbkt_options,
        bkt_options=bkt_options,
    )
    for name, m in fitted.items():
        timings[f"fit_{name}"] = float(m.info["fit_seconds"])
    t = time.perf_counter()
    scores = score_student_models(fitted, test) if len(test) else pd.DataFrame()
    timings["score"] = time.perf_counter() - t
    t = time.perf_counter()
    matrix = robust_evaluation_matrix(
        fitted,
        strategies,
        n_students=n_students,
        replications=replications,
        seed=seed,
        log=train,
        **matrix_options,
    )
    timings["matrix"] = time.perf_counter() - t
    t = time.perf_counter()
    thr = mastery_threshold_analysis(
        fitted, log=train, thresholds=thresholds, n_students=threshold_students, seed=seed
    )
    timings["thresholds"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    settings = {
        "skills": None if skills is None else list(skills),
        "top_skills": top_skills,
        "fit_students": fit_students,
        "test_fraction": test_fraction,
        "models": list(models),
        "n_students": n_students,
        "replications": replications,
        "thresholds": list(thresholds),
        "hbkt_method": hbkt_method,
        "seed": seed,
    }
    return RealCohortResult(
        log=sel,
        models=fitted,
        scores=scores,
        matrix=matrix,
        thresholds=thr,
        timings=timings,
        settings=settings,
    )
