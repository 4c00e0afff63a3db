"""Preferences and the meshing test on simulated students with known truth.

Two questions of the learning-styles debate, asked of data where the answer is known:

**Do surveys predict choices?** :func:`survey_choice_table` reads a fitted learner-preference
model (:func:`edstudy.bayes.fit_preferences`): the ``stated_effect`` (log-odds by which a student
favours the medium they said they prefer), the share of choices that go to the stated medium
against chance, and how often the stated medium is the one a student chose most.

**Does teaching in the preferred medium help?** Pashler et al. (2008) set the bar: students
with different preferences must be *randomized* to media, and the evidence is a preference x
medium interaction. :func:`media_experiment` runs that experiment in the simulator
(:mod:`edstudy.sim`): a cohort is drawn, every student is taught the whole curriculum in each
medium in turn (four runs of the ``one_size`` strategy, one per medium: the potential outcomes),
and each student is then randomly assigned one medium whose run is the one observed. The
observed half is what a real study would see and what the meshing model
(:func:`edstudy.bayes.fit_meshing`) gets; the potential outcomes give the truth:
:func:`true_match_effect` is the match effect the same model would find if every student had been
taught in every medium. :func:`meshing_table` puts estimate and truth side by side.

References
----------
Pashler, H., McDaniel, M., Rohrer, D., & Bjork, R. (2008). Learning styles: Concepts and
evidence. *Psychological Science in the Public Interest*, 9(3), 105-119.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from edstudy._format import markdown_table
from edstudy.bayes.settings import FitSettings, quiet_pymc
from edstudy.sim import PopulationSpec, default_curriculum, draw_cohort, load_strategy, simulate

__all__ = [
    "headline",
    "MediaExperiment",
    "media_experiment",
    "meshing_calibration",
    "meshing_notes",
    "meshing_table",
    "stated_vs_chosen",
    "survey_choice_table",
    "true_match_effect",
]


@dataclass(frozen=True)
class MediaExperiment:
    """A simulated randomized media experiment with its potential outcomes.

    Attributes
    ----------
    log : DataFrame
        The observed response log: each student's rows from the run in their assigned medium.
    outcomes : DataFrame
        The observed outcomes (``pretest, posttest, stated_preference, true_best_medium, ...``)
        plus ``assigned_medium``.
    potential_gains : DataFrame
        ``posttest - pretest`` of every student (rows, ``student_id`` index) in every medium
        (columns): the potential outcomes.
    truth : dict
        ``match_effect`` (w.r.t. the stated preference, :func:`true_match_effect`),
        ``match_effect_best`` (w.r.t. the true best medium), ``meshing_effect`` (the simulator's
        knob: the learning-rate bonus in the true best medium), ``preference_validity``.
    media : tuple of str
    """

    log: pd.DataFrame
    outcomes: pd.DataFrame
    potential_gains: pd.DataFrame
    truth: dict[str, float]
    media: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per student: the observed outcomes and the gain in every medium
        (``gain_<medium>``, the potential outcomes only a simulation knows)."""
        gains = self.potential_gains.add_prefix("gain_")
        return self.outcomes.join(gains, on="student_id")

    def to_markdown(self, digits: int = 3) -> str:
        """The truth of the simulated world: meshing knob, preference validity, match effects."""
        truth = pd.DataFrame({"quantity": list(self.truth), "value": list(self.truth.values())})
        return markdown_table(truth.round(digits))


def true_match_effect(gains: np.ndarray, preference: np.ndarray) -> float:
    """The match effect of the meshing model computed on potential outcomes.

    Fits ``gain[i, m] = student_i + medium_m + match[pref_i] * [m == pref_i]`` by least squares
    on every (student, medium) pair (student fixed effects absorb the preference groups' main
    effects and the pretest) and returns the mean of ``match`` over media, the estimand of
    :func:`edstudy.bayes.meshing_summary`'s ``match_effect``.

    Parameters
    ----------
    gains : float array (n_students, n_media)
    preference : int array (n_students,)
        Medium code of each student's preference (stated or true).
    """
    g = np.asarray(gains, dtype=float)
    pref = np.asarray(preference, dtype=np.int64)
    n, m = g.shape
    if pref.shape != (n,) or pref.min() < 0 or pref.max() >= m:
        raise ValueError("preference must hold one medium code in [0, n_media) per student")
    y = g - g.mean(axis=1, keepdims=True)  # within-student: the fixed effects drop out
    eye = np.eye(m)
    medium = eye[None, :, :] - 1.0 / m  # (1, m media, m columns), demeaned dummies
    medium = np.broadcast_to(medium, (n, m, m))
    match = np.zeros((n, m, m))
    match[np.arange(n), pref, pref] = 1.0
    match -= match.mean(axis=1, keepdims=True)
    x = np.concatenate([medium[:, :, 1:], match], axis=2).reshape(n * m, -1)
    coef, *_ = np.linalg.lstsq(x, y.reshape(-1), rcond=None)
    return float(coef[m - 1 :].mean())


