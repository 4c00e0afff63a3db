"""Expectation-maximization for BKT over flat arrays (private).

Two drivers:

* :func:`fit_independent` for models whose skills share no parameter (the standard model and the
  forgets, KT-IDEM and activity variants). All restarts run together: parameter tables have one
  column per restart and one E-step pass updates every column (the compiled kernel interleaves
  the restarts' independent chains). Every (skill, restart) has its own convergence test; the
  E-step skips the skills whose restarts have all converged; each skill keeps its best restart.
* :func:`fit_coupled` for individualized models (per-student logit effects on the prior and/or
  the learning rate, shared across skills): a generalized EM on the penalized log-likelihood,
  started from the independent fit with every effect at 0.

Every M-step maximizes (or, for the logit-additive parts, increases) the expected complete-data
log-likelihood under box constraints, so the (penalized) log-likelihood never decreases in exact
arithmetic. A decrease can only come from rounding once a fit has converged; the driver then
restores the previous parameters of that (skill, restart) and stops it, so the recorded history
is monotone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from edstudy.bkt import _kernels as K
from edstudy.bkt._design import Design, Encoding

EPS = 1e-10
LOGIT_BOUND = 20.0
TABLES = ("prior", "learn", "forget", "guess", "slip")
# indices into the E-step statistics (see edstudy.bkt._kernels)
C_PRIOR, C_LL = 0, 1  # per skill
G_GUESS_N, G_GUESS_D, G_SLIP_N = 0, 1, 2  # per guess/slip class
T_LEARN_N, T_LEARN_D, T_FORGET_N = 0, 1, 2  # per transition class
Q_PRIOR, Q_LEARN_N, Q_LEARN_D, Q_LL = 0, 1, 2, 3  # per sequence


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


@dataclass
class Tables:
    """Parameter tables indexed by skill / class (rows) and restart (columns, or 1-D)."""

    prior: np.ndarray
    learn: np.ndarray
    forget: np.ndarray
    guess: np.ndarray
    slip: np.ndarray
    prior_eff: np.ndarray | None = None
    learn_eff: np.ndarray | None = None

    def copy(self) -> Tables:
        return Tables(
            *(getattr(self, n).copy() for n in TABLES),
            prior_eff=None if self.prior_eff is None else self.prior_eff.copy(),
            learn_eff=None if self.learn_eff is None else self.learn_eff.copy(),
        )

    def column(self, r: int) -> Tables:
        return Tables(*(getattr(self, n)[:, r].copy() for n in TABLES))


@dataclass
class Options:
    forgets: bool
    max_guess: float
    max_slip: float
    restarts: int
    max_iter: int
    tol: float
    student_prior: bool
    student_learn: bool
    student_effect_sd: float
    seed: int | None
    fixed: dict[str, np.ndarray] = field(default_factory=dict)  # NaN = free


@dataclass
class FitResult:
    tables: Tables  # 1-D tables of the chosen parameters
    history: np.ndarray
    n_iter: int
    converged: bool
    log_likelihood: float
    skill_log_likelihood: np.ndarray
    tr_weight: np.ndarray
    gs_weight: np.ndarray
    reverts: int = 0
    unconverged: tuple = ()  # skill positions that hit max_iter


@dataclass
class Stats:
    """Summed E-step statistics, each with a last axis over restarts."""

    skill: np.ndarray  # (n_skills, 2): prior numerator, log-likelihood
    gs: np.ndarray  # (n_gs, 3): guess numerator, guess denominator, slip numerator
    tr: np.ndarray  # (n_tr, 3): learn numerator, learn denominator, forget numerator


def _slot_sum(acc: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.add.reduceat(acc[order], starts, axis=0) if len(order) else acc[:0]


class Workspace:
    """A design's chunks, counts and scratch arrays for ``R`` restarts, reused across E-steps."""

    def __init__(
        self,
        d: Design,
        enc: Encoding,
        R: int,
        *,
        store_rows: bool = False,
        store_seq: bool = False,
        chunk_rows: int | None = None,
    ):
        self.d = d
        self.R = R
        self.store_rows = store_rows
        self.store_seq = store_seq
        self.lengths = np.diff(d.offsets)
        self.max_len = int(self.lengths.max()) if d.n_seq else 1
        code = np.where(d.obs == 1, 1, np.where(d.obs == 0, 0, 2))
        self.ecode = (3 * d.gs_idx.astype(np.int64) + code).astype(np.int32)
        threads = numba.get_num_threads()
        target = chunk_rows or max(4096, d.n_rows // (8 * threads) + 1)
        lo, hi, sk = K.chunks_by_skill(d.offsets, d.skill_offsets, target)
        self.chunk_lo, self.chunk_hi, self.chunk_skill = lo, hi, sk
        self.chunk_rows = d.offsets[hi] - d.offsets[lo]
        self.chunk_start = np.searchsorted(sk, np.arange(d.n_skills))
        n = d.n_skills
        self.gs_lo = np.searchsorted(enc.gs_skill, np.arange(n + 1)).astype(np.int64)
        self.tr_lo = np.searchsorted(enc.tr_skill, np.arange(n + 1)).astype(np.int64)
        self.gs_off, self.gs_order, self.gs_starts = self._slots(self.gs_lo)
        self.tr_off, self.tr_order, self.tr_starts = self._slots(self.tr_lo)
        self.chunk_stats = np.zeros((len(lo), K.N_CHUNK, R))
        self.gs_acc = np.zeros((len(self.gs_order), K.N_CLASS, R))
        self.tr_acc = np.zeros((len(self.tr_order), K.N_CLASS, R))
        self.seq_stats = np.zeros((d.n_seq if store_seq else 0, K.N_SEQ, R))
        nr = d.n_rows if store_rows else 0
        self.row_gm = np.zeros((nr, R))
        self.row_x01 = np.zeros((nr, R))
        self.row_x10 = np.zeros((nr, R))
        self.has_next = np.ones(d.n_rows, dtype=bool)
        if d.n_seq:
            self.has_next[d.offsets[1:] - 1] = False
        self.scored = d.obs >= 0
        self.skill_n_seq = np.diff(d.skill_offsets).astype(float)
        # rows behind each class: scored rows (guess/slip), rows with a successor (transition)
        self.gs_scored = np.bincount(d.gs_idx[self.scored], minlength=enc.n_gs).astype(float)
        self.tr_next = np.bincount(d.tr_idx[self.has_next], minlength=enc.n_tr).astype(float)
        self.skill_scored = np.bincount(enc.gs_skill, weights=self.gs_scored, minlength=n)
        self.zero_shift = np.zeros(d.n_seq)
        self.seq_skill = d.seq_skill.astype(np.int64)
        self.seq_arange = np.arange(d.n_seq, dtype=np.int64)

    def _slots(self, cls_lo: np.ndarray):
        """Per chunk, one slot per class of its skill: (first slot of each chunk, slot order
        sorting the slots by class, start of each class in that order)."""
        n_cls = np.diff(cls_lo)[self.chunk_skill]
        off = np.concatenate(([0], np.cumsum(n_cls)[:-1])).astype(np.int64)
        slot_class = np.repeat(cls_lo[self.chunk_skill], n_cls) + (
            np.arange(int(n_cls.sum())) - np.repeat(off, n_cls)
        )
        order = np.argsort(slot_class, kind="stable")
        starts = np.searchsorted(slot_class[order], np.arange(cls_lo[-1]))
        return off, order, starts

    def e_step(self, t: Tables, active_skills: np.ndarray | None = None) -> Stats:
        """Run the E-step for the skills in ``active_skills`` (all when None); return the summed
        statistics (entries of inactive skills are stale)."""
        d = self.d
        if active_skills is None:
            chunk_ids = np.arange(len(self.chunk_lo), dtype=np.int64)
        else:
            chunk_ids = np.flatnonzero(active_skills[self.chunk_skill]).astype(np.int64)
        rows = int(self.chunk_rows[chunk_ids].sum())
        guess, slip = _col(t.guess), _col(t.slip)
        ones = np.ones_like(guess)
        em_tab = np.ascontiguousarray(
            np.stack([slip, 1.0 - slip, ones], axis=1).reshape(-1, self.R)
        )
        eu_tab = np.ascontiguousarray(
            np.stack([1.0 - guess, guess, ones], axis=1).reshape(-1, self.R)
        )
        learn, forget = _col(t.learn), _col(t.forget)
        if t.prior_eff is not None:
            eff = np.where(d.seq_student >= 0, t.prior_eff[np.maximum(d.seq_student, 0)], 0.0)
            prior_tab = sigmoid(logit(_col(t.prior)[d.seq_skill, 0]) + eff)[:, None]
            prior_idx = self.seq_arange
        else:
            prior_tab, prior_idx = _col(t.prior), self.seq_skill
        use_shift = t.learn_eff is not None
        if use_shift:
            shift = np.where(d.seq_student >= 0, t.learn_eff[np.maximum(d.seq_student, 0)], 0.0)
            learn_logit = logit(learn)
        else:
            shift, learn_logit = self.zero_shift, learn
        with K.threads_for(rows):
            K.e_step(
                self.ecode, d.offsets, self.chunk_lo, self.chunk_hi, self.chunk_skill,
                self.gs_lo, self.tr_lo, self.gs_off, self.tr_off, chunk_ids,
                np.ascontiguousarray(prior_tab), prior_idx, shift, d.tr_idx, em_tab, eu_tab,
                learn, np.ascontiguousarray(learn_logit), forget, use_shift, self.store_rows,
                self.store_seq, self.max_len, self.chunk_stats, self.gs_acc, self.tr_acc,
                self.seq_stats, self.row_gm, self.row_x01, self.row_x10,
            )  # fmt: skip
        return Stats(
            skill=np.add.reduceat(self.chunk_stats, self.chunk_start, axis=0),
            gs=_slot_sum(self.gs_acc, self.gs_order, self.gs_starts),
            tr=_slot_sum(self.tr_acc, self.tr_order, self.tr_starts),
        )


def _col(a: np.ndarray) -> np.ndarray:
    """A table as a C-contiguous 2-D (rows, restarts) array."""
    return np.ascontiguousarray(a if a.ndim == 2 else a[:, None])


# ---------------------------------------------------------------------------------- M-step parts
def _counts(ws: Workspace, st: Stats):
    """Expected counts, each (n_classes, R): (learn num, learn den, forget num, forget den) per
    transition class and (guess num, guess den, slip num, slip den) per guess/slip class."""
    ld = st.tr[:, T_LEARN_D]
    gd = st.gs[:, G_GUESS_D]
    tr = (st.tr[:, T_LEARN_N], ld, st.tr[:, T_FORGET_N], ws.tr_next[:, None] - ld)
    gs = (st.gs[:, G_GUESS_N], gd, st.gs[:, G_SLIP_N], ws.gs_scored[:, None] - gd)
    return tr, gs


def _ratio(num: np.ndarray, den: np.ndarray, old: np.ndarray, lo: float, hi: float) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 1e-12, num / np.where(den > 1e-12, den, 1.0), old)
    return np.clip(r, lo, hi)


