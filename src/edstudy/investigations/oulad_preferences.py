"""Preferences on real data: OULAD activity-type preferences and their relation to outcomes.

OULAD (observational)
    Students of the Open University choose freely among the course's resources. Counting each
    student's choices of activity type (``oucontent`` course pages, ``forumng`` forums,
    ``quiz``, ``resource`` files, ``url`` links; navigation pages left out) in the first weeks of
    the course gives a revealed preference. :func:`fit_oulad_preferences` estimates it with the
    hierarchical multinomial-logit preference model of :mod:`edstudy.bayes` (students pooled
    within their module presentation; ADVI by default) and :func:`preference_outcome_models`
    relates it to later outcomes: a linear mixed model of the mean assessment score with a
    random intercept per presentation, and a logistic model of passing with presentation fixed
    effects. Both adjust for activity volume and previous attempts, and both are **observational**:
    students who prefer forums differ from those who prefer course pages in many unmeasured ways,
    so a coefficient is an association, not the effect of changing anyone's preference (and
    ``quiz`` pages include the computer-marked assessments that count in the score, so part of
    that association is mechanical). To keep
    the order of time right, preferences use only the clicks before ``window_days`` and students
    who had withdrawn by then are left out (counted in the notes).

The one real causal check of a medium is the randomized video-vs-text experiment of
:mod:`edstudy.investigations.video_vs_text`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from edstudy._format import markdown_table
from edstudy.bayes.settings import FitSettings, quiet_pymc

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_ACTIVITY_TYPES",
    "OuladPreferences",
    "fit_oulad_preferences",
    "oulad_choices",
    "preference_long",
    "preference_outcome_models",
]

#: Activity types that are content or activities a student picks (navigation pages left out).
DEFAULT_ACTIVITY_TYPES: tuple[str, ...] = ("oucontent", "forumng", "quiz", "resource", "url")


def oulad_choices(
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    activity_types: Sequence[str] = DEFAULT_ACTIVITY_TYPES,
    window_days: int | None = 56,
    min_choices: int = 10,
    n_students: int | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The choices to model and the students they belong to.

    Parameters
    ----------
    log : DataFrame
        :func:`edstudy.datasets.load_oulad` activity log (``student_id, activity, chosen, date``).
    outcomes : DataFrame
        :func:`edstudy.datasets.load_oulad_outcomes`.
    activity_types : sequence of str
        The choice set; other activity types are left out.
    window_days : int or None
        Only choices before this day of the presentation; students unregistered on or before it
        are left out (their outcome is partly decided inside the window). None: all days.
    min_choices : int
        Students with fewer choices in the window are left out.
    n_students : int, optional
        A random sample of the remaining students (seeded).
    seed : int

    Returns
    -------
    (choices, students, notes)
        ``choices``: the log rows kept (one row = one resource used on one day);
        ``students``: their outcomes rows with ``n_choices``; ``notes``: what was left out.
    """
    notes = []
    types = list(activity_types)
    if len(types) < 2:
        raise ValueError("activity_types must name at least 2 activity types")
    chosen = log["chosen"].fillna(False).astype(bool).to_numpy()
    keep = chosen & log["activity"].isin(types).to_numpy()
    if window_days is not None:
        keep &= (log["date"] < window_days).to_numpy()
    choices = log.loc[keep, ["student_id", "activity", "chosen", "date"]]
    other = int((chosen & ~log["activity"].isin(types).to_numpy()).sum())
    notes.append(f"{other:,} choices of other activity types (navigation, rare types) left out")
    students = outcomes[outcomes["student_id"].isin(choices["student_id"])].copy()
    if window_days is not None:
        gone = students["date_unregistration"].notna() & (
            students["date_unregistration"] <= window_days
        )
        notes.append(
            f"{int(gone.sum())} students unregistered by day {window_days} left out; "
            f"preferences use days < {window_days}"
        )
        students = students[~gone]
    n = choices.groupby("student_id", sort=False).size()
    students["n_choices"] = students["student_id"].map(n).fillna(0).astype(int)
    few = students["n_choices"] < min_choices
    if few.any():
        notes.append(f"{int(few.sum())} students with < {min_choices} choices left out")
    students = students[~few]
    if n_students is not None and int(n_students) < len(students):
        students = students.sample(int(n_students), random_state=seed).sort_index()
        notes.append(f"a random sample of {int(n_students)} students used")
    choices = choices[choices["student_id"].isin(students["student_id"])]
    return choices, students.reset_index(drop=True), notes