def media_experiment(
    n_students: int,
    meshing_effect: float,
    *,
    seed: int,
    preference_validity: float = 0.7,
    practice_count: int = 6,
    population: Mapping[str, Any] | None = None,
) -> MediaExperiment:
    """Simulate a randomized media experiment (students randomized to one medium each).

    Parameters
    ----------
    n_students : int
    meshing_effect : float
        The simulator's meshing knob: an opportunity in a student's true best medium multiplies
        their learning rate by ``1 + meshing_effect`` (0: media matched to preferences teach no
        better).
    seed : int
        One seed for the cohort, the four runs and the assignment.
    preference_validity : float
        P(stated preference == true best medium).
    practice_count : int
        Opportunities per skill (the ``one_size`` strategy: the same practice for everybody, so
        only the medium differs between arms).
    population : mapping, optional
        Other :class:`edstudy.sim.PopulationSpec` fields.

    Returns
    -------
    MediaExperiment
    """
    cur = default_curriculum()
    media = tuple(cur.media)
    spec = PopulationSpec(
        **{
            **dict(population or {}),
            "meshing_effect": float(meshing_effect),
            "preference_validity": float(preference_validity),
        }
    )
    seeds = np.random.SeedSequence(seed).spawn(len(media) + 2)
    cohort = draw_cohort(spec, cur, n_students, seed=seeds[0])
    base = load_strategy("one_size")
    logs, gains, outs = [], [], []
    for k, medium in enumerate(media):
        strategy = base.with_params({"teacher_medium": medium, "practice_count": practice_count})
        log, out = simulate(cohort, cur, strategy, seed=seeds[k + 1], arm=f"all_{medium}")
        logs.append(log)
        outs.append(out)
        gains.append((out["posttest"] - out["pretest"]).to_numpy(dtype=float))
    g = np.stack(gains, axis=1)
    rng = np.random.default_rng(seeds[-1])
    assigned = rng.permutation(n_students) % len(media)  # balanced randomization by student
    ids = outs[0]["student_id"].to_numpy()
    obs_log = pd.concat(
        [logs[k][logs[k]["student_id"].isin(ids[assigned == k])] for k in range(len(media))],
        ignore_index=True,
    )
    obs_log["arm"] = obs_log["arm"].astype(str)
    obs_out = pd.concat(
        [outs[k][assigned == k] for k in range(len(media))], ignore_index=True
    ).assign(assigned_medium=lambda d: d["arm"].str.removeprefix("all_"))
    obs_out = obs_out.sort_values("student_id", kind="stable").reset_index(drop=True)
    obs_log = obs_log.sort_values(["student_id", "order"], kind="stable").reset_index(drop=True)
    code = {m: i for i, m in enumerate(media)}
    stated = outs[0]["stated_preference"].map(code).to_numpy()
    best = outs[0]["true_best_medium"].map(code).to_numpy()
    truth = {
        "meshing_effect": float(meshing_effect),
        "preference_validity": float(preference_validity),
        "match_effect": true_match_effect(g, stated),
        "match_effect_best": true_match_effect(g, best),
    }
    potential = pd.DataFrame(g, columns=list(media), index=pd.Index(ids, name="student_id"))
    return MediaExperiment(
        log=obs_log, outcomes=obs_out, potential_gains=potential, truth=truth, media=media
    )


