"""Learner-preference model: hierarchical multinomial logit of media choices.

Model
-----
Student ``i`` in class ``c`` chooses among media ``m`` (video, audio, hands_on, text, ...) with
probabilities ``softmax(eta_i)``::

    eta_im = baseline[m] + class_effect[c, m] + sigma_student * student_raw[i, m]
             + stated_effect * [stated_i == m] + sum_q interest_iq * slope[q, m]
    baseline ~ ZeroSumNormal(baseline_sd)                       (over media)
    class_effect = sigma_class * ZeroSumNormal(1)               (class pooling)
    student_raw ~ ZeroSumNormal(1)                              (student pooling, non-centred)
    stated_effect ~ Normal(0, stated_sd)
    choices_i ~ Multinomial(n_i, softmax(eta_i))

``stated_effect`` is the answer to "how much do surveys predict choices": the log-odds by which a
student favours the medium they said they prefer, over and above their class and the population.
Interest (survey) covariates are standardized; their slopes are zero-sum over media.
"""

from __future__ import annotations

from collections.abc import Sequence

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from edstudy.bayes._sampling import fit_model, summarize
from edstudy.bayes.priors import PreferencePriors
from edstudy.bayes.settings import FitSettings

__all__ = [
    "PreferenceData",
    "build_preference_model",
    "fit_preferences",
    "preference_data",
    "preference_summary",
    "stated_effect_summary",
]


class PreferenceData:
    """Choice counts and survey predictors, one row per student.

    Attributes
    ----------
    counts : int64 array, shape (n_students, n_media)
        Number of times each student chose each medium.
    stated : int64 array, shape (n_students,)
        Code of the stated preference, -1 when missing or not one of the media.
    class_code : int64 array, shape (n_students,)
    covariates : float64 array, shape (n_students, n_covariates)
        Standardized interest columns (missing values set to 0, the mean).
    students, media, classes, covariate_names : Index
    """

    def __init__(
        self,
        *,
        counts: np.ndarray,
        stated: np.ndarray,
        class_code: np.ndarray,
        covariates: np.ndarray,
        students: pd.Index,
        media: pd.Index,
        classes: pd.Index,
        covariate_names: pd.Index,
    ) -> None:
        self.counts = counts
        self.stated = stated
        self.class_code = class_code
        self.covariates = covariates
        self.students = students
        self.media = media
        self.classes = classes
        self.covariate_names = covariate_names


