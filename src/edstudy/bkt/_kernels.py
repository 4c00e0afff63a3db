"""Compiled forward / forward-backward passes of the two-state BKT hidden Markov model (private).

One general kernel serves every model variant: each row carries the index of its guess/slip class
(``gs_idx``: the skill, or the (skill, item) pair for KT-IDEM) and of the class of the transition
that follows it (``tr_idx``: the skill, or the (skill, activity) pair), and each sequence carries
its own prior and an optional logit shift of the learning rate (a student effect). So the variants
differ only in the index arrays and tables the Python driver builds, and there are only two
compiled functions to warm up.

Scaling: the forward pass keeps *normalized* messages (the filtered P(mastered) of each row) and
adds ``log c_t`` of the per-step normalizers, so it is stable for sequences of any length. The
backward pass uses the filtered probabilities directly (two-filter smoothing for a two-state chain:
``xi_t(i, j) = f_t(i) A_ij gamma_{t+1}(j) / p_{t+1}(j)``), whose terms are all probabilities.

Observation codes: ``1`` correct, ``0`` incorrect, any other value (``-1``) an unscored row, which
still carries a learning transition but contributes no evidence.
"""

from __future__ import annotations

import contextlib
import math

import numba
import numpy as np
from numba import njit, prange

__all__ = ["N_CHUNK", "N_CLASS", "N_SEQ", "PARALLEL_MIN_ROWS", "e_step", "forward"]

#: Below this many rows a pass runs on one thread: waking the others costs more (and much more
#: on a busy machine, where a thread may wait a whole scheduler slice for a core).
PARALLEL_MIN_ROWS = 100_000


@contextlib.contextmanager
def threads_for(rows: int):
    """Use one numba thread for passes over fewer than ``PARALLEL_MIN_ROWS`` rows."""
    if rows >= PARALLEL_MIN_ROWS or numba.get_num_threads() == 1:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


# Sufficient statistics written by ``e_step``, each with a last axis over restarts:
#  chunk_stats (n_chunks, 2):   0 sum gamma_0(M) (prior numerator), 1 log-likelihood
#  gs_acc (guess/slip slots, 3): 0 sum gamma(U) over correct rows (guess numerator),
#                                1 sum gamma(U) over scored rows (guess denominator),
#                                2 sum gamma(M) over incorrect rows (slip numerator)
#  tr_acc (transition slots, 3): 0 sum xi(U->M) (learn numerator), 1 sum gamma(U) (learn
#                                denominator), 2 sum xi(M->U) (forget numerator), over rows
#                                with a successor
#  seq_stats (n_seq, 4):         0 gamma_0(M), 1 sum xi(U->M), 2 sum gamma(U) over rows with a
#                                successor, 3 log-likelihood (individualized models)
# The complements are counts known in advance: gamma(M) over scored rows = scored rows - guess
# denominator; gamma(M) over rows with a successor = those rows - learn denominator.
# A chunk owns one slot per class of its skill (``gs_off[c] + class - gs_lo[skill]``), so chunks
# never write to the same memory and the sums do not depend on the thread schedule.
N_CHUNK, N_CLASS, N_SEQ = 2, 3, 4
_FOLD_MASK = 7  # fold the forward normalizers into the log-likelihood every 8 rows