@dataclass(frozen=True)
class OuladPreferences:
    """Revealed activity-type preferences of OULAD students.

    Attributes
    ----------
    students : DataFrame
        One row per enrolment: ``student_id, class_id, n_choices``, ``pref_<type>`` (posterior
        mean choice probability), ``share_<type>`` (raw share of choices) and the outcomes
        (``final_result, completed, assessment_score, num_of_prev_attempts``).
    population : DataFrame
        Per activity type: ``share`` (of all choices), ``mean_preference`` and
        ``sd_preference`` (across students of the posterior means), and the posterior mean of the
        population utility ``baseline`` (logit scale, zero-sum).
    spread : DataFrame
        Posterior of ``sigma_class, sigma_student`` (how much presentations and students differ,
        logit scale).
    activity_types : tuple of str
    notes : tuple of str
    seconds : float
    idata : InferenceData (not compared)
    """

    students: pd.DataFrame
    population: pd.DataFrame
    spread: pd.DataFrame
    activity_types: tuple[str, ...]
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    idata: Any = field(default=None, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per student: preferences, raw shares of choices and outcomes (a copy)."""
        return self.students.copy()

    def to_markdown(self, digits: int = 3) -> str:
        """The notes, then the population's preferences per activity type and their spread."""
        lines = [f"- {n}" for n in self.notes]
        lines += ["", markdown_table(self.population.round(digits).reset_index()), ""]
        lines += [markdown_table(self.spread.round(digits).reset_index())]
        return "\n".join(lines)

    def plot(self) -> Figure:
        """How much students differ: one box of posterior preferences per activity type."""
        from edstudy.plots import preference_spread

        return preference_spread(preference_long(self.students, self.population))


def preference_long(students: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Per-student preferences of :func:`fit_oulad_preferences` in long form.

    Parameters
    ----------
    students : DataFrame
        ``OuladPreferences.students`` (``student_id, pref_<type>, ...``).
    population : DataFrame
        ``OuladPreferences.population`` (indexed by activity type, with ``share``).

    Returns
    -------
    DataFrame
        ``student_id, activity, preference, share`` (activities in the population's order).
    """
    types = list(population.index)
    long = students.melt(
        id_vars="student_id",
        value_vars=[f"pref_{t}" for t in types],
        var_name="activity",
        value_name="preference",
    )
    long["activity"] = long["activity"].str.removeprefix("pref_")
    long["share"] = long["activity"].map(population["share"])
    return long


def fit_oulad_preferences(
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    activity_types: Sequence[str] = DEFAULT_ACTIVITY_TYPES,
    window_days: int | None = 56,
    min_choices: int = 10,
    n_students: int | None = None,
    settings: FitSettings | None = None,
    seed: int = 0,
) -> OuladPreferences:
    """Estimate each student's activity-type preference with :func:`edstudy.bayes.fit_preferences`.

    OULAD has no survey, so the model's stated-preference term has no data (every stated
    preference is missing) and only the choices, the presentation (``class_id``) pooling and the
    student spread are estimated. See :func:`oulad_choices` for the selection parameters;
    ``settings`` (default ``FitSettings.fast()``, ADVI with 200 draws: ``"map"`` lets the
    student spread run off on these data) and ``seed`` go to the fit.
    """
    from edstudy.bayes.preference import fit_preferences, preference_summary, stated_effect_summary

    start = time.perf_counter()
    settings = settings if settings is not None else FitSettings.fast()
    choices, students, notes = oulad_choices(
        log,
        outcomes,
        activity_types=activity_types,
        window_days=window_days,
        min_choices=min_choices,
        n_students=n_students,
        seed=seed,
    )
    if len(students) < 3:
        raise ValueError(f"only {len(students)} students left to model; relax the selection")
    types = list(activity_types)
    survey = students[["student_id", "class_id"]].assign(stated_preference=pd.NA)
    with quiet_pymc():
        idata = fit_preferences(
            choices,
            survey,
            media=types,
            settings=settings,
            seed=seed,
        )
    summary = preference_summary(idata)
    pref = summary.pivot(index="student_id", columns="medium", values="mean")[types]
    counts = pd.crosstab(choices["student_id"], choices["activity"]).reindex(
        columns=types, fill_value=0
    )
    share = counts.div(counts.sum(axis=1), axis=0)
    table = students.set_index("student_id")
    for t in types:
        table[f"pref_{t}"] = pref[t].reindex(table.index)
        table[f"share_{t}"] = share[t].reindex(table.index)
    keep = [
        "class_id",
        "n_choices",
        *[f"pref_{t}" for t in types],
        *[f"share_{t}" for t in types],
        "final_result",
        "completed",
        "dropped_out",
        "assessment_score",
        "num_of_prev_attempts",
    ]
    table = table[[c for c in keep if c in table.columns]].reset_index()
    baseline = idata.posterior["baseline"].mean(("chain", "draw")).to_pandas()
    total = counts.sum()
    population = pd.DataFrame(
        {
            "share": (total / total.sum()).reindex(types),
            "mean_preference": [table[f"pref_{t}"].mean() for t in types],
            "sd_preference": [table[f"pref_{t}"].std() for t in types],
            "baseline": baseline.reindex(types).to_numpy(),
        },
        index=pd.Index(types, name="activity"),
    )
    spread = stated_effect_summary(idata).loc[["sigma_class", "sigma_student"]]
    notes.append(
        f"{len(table):,} students, {len(choices):,} choices (resource-days) of "
        f"{len(types)} activity types; preference model fitted by {settings.method}"
    )
    return OuladPreferences(
        students=table,
        population=population,
        spread=spread,
        activity_types=tuple(types),
        notes=tuple(notes),
        seconds=time.perf_counter() - start,
        idata=idata,
    )


def _tidy(names, est, se, df_resid=None, confidence=0.95) -> pd.DataFrame:
    z = stats.norm.ppf(0.5 + confidence / 2)
    est, se = np.asarray(est, float), np.asarray(se, float)
    return pd.DataFrame(
        {
            "term": list(names),
            "estimate": est,
            "std_error": se,
            "ci_low": est - z * se,
            "ci_high": est + z * se,
            "p_value": 2 * stats.norm.sf(np.abs(est / se)),
        }
    )


def preference_outcome_models(
    prefs: OuladPreferences,
    *,
    reference: str | None = None,
    use: str = "pref",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """How revealed preferences relate to outcomes (observational).

    Predictors: each activity type's preference (``pref_``, posterior mean, or ``share_``, raw)
    in units of 10 percentage points, leaving out ``reference`` (default: the first activity
    type), so a coefficient compares shifting 10 points of a student's choices from the
    reference to that type; plus ``log(n_choices)`` (activity volume) and
    ``num_of_prev_attempts``.

    Models
        ``assessment_score`` (mean score / 100): linear mixed model (statsmodels MixedLM, REML)
        with a random intercept per presentation (``class_id``; with 3 presentations the variance
        of that intercept is estimated poorly). ``completed`` (Pass or Distinction): logistic
        regression with presentation fixed effects and HC1 robust standard errors, reported as
        log-odds.

    Returns
    -------
    DataFrame
        ``outcome, model, term, estimate, std_error, ci_low, ci_high, p_value, n_obs``
        (normal-theory intervals).
    """
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    if use not in ("pref", "share"):
        raise ValueError(f"use must be 'pref' or 'share', got {use!r}")
    types = list(prefs.activity_types)
    ref = reference or types[0]
    if ref not in types:
        raise ValueError(f"reference {ref!r} is not one of {types}")
    others = [t for t in types if t != ref]
    d = prefs.students.copy()
    data = pd.DataFrame({f"x{i}": 10 * d[f"{use}_{t}"].astype(float) for i, t in enumerate(others)})
    data["log_choices"] = np.log(d["n_choices"].astype(float))
    data["prev_attempts"] = d["num_of_prev_attempts"].astype(float)
    data["group"] = d["class_id"].astype(str)
    labels = {f"x{i}": f"{use}_{t} (+10 pts vs {ref})" for i, t in enumerate(others)}
    labels.update(
        {
            "Intercept": "Intercept",
            "log_choices": "log(choices)",
            "prev_attempts": "previous attempts",
        }
    )
    rhs = " + ".join([*[f"x{i}" for i in range(len(others))], "log_choices", "prev_attempts"])
    parts = []
    # assessment score: mixed model
    y = d["assessment_score"].astype(float)
    ok = y.notna() & data.notna().all(axis=1)
    dd = data[ok].assign(y=y[ok])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm(f"y ~ {rhs}", dd, groups=dd["group"]).fit(reml=True)
    names = list(fit.fe_params.index)
    t = _tidy([labels[n] for n in names], fit.fe_params, fit.bse_fe, confidence=confidence)
    t.insert(0, "model", "linear mixed model, random intercept per presentation")
    t.insert(0, "outcome", "assessment_score")
    t["n_obs"] = len(dd)
    parts.append(t)
    # passing: logistic with presentation fixed effects
    y = d["completed"].astype("boolean")
    ok = y.notna() & data.notna().all(axis=1)
    dd = data[ok].assign(y=y[ok].astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.glm(f"y ~ {rhs} + C(group)", dd, family=sm.families.Binomial()).fit(
            cov_type="HC1"
        )
    names = [n for n in fit.params.index if not n.startswith("C(group)")]
    t = _tidy([labels[n] for n in names], fit.params[names], fit.bse[names], confidence=confidence)
    t.insert(0, "model", "logistic regression (log-odds), presentation fixed effects, HC1 SE")
    t.insert(0, "outcome", "completed")
    t["n_obs"] = len(dd)
    parts.append(t)
    return pd.concat(parts, ignore_index=True)
