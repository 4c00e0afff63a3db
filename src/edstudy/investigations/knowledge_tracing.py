"""Knowledge tracing on a real log: BKT variants compared, learning curves, a teacher's reading.

The steps of notebook ``03_knowledge_tracing_real_data`` as functions of a response log, so they
run the same on ASSISTments 2009, on any other log and on a simulated one:

* :func:`practice_log` loads ASSISTments 2009 (or falls back, saying so, to a cohort simulated
  with :mod:`edstudy.sim`) and keeps the most-practised skills
  (:func:`~edstudy.datasets.select_log`).
* :func:`pool_rare_items` gives problems seen fewer than ``min_rows`` times one shared item id per
  skill, so the KT-IDEM variant estimates guess and slip only where there are data for them.
* :func:`compare_variants` scores the BKT variants of :data:`VARIANTS` two ways:
  **new students** (K-fold cross-validation with whole students held out, the protocol of the
  published figures) and **returning students** (each student's last rows held out; the model
  is fitted on everything before them, so individualized models know the student).
* :data:`PUBLISHED` holds the reference figures as published (not recomputed);
  :func:`comparison_table` puts them beside this run's and :func:`comparison_notes` reads it.
* :func:`learning_curves` tabulates P(correct) by practice opportunity, observed and predicted.
* :func:`skill_table` and :func:`teacher_notes` turn fitted parameters into a per-skill table and
  plain-language notes.

References
----------
Corbett, A. T., & Anderson, J. R. (1995). Knowledge tracing. *UMUAI*, 4, 253-278.
Khajah, M., Lindsey, R. V., & Mozer, M. C. (2016). How deep is knowledge tracing? *EDM 2016*.
Pardos, Z. A., & Heffernan, N. T. (2011). KT-IDEM: Introducing item difficulty to the knowledge
tracing model. *UMAP 2011*.
Yudelson, M. V., Koedinger, K. R., & Gordon, G. J. (2013). Individualized Bayesian Knowledge
Tracing models. *AIED 2013*.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from edstudy._format import TableResult
from edstudy.bkt import BKT, ConvergenceWarning
from edstudy.bkt import metrics as M
from edstudy.datasets import DataNotFoundError, load_assistments2009, select_log
from edstudy.sim.quick import simulate_cohort

__all__ = [
    "PUBLISHED",
    "REFERENCE_COLUMNS",
    "VARIANTS",
    "PracticeLog",
    "VariantComparison",
    "compare_variants",
    "comparison_notes",
    "comparison_table",
    "headline",
    "learning_curves",
    "pool_rare_items",
    "practice_log",
    "returning_split",
    "skill_table",
    "teacher_notes",
]

#: The BKT variants compared: name -> (constructor options, one-line description).
VARIANTS: dict[str, tuple[dict[str, Any], str]] = {
    "standard": ({}, "prior, learn, guess, slip per skill (Corbett & Anderson 1995)"),
    "forgets": ({"forgets": True}, "+ P(forget) per skill"),
    "item_guess_slip": (
        {"item_guess_slip": True},
        "guess and slip per problem (KT-IDEM, Pardos & Heffernan 2011)",
    ),
    "individualized": (
        {"student_prior": True, "student_learn": True},
        "+ a prior and a learning-rate effect per student (Yudelson et al. 2013)",
    ),
}

#: Published / reference AUCs on ASSISTments 2009, as reported (not recomputed here).
#: Sources: Khajah, Lindsey & Mozer (2016), and pyBKT 1.4.3 as measured in the project's peer
#: notes (``shared/PEERS.md``: ASSISTments 2009 skill builders, the pyBKT examples' builder split,
#: 123 skills; pooled 5-fold CV and the examples' test split).
PUBLISHED = pd.DataFrame(
    [
        ("standard", "Khajah et al. 2016", 0.73),
        ("forgets", "Khajah et al. 2016", 0.83),
        ("standard", "pyBKT 1.4.3, pooled 5-fold CV", 0.783),
        ("forgets", "pyBKT 1.4.3, pooled 5-fold CV", 0.814),
        ("standard", "pyBKT 1.4.3, test split", 0.760),
        ("forgets", "pyBKT 1.4.3, test split", 0.826),
    ],
    columns=["variant", "source", "auc"],
)


@dataclass(frozen=True)
class PracticeLog:
    """The log a knowledge-tracing analysis runs on.

    Attributes
    ----------
    log : DataFrame
        The selected response log (scored rows of the kept skills).
    source : str
        Where it came from, in words.
    real : bool
        False when the real data were absent and a simulated log was used instead.
    message : str
        What happened, in one line (the loader's summary, or that the fallback was used).
    details : str
        The full reason for the fallback (where the data were looked for); empty otherwise.
    """

    log: pd.DataFrame
    source: str
    real: bool
    message: str
    details: str = ""


def practice_log(
    *,
    top_skills: int | None = 10,
    n_students: int | None = None,
    seed: int = 0,
    path: Any = None,
    fallback_students: int = 600,
) -> PracticeLog:
    """ASSISTments 2009 skill builders (or, when absent, a simulated log), most-practised skills.

    Parameters
    ----------
    top_skills : int or None
        Keep the skills with the most scored rows (None: every skill).
    n_students : int or None
        A seeded random sample of students (None: all).
    seed : int
    path : path-like, optional
        Where the data are (default: the loaders' search, the shared data folder first).
    fallback_students : int
        Size of the simulated cohort used when the real data are absent.

    Returns
    -------
    PracticeLog
        ``log.attrs["selection"]`` records what the selection kept and dropped.
    """
    details = ""
    try:
        raw = load_assistments2009(path, verbose=False)
        report = raw.attrs.get("load_report")
        message = str(report).splitlines()[0] if report is not None else "loaded"
        source, real = "ASSISTments 2009-2010 skill builders (AKT-processed copy)", True
    except DataNotFoundError as err:
        raw, _ = simulate_cohort(
            "individualized", fallback_students, cohort_seed=seed, seed=seed + 1
        )
        details = str(err)
        message = (
            "REAL DATA NOT FOUND: this run uses a SIMULATED log (edstudy.sim, individualized "
            f"strategy, {fallback_students} students), so none of its numbers describe "
            "ASSISTments students."
        )
        source, real = "simulated cohort (edstudy.sim)", False
    log = select_log(raw, top_skills=top_skills, n_students=n_students, seed=seed)
    return PracticeLog(log=log, source=source, real=real, message=message, details=details)


def pool_rare_items(log: pd.DataFrame, min_rows: int = 50, *, label: str = "rare") -> pd.DataFrame:
    """A copy of ``log`` whose problems with fewer than ``min_rows`` rows share one item id.

    The pooled id is ``label``; as KT-IDEM estimates guess and slip per (skill, item), each
    skill gets one pooled class for its rare problems. Counting rows uses no answers, so it can
    be done on the whole log before cross-validation. ``attrs["pooled_items"]`` records how many
    problems and rows were pooled.
    """
    if "item_id" not in log.columns:
        raise ValueError("pool_rare_items needs an item_id column")
    counts = log["item_id"].map(log["item_id"].value_counts())
    rare = (counts < min_rows).to_numpy()
    out = log.copy()
    out["item_id"] = log["item_id"].astype(object).where(~rare, label)
    out.attrs["pooled_items"] = {
        "min_rows": int(min_rows),
        "items_kept": int(log.loc[~rare, "item_id"].nunique()),
        "items_pooled": int(log.loc[rare, "item_id"].nunique()),
        "rows_pooled": int(rare.sum()),
    }
    return out


def returning_split(log: pd.DataFrame, test_share: float = 0.2) -> np.ndarray:
    """Boolean mask of each student's last ``test_share`` of rows (by ``order``).

    Rows sharing an ``order`` (one attempt tagged with several skills) fall on the same side.
    A student's rows ranked ``r = 0 .. n-1`` go to the test part when ``r >= ceil((1 - s) n)``,
    so students with a single row keep it for training.
    """
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be in (0, 1), got {test_share!r}")
    order = log["order"].to_numpy()
    stu = pd.factorize(log["student_id"])[0]
    # rank of each distinct order within its student (dense), and the student's count
    frame = pd.DataFrame({"s": stu, "o": order})
    rank = frame.groupby("s")["o"].rank(method="dense").to_numpy() - 1
    n = frame.groupby("s")["o"].transform("nunique").to_numpy()
    cut = np.ceil((1.0 - test_share) * n)
    return rank >= cut


@dataclass
class VariantComparison(TableResult):
    """Scores of BKT variants.

    Attributes
    ----------
    table : DataFrame
        One row per (variant, protocol): ``variant, protocol, auc, rmse, log_loss, accuracy,
        n_rows, seconds``; ``protocol`` is ``"new students"`` (K-fold CV by student, pooled
        out-of-fold predictions) or ``"returning students"`` (each student's last rows held out).
    predictions : dict
        ``{variant: out-of-fold P(correct) of every row}`` (new-students protocol), aligned with
        the log's rows.
    models : dict
        ``{variant: BKT}`` fitted on the whole log.
    """

    table: pd.DataFrame
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The scores: one row per (variant, protocol) (a copy of ``table``)."""
        return self.table.copy()


def _estimator(variant: str, restarts: int, seed: int):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {list(VARIANTS)}")
    options = dict(VARIANTS[variant][0])
    return BKT(**options, restarts=restarts, seed=seed, handle_unknown="average")


def compare_variants(
    log: pd.DataFrame,
    variants: Sequence[str] = tuple(VARIANTS),
    *,
    folds: int = 3,
    returning_share: float = 0.2,
    restarts: int = 5,
    seed: int = 0,
) -> VariantComparison:
    """Score BKT variants on new students (K-fold CV by student) and on returning students.

    Parameters
    ----------
    log : DataFrame
        A response log (``item_id`` needed for ``item_guess_slip``).
    variants : sequence of str
        Keys of :data:`VARIANTS`.
    folds : int
        Folds of the new-students cross-validation (whole students held out).
    returning_share : float
        Share of each student's rows, the last ones, held out in the returning-students protocol
        (0 skips it).
    restarts, seed : int
        EM restarts per skill and the seed of restarts and folds.

    Returns
    -------
    VariantComparison
        Unseen skills, items or students are predicted with averaged parameters (and
        individualized models give an unseen student the average effect, 0).
    """
    names = ("auc", "rmse", "log_loss", "accuracy")
    y = log["correct"].to_numpy(dtype=float, na_value=np.nan)
    test = returning_split(log, returning_share) if returning_share else None
    rows, preds, models = [], {}, {}
    for variant in variants:
        est = _estimator(variant, restarts, seed)
        start = time.perf_counter()
        cv, oof = est.cross_validate(log, folds=folds, seed=seed, return_predictions=True)
        pooled = cv.loc["pooled"]
        rows.append(
            {
                "variant": variant,
                "protocol": "new students",
                **{k: float(pooled[k]) for k in names},
                "n_rows": int(pooled["n_rows"]),
                "seconds": time.perf_counter() - start,
            }
        )
        preds[variant] = oof
        if test is not None:
            start = time.perf_counter()
            est = _estimator(variant, restarts, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(log[~test])
            p = est.predict_proba(log)
            ok = test & ~np.isnan(y)
            res = M.compute(y[ok], p[ok], names)
            rows.append(
                {
                    "variant": variant,
                    "protocol": "returning students",
                    **res,
                    "n_rows": int(ok.sum()),
                    "seconds": time.perf_counter() - start,
                }
            )
        full = _estimator(variant, restarts, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            models[variant] = full.fit(log)
    return VariantComparison(table=pd.DataFrame(rows), predictions=preds, models=models)


#: Short column names of :func:`comparison_table` for the reference sources of :data:`PUBLISHED`.
REFERENCE_COLUMNS = {
    "Khajah et al. 2016": "auc_khajah2016",
    "pyBKT 1.4.3, pooled 5-fold CV": "auc_pybkt_cv",
    "pyBKT 1.4.3, test split": "auc_pybkt_test",
}


def comparison_table(table: pd.DataFrame, published: pd.DataFrame = PUBLISHED) -> pd.DataFrame:
    """This run's AUC and RMSE per variant and protocol beside the reference AUCs.

    Returns
    -------
    DataFrame indexed by variant
        ``auc_<protocol>, rmse_<protocol>`` for each protocol of ``table`` (its first word:
        ``auc_new``, ``rmse_new``, ``auc_returning``, ``rmse_returning``), then one column per
        ``published`` source (:data:`REFERENCE_COLUMNS`; missing where a source has no such
        variant).
    """
    wide = table.pivot(index="variant", columns="protocol", values=["auc", "rmse"])
    protocols = list(dict.fromkeys(table["protocol"]))
    out = pd.DataFrame(index=pd.Index(list(dict.fromkeys(table["variant"])), name="variant"))
    for p in protocols:
        short = str(p).split()[0]
        out[f"auc_{short}"] = wide[("auc", p)]
        out[f"rmse_{short}"] = wide[("rmse", p)]
    for source in dict.fromkeys(published["source"]):
        ref = published[published["source"] == source].set_index("variant")["auc"]
        out[REFERENCE_COLUMNS.get(source, f"auc {source}")] = ref.reindex(out.index)
    return out


def learning_curves(
    log: pd.DataFrame,
    predictions: Mapping[str, np.ndarray],
    *,
    skills: Sequence[Any] | None = None,
    n_skills: int = 4,
    max_opportunity: int = 10,
    min_students: int = 20,
) -> pd.DataFrame:
    """P(correct) by practice opportunity, observed and predicted, for a few skills.

    Parameters
    ----------
    log : DataFrame
    predictions : mapping of series name to P(correct) per row (aligned with ``log``)
    skills : sequence, optional
        Default: the ``n_skills`` skills with the most students.
    max_opportunity : int
        Opportunities ``1 .. max_opportunity`` (the n-th row of a student on the skill).
    min_students : int
        Opportunities reached by fewer students are left out.

    Returns
    -------
    DataFrame
        ``skill, opportunity, series, p_correct, n_students`` with ``series`` ``"observed"``
        or a prediction's name.
    """
    scored = log["correct"].notna().to_numpy()
    frame = pd.DataFrame(
        {
            "skill": log["skill_id"].astype(object).to_numpy(),
            "student": log["student_id"].to_numpy(),
            "order": log["order"].to_numpy(),
            "observed": log["correct"].to_numpy(dtype=float, na_value=np.nan),
            **{name: np.asarray(p, dtype=float) for name, p in predictions.items()},
        }
    )[scored]
    if skills is None:
        per = frame.groupby("skill")["student"].nunique()
        skills = sorted(per.index, key=lambda s: (-per[s], str(s)))[:n_skills]
    frame = frame[frame["skill"].isin(list(skills))]
    frame = frame.sort_values(["skill", "student", "order"], kind="stable")
    frame["opportunity"] = frame.groupby(["skill", "student"]).cumcount() + 1
    frame = frame[frame["opportunity"] <= max_opportunity]
    series = ["observed", *predictions]
    agg = frame.groupby(["skill", "opportunity"])[series].mean()
    agg["n_students"] = frame.groupby(["skill", "opportunity"]).size()
    agg = agg[agg["n_students"] >= min_students].reset_index()
    out = agg.melt(
        id_vars=["skill", "opportunity", "n_students"],
        value_vars=series,
        var_name="series",
        value_name="p_correct",
    )
    out["skill"] = pd.Categorical(out["skill"], categories=list(skills))
    out["series"] = pd.Categorical(out["series"], categories=series)
    out = out.sort_values(["skill", "series", "opportunity"], kind="stable")
    out[["skill", "series"]] = out[["skill", "series"]].astype(object)
    return out[["skill", "opportunity", "series", "p_correct", "n_students"]].reset_index(drop=True)


def _opportunities_to(prior: float, learn: float, level: float = 0.95) -> float:
    """Opportunities until P(learned) >= level from learning alone (no forgetting)."""
    if prior >= level:
        return 0.0
    if learn <= 0:
        return math.inf
    if learn >= 1:
        return 1.0
    return float(math.ceil(math.log((1 - level) / (1 - prior)) / math.log(1 - learn)))


def skill_table(model: Any, log: pd.DataFrame) -> pd.DataFrame:
    """Per-skill parameters of a fitted standard or forgets BKT, with what they imply.

    Returns
    -------
    DataFrame indexed by skill (most rows first)
        ``rows, students, prior, learn, forget, guess, slip`` (``forget`` only when some skill
        has one), ``discrimination`` (``1 - guess - slip``: how much more often a student who
        knows the skill answers correctly than one who does not), ``p_correct_first`` (predicted
        P(correct) at the first opportunity), ``opportunities_95`` (opportunities until 95% of
        students have learned the skill, from the prior and the learning rate alone) and
        ``observed_first`` (observed share correct at the first opportunity).
    """
    p = model.params_
    if (p["class"].astype(str) != "all").any():
        raise ValueError("skill_table needs one value per skill (a standard or forgets model)")
    wide = p.pivot(index="skill", columns="parameter", values="value")
    for name in ("prior", "learn", "forget", "guess", "slip"):
        if name not in wide.columns:
            wide[name] = 0.0
    scored = log[log["correct"].notna()]
    first = scored.sort_values(["student_id", "skill_id", "order"], kind="stable").drop_duplicates(
        ["student_id", "skill_id"]
    )
    key = scored["skill_id"].astype(object)
    out = pd.DataFrame(
        {
            "rows": key.value_counts(),
            "students": scored.groupby(key)["student_id"].nunique(),
        }
    )
    names = ["prior", "learn", "forget", "guess", "slip"]
    if not (wide["forget"] > 0).any():
        names.remove("forget")
    out = out.join(wide[names], how="inner")
    out["discrimination"] = 1.0 - out["guess"] - out["slip"]
    out["p_correct_first"] = out["prior"] * (1 - out["slip"]) + (1 - out["prior"]) * out["guess"]
    out["opportunities_95"] = [
        _opportunities_to(a, b) for a, b in zip(out["prior"], out["learn"], strict=True)
    ]
    out["observed_first"] = (
        first.assign(k=first["skill_id"].astype(object))
        .groupby("k")["correct"]
        .apply(lambda s: s.astype(float).mean())
    )
    out.index.name = "skill"
    return out.sort_values(["rows"], ascending=False, kind="stable")


def teacher_notes(
    table: pd.DataFrame,
    *,
    high_guess: float = 0.30,
    high_slip: float = 0.20,
    slow_learn: float = 0.10,
    high_prior: float = 0.70,
    weak_evidence: float = 0.40,
    min_students: int = 50,
    max_names: int = 8,
) -> str:
    """Plain-language notes (markdown) on what a :func:`skill_table` means for a teacher.

    Each note names the skills that pass a threshold and what that implies for teaching; the
    thresholds are parameters so a reader can see exactly what "high" means. Only skills
    practised by at least ``min_students`` students are read (parameters of smaller skills are
    too uncertain); each note names at most ``max_names`` skills, the most-practised first.
    """
    small = int((table["students"] < min_students).sum())
    table = table[table["students"] >= min_students].sort_values(
        "rows", ascending=False, kind="stable"
    )

    def names(mask: pd.Series) -> str:
        sel = list(table.index[mask.to_numpy()])
        shown = ", ".join(f"*{s}*" for s in sel[:max_names])
        return shown + (f" and {len(sel) - max_names} more" if len(sel) > max_names else "")

    lines = []
    g = table["guess"] >= high_guess
    if g.any():
        lines.append(
            f"- **Easy to guess** (guess >= {high_guess:.2f}): {names(g)}. Students who have not "
            f"learned these still answer correctly {table.loc[g, 'guess'].min():.0%} to "
            f"{table.loc[g, 'guess'].max():.0%} of the time, so one correct answer is weak "
            "evidence of mastery; trust a streak (or a different item format) more than a single "
            "answer."
        )
    weak = table["discrimination"] < weak_evidence
    if weak.any():
        lines.append(
            f"- **Answers say little** (1 - guess - slip < {weak_evidence:.2f}): {names(weak)}. "
            "A student who knows these answers correctly only "
            f"{100 * table.loc[weak, 'discrimination'].min():.0f} to "
            f"{100 * table.loc[weak, 'discrimination'].max():.0f} percentage points more often "
            "than one who does not, so "
            "the tutor's mastery estimate moves slowly and should not gate progress on its own; "
            "a short check with better items is worth more."
        )
    s = table["slip"] >= high_slip
    if s.any():
        lines.append(
            f"- **Frequent slips** (slip >= {high_slip:.2f}): {names(s)}. Even students who know "
            f"these miss {table.loc[s, 'slip'].min():.0%} to {table.loc[s, 'slip'].max():.0%} "
            "of the items (careless errors, or problems harder than the skill itself): one wrong "
            "answer is not a reason to remediate."
        )
    slow = table["learn"] < slow_learn
    if slow.any():
        opp = table.loc[slow, "opportunities_95"]
        lines.append(
            f"- **Slow to learn from practice** (learn < {slow_learn:.2f}): {names(slow)}. Each "
            f"opportunity teaches only {table.loc[slow, 'learn'].min():.0%} to "
            f"{table.loc[slow, 'learn'].max():.0%} of the students who do not know the skill yet; "
            f"{opp.min():.0f} to {opp.max():.0f} opportunities before 95% would know it. More of "
            "the same practice is an expensive remedy: an explanation or worked example may do "
            "more."
        )
    known = table["prior"] >= high_prior
    if known.any():
        lines.append(
            f"- **Mostly known already** (prior >= {high_prior:.2f}): {names(known)}. Most "
            "students arrive knowing these; a short pre-test could let them skip the practice."
        )
    fast = table["learn"] >= 0.3
    if fast.any():
        lines.append(
            f"- **Quick wins** (learn >= 0.30): {names(fast)}. A few opportunities are enough "
            "for most students."
        )
    if not lines:
        lines.append("- No skill passes the thresholds: parameters are in typical ranges.")
    intro = (
        "How to read the parameters: *prior* is the share of students who know the skill before "
        "practising it; *learn* the chance that one opportunity teaches it to a student who does "
        "not know it yet; *guess* the chance of a correct answer without knowing it; *slip* the "
        "chance of a wrong answer despite knowing it; *forget* the chance of losing it between "
        "opportunities."
    )
    if small:
        intro += (
            f" The {small} skill(s) practised by fewer than {min_students} students are left out "
            "of the notes: their parameters rest on too few answers."
        )
    return intro + "\n\n" + "\n".join(lines)


def comparison_notes(table: pd.DataFrame, *, reference: str = "standard") -> str:
    """Plain-language reading (markdown) of a :attr:`VariantComparison.table`.

    For each protocol: the best variant by AUC, and each variant's AUC and RMSE difference from
    ``reference``. Differences in AUC under 0.005 are called "about the same".
    """
    lines = []
    for protocol, rows in table.groupby("protocol", sort=False):
        rows = rows.set_index("variant")
        best = rows["auc"].idxmax()
        parts = []
        if reference in rows.index:
            ref = rows.loc[reference]
            for variant, r in rows.drop(index=reference).iterrows():
                d_auc, d_rmse = r["auc"] - ref["auc"], r["rmse"] - ref["rmse"]
                verdict = (
                    "about the same as"
                    if abs(d_auc) < 0.005
                    else ("better than" if d_auc > 0 else "worse than")
                )
                parts.append(
                    f"*{variant}* {verdict} {reference} (AUC {d_auc:+.3f}, RMSE {d_rmse:+.3f})"
                )
        lines.append(
            f"- **{protocol}**: best AUC *{best}* ({rows.loc[best, 'auc']:.3f}); "
            + "; ".join(parts)
            + "."
        )
    return "\n".join(lines)


def headline(table: pd.DataFrame, *, real: bool = True) -> str:
    """One sentence: which BKT variant predicts new students best, by how much, on what data."""
    new = table[table["protocol"].astype(str).str.startswith("new")].set_index("variant")
    if new.empty:
        return "No variant was scored on new students."
    best = new["auc"].idxmax()
    line = f"On {'ASSISTments 2009' if real else 'a SIMULATED log (real data absent)'}, "
    line += f"**{best}** predicts new students best (AUC {new.loc[best, 'auc']:.3f}"
    if "standard" in new.index and best != "standard":
        line += f", standard BKT {new.loc['standard', 'auc']:.3f}"
    return line + ")."