def _apply_fixed(t: Tables, fixed: dict[str, np.ndarray]) -> None:
    for name, values in fixed.items():
        arr = getattr(t, name)
        m = ~np.isnan(values)
        arr[m] = values[m][:, None] if arr.ndim == 2 else values[m]


def _closed_form(
    t: Tables,
    ws: Workspace,
    enc: Encoding,
    opt: Options,
    st: Stats,
    active: np.ndarray,
    *,
    prior: bool = True,
    learn: bool = True,
) -> None:
    """Exact constrained M-step (in place) for the (skill, restart) pairs in ``active``
    ((n_skills, R) bool); tables are (rows, R)."""
    (ln, ld, fn, fd), (gn, gd, sn, sd) = _counts(ws, st)
    a_tr = active[enc.tr_skill]
    a_gs = active[enc.gs_skill]
    if prior:
        p = st.skill[:, C_PRIOR] / np.maximum(ws.skill_n_seq, 1)[:, None]
        t.prior[active] = np.clip(p, EPS, 1 - EPS)[active]
    if learn:
        t.learn[a_tr] = _ratio(ln, ld, t.learn, EPS, 1 - EPS)[a_tr]
    if opt.forgets:
        t.forget[a_tr] = _ratio(fn, fd, t.forget, EPS, 1 - EPS)[a_tr]
    t.guess[a_gs] = _ratio(gn, gd, t.guess, EPS, opt.max_guess)[a_gs]
    t.slip[a_gs] = _ratio(sn, sd, t.slip, EPS, opt.max_slip)[a_gs]
    _apply_fixed(t, opt.fixed)