def survey_choice_table(
    idata: Any,
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    interval: float = 0.9,
    truth: float | None = None,
) -> pd.DataFrame:
    """How much a survey's stated preference predicts the media students choose.

    Parameters
    ----------
    idata : InferenceData
        From :func:`edstudy.bayes.fit_preferences`.
    log, outcomes : DataFrame
        The data it was fitted to (``chosen`` rows with an ``activity``; ``stated_preference``).
    interval : float
    truth : float, optional
        The true ``stated_effect`` (simulated data).

    Returns
    -------
    DataFrame indexed by measure, columns ``value, lower, upper``:
    ``stated_effect (log-odds)`` (posterior mean and interval, plus ``truth`` when given),
    ``odds ratio``, ``share of choices in the stated medium`` (observed) and ``chance``
    (1 / number of media), ``model: P(choose stated medium)`` (posterior mean over students),
    ``stated medium = most-chosen medium`` (share of students, ties split).
    """
    from edstudy.bayes.preference import stated_effect_summary

    s = stated_effect_summary(idata, interval=interval).loc["stated_effect"]
    media = list(idata.posterior["medium"].to_numpy())
    chosen = log[log["chosen"].fillna(False).astype(bool) & log["activity"].notna()]
    counts = pd.crosstab(chosen["student_id"], chosen["activity"].astype(str)).reindex(
        columns=media, fill_value=0
    )
    stated = outcomes.set_index("student_id")["stated_preference"].reindex(counts.index)
    has = stated.isin(media).to_numpy()
    counts, stated = counts[has], stated[has]
    code = pd.Index(media).get_indexer(stated.astype(str))
    c = counts.to_numpy(dtype=float)
    rows = np.arange(len(c))
    share_stated = c[rows, code].sum() / c.sum()
    top = c == c.max(axis=1, keepdims=True)
    hit = (top[rows, code] / top.sum(axis=1)).mean()
    pref = idata.posterior["preference"].mean(("chain", "draw"))
    p = pref.sel(student=list(counts.index)).to_numpy()
    p_stated = float(p[rows, code].mean())
    table = pd.DataFrame(
        {
            "value": [
                s["mean"],
                np.exp(s["mean"]),
                share_stated,
                1.0 / len(media),
                p_stated,
                hit,
            ],
            "lower": [s["lower"], np.exp(s["lower"]), np.nan, np.nan, np.nan, np.nan],
            "upper": [s["upper"], np.exp(s["upper"]), np.nan, np.nan, np.nan, np.nan],
        },
        index=pd.Index(
            [
                "stated_effect (log-odds)",
                "odds ratio",
                "share of choices in the stated medium",
                "chance (1 / media)",
                "model: P(choose stated medium)",
                "stated medium = most-chosen medium",
            ],
            name="measure",
        ),
    )
    if truth is not None:
        table["truth"] = [truth, np.exp(truth), np.nan, np.nan, np.nan, np.nan]
    return table


