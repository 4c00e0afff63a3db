"""The meshing test: does teaching in a student's preferred medium improve learning?

The "learning styles" meshing hypothesis (Pashler et al. 2008) predicts a preference x medium
interaction: students learn more when instruction matches their preferred medium. This model
regresses each student's learning gain (``posttest - pretest``) on the media of their activities
and their stated preference, with the interaction as a partially pooled match effect per medium.

Model
-----
With ``share[i, m]`` the fraction of student ``i``'s activities in medium ``m`` and ``pref_i`` the
stated preference::

    gain_i ~ Normal(mu_i, sigma)
    mu_i = intercept + share_i . medium_effect + preference_effect[pref_i]
           + match_by_medium[pref_i] * share[i, pref_i]
           + pretest_slope * (pretest_i - mean pretest) + class_effect[class_i]
    medium_effect, preference_effect ~ ZeroSumNormal(effect_sd)        (main effects)
    match_by_medium = match_mu + match_spread * raw,  raw ~ Normal(0, 1) (interaction, pooled)
    match_effect = mean over media of match_by_medium                   (the answer)

``match_effect`` is the expected gain difference between a student taught entirely in their
preferred medium and one taught entirely in other media, after the media's and the preference
groups' own main effects: its interval covering 0 means the data give no support to meshing.
"""

from __future__ import annotations

from collections.abc import Sequence

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from edstudy.bayes._sampling import fit_model, summarize
from edstudy.bayes.priors import MeshingPriors
from edstudy.bayes.settings import FitSettings

__all__ = [
    "MeshingData",
    "build_meshing_model",
    "fit_meshing",
    "meshing_data",
    "meshing_summary",
]


class MeshingData:
    """Per-student inputs of the meshing model.

    Attributes
    ----------
    gain : float64 array, shape (n_students,)
    share : float64 array, shape (n_students, n_media)
        Fraction of the student's activities in each medium (rows sum to 1).
    preference : int64 array, shape (n_students,)
        Code of the stated preference.
    pretest : float64 array, shape (n_students,)
        Centred pretest (zeros when not adjusted).
    class_code : int64 array, shape (n_students,)
    students, media, classes : Index
    dropped : dict[str, int]
        Students left out and why (missing test score, preference or activities).
    """

    def __init__(self, **fields: object) -> None:
        self.__dict__.update(fields)


def meshing_data(
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    media: Sequence[str] | None = None,
    stated_column: str = "stated_preference",
    adjust_pretest: bool = True,
) -> MeshingData:
    """Line up gains, media shares and stated preferences per student.

    Parameters
    ----------
    log : DataFrame
        Response log with ``student_id, activity``; every row with an ``activity`` counts as
        instruction in that medium.
    outcomes : DataFrame
        ``student_id, pretest, posttest, stated_column`` and optionally ``class_id``.
    media : sequence of str, optional
        Default: the sorted media of the log's activities.
    stated_column : str
    adjust_pretest : bool
        Include the centred pretest as a covariate (gains regress to the mean).

    Returns
    -------
    MeshingData
        Students without both test scores, a stated preference among ``media`` or any activity
        are dropped and counted in ``dropped``.
    """
    for table, df, cols in (
        ("response log", log, ["student_id", "activity"]),
        ("outcomes", outcomes, ["student_id", "pretest", "posttest", stated_column]),
    ):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{table} is missing column(s) {missing}")
    acts = log.loc[log["activity"].notna().to_numpy(), ["student_id", "activity"]]
    acts = acts.assign(activity=acts["activity"].astype(str))
    if media is None:
        media_index = pd.Index(sorted(pd.unique(acts["activity"])))
    else:
        media_index = pd.Index(list(media))
    if len(media_index) < 2:
        raise ValueError(f"need at least 2 media, got {list(media_index)}")
    unknown = sorted(set(acts["activity"]) - set(media_index))
    if unknown:
        raise ValueError(f"activity not in media {list(media_index)}: {unknown[:5]}")
    counts = pd.crosstab(acts["student_id"], acts["activity"]).reindex(
        columns=media_index, fill_value=0
    )
    out = outcomes.drop_duplicates("student_id").set_index("student_id")
    dropped: dict[str, int] = {}
    no_scores = out["pretest"].isna() | out["posttest"].isna()
    dropped["missing pretest or posttest"] = int(no_scores.sum())
    out = out[~no_scores]
    pref = media_index.get_indexer(
        out[stated_column].astype(object).where(out[stated_column].notna(), None)
    )
    no_pref = pref < 0
    dropped[f"{stated_column} missing or not a medium"] = int(no_pref.sum())
    out = out[~no_pref]
    pref = pref[~no_pref]
    has_acts = out.index.isin(counts.index)
    dropped["no activity in the log"] = int((~has_acts).sum())
    out, pref = out[has_acts], pref[has_acts]
    if len(out) < 3:
        raise ValueError(f"only {len(out)} students have scores, a preference and activities")
    c = counts.reindex(out.index).to_numpy(dtype=float)
    share = c / c.sum(axis=1, keepdims=True)
    pretest = out["pretest"].to_numpy(dtype=float)
    gain = out["posttest"].to_numpy(dtype=float) - pretest
    pre = pretest - pretest.mean() if adjust_pretest else np.zeros_like(pretest)
    if "class_id" in out.columns:
        klass = out["class_id"].astype(object).where(out["class_id"].notna(), "unknown").astype(str)
    else:
        klass = pd.Series("all", index=out.index)
    class_code, classes = pd.factorize(klass, sort=True)
    return MeshingData(
        gain=gain,
        share=share,
        preference=pref.astype(np.int64),
        pretest=pre,
        class_code=class_code.astype(np.int64),
        students=pd.Index(out.index),
        media=media_index,
        classes=pd.Index(classes),
        dropped=dropped,
    )