# ---------------------------------------------------------------------------------- init
def initial_tables(
    enc: Encoding, opt: Options, restarts: range, rng: np.random.Generator
) -> Tables:
    """Tables with one column per restart: restart 0 is a fixed typical start (prior .4, learn
    .15, guess .2, slip .1, forget .05), later ones are drawn per skill. Draws depend only on the
    seed and the restart number."""
    n = len(enc.skills)
    cols = {name: [] for name in TABLES}
    for r in restarts:
        if r == 0:
            draw = {
                "prior": np.full(n, 0.4),
                "learn": np.full(n, 0.15),
                "forget": np.full(n, 0.05 if opt.forgets else 0.0),
                "guess": np.full(n, min(0.2, opt.max_guess)),
                "slip": np.full(n, min(0.1, opt.max_slip)),
            }
        else:
            draw = {
                "prior": rng.uniform(0.05, 0.95, n),
                "learn": rng.uniform(0.01, 0.4, n),
                "forget": rng.uniform(0.01, 0.3, n) if opt.forgets else np.zeros(n),
                "guess": rng.uniform(0.01, min(0.4, opt.max_guess), n),
                "slip": rng.uniform(0.01, min(0.3, opt.max_slip), n),
            }
        for name in TABLES:
            cols[name].append(draw[name])
    st = {name: np.stack(cols[name], axis=1) for name in TABLES}
    t = Tables(
        prior=st["prior"],
        learn=st["learn"][enc.tr_skill],
        forget=st["forget"][enc.tr_skill],
        guess=st["guess"][enc.gs_skill],
        slip=st["slip"][enc.gs_skill],
    )
    _apply_fixed(t, opt.fixed)
    return t


