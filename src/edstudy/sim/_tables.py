"""The simulator's two output tables, built from its final state (:mod:`edstudy.sim.engine`).

The response log is assembled by a counting sort of the rows each tick wrote (position = the
student's offset + the row's order); the outcomes table has one row per student with the
measures documented in :mod:`edstudy.sim.engine`. ``s`` is the engine's state object.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from edstudy.sim._kernels import scatter_chunk
from edstudy.sim.curriculum import Curriculum
from edstudy.sim.population import Cohort
from edstudy.sim.responder import check_skill_state

#: estimated mastery at which a skill counts in the outcomes' ``skills_mastered``
MASTERY_REPORTED = 0.95
#: how a student's session ended, as stored in the state (codes) and shown in the outcomes
_FINAL = np.array(["running", "completed", "stopped", "dropped_out", "out_of_time", "out_of_steps"])
_RUNNING, _COMPLETED, _STOPPED, _DROPPED, _OUT_OF_TIME, _OUT_OF_STEPS = range(6)


def log_frame(s: Any, cohort: Cohort, curriculum: Curriculum, arm: str) -> pd.DataFrame:
    """Rows sorted by student then order (a counting sort: position = offset + order)."""
    n_rows = int(s.total_opp.sum())
    offsets = np.concatenate([[0], np.cumsum(s.total_opp)[:-1]]).astype(np.int64)
    packed = np.empty(n_rows, dtype=np.int64)
    dur = np.empty(n_rows, dtype=np.float64)
    for p, skill, order, correct, item, act, chosen, d in s.rows:
        scatter_chunk(offsets, p, order, skill, item, act, correct, chosen, d, packed, dur)
    stu = np.repeat(np.arange(s.n), s.total_opp)
    order = np.arange(n_rows, dtype=np.int64) - offsets[stu]
    item = (packed & 0xFFFFFFFF).astype(np.int32)
    skill = ((packed >> 32) & 0xFFFF).astype(np.int16)
    act = ((packed >> 48) & 0xFF).astype(np.int8)
    correct = ((packed >> 56) & 1).astype(np.int8)
    chosen = ((packed >> 57) & 1).astype(bool)
    hints = (act == s.hint_code).astype(np.int64)
    item_names = [f"{sk.id}-{j:02d}" for sk in curriculum.skills for j in range(sk.n_items)]
    return pd.DataFrame(
        {
            "student_id": cohort.student_id[stu],
            "skill_id": pd.Categorical.from_codes(skill, categories=list(curriculum.skill_ids)),
            "order": order,
            "correct": pd.arrays.IntegerArray(correct, np.zeros(n_rows, dtype=bool)),
            "item_id": pd.Categorical.from_codes(item, categories=item_names),
            "activity": pd.Categorical.from_codes(act, categories=list(curriculum.activity_names)),
            "chosen": chosen,
            "class_id": cohort.class_id[stu],
            "school_id": cohort.school_id[stu],
            "arm": pd.Categorical.from_codes(np.zeros(n_rows, dtype=np.int8), categories=[arm]),
            "duration_s": dur,
            "hints": hints,
        },
        copy=False,
    )


def outcomes_frame(s: Any, cohort: Cohort, curriculum: Curriculum, arm: str) -> pd.DataFrame:
    n_post = curriculum.posttest_items
    if s.responder is None:
        p_ok = np.where(s.known, 1.0 - cohort.slip, cohort.guess)
    else:
        p_ok, known = check_skill_state(s.responder.skill_state(), s.n, s.k)
        s.known[:] = known
    post = s.binomial("posttest", n_post, p_ok).sum(axis=1) / (s.k * n_post)
    opp = s.total_opp
    with np.errstate(invalid="ignore", divide="ignore"):
        engagement = np.where(opp > 0, s.eng_sum / np.maximum(opp, 1), s.eng0)
        chosen_share = np.where(opp > 0, s.chosen_n / np.maximum(opp, 1), 0.0)
        matched_share = np.where(opp > 0, s.matched_n / np.maximum(opp, 1), 0.0)
    media = np.array(curriculum.media, dtype=object)
    final = _FINAL[s.final]
    return pd.DataFrame(
        {
            "student_id": cohort.student_id,
            "arm": arm,
            "class_id": cohort.class_id,
            "school_id": cohort.school_id,
            "pretest": s.pretest,
            "posttest": post,
            "skills_mastered": (s.est >= MASTERY_REPORTED).sum(axis=1),
            "opportunities": opp,
            "time_on_task": s.time_used,
            "dropped_out": s.final == _DROPPED,
            "completed": np.isin(s.final, (_COMPLETED, _STOPPED)),
            "engagement": np.clip(engagement, 0.0, 1.0),
            "final_result": final,
            "skills_practiced": (s.opp > 0).sum(axis=1),
            "skills_placed_out": s.placed_out,
            "remediations": s.remed_total,
            "teacher_alerts": s.alerts,
            "chosen_share": chosen_share,
            "stated_preference": media[cohort.stated_preference],
            "goal": cohort.goal,
            "true_best_medium": media[cohort.true_best_medium],
            "learning_speed": cohort.learning_speed,
            "true_prior_mastered": s.prior_mastered,
            "mastered_true": s.known.sum(axis=1),
            "true_expected_posttest": p_ok.mean(axis=1),
            "true_matched_share": matched_share,
            "over_practice": s.over,
            "under_practice": s.under,
        }
    )