@njit(cache=True, inline="always")
def _sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, nogil=True, error_model="numpy")
def _e_step_chunk(
    c,
    ecode,
    offsets,
    chunk_lo,
    chunk_hi,
    chunk_skill,
    gs_lo,
    tr_lo,
    gs_off,
    tr_off,
    prior_tab,
    seq_prior_idx,
    seq_shift,
    tr_idx,
    em_tab,
    eu_tab,
    learn,
    learn_logit,
    forget,
    use_shift,
    store_rows,
    store_seq,
    max_len,
    chunk_stats,
    gs_acc,
    tr_acc,
    seq_stats,
    row_gm,
    row_x01,
    row_x10,
):
    """Forward-backward of the sequences ``chunk_lo[c]:chunk_hi[c]`` for every restart.

    The inner loops run over the restarts: independent chains that the processor overlaps. The
    product of the forward normalizers (each >= min(guess, slip, 1 - guess, 1 - slip)) is folded
    into the log-likelihood every 8 rows.
    """
    R = em_tab.shape[1]
    k = chunk_skill[c]
    g_base = gs_off[c] - gs_lo[k]
    t_base = tr_off[c] - tr_lo[k]
    for q in range(gs_off[c], gs_off[c] + gs_lo[k + 1] - gs_lo[k]):
        for j in range(N_CLASS):
            for r in range(R):
                gs_acc[q, j, r] = 0.0
    for q in range(tr_off[c], tr_off[c] + tr_lo[k + 1] - tr_lo[k]):
        for j in range(N_CLASS):
            for r in range(R):
                tr_acc[q, j, r] = 0.0
    filt = np.empty((max_len, R))
    pm = np.empty(R)
    ll = np.empty(R)
    prod = np.empty(R)
    gm = np.empty(R)
    gu = np.empty(R)
    sx = np.empty((2, R))
    acc = np.zeros((N_CHUNK, R))
    for s in range(chunk_lo[c], chunk_hi[c]):
        a0 = offsets[s]
        a1 = offsets[s + 1]
        n = a1 - a0
        shift = seq_shift[s]
        pi = seq_prior_idx[s]
        for r in range(R):
            pm[r] = prior_tab[pi, r]
            ll[r] = 0.0
            prod[r] = 1.0
        # forward: filtered P(M_t | obs_0..t), one chain per restart
        for i in range(n):
            t = a0 + i
            e = ecode[t]
            kt = tr_idx[t]
            for r in range(R):
                p = pm[r]
                a = p * em_tab[e, r]
                cc = a + (1.0 - p) * eu_tab[e, r]
                prod[r] *= cc
                fm = a / cc if cc > 0.0 else p
                filt[i, r] = fm
                if use_shift:
                    lr = _sigmoid(learn_logit[kt, r] + shift)
                else:
                    lr = learn[kt, r]
                pm[r] = fm * (1.0 - forget[kt, r]) + (1.0 - fm) * lr
            if (i & _FOLD_MASK) == _FOLD_MASK:
                for r in range(R):
                    ll[r] += math.log(prod[r])
                    prod[r] = 1.0
        # backward: smoothing from the filtered probabilities
        e = ecode[a1 - 1]
        code = e % 3  # 0 incorrect, 1 correct, 2 unscored
        w1 = 1.0 if code == 1 else 0.0
        w0 = 1.0 if code == 0 else 0.0
        gq = g_base + e // 3
        for r in range(R):
            m = filt[n - 1, r]
            u = 1.0 - m
            gm[r] = m
            gu[r] = u
            ll[r] += math.log(prod[r])
            sx[0, r] = 0.0
            sx[1, r] = 0.0
            gs_acc[gq, 0, r] += w1 * u
            gs_acc[gq, 1, r] += (w1 + w0) * u
            gs_acc[gq, 2, r] += w0 * m
        if store_rows:
            for r in range(R):
                row_gm[a1 - 1, r] = gm[r]
                row_x01[a1 - 1, r] = 0.0
                row_x10[a1 - 1, r] = 0.0
        for i in range(n - 2, -1, -1):
            t = a0 + i
            e = ecode[t]
            code = e % 3
            w1 = 1.0 if code == 1 else 0.0
            w0 = 1.0 if code == 0 else 0.0
            ws = w1 + w0
            gq = g_base + e // 3
            kt = tr_idx[t]
            tq = t_base + kt
            for r in range(R):
                fm = filt[i, r]
                fu = 1.0 - fm
                if use_shift:
                    lr = _sigmoid(learn_logit[kt, r] + shift)
                else:
                    lr = learn[kt, r]
                fg = forget[kt, r]
                p1 = fm * (1.0 - fg) + fu * lr  # P(M_{t+1} | obs_0..t)
                q1 = fm * fg + fu * (1.0 - lr)  # P(U_{t+1} | obs_0..t)
                r_m = gm[r] / max(p1, 1e-300)
                r_u = gu[r] / max(q1, 1e-300)
                x01 = fu * lr * r_m
                x10 = fm * fg * r_u
                m = fm * (1.0 - fg) * r_m + x10
                u = x01 + fu * (1.0 - lr) * r_u
                gm[r] = m
                gu[r] = u
                tr_acc[tq, 0, r] += x01
                tr_acc[tq, 1, r] += u
                tr_acc[tq, 2, r] += x10
                gs_acc[gq, 0, r] += w1 * u
                gs_acc[gq, 1, r] += ws * u
                gs_acc[gq, 2, r] += w0 * m
                sx[0, r] += x01
                sx[1, r] += u
                if store_rows:
                    row_gm[t, r] = m
                    row_x01[t, r] = x01
                    row_x10[t, r] = x10
        for r in range(R):
            acc[0, r] += gm[r]
            acc[1, r] += ll[r]
        if store_seq:
            for r in range(R):
                seq_stats[s, 0, r] = gm[r]
                seq_stats[s, 1, r] = sx[0, r]
                seq_stats[s, 2, r] = sx[1, r]
                seq_stats[s, 3, r] = ll[r]
    for j in range(N_CHUNK):
        for r in range(R):
            chunk_stats[c, j, r] = acc[j, r]


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def e_step(
    ecode,
    offsets,
    chunk_lo,
    chunk_hi,
    chunk_skill,
    gs_lo,
    tr_lo,
    gs_off,
    tr_off,
    chunk_ids,
    prior_tab,
    seq_prior_idx,
    seq_shift,
    tr_idx,
    em_tab,
    eu_tab,
    learn,
    learn_logit,
    forget,
    use_shift,
    store_rows,
    store_seq,
    max_len,
    chunk_stats,
    gs_acc,
    tr_acc,
    seq_stats,
    row_gm,
    row_x01,
    row_x10,
):
    """One E-step for ``R`` parameter sets (restarts) at once, chunks in parallel.

    Parameters
    ----------
    ecode : int32 (n_rows,)
        ``3 * guess/slip class + answer code`` (0 incorrect, 1 correct, 2 unscored): the row of
        ``em_tab`` / ``eu_tab`` holding P(answer | mastered) / P(answer | unmastered).
    offsets : int64 (n_seq + 1,)
        Sequence ``s`` is rows ``offsets[s]:offsets[s+1]``.
    chunk_lo, chunk_hi, chunk_skill : int64 (n_chunks,)
        Chunk ``c`` is sequences ``chunk_lo[c]:chunk_hi[c]``, all of skill ``chunk_skill[c]``.
    gs_lo, tr_lo : int64 (n_skills + 1,)
        Guess/slip and transition classes of skill ``k`` are ``gs_lo[k]:gs_lo[k+1]`` etc.
    gs_off, tr_off : int64 (n_chunks,)
        First slot of chunk ``c`` in ``gs_acc`` / ``tr_acc``.
    chunk_ids : int64 (n_active,)
        Chunks to process.
    prior_tab : float64 (n_prior, R); seq_prior_idx : int64 (n_seq,)
        P(mastered) before the first row of sequence ``s`` is ``prior_tab[seq_prior_idx[s], r]``.
    seq_shift : float64 (n_seq,)
        Logit shift of every learn rate of the sequence (used when ``use_shift``).
    tr_idx : int32 (n_rows,)
        Class of the transition after the row.
    em_tab, eu_tab : float64 (3 * n_gs, R)
    learn, learn_logit, forget : float64 (n_tr, R)
    use_shift : bool
        learn = sigmoid(learn_logit + shift) instead of ``learn``.
    store_rows, store_seq : bool
        Also write per-row (``row_gm``: smoothed P(mastered); ``row_x01``, ``row_x10``: expected
        U->M / M->U transitions after the row; each (n_rows, R)) and per-sequence
        (``seq_stats`` (n_seq, N_SEQ, R)) statistics.
    max_len : int
        Longest sequence (scratch size).
    chunk_stats : float64 (n_chunks, N_CHUNK, R); gs_acc, tr_acc : float64 (slots, N_CLASS, R)
        Outputs for the processed chunks (see the comment above ``N_CHUNK``).
    """
    for j in prange(chunk_ids.shape[0]):
        _e_step_chunk(
            chunk_ids[j],
            ecode,
            offsets,
            chunk_lo,
            chunk_hi,
            chunk_skill,
            gs_lo,
            tr_lo,
            gs_off,
            tr_off,
            prior_tab,
            seq_prior_idx,
            seq_shift,
            tr_idx,
            em_tab,
            eu_tab,
            learn,
            learn_logit,
            forget,
            use_shift,
            store_rows,
            store_seq,
            max_len,
            chunk_stats,
            gs_acc,
            tr_acc,
            seq_stats,
            row_gm,
            row_x01,
            row_x10,
        )


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_seq(
    s,
    obs,
    offsets,
    seq_prior,
    seq_shift,
    gs_idx,
    tr_idx,
    guess,
    slip,
    learn,
    learn_logit,
    forget,
    use_shift,
    pred,
    mastery,
    row_ll,
):
    shift = seq_shift[s]
    pm = seq_prior[s]
    for t in range(offsets[s], offsets[s + 1]):
        g = gs_idx[t]
        gs = guess[g]
        sl = slip[g]
        pc = pm * (1.0 - sl) + (1.0 - pm) * gs
        pw = pm * sl + (1.0 - pm) * (1.0 - gs)  # 1 - pc, without cancellation
        pred[t] = pc
        o = obs[t]
        if o == 1:
            # an impossible answer (probability 0 under the model) leaves the belief unchanged
            fm = pm * (1.0 - sl) / pc if pc > 0.0 else pm
            row_ll[t] = math.log(pc)
        elif o == 0:
            fm = pm * sl / pw if pw > 0.0 else pm
            row_ll[t] = math.log(pw)
        else:
            fm = pm
            row_ll[t] = 0.0
        k = tr_idx[t]
        if use_shift:
            lr = _sigmoid(learn_logit[k] + shift)
        else:
            lr = learn[k]
        pm = fm * (1.0 - forget[k]) + (1.0 - fm) * lr
        mastery[t] = pm


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def forward(
    obs,
    offsets,
    block_starts,
    seq_prior,
    seq_shift,
    gs_idx,
    tr_idx,
    guess,
    slip,
    learn,
    learn_logit,
    forget,
    use_shift,
    pred,
    mastery,
    row_ll,
):
    """Filtering pass: one-step-ahead predictions and mastery for every row.

    Writes, for each row ``t``: ``pred[t]`` = P(correct at t | answers before t) of its own
    sequence; ``mastery[t]`` = P(mastered before the next opportunity | answers up to t), i.e.
    the posterior after the answer followed by the learning transition of the row (the value
    :func:`edstudy.bkt.update_mastery` returns); ``row_ll[t]`` = log P(answer at t | earlier
    answers) (0 for unscored rows). ``block_starts`` splits the sequence range ``0..n_seq`` into
    parallel blocks.
    """
    n_blocks = block_starts.shape[0] - 1
    for b in prange(n_blocks):
        for s in range(block_starts[b], block_starts[b + 1]):
            _forward_seq(
                s,
                obs,
                offsets,
                seq_prior,
                seq_shift,
                gs_idx,
                tr_idx,
                guess,
                slip,
                learn,
                learn_logit,
                forget,
                use_shift,
                pred,
                mastery,
                row_ll,
            )