def _require(df: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{table} is missing column(s) {missing}")


def preference_data(
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    media: Sequence[str] | None = None,
    stated_column: str = "stated_preference",
    interest_columns: Sequence[str] = (),
) -> PreferenceData:
    """Count each student's chosen media and line up the survey answers.

    Parameters
    ----------
    log : DataFrame
        Response log with ``student_id, activity, chosen``; rows with ``chosen`` true and an
        ``activity`` are the observed choices.
    outcomes : DataFrame
        One row per student with ``student_id``, ``stated_column`` (a medium, or missing) and
        optionally ``class_id`` and the ``interest_columns`` (numbers).
    media : sequence of str, optional
        The choice set; default the sorted media of the observed choices. A stated preference
        outside it counts as missing.
    stated_column : str
    interest_columns : sequence of str

    Returns
    -------
    PreferenceData
        Students are the union of the outcomes' students and the choosers. A chosen medium not in
        ``media`` raises ``ValueError`` naming it.
    """
    _require(log, "response log", ["student_id", "activity", "chosen"])
    _require(outcomes, "outcomes", ["student_id", stated_column, *interest_columns])
    chosen_mask = log["chosen"].fillna(False).astype(bool) & log["activity"].notna()
    choices = log.loc[chosen_mask.to_numpy(), ["student_id", "activity"]]
    if media is None:
        media_index = pd.Index(sorted(pd.unique(choices["activity"].astype(str))))
    else:
        media_index = pd.Index(list(media))
    if len(media_index) < 2:
        raise ValueError(f"need at least 2 media to model choices, got {list(media_index)}")
    unknown = sorted(set(choices["activity"].astype(str)) - set(media_index))
    if unknown:
        raise ValueError(f"chosen activity not in media {list(media_index)}: {unknown[:5]}")
    students = pd.Index(
        pd.unique(pd.concat([outcomes["student_id"], choices["student_id"]]).to_numpy())
    )
    s_code = students.get_indexer(choices["student_id"])
    m_code = media_index.get_indexer(choices["activity"].astype(str))
    counts = np.zeros((len(students), len(media_index)), dtype=np.int64)
    np.add.at(counts, (s_code, m_code), 1)

    out = outcomes.set_index("student_id")
    if not out.index.is_unique:
        raise ValueError("outcomes must have one row per student_id")
    out = out.reindex(students)
    stated = np.full(len(students), -1, dtype=np.int64)
    st = out[stated_column]
    has = st.notna().to_numpy()
    stated[has] = media_index.get_indexer(st[has].astype(str))

    if "class_id" in out.columns and out["class_id"].notna().any():
        klass = out["class_id"]
    elif "class_id" in log.columns:
        first = log.dropna(subset=["class_id"]).drop_duplicates("student_id")
        klass = first.set_index("student_id")["class_id"].reindex(students)
    else:
        klass = pd.Series("all", index=students)
    klass = klass.astype(object).where(klass.notna(), "unknown")
    class_code, classes = pd.factorize(klass.astype(str), sort=True)

    cov = np.zeros((len(students), len(interest_columns)))
    for q, name in enumerate(interest_columns):
        x = pd.to_numeric(out[name], errors="coerce").to_numpy(dtype=float)
        mu, sd = np.nanmean(x), np.nanstd(x)
        cov[:, q] = np.nan_to_num((x - mu) / (sd if sd > 0 else 1.0))
    return PreferenceData(
        counts=counts,
        stated=stated,
        class_code=class_code.astype(np.int64),
        covariates=cov,
        students=students,
        media=media_index,
        classes=pd.Index(classes),
        covariate_names=pd.Index(list(interest_columns)),
    )


def build_preference_model(
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    media: Sequence[str] | None = None,
    stated_column: str = "stated_preference",
    interest_columns: Sequence[str] = (),
    priors: PreferencePriors | None = None,
) -> pm.Model:
    """Build the hierarchical multinomial-logit preference model (see the module docstring).

    Returns
    -------
    pymc.Model
        Coords ``student``, ``medium``, ``class`` (and ``covariate``). Variables ``baseline``
        (medium), ``stated_effect``, ``sigma_class``, ``sigma_student``, ``class_effect`` (class,
        medium), ``student_raw`` (student, medium), ``interest_slope`` (covariate, medium) and the
        deterministic ``preference`` (student, medium): each student's choice probabilities.
    """
    p = priors if priors is not None else PreferencePriors()
    d = preference_data(
        log, outcomes, media=media, stated_column=stated_column, interest_columns=interest_columns
    )
    coords = {
        "student": list(d.students),
        "medium": list(d.media),
        "class": list(d.classes),
    }
    if len(d.covariate_names):
        coords["covariate"] = list(d.covariate_names)
    stated_onehot = np.zeros(d.counts.shape)
    has = d.stated >= 0
    stated_onehot[np.flatnonzero(has), d.stated[has]] = 1.0
    n_choices = d.counts.sum(axis=1)
    observed = np.flatnonzero(n_choices > 0)
    with pm.Model(coords=coords) as model:
        baseline = pm.ZeroSumNormal("baseline", sigma=p.baseline_sd, dims="medium")
        stated_effect = pm.Normal("stated_effect", 0.0, p.stated_sd)
        sigma_class = pm.HalfNormal("sigma_class", p.class_sd_scale)
        sigma_student = pm.HalfNormal("sigma_student", p.student_sd_scale)
        class_raw = pm.ZeroSumNormal("class_raw", sigma=1.0, dims=("class", "medium"))
        class_effect = pm.Deterministic(
            "class_effect", sigma_class * class_raw, dims=("class", "medium")
        )
        student_raw = pm.ZeroSumNormal("student_raw", sigma=1.0, dims=("student", "medium"))
        eta = (
            baseline[None, :]
            + class_effect[d.class_code]
            + sigma_student * student_raw
            + stated_effect * stated_onehot
        )
        if len(d.covariate_names):
            slope = pm.ZeroSumNormal(
                "interest_slope", sigma=p.covariate_sd, dims=("covariate", "medium")
            )
            eta = eta + pm.math.dot(d.covariates, slope)
        prob = pm.Deterministic(
            "preference", pm.math.softmax(eta, axis=-1), dims=("student", "medium")
        )
        pm.Multinomial(
            "choices",
            n=n_choices[observed],
            p=prob[observed],
            observed=d.counts[observed],
        )
    return model


def fit_preferences(
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    media: Sequence[str] | None = None,
    stated_column: str = "stated_preference",
    interest_columns: Sequence[str] = (),
    priors: PreferencePriors | None = None,
    settings: FitSettings | None = None,
    seed: int | None = None,
) -> az.InferenceData:
    """Fit the learner-preference model; see :func:`build_preference_model`.

    Parameters
    ----------
    log, outcomes, media, stated_column, interest_columns, priors
        See :func:`preference_data` and :func:`build_preference_model`.
    settings : FitSettings, optional
        How to fit (default ``FitSettings()``: NUTS, 4 chains of 1000 draws).
    seed : int, optional

    Returns
    -------
    InferenceData
        Coords ``student, medium, class``; ``attrs["model"] == "learner_preference"``.
    """
    model = build_preference_model(
        log,
        outcomes,
        media=media,
        stated_column=stated_column,
        interest_columns=interest_columns,
        priors=priors,
    )
    idata = fit_model(model, settings, seed=seed)
    idata.attrs["model"] = "learner_preference"
    return idata


def preference_summary(idata: az.InferenceData, *, interval: float = 0.9) -> pd.DataFrame:
    """Each student's posterior media preference (choice probability).

    Returns
    -------
    DataFrame, one row per (student, medium)
        ``student_id, medium, mean, lower, upper`` (equal-tailed ``interval``).
    """
    x = idata.posterior["preference"]
    q = [(1 - interval) / 2, (1 + interval) / 2]
    mean = x.mean(("chain", "draw")).to_numpy()
    lo, hi = (
        x.quantile(q, dim=("chain", "draw")).transpose("quantile", "student", "medium").to_numpy()
    )
    students = x["student"].to_numpy()
    media = x["medium"].to_numpy()
    ii, mm = np.meshgrid(np.arange(len(students)), np.arange(len(media)), indexing="ij")
    return pd.DataFrame(
        {
            "student_id": students[ii.ravel()],
            "medium": media[mm.ravel()],
            "mean": mean.ravel(),
            "lower": lo.ravel(),
            "upper": hi.ravel(),
        }
    )


def stated_effect_summary(idata: az.InferenceData, *, interval: float = 0.9) -> pd.DataFrame:
    """How much the survey predicts choices, and how much students and classes differ.

    Returns
    -------
    DataFrame indexed by ``stated_effect, sigma_class, sigma_student`` with ``mean, sd, lower,
    upper, p_positive``.
    """
    return summarize(idata, ["stated_effect", "sigma_class", "sigma_student"], interval=interval)
