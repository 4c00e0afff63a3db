"""Turn a response log into the flat arrays the kernels read (private).

A :class:`Design` is the log grouped into per-(student, skill) sequences (via
:func:`edstudy.schema.to_sequences`) plus, for every row, the index of its guess/slip class and of
its transition class, and for every sequence the index of its student's effects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from edstudy.bkt.params import ALL, BKTParams
from edstudy.schema import to_sequences

__all__ = ["Design", "Encoding", "UNKNOWN_HINT", "design_fit", "design_predict"]

UNKNOWN_HINT = (
    "pass handle_unknown='average' to BKT to predict them with averaged fitted parameters"
)


@dataclass
class Encoding:
    """How ids map to class indices; fixed at fit time."""

    skills: pd.Index
    gs_skill: np.ndarray
    gs_label: tuple
    tr_skill: np.ndarray
    tr_label: tuple
    students: pd.Index | None

    @property
    def n_gs(self) -> int:
        return int(self.gs_skill.shape[0])

    @property
    def n_tr(self) -> int:
        return int(self.tr_skill.shape[0])

    @classmethod
    def from_params(cls, p: BKTParams) -> Encoding:
        return cls(
            skills=pd.Index(list(p.skills)),
            gs_skill=np.asarray(p.gs_skill),
            gs_label=p.gs_label,
            tr_skill=np.asarray(p.tr_skill),
            tr_label=p.tr_label,
            students=None if p.students is None else pd.Index(list(p.students)),
        )


@dataclass
class Design:
    """A log as flat sorted arrays.

    Attributes
    ----------
    obs : int8 (n_rows,)   1, 0, or -1 for an unscored row
    offsets : int64 (n_seq + 1,)
    seq_skill, seq_student : int64 (n_seq,)
        Skill code; student code into the encoding's students (-1 when the student is unknown or
        the model has no student effects).
    skill_offsets : int64 (n_skills + 1,)
    gs_idx, tr_idx : int32 (n_rows,)
    row_index : int64 (n_rows,)   position in the caller's log of each sorted row
    n_skills : int   number of skill codes (fitted skills, plus one slot for unknown ones)
    """

    obs: np.ndarray
    offsets: np.ndarray
    seq_skill: np.ndarray
    seq_student: np.ndarray
    skill_offsets: np.ndarray
    gs_idx: np.ndarray
    tr_idx: np.ndarray
    row_index: np.ndarray
    n_skills: int

    @property
    def n_rows(self) -> int:
        return int(self.obs.shape[0])

    @property
    def n_seq(self) -> int:
        return int(self.offsets.shape[0] - 1)

    def row_skill(self) -> np.ndarray:
        return np.repeat(self.seq_skill, np.diff(self.offsets))


def _sequences(log: pd.DataFrame, skills: pd.Index | None):
    """``to_sequences`` with unscored rows kept as observation code -1."""
    correct = log["correct"]
    if correct.isna().any():
        log = log.assign(correct=correct.fillna(-1))
    seqs = to_sequences(log, skills=skills)
    obs = seqs.correct.astype(np.int8, copy=False)
    return seqs, obs


def _require(log: pd.DataFrame, column: str, option: str) -> np.ndarray:
    if column not in log.columns:
        raise ValueError(f"{option}=True needs the column '{column}' in the log")
    values = log[column]
    if values.isna().any():
        missing = values.isna().to_numpy()
        first = log.index[missing][0]
        raise ValueError(
            f"{column} is missing in {int(missing.sum())} rows (first at index {first}): "
            f"{option}=True needs {column} on every row"
        )
    return values.to_numpy(dtype=object)


def _pair_codes(skill_rows: np.ndarray, labels: np.ndarray):
    """Factorize (skill code, label) pairs; classes sorted by skill, then label."""
    lab_codes, lab_uniques = pd.factorize(labels, sort=True)
    key = skill_rows.astype(np.int64) * (len(lab_uniques) + 1) + lab_codes
    uniq, inv = np.unique(key, return_inverse=True)
    cls_skill = uniq // (len(lab_uniques) + 1)
    cls_label = tuple(_plain(lab_uniques[k]) for k in uniq % (len(lab_uniques) + 1))
    return inv.astype(np.int32), cls_skill.astype(np.int64), cls_label


def _plain(x):
    return x.item() if isinstance(x, np.generic) else x


def design_fit(
    log: pd.DataFrame, *, item_guess_slip: bool, activity_learn: bool, students: bool
) -> tuple[Design, Encoding]:
    """Encode a validated log for fitting: every skill, item and activity becomes a class."""
    items = _require(log, "item_id", "item_guess_slip") if item_guess_slip else None
    acts = _require(log, "activity", "activity_learn") if activity_learn else None
    seqs, obs = _sequences(log, None)
    if not (obs >= 0).any():
        raise ValueError("the log has no scored rows (correct is missing everywhere)")
    lengths = np.diff(seqs.offsets)
    skill_rows = np.repeat(seqs.seq_skill, lengths)
    n_skills = len(seqs.skills)
    if items is not None:
        gs_idx, gs_skill, gs_label = _pair_codes(skill_rows, items[seqs.row_index])
    else:
        gs_idx = skill_rows.astype(np.int32)
        gs_skill, gs_label = np.arange(n_skills), (ALL,) * n_skills
    if acts is not None:
        tr_idx, tr_skill, tr_label = _pair_codes(skill_rows, acts[seqs.row_index])
    else:
        tr_idx = gs_idx if items is None else skill_rows.astype(np.int32)
        tr_skill, tr_label = np.arange(n_skills), (ALL,) * n_skills
    design = Design(
        obs=obs,
        offsets=seqs.offsets,
        seq_skill=seqs.seq_skill,
        seq_student=seqs.seq_student if students else np.full(len(seqs.seq_skill), -1),
        skill_offsets=seqs.skill_offsets,
        gs_idx=gs_idx,
        tr_idx=tr_idx,
        row_index=seqs.row_index,
        n_skills=n_skills,
    )
    enc = Encoding(
        skills=seqs.skills,
        gs_skill=gs_skill,
        gs_label=gs_label,
        tr_skill=tr_skill,
        tr_label=tr_label,
        students=seqs.students if students else None,
    )
    return design, enc


def _show(values: list) -> str:
    head = ", ".join(repr(v) for v in values[:5])
    more = f", ... ({len(values)} in all)" if len(values) > 5 else ""
    return f"[{head}{more}]"


def _lookup(
    enc_skill: np.ndarray,
    enc_label: tuple,
    skill_rows: np.ndarray,
    labels: np.ndarray,
    n_fit_skills: int,
    column: str,
    handle_unknown: str,
    skills: pd.Index,
) -> np.ndarray:
    """Class index of each (skill code, label) row; unseen pairs go to the skill's average slot.

    Average slots: ``n_classes + k`` for fitted skill ``k``, ``n_classes + n_fit_skills`` for
    skills not seen in fit.
    """
    n_cls = enc_skill.shape[0]
    fitted = pd.MultiIndex.from_arrays([enc_skill, pd.Index(list(enc_label), dtype=object)])
    query = pd.MultiIndex.from_arrays([skill_rows, pd.Index(labels, dtype=object)])
    idx = fitted.get_indexer(query)
    unknown = (idx < 0) & (skill_rows < n_fit_skills)
    if unknown.any():  # a skill fitted with one skill-wide class takes any label
        wide = fitted.get_indexer(
            pd.MultiIndex.from_arrays(
                [skill_rows[unknown], pd.Index([ALL] * int(unknown.sum()), dtype=object)]
            )
        )
        idx[unknown] = wide
        unknown = (idx < 0) & (skill_rows < n_fit_skills)
    if unknown.any():
        if handle_unknown == "error":
            pairs = pd.unique(
                pd.Series(
                    [
                        (skills[s], _plain(lab))
                        for s, lab in zip(
                            skill_rows[unknown][:1000], labels[unknown][:1000], strict=True
                        )
                    ],
                    dtype=object,
                )
            )
            raise ValueError(
                f"{column} not seen in fit for its skill: {_show(list(pairs))} "
                f"(skill, {column}) pairs in {int(unknown.sum())} rows; {UNKNOWN_HINT}"
            )
        idx = np.where(unknown, n_cls + skill_rows, idx)
    idx = np.where(skill_rows >= n_fit_skills, n_cls + n_fit_skills, idx)
    return idx.astype(np.int32)


def design_predict(log: pd.DataFrame, enc: Encoding, *, handle_unknown: str) -> Design:
    """Encode a validated log with the fitted coding (see :func:`_lookup` for unseen classes)."""
    n_fit = len(enc.skills)
    known = enc.skills.get_indexer(log["skill_id"])
    skills = enc.skills
    if (known < 0).any():
        new = list(pd.unique(log["skill_id"].to_numpy(dtype=object)[known < 0]))
        if handle_unknown == "error":
            raise ValueError(
                f"skill_id not seen in fit: {_show(new)} in {int((known < 0).sum())} rows; "
                f"{UNKNOWN_HINT}"
            )
        skills = enc.skills.append(pd.Index(new, dtype=object))
    items_needed = any(lab != ALL for lab in enc.gs_label)
    acts_needed = any(lab != ALL for lab in enc.tr_label)
    items = _require(log, "item_id", "item_guess_slip") if items_needed else None
    acts = _require(log, "activity", "activity_learn") if acts_needed else None
    seqs, obs = _sequences(log, skills)
    lengths = np.diff(seqs.offsets)
    skill_rows = np.repeat(seqs.seq_skill, lengths)
    if items is not None:
        gs_idx = _lookup(
            enc.gs_skill,
            enc.gs_label,
            skill_rows,
            items[seqs.row_index],
            n_fit,
            "item_id",
            handle_unknown,
            skills,
        )
    else:
        gs_idx = np.minimum(skill_rows, n_fit).astype(np.int32)
        gs_idx[skill_rows >= n_fit] = enc.n_gs + n_fit
    if acts is not None:
        tr_idx = _lookup(
            enc.tr_skill,
            enc.tr_label,
            skill_rows,
            acts[seqs.row_index],
            n_fit,
            "activity",
            handle_unknown,
            skills,
        )
    else:
        tr_idx = np.minimum(skill_rows, n_fit).astype(np.int32)
        tr_idx[skill_rows >= n_fit] = enc.n_tr + n_fit
    seq_skill = np.minimum(seqs.seq_skill, n_fit)
    if enc.students is not None:
        seq_student = enc.students.get_indexer(seqs.students)[seqs.seq_student]
    else:
        seq_student = np.full(len(seq_skill), -1)
    return Design(
        obs=obs,
        offsets=seqs.offsets,
        seq_skill=seq_skill,
        seq_student=seq_student.astype(np.int64),
        skill_offsets=seqs.skill_offsets,
        gs_idx=gs_idx,
        tr_idx=tr_idx,
        row_index=seqs.row_index,
        n_skills=n_fit + 1,
    )
