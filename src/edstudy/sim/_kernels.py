"""Compiled inner loop of the engine: one practice opportunity for many students.

All random numbers are drawn by the caller (each student's own Philox stream, see
:mod:`edstudy.sim._random`) and passed in, so results depend only on the seed, never on
compilation or on which students run together. The tutor's BKT update is not here: the engine
applies :func:`edstudy.bkt.update_mastery` to the answers this kernel returns.

With ``use_p`` (a responder, :mod:`edstudy.sim.responder`, generates the answers) the answer is
``u[0] < p_answer[j]`` and the kernel's own learning / forgetting transition is skipped: the
responder moves its own state and the engine keeps ``known`` equal to its mastery. Without it
nothing changes (the BKT path, bit for bit).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def practice_kernel(  # noqa: PLR0913 - a flat signature keeps the kernel simple to compile
    p,
    act,
    chosen,
    u,
    cur,
    known,
    guess,
    slip,
    speed,
    best,
    act_mult,
    learn_log,
    forget,
    p_answer,
    use_p,
    meshing,
    prereq,
    penalty,
    t_guess,
    t_slip,
    est_before,
    opp,
    total_opp,
    streak,
    err_streak,
    errors,
    remed_skill,
    remed_total,
    chosen_n,
    matched_n,
    time_used,
    time_skill,
    act_dur,
    time_mult,
    time_sd,
    item_base,
    item_start,
    n_items,
    n_media,
    pending,
    ts_sum,
    ts_n,
    interest,
    eng0,
    eng,
    eng_sum,
    choice_boost,
    interest_boost,
    boredom,
    frustration,
    inertia,
    dropout_rate,
    dropout_eng,
    budget_s,
    over,
    active,
    final,
    final_dropped,
    final_time,
    o_skill,
    o_order,
    o_correct,
    o_item,
    o_dur,
):
    n_skills = known.shape[1]
    for j in range(p.shape[0]):
        i = p[j]
        k = cur[i]
        a = act[j]
        kn = known[i, k]
        is_medium = a < n_media
        # the answer
        if use_p:
            ok = u[0, j] < p_answer[j]
        elif kn:
            ok = u[0, j] >= slip[i, k]
        else:
            ok = u[0, j] < guess[i, k]
        # learning (ground truth; a responder learns on its own)
        if not use_p:
            rate = speed[i] * act_mult[a]
            if is_medium and a == best[i]:
                rate *= 1.0 + meshing
            for q in range(n_skills):
                if prereq[k, q] and not known[i, q]:
                    rate *= penalty
                    break
            p_learn = -np.expm1(rate * learn_log[i, k])
            if not kn and u[1, j] < p_learn:
                known[i, k] = True
            elif kn and u[1, j] < forget[i, k]:  # u[1] is unused for a known skill
                known[i, k] = False
        if kn:
            over[i] += 1
        # the log row
        o_skill[j] = k
        o_order[j] = total_opp[i]
        o_correct[j] = ok
        o_item[j] = item_base[k] + (item_start[i] + opp[i, k]) % n_items[k]
        z = np.sqrt(-2.0 * np.log1p(-u[2, j])) * np.cos(2.0 * np.pi * u[3, j])
        dur = act_dur[a] * time_mult[i] * np.exp(time_sd * z - 0.5 * time_sd * time_sd)
        o_dur[j] = dur
        # counters
        opp[i, k] += 1
        total_opp[i] += 1
        if ok:
            streak[i] += 1
            err_streak[i] = 0
        else:
            streak[i] = 0
            err_streak[i] += 1
            errors[i] += 1
        if not is_medium:
            remed_skill[i] += 1
            remed_total[i] += 1
        if chosen[j]:
            chosen_n[i] += 1
        if is_medium and a == best[i]:
            matched_n[i] += 1
        time_used[i] += dur
        time_skill[i] += dur
        # learning gain of the medium used after the previous (wrong) answer on this skill
        m = pending[i]
        if m >= 0:
            e = est_before[j]
            predicted = e * (1.0 - t_slip[k]) + (1.0 - e) * t_guess[k]
            ts_sum[i, m] += (1.0 if ok else 0.0) - predicted
            ts_n[i, m] += 1.0
        pending[i] = a if (not ok and is_medium) else -1
        # engagement
        target = eng0[i] + interest_boost * (interest[i, k] - 0.5)
        if chosen[j]:
            target += choice_boost
        if kn and ok:
            target -= boredom
        target -= frustration * min(err_streak[i], 5)
        target = min(max(target, 0.0), 1.0)
        e_new = inertia * eng[i] + (1.0 - inertia) * target
        eng[i] = e_new
        eng_sum[i] += e_new
        # dropout, then budget
        hazard = dropout_rate * (dur / 3600.0) * np.exp(-dropout_eng * (e_new - 0.5))
        if u[4, j] < -np.expm1(-hazard):
            active[i] = False
            final[i] = final_dropped
        elif time_used[i] >= budget_s:
            active[i] = False
            final[i] = final_time


@njit(cache=True, nogil=True)
def scatter_chunk(offsets, p, order, skill, item, act, correct, chosen, dur, packed_out, dur_out):
    """Write one tick's log rows to their sorted position ``offsets[student] + order``.

    The small fields travel packed in one int64: item (bits 0-31), skill (32-47), activity
    (48-55), correct (56), chosen (57); :func:`unpack_rows` undoes it.
    """
    for j in range(p.shape[0]):
        q = offsets[p[j]] + order[j]
        packed_out[q] = (
            np.int64(item[j])
            | (np.int64(skill[j]) << 32)
            | (np.int64(act[j]) << 48)
            | (np.int64(correct[j]) << 56)
            | (np.int64(chosen[j]) << 57)
        )
        dur_out[q] = dur[j]