def chunks_by_skill(
    offsets: np.ndarray, skill_offsets: np.ndarray, target_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each skill's sequences into runs of about ``target_rows`` rows.

    Returns ``(lo, hi, skill)``: chunk ``c`` is sequences ``lo[c]:hi[c]`` of skill ``skill[c]``;
    chunks are ordered by skill and every skill has at least one.
    """
    lo, hi, sk = [], [], []
    target = max(1, int(target_rows))
    for k in range(skill_offsets.shape[0] - 1):
        a, b = int(skill_offsets[k]), int(skill_offsets[k + 1])
        rows = int(offsets[b] - offsets[a])
        pieces = max(1, min(b - a, -(-rows // target)))
        if pieces == 1:
            bounds = np.array([a, b])
        else:
            cum = offsets[a : b + 1] - offsets[a]
            cuts = np.searchsorted(cum, np.linspace(0, rows, pieces + 1)[1:-1])
            bounds = np.unique(np.concatenate(([a], a + cuts, [b])))
        lo.append(bounds[:-1])
        hi.append(bounds[1:])
        sk.append(np.full(len(bounds) - 1, k))
    return (
        np.concatenate(lo).astype(np.int64),
        np.concatenate(hi).astype(np.int64),
        np.concatenate(sk).astype(np.int64),
    )


def blocks_by_rows(offsets: np.ndarray, seq_ids: np.ndarray, n_blocks: int) -> np.ndarray:
    """Split ``seq_ids`` into at most ``n_blocks`` runs with about equal numbers of rows."""
    n = seq_ids.shape[0]
    if n == 0:
        return np.zeros(1, dtype=np.int64)
    lengths = offsets[seq_ids + 1] - offsets[seq_ids]
    cum = np.concatenate(([0], np.cumsum(lengths)))
    targets = np.linspace(0, cum[-1], max(1, n_blocks) + 1)
    bounds = np.searchsorted(cum, targets, side="left")
    bounds[0] = 0
    bounds[-1] = n
    return np.unique(bounds).astype(np.int64)