def meshing_table(
    fits: Mapping[str, tuple[Any, MediaExperiment]], *, interval: float = 0.9
) -> pd.DataFrame:
    """The meshing model's answer beside the simulator's truth, one row per cohort.

    Parameters
    ----------
    fits : mapping of cohort name to (InferenceData, MediaExperiment)
    interval : float

    Returns
    -------
    DataFrame indexed by cohort: ``meshing_effect`` (simulator knob), ``true_match``
    (:func:`true_match_effect`, gain units), ``estimate, lower, upper, p_positive`` (posterior of
    ``match_effect``), ``covers_zero``, ``covers_truth``, ``detected`` (interval entirely above
    0), ``n_students``.
    """
    from edstudy.bayes.meshing import meshing_summary

    rows = {}
    for name, (idata, exp) in fits.items():
        s = meshing_summary(idata, interval=interval).loc["match_effect"]
        truth = exp.truth["match_effect"]
        rows[name] = {
            "meshing_effect": exp.truth["meshing_effect"],
            "true_match": truth,
            "estimate": s["mean"],
            "lower": s["lower"],
            "upper": s["upper"],
            "p_positive": s["p_positive"],
            "covers_zero": bool(s["lower"] <= 0 <= s["upper"]),
            "covers_truth": bool(s["lower"] <= truth <= s["upper"]),
            "detected": bool(s["lower"] > 0),
            "n_students": int(idata.posterior.sizes.get("student", len(exp.outcomes))),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "cohort"
    return out


def stated_vs_chosen(log: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Share of choices of each medium among the students who stated each preference.

    Returns
    -------
    DataFrame
        ``stated, chosen, share, n_students`` (shares sum to 1 within a stated preference);
        media in sorted order.
    """
    chosen = log[log["chosen"].fillna(False).astype(bool) & log["activity"].notna()]
    stated = outcomes.drop_duplicates("student_id").set_index("student_id")["stated_preference"]
    frame = pd.DataFrame(
        {
            "stated": chosen["student_id"].map(stated).astype(object),
            "chosen": chosen["activity"].astype(str),
        }
    ).dropna()
    media = sorted(set(frame["chosen"]) | set(frame["stated"].astype(str)))
    counts = pd.crosstab(frame["stated"].astype(str), frame["chosen"]).reindex(
        index=media, columns=media, fill_value=0
    )
    share = counts.div(counts.sum(axis=1).where(lambda s: s > 0), axis=0)
    n = stated[stated.index.isin(chosen["student_id"])].astype(str).value_counts()
    out = share.rename_axis(index="stated", columns="chosen").stack().rename("share").reset_index()
    out["n_students"] = out["stated"].map(n).fillna(0).astype(int)
    return out


def meshing_calibration(
    n_students: int,
    meshing_effects: Mapping[str, float],
    replications: int,
    *,
    seed: int,
    interval: float = 0.95,
    settings: FitSettings | None = None,
) -> pd.DataFrame:
    """Repeat the media experiment and the meshing test on independent cohorts.

    Parameters
    ----------
    n_students : int
    meshing_effects : mapping of cohort name to the simulator's meshing effect
    replications : int
        Cohorts per meshing effect (seeds ``seed + 1000 * r``).
    seed : int
    interval : float
    settings : FitSettings, optional
        How :func:`edstudy.bayes.fit_meshing` fits each cohort (default: its own default).

    Returns
    -------
    DataFrame, one row per cohort name
        ``meshing_effect, replications, mean_true_match, mean_estimate, covers_zero,
        covers_truth, detected`` (the last three are shares of replications; ``detected``:
        interval entirely above 0).
    """
    from edstudy.bayes.meshing import fit_meshing

    rows = []
    for name, effect in meshing_effects.items():
        for r in range(int(replications)):
            exp = media_experiment(n_students, effect, seed=seed + 1000 * (r + 1))
            with quiet_pymc():
                idata = fit_meshing(
                    exp.log, exp.outcomes, media=list(exp.media), settings=settings, seed=seed + r
                )
            row = meshing_table({name: (idata, exp)}, interval=interval).iloc[0]
            rows.append({"cohort": name, **row.to_dict()})
    t = pd.DataFrame(rows)
    out = t.groupby("cohort", sort=False).agg(
        meshing_effect=("meshing_effect", "first"),
        replications=("estimate", "size"),
        mean_true_match=("true_match", "mean"),
        mean_estimate=("estimate", "mean"),
        covers_zero=("covers_zero", "mean"),
        covers_truth=("covers_truth", "mean"),
        detected=("detected", "mean"),
    )
    return out


def meshing_notes(table: pd.DataFrame, *, interval: float = 0.95) -> str:
    """Plain-language reading (markdown) of a :func:`meshing_table`."""
    lines = []
    for name, r in table.iterrows():
        where = (
            "includes 0: these data give no support to meshing"
            if r["covers_zero"]
            else (
                "lies above 0: students taught in the medium they said they prefer gained more"
                if r["lower"] > 0
                else "lies below 0: students taught in their stated medium gained less"
            )
        )
        truth = "includes" if r["covers_truth"] else "misses"
        zero = " (0 up to chance, as there is no meshing)" if r["meshing_effect"] == 0 else ""
        lines.append(
            f"- **{name}** (simulator's meshing effect {r['meshing_effect']:g}): estimated match "
            f"effect {r['estimate']:+.3f} (proportion correct), {interval:.0%} interval "
            f"[{r['lower']:+.3f}, {r['upper']:+.3f}], which {where}. The truth, computed from "
            f"every student's outcome in every medium, is {r['true_match']:+.3f} for this cohort"
            f"{zero}; the interval {truth} it."
        )
    return "\n".join(lines)


def headline(table: pd.DataFrame) -> str:
    """One sentence: what the meshing test concluded in each simulated world, beside the truth.

    ``table`` is :func:`meshing_table`: a match effect is called found when its interval lies
    above 0.
    """
    parts = []
    for name, r in table.iterrows():
        found = "finds a match effect" if r["lower"] > 0 else "finds no match effect"
        parts.append(
            f"where {name} {found} ({r['estimate']:+.3f} [{r['lower']:+.3f}, {r['upper']:+.3f}]; "
            f"true {r['true_match']:+.3f})"
        )
    return "The meshing test " + "; ".join(parts) + "."
