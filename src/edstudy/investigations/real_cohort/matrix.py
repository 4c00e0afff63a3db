"""The Robust Evaluation Matrix: every strategy taught to students drawn from every student model.

A real response log records one instructional policy, so it cannot say directly how another
strategy would have done. :func:`robust_evaluation_matrix` runs every named strategy on cohorts
drawn from each fitted model (:func:`~edstudy.sim.from_model.cohort_from_model`) and returns the
matrix (Doroudi, Aleven & Brunskill 2017): rows strategies, columns student models, cells the
expected post-test mastery (share of skills truly known at the end), practice opportunities,
over-practice (opportunities on skills already known) and under-practice (skills left while
unknown; Lee & Brunskill 2012), with 95% intervals, plus each strategy's rank per column and a
flag on every strategy whose rank changes across columns (:func:`rank_changes`).

Columns are BKT-family :class:`~edstudy.sim.from_model.StudentModel` s (the engine's own BKT
students) or fitted :mod:`edstudy.kt` models (:class:`~edstudy.sim.from_kt.KTStudentModel`: IRT,
AFM, PFA, Best-LR, DAS3H, BKT-ext, ...), whose simulated students answer the engine's questions
from their own history (a :mod:`~edstudy.sim.responder`; the kt BKT variants run as the engine's
own BKT). In a kt column only the answers change: the curriculum, the tutor's beliefs (BKT), the
cohort's non-learning traits (time, engagement, dropout) are drawn as in the BKT columns. A
logistic model has no hidden knowledge state, so a skill counts as mastered when its P(correct) on
an average item reaches ``1 - slip`` of the tutor's BKT model (``MatrixSettings.kt_mastery``), and
the expected post-test is the mean of that P(correct) over skills.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edstudy._format import interval_cells, markdown_table
from edstudy.sim.engine import Budget, simulate
from edstudy.sim.from_kt import KTStudentModel
from edstudy.sim.from_model import (
    StudentModel,
    cohort_from_model,
    curriculum_from_model,
    skill_order,
)
from edstudy.sim.population import PopulationSpec
from edstudy.sim.strategies import STRATEGY_NAMES, Strategy, builtin_strategy
from edstudy.stats.descriptive import paired_differences, summarize

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "METRIC_LABELS",
    "REM_METRICS",
    "MatrixSettings",
    "RobustEvaluationMatrix",
    "rank_changes",
    "robust_evaluation_matrix",
]

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
            t = t.assign(cell=interval_cells(t["mean"], t["ci_low"], t["ci_high"], digits=digits))
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

    def to_frame(self) -> pd.DataFrame:
        """The tidy matrix: ``strategy, model, metric, n_students, mean, ci_low, ci_high``."""
        return self.table.copy()

    def plot(self, metrics: Sequence[str] = ("posttest_mastery", "opportunities")) -> Figure:
        """Each strategy's mean and 95% interval: a panel per metric, a colour per model."""
        from edstudy.plots import arm_intervals

        t = self.table[self.table["metric"].isin(list(metrics))]
        t = t.rename(columns={"strategy": "arm", "model": "scenario"})
        t = t.assign(label=t["metric"].map(lambda m: METRIC_LABELS.get(m, m)))
        return arm_intervals(t, metrics=list(metrics), title="strategies under each student model")

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