def _restore(t: Tables, saved: Tables, pairs: np.ndarray, enc: Encoding) -> None:
    """Copy the (skill, restart) ``pairs`` ((n_skills, R) bool) from ``saved`` into ``t``."""
    m_tr = pairs[enc.tr_skill]
    m_gs = pairs[enc.gs_skill]
    t.prior[pairs] = saved.prior[pairs]
    t.learn[m_tr] = saved.learn[m_tr]
    t.forget[m_tr] = saved.forget[m_tr]
    t.guess[m_gs] = saved.guess[m_gs]
    t.slip[m_gs] = saved.slip[m_gs]


def _fill_unidentified(t: Tables, enc: Encoding, tr_w: np.ndarray, gs_w: np.ndarray) -> None:
    """Classes with no evidence (no transition / no scored row) take their skill's weighted
    average, or the average over all skills; they do not affect the training likelihood."""
    for names, sk, w in (
        (("learn", "forget"), enc.tr_skill, tr_w),
        (("guess", "slip"), enc.gs_skill, gs_w),
    ):
        empty = w == 0
        if not empty.any():
            continue
        n = len(enc.skills)
        tot = np.bincount(sk, weights=w, minlength=n)
        for name in names:
            v = getattr(t, name)
            glob = float(np.sum(v * w) / np.sum(w)) if np.sum(w) > 0 else float(np.mean(v))
            per = np.bincount(sk, weights=v * w, minlength=n)
            avg = np.where(tot > 0, per / np.where(tot > 0, tot, 1.0), glob)
            v[empty] = avg[sk[empty]]


# ---------------------------------------------------------------------------------- drivers
def _run_restarts(
    d: Design,
    enc: Encoding,
    opt: Options,
    restarts: range,
    rng: np.random.Generator,
):
    """EM for restarts run together; returns (tables, ll, converged, histories, stop iteration,
    reverts), arrays with a last axis over restarts."""
    R = len(restarts)
    ws = Workspace(d, enc, R)
    n = len(enc.skills)
    tol_abs = (opt.tol * np.maximum(ws.skill_scored, 1.0))[:, None]
    t = initial_tables(enc, opt, restarts, rng)
    active = np.ones((n, R), dtype=bool)
    converged = np.zeros((n, R), dtype=bool)
    prev = np.full((n, R), -np.inf)
    hist = []
    saved = t.copy()
    reverts = 0
    stopped = np.full((n, R), -1)  # iteration at which each (skill, restart) stopped
    for it in range(opt.max_iter + 1):
        st = ws.e_step(t, active.any(axis=1))
        ll = np.where(active, st.skill[:, C_LL], prev)
        dropped = active & (ll < prev)
        if dropped.any():  # rounding at convergence: keep the previous parameters
            reverts += int(dropped.sum())
            _restore(t, saved, dropped, enc)
            ll[dropped] = prev[dropped]
            converged |= dropped
            active &= ~dropped
        done = active & (ll - prev < tol_abs)
        converged |= done
        active &= ~done
        stopped[(stopped < 0) & ~active] = it
        hist.append(ll.copy())
        if not active.any() or it == opt.max_iter:
            break
        saved = t.copy()
        _closed_form(t, ws, enc, opt, st, active)
        prev = ll
    stopped[stopped < 0] = len(hist) - 1
    return t, hist[-1], converged, np.array(hist), stopped, reverts, ws


