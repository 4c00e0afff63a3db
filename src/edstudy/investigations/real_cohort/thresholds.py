"""How much practice does a mastery threshold give? (Rollinson & Brunskill 2015)

:func:`mastery_threshold_analysis` asks how many opportunities a mastery-threshold policy gives per
skill under each student model and threshold, both on students simulated from the model and
replayed on the real sequences; :func:`threshold_table` lays one threshold out as skills x
models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from edstudy.bkt import BKT
from edstudy.bkt.filtering import update_mastery
from edstudy.sim.from_model import StudentModel

__all__ = ["mastery_threshold_analysis", "threshold_table"]


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