@dataclass(frozen=True)
class MatrixSettings:
    """How the Robust Evaluation Matrix is run (every field has a working default).

    Parameters
    ----------
    strategies : tuple of str or Strategy
        The rows; names of shipped strategies (:data:`edstudy.sim.STRATEGY_NAMES`) or objects.
    n_students : int
        Students per column and replication.
    replications : int
        Independent cohorts per column.
    tutor : str or StudentModel
        The tutor's beliefs (its BKT parameters) in every column: a key of the models
        (default ``"bkt"``, or the first model when there is none) or a model.
        ``"own"`` lets each column's tutor know that column's skill parameters.
    order : sequence, optional
        Explicit skill order (default: by ``order_by``).
    order_by : {"first_appearance", "difficulty"}
        See :func:`~edstudy.sim.from_model.skill_order`; ``first_appearance`` needs the log.
    minutes_per_skill : float
        Time budget per student: this many minutes per skill (240 s per opportunity by default:
        60 minutes is 15 opportunities per skill, the strategies' own cap).
    population : PopulationSpec or dict, optional
        Non-learning traits; see :func:`~edstudy.sim.from_model.cohort_from_model`.
    strategy_params : dict
        ``{strategy: {param: value}}`` overrides.
    curriculum_options : dict
        Passed to :func:`~edstudy.sim.from_model.curriculum_from_model` (``medium``,
        ``remediation_learn``, ``posttest_items``, ...).
    rank_confidence : float
        Simultaneous level of the paired differences within a column (Bonferroni over the
        strategy pairs), which decide the ranks: with six strategies (15 pairs per column) noise
        alone rarely moves a rank. The cells' own intervals are 95%.
    kt_mastery : "tutor" or float
        When a skill counts as mastered in the columns of kt models without a hidden state
        (IRT, AFM, PFA, Best-LR, DAS3H): P(correct) on an average item of the skill at least
        ``1 - slip`` of the tutor's BKT model for that skill (``"tutor"``: what the tutor expects
        of a student who knows it), or at least this number. (A lower bar such as the midpoint
        of guess and ``1 - slip`` counts every student of a model without abilities as knowing
        every skill from the start on ASSISTments 2009, and then mastery can only be lost by
        errors, so less practice "wins".)
    """

    strategies: tuple[str | Strategy, ...] = STRATEGY_NAMES
    n_students: int = 300
    replications: int = 1
    tutor: str | StudentModel = "bkt"
    order: tuple[Any, ...] | None = None
    order_by: str = "first_appearance"
    minutes_per_skill: float = 60.0
    population: PopulationSpec | Mapping[str, Any] | None = None
    strategy_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    curriculum_options: Mapping[str, Any] = field(default_factory=dict)
    rank_confidence: float = 0.95
    kt_mastery: str | float = "tutor"

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategies", tuple(self.strategies))
        if self.order is not None:
            object.__setattr__(self, "order", tuple(self.order))
        if int(self.n_students) < 2 or int(self.replications) < 1:
            raise ValueError("n_students must be >= 2 and replications >= 1")
        if self.order_by not in ("first_appearance", "difficulty"):
            raise ValueError(
                f"order_by must be 'first_appearance' or 'difficulty', got {self.order_by!r}"
            )
        if not float(self.minutes_per_skill) > 0:
            raise ValueError(f"minutes_per_skill must be > 0, got {self.minutes_per_skill!r}")
        if not 0 < float(self.rank_confidence) < 1:
            raise ValueError(f"rank_confidence must be in (0, 1), got {self.rank_confidence!r}")
        m = self.kt_mastery
        if m != "tutor" and (
            isinstance(m, bool) or not isinstance(m, int | float) or not 0 < float(m) < 1
        ):
            raise ValueError(f"kt_mastery must be 'tutor' or a number in (0, 1), got {m!r}")


def _kt_threshold(st: MatrixSettings, curriculum: Any) -> np.ndarray:
    """Per skill P(correct) at which a kt column without a hidden state counts it as mastered."""
    if st.kt_mastery == "tutor":
        return 1.0 - curriculum.tutor_arrays()["slip"]
    return np.full(len(curriculum.skills), float(st.kt_mastery))