def fit_independent(d: Design, enc: Encoding, opt: Options) -> FitResult:
    """EM with per-(skill, restart) convergence and per-skill choice of the best restart."""
    n = len(enc.skills)
    rng = np.random.default_rng(opt.seed)
    t, ll, conv, H, stopped, reverts, ws = _run_restarts(d, enc, opt, range(opt.restarts), rng)
    best = t.column(0)
    best_ll = ll[:, 0].copy()
    best_hist = [H[: stopped[s, 0] + 1, s, 0] for s in range(n)]
    best_conv = conv[:, 0].copy()
    for j in range(1, opt.restarts):
        better = ll[:, j] > best_ll
        if better.any():
            _restore(best, t.column(j), better, enc)
            for s in np.flatnonzero(better):
                best_hist[s] = H[: stopped[s, j] + 1, s, j]
            best_ll = np.where(better, ll[:, j], best_ll)
            best_conv = np.where(better, conv[:, j], best_conv)
    tr_w, gs_w = ws.tr_next, ws.gs_scored
    _fill_unidentified(best, enc, tr_w, gs_w)
    length = max(len(h) for h in best_hist)
    padded = np.array([np.pad(h, (0, length - len(h)), mode="edge") for h in best_hist])
    return FitResult(
        tables=best,
        history=padded.sum(axis=0),
        n_iter=length - 1,
        converged=bool(best_conv.all()),
        log_likelihood=float(best_ll.sum()),
        skill_log_likelihood=best_ll,
        tr_weight=tr_w,
        gs_weight=gs_w,
        reverts=reverts,
        unconverged=tuple(int(i) for i in np.flatnonzero(~best_conv)),
    )


def _newton_block(
    x: np.ndarray,
    other: np.ndarray,
    idx: np.ndarray,
    y: np.ndarray,
    n: np.ndarray,
    lam: float,
    free: np.ndarray | None,
) -> np.ndarray:
    """One guarded Newton step per coordinate of ``x`` for the separable concave objective
    ``sum_p [y log s(x[idx]+other) + (n-y) log s(-(x[idx]+other))] - lam/2 x^2``; a coordinate's
    step is halved until its own objective does not decrease."""
    m = x.shape[0]

    def obj(v):
        eta = v[idx] + other
        ll = y * log_sigmoid(eta) + (n - y) * log_sigmoid(-eta)
        return np.bincount(idx, weights=ll, minlength=m) - 0.5 * lam * v * v

    eta = x[idx] + other
    s = sigmoid(eta)
    g = np.bincount(idx, weights=y - n * s, minlength=m) - lam * x
    h = np.bincount(idx, weights=n * s * (1.0 - s), minlength=m) + lam
    step = np.where(h > 1e-12, g / np.where(h > 1e-12, h, 1.0), 0.0)
    if free is not None:
        step = np.where(free, step, 0.0)
    step = np.where(np.abs(step) < 1e-9, 0.0, step)  # settled coordinates stay put
    f0 = obj(x)
    new = np.clip(x + step, -LOGIT_BOUND, LOGIT_BOUND)
    bad = np.zeros(m, dtype=bool)
    for _ in range(20):  # halve the steps of the coordinates whose objective went down
        bad = (obj(new) < f0) & (step != 0.0)
        if not bad.any():
            break
        step = np.where(bad, 0.5 * step, step)
        new = np.where(bad, np.clip(x + step, -LOGIT_BOUND, LOGIT_BOUND), new)
    else:
        bad = obj(new) < f0
    new = np.where(bad, x, new)
    return new