def build_meshing_model(
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    media: Sequence[str] | None = None,
    stated_column: str = "stated_preference",
    adjust_pretest: bool = True,
    priors: MeshingPriors | None = None,
) -> pm.Model:
    """Build the meshing model (see the module docstring).

    Returns
    -------
    pymc.Model
        Coords ``student, medium, class``. Variables ``intercept, medium_effect (medium),
        preference_effect (medium), match_mu, match_spread, match_by_medium (medium),
        match_effect, pretest_slope, sigma_class, class_effect (class), sigma``.
    """
    p = priors if priors is not None else MeshingPriors()
    d = meshing_data(
        log, outcomes, media=media, stated_column=stated_column, adjust_pretest=adjust_pretest
    )
    n = len(d.students)
    matched_share = d.share[np.arange(n), d.preference]
    coords = {"student": list(d.students), "medium": list(d.media), "class": list(d.classes)}
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("intercept", 0.0, p.intercept_sd)
        medium_effect = pm.ZeroSumNormal("medium_effect", sigma=p.effect_sd, dims="medium")
        preference_effect = pm.ZeroSumNormal("preference_effect", sigma=p.effect_sd, dims="medium")
        match_mu = pm.Normal("match_mu", 0.0, p.effect_sd)
        match_spread = pm.HalfNormal("match_spread", p.match_spread_scale)
        match_raw = pm.Normal("match_raw", 0.0, 1.0, dims="medium")
        match_by_medium = pm.Deterministic(
            "match_by_medium", match_mu + match_spread * match_raw, dims="medium"
        )
        pm.Deterministic("match_effect", match_by_medium.mean())
        pretest_slope = pm.Normal("pretest_slope", 0.0, 1.0)
        sigma_class = pm.HalfNormal("sigma_class", p.class_sd_scale)
        class_raw = pm.Normal("class_raw", 0.0, 1.0, dims="class")
        class_effect = pm.Deterministic("class_effect", sigma_class * class_raw, dims="class")
        sigma = pm.HalfNormal("sigma", p.noise_sd_scale)
        mu = (
            intercept
            + pm.math.dot(d.share, medium_effect)
            + preference_effect[d.preference]
            + match_by_medium[d.preference] * matched_share
            + pretest_slope * d.pretest
            + class_effect[d.class_code]
        )
        pm.Normal("gain", mu=mu, sigma=sigma, observed=d.gain, dims="student")
    model.meshing_dropped = d.dropped  # type: ignore[attr-defined]
    return model


def fit_meshing(
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    media: Sequence[str] | None = None,
    stated_column: str = "stated_preference",
    adjust_pretest: bool = True,
    priors: MeshingPriors | None = None,
    settings: FitSettings | None = None,
    seed: int | None = None,
) -> az.InferenceData:
    """Fit the meshing model; ``meshing_summary`` answers "does the preferred medium help?".

    Parameters
    ----------
    log, outcomes, media, stated_column, adjust_pretest, priors
        See :func:`meshing_data` and :func:`build_meshing_model`.
    settings : FitSettings, optional
        How to fit (default NUTS, 4 chains of 1000 draws, ``target_accept=0.95``).
    seed : int, optional

    Returns
    -------
    InferenceData
        ``attrs["model"] == "meshing"``; ``attrs["dropped_*"]`` count the students left out.
    """
    model = build_meshing_model(
        log,
        outcomes,
        media=media,
        stated_column=stated_column,
        adjust_pretest=adjust_pretest,
        priors=priors,
    )
    if settings is None:
        settings = FitSettings(target_accept=0.95)
    idata = fit_model(model, settings, seed=seed)
    idata.attrs["model"] = "meshing"
    for reason, count in model.meshing_dropped.items():  # type: ignore[attr-defined]
        idata.attrs[f"dropped: {reason}"] = count
    return idata


def meshing_summary(idata: az.InferenceData, *, interval: float = 0.9) -> pd.DataFrame:
    """The meshing answer: the match effect (overall and per medium) with intervals.

    Returns
    -------
    DataFrame indexed by ``match_effect``, ``match_by_medium[<medium>]``, ``match_spread``, with
    ``mean, sd, lower, upper, p_positive`` (``p_positive``: posterior probability that teaching in
    the preferred medium helps).
    """
    return summarize(idata, ["match_effect", "match_by_medium", "match_spread"], interval=interval)