def robust_evaluation_matrix(
    models: Mapping[str, StudentModel | KTStudentModel],
    settings: MatrixSettings | None = None,
    *,
    seed: int = 0,
    log: pd.DataFrame | None = None,
) -> RobustEvaluationMatrix:
    """Run every strategy on cohorts drawn from every fitted student model.

    In each column (model) and replication one cohort is drawn and every strategy teaches the
    same students with the same random numbers (common random numbers), so the paired
    differences between strategies are precise.

    Parameters
    ----------
    models : mapping of str to StudentModel or KTStudentModel
        The columns, e.g. from :func:`fit_student_models` and :func:`fit_kt_models`; they must
        share the skills. A kt model's students answer from the model given their history (see
        the module docstring); the tutor's beliefs stay a BKT model's.
    settings : MatrixSettings, optional
        Strategies, cohort sizes, the tutor's model, budget (default ``MatrixSettings()``).
    seed : int
    log : DataFrame, optional
        The log the models were fitted on, to order the skills by first appearance.

    Returns
    -------
    RobustEvaluationMatrix
    """
    st = settings if settings is not None else MatrixSettings()
    n_students, replications, order = int(st.n_students), int(st.replications), st.order
    start = time.perf_counter()
    if not models:
        raise ValueError("models must hold at least one fitted student model")
    names = list(models)
    skill_sets = {n: set(m.skills) for n, m in models.items()}
    first = skill_sets[names[0]]
    for n in names[1:]:
        if skill_sets[n] != first:
            raise ValueError(
                f"models {names[0]!r} and {n!r} were fitted on different skills; fit every model "
                "on the same log"
            )
    # the kt BKT variants run as the engine's own BKT students; the others answer as responders
    columns: dict[str, StudentModel | KTStudentModel] = {}
    for n, m in models.items():
        sm = m.student_model() if isinstance(m, KTStudentModel) else m
        columns[n] = sm if sm is not None else m
    bkt_names = [n for n in names if isinstance(columns[n], StudentModel)]
    kt_names = [n for n in names if n not in bkt_names]
    strats = _strategies(st.strategies, st.strategy_params)
    tutor = st.tutor
    if isinstance(tutor, StudentModel):
        tutor_model: StudentModel | None = tutor
    elif tutor == "own":
        tutor_model = None
    elif tutor in columns and isinstance(columns[tutor], StudentModel):
        tutor_model = columns[tutor]
    elif tutor == "bkt" and tutor not in columns and bkt_names:
        tutor_model = columns[bkt_names[0]]  # no standard BKT among the columns: the first BKT's
    elif tutor in ("bkt", "own") and not bkt_names:
        tutor_model = None  # refused below
    else:
        raise ValueError(
            f"tutor must be 'own', a StudentModel or one of the BKT-family columns {bkt_names}, "
            f"got {tutor!r}"
        )
    reference = tutor_model or (columns[bkt_names[0]] if bkt_names else None)
    if reference is None:
        raise ValueError(
            "the tutor needs a BKT model: add a BKT-family column or give "
            "MatrixSettings(tutor=StudentModel)"
        )
    if order is None:
        order = (
            skill_order(log, reference, by=st.order_by)
            if (log is not None or st.order_by == "difficulty")
            else list(reference.skills)
        )
    copts = dict(st.curriculum_options)
    k = len(order)
    budget = Budget(minutes=float(st.minutes_per_skill) * k)
    parts = []
    for mi, name in enumerate(names):
        model = columns[name]
        is_kt = isinstance(model, KTStudentModel)
        # a kt column: the curriculum, the tutor and the cohort's non-learning traits of a BKT
        # column (its learning traits are unused), the answers from the kt model
        base = reference if is_kt else model
        cur = curriculum_from_model(base, order=order, tutor=tutor_model or base, **copts)
        mastery = _kt_threshold(st, cur) if is_kt and not model.hidden_state else None
        for r in range(int(replications)):
            cohort = cohort_from_model(
                base,
                cur,
                int(n_students),
                seed=np.random.SeedSequence([seed, r, mi, 0]),
                population=st.population,
            )
            for strategy in strats:
                responder = (
                    model.responder(
                        cur,
                        cohort.student_id,
                        seed=np.random.SeedSequence([seed, r, mi, 2]),
                        mastery=mastery,
                    )
                    if is_kt
                    else None
                )
                _, out = simulate(
                    cohort,
                    cur,
                    strategy,
                    seed=np.random.SeedSequence([seed, r, mi, 1]),
                    budget=budget,
                    progress=False,
                    validate=False,
                    responder=responder,
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
    pairwise = paired_differences(
        outcomes, snames, ("posttest_mastery", "opportunities"), confidence=st.rank_confidence
    )
    ranks = rank_changes(table, "posttest_mastery", pairwise=pairwise)
    ranks = ranks[[*names, "rank_min", "rank_max", "rank_changes"]]
    tutor_name = "each column's own model" if tutor_model is None else tutor_model.name
    kt_note = ()
    if kt_names:
        rule = (
            "1 - slip of the tutor's BKT model for that skill"
            if st.kt_mastery == "tutor"
            else f"{float(st.kt_mastery):g}"
        )
        kt_note = (
            f"Columns {', '.join(kt_names)}: students of those fitted kt models answer each "
            "opportunity (an average item of the skill) from their own history; a hidden state "
            "(BKT-ext) defines mastery where the model has one, otherwise a skill counts as "
            f"mastered when the model's P(correct) on it reaches {rule}; expected post-test = "
            "mean P(correct) over skills; remediation is an answered attempt like any other."
            + (
                f" The tutor and the curriculum are {reference.name!r}'s."
                if tutor_model is None
                else ""
            ),
        )
    notes = (
        "Real logs have no media: one neutral medium (text), meshing 0; blended and adaptive "
        "choose among that one medium, so they differ from individualized only by chance.",
        f"The tutor's mastery estimate uses {tutor_name!r} parameters in every column; columns "
        "differ only in how the simulated students learn.",
        "No prerequisites (none are known from the log); remediation activities teach like any "
        f"opportunity; budget {st.minutes_per_skill:g} minutes per skill (about "
        f"{st.minutes_per_skill * 60 / copts.get('duration_s', 240.0):.0f} opportunities); "
        "nobody drops out.",
        "Intervals: 95%, over simulated students and replications; fitted parameters are "
        "taken as known.",
        *kt_note,
    )
    settings = {
        "n_students": int(n_students),
        "replications": int(replications),
        "seed": seed,
        "skills": [str(s) for s in order],
        "tutor": tutor_name,
        "minutes_per_skill": float(st.minutes_per_skill),
        "kt_columns": kt_names,
        "kt_mastery": st.kt_mastery,
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
