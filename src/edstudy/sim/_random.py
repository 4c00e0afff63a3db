"""Per-student random streams: a counter-based generator (Philox4x32-10) compiled with numba.

Every random number the simulator uses is a pure function of four things::

    u = uniform(key, student, counter, purpose, slot)

- ``key`` (two 32-bit words) comes from the seed: :func:`stream_key` of an int, a
  :class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`;
- ``student`` is the student's global index (its ``student_id``; for school and class effects the
  school or class index);
- ``counter`` counts within the student: a skill index, or the student's own number of practice
  opportunities so far;
- ``purpose`` names what the number is for (one constant per trait or decision, below), so
  changing how many numbers one purpose needs never shifts another;
- ``slot`` numbers the values of one (student, counter, purpose).

The counter block of Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers:
as easy as 1, 2, 3"; the generator of Random123, cuRAND and TensorFlow) is
``(student low 32 bits, student high 32 bits, counter, purpose << 20 | slot // 2)``; one block gives
128 bits, i.e. two uniforms of 52 bits each on the open interval ``(0, 1)`` (``(j + 0.5) / 2^52``,
never 0 or 1, so inverse CDFs stay finite). :func:`philox4x32` reproduces Random123's published
known-answer vectors (tested).

So a student's numbers do not depend on which other students are simulated with them, in one call
or in any chunks, on one machine or many: that is what lets a study split an arm into chunks and
still produce the same rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "PURPOSES",
    "philox4x32",
    "stream_key",
    "uniforms",
]

#: Purposes (the high bits of the fourth counter word). Each trait or decision has its own.
PURPOSES: dict[str, int] = {
    # population (edstudy.sim.population)
    "school_effect": 1,
    "class_effect": 2,
    "student_effect": 3,
    "prior_deviation": 4,
    "known0": 5,
    "speed": 6,
    "guess": 7,
    "slip": 8,
    "stated_preference": 9,
    "preference_valid": 10,
    "other_medium": 11,
    "interest": 12,
    "goal": 13,
    "engagement": 14,
    "time_multiplier": 15,
    # cohorts from fitted models (edstudy.sim.from_model)
    "model_known0": 20,
    "model_students": 21,
    "model_ability": 22,
    # engine (edstudy.sim.engine)
    "pretest": 30,
    "item_start": 31,
    "practice": 32,
    "offer": 33,
    "random_medium": 34,
    "thompson": 35,
    "posttest": 36,
}

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S12 = np.uint64(12)
_S20 = np.uint64(20)
_TWO_M52 = 2.0**-52


@njit(cache=True, nogil=True, inline="always")
def _philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of one counter block; every argument and result a uint64 below 2^32."""
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = _M0 * c0
        p1 = _M1 * c2
        hi0 = p0 >> _S32
        lo0 = p0 & _MASK
        hi1 = p1 >> _S32
        lo1 = p1 & _MASK
        c0 = hi1 ^ c1 ^ k0
        c1 = lo1
        c2 = hi0 ^ c3 ^ k1
        c3 = lo0
    return c0, c1, c2, c3


@njit(cache=True, nogil=True)
def _philox_words(ctr, key):
    c = ctr.astype(np.uint64)
    k = key.astype(np.uint64)
    x0, x1, x2, x3 = _philox(c[0], c[1], c[2], c[3], k[0], k[1])
    out = np.empty(4, dtype=np.uint64)
    out[0], out[1], out[2], out[3] = x0, x1, x2, x3
    return out


def philox4x32(counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, ...]:
    """The Philox4x32-10 block of one counter (4 words) and key (2 words), as 4 ints (tests)."""
    out = _philox_words(np.array(counter, dtype=np.uint64), np.array(key, dtype=np.uint64))
    return tuple(int(x) for x in out)


@njit(cache=True, nogil=True)
def _fill(k0, k1, ids, counters, purpose, out):
    n_values, n = out.shape
    key0 = np.uint64(k0)
    key1 = np.uint64(k1)
    base = np.uint64(purpose) << _S20
    for j in range(n):
        sid = np.uint64(ids[j])
        c0 = sid & _MASK
        c1 = sid >> _S32
        c2 = np.uint64(counters[j]) & _MASK
        for b in range((n_values + 1) // 2):
            x0, x1, x2, x3 = _philox(c0, c1, c2, base | np.uint64(b), key0, key1)
            a = ((x0 << _S32) | x1) >> _S12
            out[2 * b, j] = (np.float64(a) + 0.5) * _TWO_M52
            if 2 * b + 1 < n_values:
                a = ((x2 << _S32) | x3) >> _S12
                out[2 * b + 1, j] = (np.float64(a) + 0.5) * _TWO_M52


def stream_key(seed: int | np.random.SeedSequence | np.random.Generator) -> tuple[int, int]:
    """The two 32-bit key words of a seed.

    An int or a SeedSequence gives ``SeedSequence(seed).generate_state(2, uint32)`` (so ``5`` and
    ``SeedSequence(5)`` are the same stream); a Generator gives two draws from it (advancing it).
    """
    if isinstance(seed, np.random.Generator):
        words = seed.integers(0, 2**32, size=2, dtype=np.uint64)
    elif isinstance(seed, np.random.SeedSequence):
        words = seed.generate_state(2, dtype=np.uint32)
    elif seed is None:
        raise ValueError("seed is required (an int, SeedSequence or numpy Generator)")
    else:
        words = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint32)
    return int(words[0]), int(words[1])


def uniforms(
    key: tuple[int, int],
    ids: np.ndarray,
    purpose: str,
    n_values: int,
    counters: np.ndarray | int = 0,
) -> np.ndarray:
    """Uniforms on (0, 1) of shape ``(n_values, len(ids))``: value ``v`` of student ``ids[j]``.

    Parameters
    ----------
    key : (int, int)
        From :func:`stream_key`.
    ids : int array (n,)
        Global student (or class, school) indices, >= 0.
    purpose : str
        A key of :data:`PURPOSES`.
    n_values : int
        Values per student (slots ``0 .. n_values - 1``, at most 2^21).
    counters : int array (n,) or int
        The per-student counter (same for all when an int).

    Returns
    -------
    float64 array (n_values, n)
    """
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if np.isscalar(counters):
        counters = np.full(ids.shape[0], int(counters), dtype=np.int64)
    counters = np.ascontiguousarray(counters, dtype=np.int64)
    if n_values > 1 << 21:
        raise ValueError("at most 2^21 values per student, counter and purpose")
    out = np.empty((int(n_values), ids.shape[0]), dtype=np.float64)
    if out.size:
        _fill(key[0], key[1], ids, counters, PURPOSES[purpose], out)
    return out