def _logistic(
    a: np.ndarray,
    b: np.ndarray,
    pc: np.ndarray,
    pu: np.ndarray,
    y: np.ndarray,
    n: np.ndarray,
    free_a: np.ndarray,
    lam: float,
    sweeps: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Increase the penalized logistic objective in (class logits a, student effects b)."""
    y = np.clip(y, 0.0, n)
    for _ in range(sweeps):
        a = _newton_block(a, b[pu], pc, y, n, 0.0, free_a)
        b = _newton_block(b, a[pc], pu, y, n, lam, None)
    return a, b


def fit_coupled(d: Design, enc: Encoding, opt: Options, start: FitResult) -> FitResult:
    """Generalized EM for per-student logit effects, from an independent fit (effects at 0)."""
    tr_rows = any(lab != "all" for lab in enc.tr_label)
    learn_rows = opt.student_learn and tr_rows  # (activity, student) pairs need per-row counts
    ws = Workspace(d, enc, 1, store_rows=learn_rows, store_seq=True)
    assert enc.students is not None
    n_st = len(enc.students)
    n = len(enc.skills)
    lam = 1.0 / opt.student_effect_sd**2
    s0 = start.tables
    t = Tables(*(getattr(s0, name)[:, None].copy() for name in TABLES))
    t.prior_eff = np.zeros(n_st) if opt.student_prior else None
    t.learn_eff = np.zeros(n_st) if opt.student_learn else None
    all_pairs = np.ones((n, 1), dtype=bool)
    free_prior = np.isnan(opt.fixed["prior"]) if "prior" in opt.fixed else np.ones(n, bool)
    free_learn = np.isnan(opt.fixed["learn"]) if "learn" in opt.fixed else np.ones(enc.n_tr, bool)
    if learn_rows:
        row_student = np.repeat(d.seq_student, ws.lengths)
        key = d.tr_idx.astype(np.int64) * n_st + row_student
        uniq, pair_of_row = np.unique(key, return_inverse=True)
        pair_class, pair_student = uniq // n_st, uniq % n_st
    tol_abs = opt.tol * max(float(ws.skill_scored.sum()), 1.0)

    def penalty(tt: Tables) -> float:
        p = 0.0
        for e in (tt.prior_eff, tt.learn_eff):
            if e is not None:
                p += 0.5 * lam * float(np.dot(e, e))
        return p

    # The first objective (all effects 0) is the start's final log-likelihood, summed in another
    # order; it replaces that last entry so that rounding cannot make the history decrease.
    history = list(start.history[:-1])
    prev = -np.inf
    saved = t.copy()
    converged = False
    reverts = 0
    it = 0
    for it in range(opt.max_iter + 1):
        st = ws.e_step(t)
        obj = float(st.skill[:, C_LL, 0].sum()) - penalty(t)
        if obj < prev:
            reverts += 1
            t = saved
            converged = True
            break
        history.append(obj)
        if obj - prev < tol_abs:
            converged = True
            break
        if it == opt.max_iter:
            break
        prev = obj
        saved = t.copy()
        _closed_form(
            t,
            ws,
            enc,
            opt,
            st,
            all_pairs,
            prior=not opt.student_prior,
            learn=not opt.student_learn,
        )
        if opt.student_prior:
            a, b = _logistic(
                logit(t.prior[:, 0]),
                t.prior_eff,
                d.seq_skill,
                d.seq_student,
                ws.seq_stats[:, Q_PRIOR, 0],
                np.ones(d.n_seq),
                free_prior,
                lam,
            )
            t.prior, t.prior_eff = sigmoid(a)[:, None], b
        if opt.student_learn:
            if learn_rows:
                y = np.bincount(pair_of_row, weights=ws.row_x01[:, 0], minlength=len(uniq))
                nn = np.bincount(
                    pair_of_row,
                    weights=np.where(ws.has_next, 1.0 - ws.row_gm[:, 0], 0.0),
                    minlength=len(uniq),
                )
                pc, pu = pair_class, pair_student
            else:
                y, nn = ws.seq_stats[:, Q_LEARN_N, 0], ws.seq_stats[:, Q_LEARN_D, 0]
                pc, pu = d.tr_idx[d.offsets[:-1]].astype(np.int64), d.seq_student
            a, b = _logistic(logit(t.learn[:, 0]), t.learn_eff, pc, pu, y, nn, free_learn, lam)
            t.learn, t.learn_eff = sigmoid(a)[:, None], b
        _apply_fixed(t, opt.fixed)
    st = ws.e_step(t)
    final = Tables(*(getattr(t, name)[:, 0].copy() for name in TABLES))
    final.prior_eff, final.learn_eff = t.prior_eff, t.learn_eff
    return FitResult(
        tables=final,
        history=np.array(history),
        n_iter=start.n_iter + it,
        converged=converged,
        log_likelihood=float(st.skill[:, C_LL, 0].sum()),
        skill_log_likelihood=st.skill[:, C_LL, 0],
        tr_weight=start.tr_weight,
        gs_weight=start.gs_weight,
        reverts=start.reverts + reverts,
    )
