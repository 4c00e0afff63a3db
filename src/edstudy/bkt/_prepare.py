"""What :meth:`edstudy.bkt.BKT.fit` does around EM: leave out skills that have no scored row
(with a warning that names them, instead of parameters made up from starting values), turn
the ``fixed`` option into per-table arrays, and run the numba kernels on the requested number
of threads."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numba
import numpy as np
import pandas as pd

from edstudy.bkt._design import Encoding
from edstudy.bkt.params import ALL, PARAMETERS

__all__ = ["UnscoredSkillWarning", "resolve_fixed"]


class UnscoredSkillWarning(UserWarning):
    """Some skills of a log have no scored row, so the model can learn nothing about them."""


def _without_unscored_skills(log: pd.DataFrame) -> pd.DataFrame:
    """The log without the rows of skills that have no scored row, with a warning naming them.

    Fitting would otherwise give such skills parameters made up from the starting values.
    """
    scored = log["correct"].notna().to_numpy()
    if not scored.any():
        raise ValueError("the log has no scored rows (correct is missing everywhere)")
    has = pd.unique(log.loc[scored, "skill_id"])
    mask = log["skill_id"].isin(has).to_numpy()
    if mask.all():
        return log
    missing = list(pd.unique(log.loc[~mask, "skill_id"]))
    shown = ", ".join(repr(x) for x in missing[:5]) + (" ..." if len(missing) > 5 else "")
    warnings.warn(
        f"{len(missing)} skill(s) have no scored row and get no parameters: {shown} "
        f"({int((~mask).sum())} unscored rows left out); predicting them follows handle_unknown",
        UnscoredSkillWarning,
        stacklevel=3,
    )
    return log[mask]


@contextlib.contextmanager
def _threads(n_jobs: int | None) -> Iterator[None]:
    """Run numba kernels on ``n_jobs`` threads (None: numba's current setting, -1: all)."""
    if n_jobs is None:
        yield
        return
    before = numba.get_num_threads()
    most = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(most if n_jobs == -1 else max(1, min(int(n_jobs), most)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def resolve_fixed(fixed: Any, enc: Encoding, *, forgets: bool) -> dict[str, np.ndarray]:
    """The ``fixed`` option as NaN-padded arrays per parameter table (NaN = estimated).

    ``fixed`` is a table (skill, parameter, value[, class]) or a mapping of parameter to a value
    or to {skill: value}; errors name the parameter, skill or class.
    """
    n = len(enc.skills)
    sizes = {
        "prior": n,
        "learn": enc.n_tr,
        "forget": enc.n_tr,
        "guess": enc.n_gs,
        "slip": enc.n_gs,
    }
    out = {k: np.full(v, np.nan) for k, v in sizes.items()}
    skill_of = {
        "prior": np.arange(n),
        "learn": enc.tr_skill,
        "forget": enc.tr_skill,
        "guess": enc.gs_skill,
        "slip": enc.gs_skill,
    }
    label_of = {
        "prior": (ALL,) * n,
        "learn": enc.tr_label,
        "forget": enc.tr_label,
        "guess": enc.gs_label,
        "slip": enc.gs_label,
    }
    entries: list[tuple[str, Any, Any, Any]] = []  # (parameter, skill or None, class, value)
    fx = fixed
    if isinstance(fx, pd.DataFrame):
        missing = {"skill", "parameter", "value"} - set(fx.columns)
        if missing:
            raise ValueError(f"fixed is missing column(s): {sorted(missing)}")
        classes = fx["class"] if "class" in fx.columns else pd.Series(ALL, index=fx.index)
        for skill, par, cls_, val in zip(
            fx["skill"], fx["parameter"], classes, fx["value"], strict=True
        ):
            if par in ("student_prior", "student_learn"):
                continue
            entries.append((par, skill, cls_, val))
    elif isinstance(fx, Mapping):
        for par, val in fx.items():
            if isinstance(val, Mapping):
                entries += [(par, sk, ALL, v) for sk, v in val.items()]
            else:
                entries.append((par, None, ALL, val))
    for par, skill, cls_, val in entries:
        if par not in PARAMETERS:
            raise ValueError(f"fixed: unknown parameter {par!r}; allowed: {', '.join(PARAMETERS)}")
        try:
            v = float(val)
        except (TypeError, ValueError):
            v = float("nan")
        if not (0.0 <= v <= 1.0):
            raise ValueError(f"fixed: {par} must be a probability in [0, 1], got {val!r}")
        if par == "forget" and not forgets and v != 0.0:
            raise ValueError("fixed: forget needs forgets=True")
        mask = np.ones(sizes[par], dtype=bool)
        if skill is not None:
            pos = enc.skills.get_indexer([skill])[0]
            if pos < 0:
                raise ValueError(f"fixed: skill {skill!r} is not in the log")
            mask &= skill_of[par] == pos
        if not (isinstance(cls_, str) and cls_ == ALL):
            mask &= np.array([lab == cls_ for lab in label_of[par]], dtype=bool)
            if not mask.any():
                raise ValueError(
                    f"fixed: class {cls_!r} of {par} for skill {skill!r} is not in the log"
                )
        out[par][mask] = v
    if not forgets:
        out["forget"][:] = 0.0
    return {k: v for k, v in out.items() if not np.all(np.isnan(v))}
