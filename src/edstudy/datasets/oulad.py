"""OULAD (Open University Learning Analytics Dataset): VLE activity log and per-enrolment outcomes.

The OULAD has no scored answers per item: students click freely on course resources of 20 types
(``vle.activity_type``: oucontent, forumng, quiz, resource, url, ...). So :func:`load_oulad`
returns an *activity* log (``correct`` missing, ``chosen`` true, ``activity`` = resource type) for
learner-preference models, and :func:`load_oulad_outcomes` the outcomes table.

Student ids are **enrolments**: ``student_id = "<id_student>:<code_module>-<code_presentation>"``
(e.g. ``"11391:AAA-2013J"``) in both tables, so they join. A student can take several module
presentations (28,785 students hold the 32,593 enrolments; 33 students of the staged clicks took
AAA in both 2013J and 2014J), and each presentation has its own calendar: ``date`` counts days
from *that* presentation's start, so one timeline per enrolment is the only ordering the data
support. ``id_student`` is kept as a column for analyses across presentations.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from edstudy.datasets._errors import DataNotFoundError, DatasetFormatError
from edstudy.datasets._locate import locate
from edstudy.datasets._read import (
    finish_log,
    finish_outcomes,
    ids_as_text,
    parse_number,
    read_header,
    read_table,
    require_columns,
)
from edstudy.datasets._report import Ledger
from edstudy.datasets._table_cache import cached_table

__all__ = ["load_oulad", "load_oulad_assessments", "load_oulad_outcomes"]

VLE_CLICKS = ("code_module", "code_presentation", "id_student", "id_site", "date", "sum_click")
INFO = (
    "code_module",
    "code_presentation",
    "id_student",
    "gender",
    "region",
    "highest_education",
    "imd_band",
    "age_band",
    "num_of_prev_attempts",
    "studied_credits",
    "disability",
    "final_result",
)
DEMOGRAPHICS = INFO[3:11]
FINAL_RESULTS = ("Distinction", "Pass", "Fail", "Withdrawn")
NOT_REQUESTED = "presentation not requested"
# The official release writes missing values as "?" in some versions; empty in others.
_NA = ["", "?"]
_TEXT_COLUMNS = {
    c: "str"
    for c in (
        "code_module",
        "code_presentation",
        "activity_type",
        *DEMOGRAPHICS,
        "final_result",
        "assessment_type",
    )
}


def _table(folder: Path, stem: str) -> Path:
    for name in (f"{stem}.csv.gz", f"{stem}.csv"):
        if (folder / name).is_file():
            return folder / name
    raise DataNotFoundError(f"oulad: neither {stem}.csv.gz nor {stem}.csv is in {folder}")


def _clicks_file(folder: Path) -> Path:
    for name in ("studentVle.csv.gz", "studentVle.csv"):
        if (folder / name).is_file():
            return folder / name
    subsets = sorted(folder.glob("studentVle_*.csv*"))
    if len(subsets) == 1:
        return subsets[0]
    if subsets:
        names = ", ".join(p.name for p in subsets)
        raise DataNotFoundError(
            f"oulad: several studentVle files in {folder} ({names}); pass path= to one"
        )
    raise DataNotFoundError(f"oulad: no studentVle.csv (or studentVle_*.csv) in {folder}")


def _folder_and_clicks(
    path: str | os.PathLike[str] | None, download: bool, verbose: bool
) -> tuple[Path, Path | None]:
    given = Path(path).expanduser() if path is not None else None
    if given is not None and given.is_file() and given.name.startswith("studentVle"):
        return given.parent, given
    info = locate("oulad", path, download=download, verbose=verbose)
    return info.parent, None


def _missing_error(values: pd.Series, column: str, file: Path) -> DatasetFormatError:
    missing = values.isna()
    return DatasetFormatError(
        f"{file}: column '{column}' must not be missing: {int(missing.sum())} rows, "
        f"first at line {values.index[missing.to_numpy()][0]}"
    )


def _whole(values: pd.Series, column: str, file: Path, minimum: float | None = None) -> np.ndarray:
    """A column of whole numbers with no missing value, as int64."""
    numbers = parse_number(values, column, file, integer=True, minimum=minimum)
    if numbers.isna().any():
        raise _missing_error(values, column, file)
    return numbers.to_numpy(dtype=np.int64)


def _labels(
    module: pd.Series, presentation: pd.Series, file: Path
) -> tuple[np.ndarray, np.ndarray]:
    """Codes and ``"<module>-<presentation>"`` labels of each row, built once per distinct pair."""
    for values in (module, presentation):
        if values.isna().any():
            raise _missing_error(values, str(values.name), file)
    m_codes, m_uniques = pd.factorize(module)
    p_codes, p_uniques = pd.factorize(presentation)
    pair = m_codes.astype(np.int64) * max(len(p_uniques), 1) + p_codes
    codes, uniques = pd.factorize(pair)
    labels = np.array(
        [
            f"{m_uniques[u // max(len(p_uniques), 1)]}-{p_uniques[u % max(len(p_uniques), 1)]}"
            for u in uniques
        ],
        dtype=object,
    )
    return codes, labels


def _normalize_presentations(presentations: Iterable[str | tuple[str, str]]) -> list[str]:
    """``"AAA 2013J"``, ``"AAA_2013J"`` or ``("AAA", "2013J")`` to ``"AAA-2013J"``."""
    if isinstance(presentations, str):
        presentations = [presentations]
    out = []
    for p in presentations:
        if isinstance(p, tuple):
            out.append(f"{p[0]}-{p[1]}")
        else:
            out.append(str(p).strip().replace(" ", "-").replace("_", "-"))
    return out


def _keep_presentations(
    df: pd.DataFrame,
    labels: np.ndarray,
    codes: np.ndarray,
    presentations: Iterable[str | tuple[str, str]] | None,
    file: Path,
    ledger: Ledger,
) -> pd.DataFrame:
    if presentations is None:
        return df
    wanted = _normalize_presentations(presentations)
    unknown = [p for p in wanted if p not in set(labels)]
    if unknown:
        raise ValueError(
            f"presentations: {', '.join(map(repr, unknown))} not in {file}; "
            f"it has: {', '.join(sorted(labels))}"
        )
    keep_codes = np.flatnonzero(np.isin(labels, wanted))
    return ledger.drop(df, pd.Series(~np.isin(codes, keep_codes), index=df.index), NOT_REQUESTED)


def load_oulad(
    path: str | os.PathLike[str] | None = None,
    presentations: Iterable[str | tuple[str, str]] | None = None,
    *,
    download: bool = False,
    verbose: bool = True,
) -> pd.DataFrame:
    """Load the OULAD VLE clicks as an activity log (one row per studentVle row).

    Parameters
    ----------
    path : path-like, optional
        The OULAD folder (with ``vle.csv`` and ``studentVle.csv`` or a ``studentVle_*.csv`` subset,
        optionally gzip-compressed) or a studentVle file; searched for when omitted.
    presentations : iterable, optional
        Keep only these module presentations, as ``"AAA-2013J"`` or ``("AAA", "2013J")``; the
        other rows are counted as dropped.
    download : bool
        Fetch the official archive into the cache when no copy is found.
    verbose : bool
        Print the one-line load summary (it is always logged at INFO).

    Returns
    -------
    DataFrame
        ``student_id`` (enrolment, see the module docstring), ``skill_id`` (``code_module``, the
        course), ``order`` (rank by ``date``, then ``id_site``, then file order, within the
        enrolment: every row keeps its own order), ``correct`` (``<NA>``: no scored answer),
        ``activity`` (``vle.activity_type``), ``chosen`` (``True``: resources are freely chosen),
        and ``id_student, code_presentation, id_site, date`` (days from the presentation start),
        ``sum_click``. The source repeats some (student, day, resource) rows; all are kept, so
        summing ``sum_click`` gives the published click totals.

    Raises
    ------
    DataNotFoundError, DatasetFormatError
    ValueError
        A requested presentation is not in the file.
    """
    folder, clicks_file = _folder_and_clicks(path, download, verbose)
    clicks_file = clicks_file or _clicks_file(folder)
    wanted = None if presentations is None else _normalize_presentations(presentations)
    return cached_table(
        "oulad",
        [clicks_file, _table(folder, "vle")],
        {"presentations": wanted},
        lambda: _read_clicks(folder, clicks_file, presentations, verbose=verbose),
        verbose=verbose,
    )


def _read_clicks(
    folder: Path,
    clicks_file: Path,
    presentations: Iterable[str | tuple[str, str]] | None,
    *,
    verbose: bool,
) -> pd.DataFrame:
    require_columns(clicks_file, read_header(clicks_file), VLE_CLICKS, "OULAD studentVle")
    # Few distinct modules/presentations: categories make the 10M-row official file cheap.
    raw = read_table(
        clicks_file,
        VLE_CLICKS,
        dtype={"code_module": "category", "code_presentation": "category"},
        na_values=_NA,
    )
    ledger = Ledger("oulad", clicks_file, len(raw))

    codes, labels = _labels(raw["code_module"], raw["code_presentation"], clicks_file)
    raw = _keep_presentations(raw, labels, codes, presentations, clicks_file, ledger)

    vle_file = _table(folder, "vle")
    require_columns(vle_file, read_header(vle_file), ("id_site", "activity_type"), "OULAD vle")
    vle = read_table(vle_file, ("id_site", "activity_type"), dtype=_TEXT_COLUMNS, na_values=_NA)
    if vle["id_site"].duplicated().any():
        dup = vle["id_site"].duplicated(keep=False)
        raise DatasetFormatError(
            f"{vle_file}: column 'id_site' must be unique: {int(dup.sum())} rows, first at line "
            f"{vle.index[dup.to_numpy()][0]} (value {vle['id_site'][dup].iloc[0]})"
        )
    site = pd.Series(_whole(raw["id_site"], "id_site", clicks_file), index=raw.index)
    activity = pd.Series(pd.Index(vle["id_site"]).get_indexer(site.to_numpy()), index=raw.index)
    raw = ledger.drop(raw, activity < 0, "id_site not in vle.csv")
    activity = vle["activity_type"].to_numpy()[activity.loc[raw.index].to_numpy()]
    pair_codes, pair_labels = _labels(raw["code_module"], raw["code_presentation"], clicks_file)
    student = _whole(raw["id_student"], "id_student", clicks_file, minimum=0)
    date = _whole(raw["date"], "date", clicks_file)
    site = site.loc[raw.index].to_numpy(dtype=np.int64)
    clicks = _whole(raw["sum_click"], "sum_click", clicks_file, minimum=0)

    # Enrolment = (student, module-presentation); one code per enrolment, labels built once each.
    enrol_codes, enrol_uniques = pd.factorize(student * len(pair_labels) + pair_codes)
    enrol_labels = np.array(
        [f"{u // len(pair_labels)}:{pair_labels[u % len(pair_labels)]}" for u in enrol_uniques],
        dtype=object,
    )
    line = np.arange(len(raw))
    sort = np.lexsort((line, site, date, enrol_codes))
    new_enrol = np.ones(len(sort), dtype=bool)
    new_enrol[1:] = enrol_codes[sort][1:] != enrol_codes[sort][:-1]
    starts = np.flatnonzero(new_enrol)
    order = np.empty(len(sort), dtype=np.int64)
    order[sort] = np.arange(len(sort)) - np.repeat(starts, np.diff(np.append(starts, len(sort))))

    log = pd.DataFrame(
        {
            "student_id": pd.array(enrol_labels[enrol_codes], dtype="str"),
            "skill_id": ids_as_text(raw["code_module"]).to_numpy(),
            "order": order,
            "correct": pd.array(np.full(len(raw), pd.NA), dtype="Int8"),
            "activity": pd.array(activity, dtype="str"),
            "chosen": pd.array(np.ones(len(raw), dtype=bool), dtype="boolean"),
            "id_student": student,
            "code_presentation": ids_as_text(raw["code_presentation"]).to_numpy(),
            "id_site": site,
            "date": date,
            "sum_click": clicks,
        },
        index=raw.index,
    )
    repeated = int(pd.DataFrame({"e": enrol_codes, "d": date, "s": site}).duplicated().sum())
    if repeated:
        ledger.note(
            f"{repeated:,} rows repeat the (student, date, id_site) of an earlier row, as in the "
            "source; all kept, in file order"
        )
    return finish_log(log, ledger, verbose=verbose)


def _enrolment_ids(student: pd.Series, module: pd.Series, presentation: pd.Series) -> pd.Series:
    return (
        student.astype("str") + ":" + module.astype("str") + "-" + presentation.astype("str")
    ).astype("str")


def _assessment_scores(folder: Path) -> tuple[pd.DataFrame, list[str]]:
    """Mean score / 100 per enrolment over all scored assessments, and over exams only."""
    a_file = _table(folder, "assessments")
    sa_file = _table(folder, "studentAssessment")
    require_columns(
        a_file,
        read_header(a_file),
        ("id_assessment", "code_module", "code_presentation", "assessment_type"),
        "OULAD assessments",
    )
    require_columns(
        sa_file,
        read_header(sa_file),
        ("id_assessment", "id_student", "score"),
        "OULAD studentAssessment",
    )
    assessments = read_table(
        a_file,
        ("id_assessment", "code_module", "code_presentation", "assessment_type"),
        dtype=_TEXT_COLUMNS,
        na_values=_NA,
    )
    scores = read_table(sa_file, ("id_assessment", "id_student", "score"), na_values=_NA)
    score = parse_number(scores["score"], "score", sa_file, minimum=0, maximum=100) / 100.0
    notes = []
    merged = scores.assign(score=score).merge(assessments, on="id_assessment", how="left")
    unknown = merged["code_module"].isna()
    if unknown.any():
        notes.append(
            f"{int(unknown.sum()):,} rows of {sa_file.name} name an id_assessment missing from "
            f"{a_file.name}; not counted in assessment_score"
        )
    merged = merged[~unknown & merged["score"].notna()]
    merged = merged.assign(
        student_id=_enrolment_ids(
            merged["id_student"], merged["code_module"], merged["code_presentation"]
        )
    )
    grouped = merged.groupby("student_id")["score"]
    exams = merged[merged["assessment_type"] == "Exam"].groupby("student_id")["score"]
    table = pd.DataFrame(
        {"assessment_score": grouped.mean(), "n_assessments": grouped.size()}
    ).join(exams.mean().rename("exam_score"), how="left")
    return table, notes


def load_oulad_outcomes(
    path: str | os.PathLike[str] | None = None,
    presentations: Iterable[str | tuple[str, str]] | None = None,
    *,
    download: bool = False,
    verbose: bool = True,
) -> pd.DataFrame:
    """Load the OULAD outcomes: one row per enrolment (student in a module presentation).

    Parameters
    ----------
    path : path-like, optional
        The OULAD folder (``studentInfo``, ``studentRegistration``, ``assessments``,
        ``studentAssessment``; ``.csv`` or ``.csv.gz``); searched for when omitted.
    presentations : iterable, optional
        Keep only these module presentations (``"AAA-2013J"`` or ``("AAA", "2013J")``).
    download : bool
        Fetch the official archive into the cache when no copy is found.
    verbose : bool
        Print the one-line load summary (it is always logged at INFO).

    Returns
    -------
    DataFrame
        ``student_id`` (``"<id_student>:<module>-<presentation>"``, unique), ``class_id`` (the
        module presentation, the cohort students share), ``final_result``, ``completed`` (Pass or
        Distinction), ``dropped_out`` (Withdrawn), ``assessment_score`` (mean score / 100 over the
        enrolment's scored assessments, banked ones included; missing when none),
        ``exam_score`` (mean exam score / 100), ``n_assessments``, the demographics of
        ``studentInfo`` (gender, region, highest_education, imd_band, age_band,
        num_of_prev_attempts, studied_credits, disability), ``date_registration,
        date_unregistration`` (days from the presentation start) and ``id_student, code_module,
        code_presentation``.

    Raises
    ------
    DataNotFoundError, DatasetFormatError
    ValueError
        A requested presentation is not in the file.
    """
    folder, _ = _folder_and_clicks(path, download, verbose)
    info_file = _table(folder, "studentInfo")
    require_columns(info_file, read_header(info_file), INFO, "OULAD studentInfo")
    info = read_table(info_file, INFO, dtype=_TEXT_COLUMNS, na_values=_NA)
    ledger = Ledger("oulad_outcomes", info_file, len(info))
    codes, labels = _labels(info["code_module"], info["code_presentation"], info_file)
    info = _keep_presentations(info, labels, codes, presentations, info_file, ledger)

    result = ids_as_text(info["final_result"])
    bad = ~result.isin(FINAL_RESULTS)
    if bad.any():
        raise DatasetFormatError(
            f"{info_file}: column 'final_result' must be one of {', '.join(FINAL_RESULTS)}: "
            f"{int(bad.sum())} rows, first at line {info.index[bad.to_numpy()][0]} "
            f"(value {result[bad].iloc[0]!r})"
        )
    student = pd.Series(_whole(info["id_student"], "id_student", info_file, 0), index=info.index)
    out = pd.DataFrame(
        {
            "student_id": _enrolment_ids(student, info["code_module"], info["code_presentation"]),
            "class_id": (info["code_module"] + "-" + info["code_presentation"]).astype("str"),
            "final_result": result,
            "completed": result.isin(["Pass", "Distinction"]),
            "dropped_out": result == "Withdrawn",
        },
        index=info.index,
    )
    out = ledger.drop(out, out["student_id"].duplicated(), "duplicate enrolment")

    scores, notes = _assessment_scores(folder)
    out = out.join(scores, on="student_id")
    out["n_assessments"] = out["n_assessments"].fillna(0).astype("int64")
    for column in DEMOGRAPHICS:
        out[column] = info.loc[out.index, column]
    for column in ("num_of_prev_attempts", "studied_credits"):
        out[column] = parse_number(out[column], column, info_file, integer=True, minimum=0)

    reg_file = _table(folder, "studentRegistration")
    reg_columns = (
        "code_module",
        "code_presentation",
        "id_student",
        "date_registration",
        "date_unregistration",
    )
    require_columns(reg_file, read_header(reg_file), reg_columns, "OULAD studentRegistration")
    reg = read_table(reg_file, reg_columns, dtype=_TEXT_COLUMNS, na_values=_NA)
    reg_ids = _enrolment_ids(reg["id_student"], reg["code_module"], reg["code_presentation"])
    reg = (
        pd.DataFrame(
            {
                "date_registration": parse_number(
                    reg["date_registration"], "date_registration", reg_file
                ),
                "date_unregistration": parse_number(
                    reg["date_unregistration"], "date_unregistration", reg_file
                ),
            }
        )
        .set_axis(reg_ids.to_numpy())
        .loc[lambda d: ~d.index.duplicated()]
    )
    out = out.join(reg, on="student_id")
    out["id_student"] = student.loc[out.index]
    out["code_module"] = info.loc[out.index, "code_module"]
    out["code_presentation"] = info.loc[out.index, "code_presentation"]
    for note in notes:
        ledger.note(note)
    return finish_outcomes(out, ledger, verbose=verbose)


def load_oulad_assessments(
    path: str | os.PathLike[str] | None = None,
    *,
    pass_mark: float = 40.0,
    by: str = "module_type",
    download: bool = False,
    verbose: bool = True,
) -> pd.DataFrame:
    """OULAD's assessments as a scored response log: every submission is an opportunity.

    Lets the knowledge-tracing models and the real-cohort pipeline run on OULAD, whose activity
    log has no scored answers.

    Parameters
    ----------
    path : path-like, optional
        The OULAD folder (``assessments`` and ``studentAssessment``, ``.csv`` or ``.csv.gz``);
        searched for when omitted.
    pass_mark : float
        ``correct = score >= pass_mark`` (the Open University's pass mark is 40).
    by : {"module_type", "module"}
        Skill = module and assessment type (``"AAA TMA"``) or the module alone.
    download : bool
        Fetch the official archive into the cache when no copy is found.
    verbose : bool
        Print the one-line load summary (it is always logged at INFO).

    Returns
    -------
    DataFrame
        ``student_id`` (enrolment ``"<id_student>:<module>-<presentation>"``), ``skill_id``,
        ``order`` (rank of ``date_submitted``, then ``id_assessment``, within the enrolment),
        ``correct``, ``item_id`` (``id_assessment``), ``score``; the :class:`LoadReport` counts
        submissions without a score and those naming an unknown assessment.
    """
    if by not in ("module_type", "module"):
        raise ValueError(f"by must be 'module_type' or 'module', got {by!r}")
    folder, _ = _folder_and_clicks(path, download, verbose)
    a_file = _table(folder, "assessments")
    sa_file = _table(folder, "studentAssessment")
    a_cols = ("id_assessment", "code_module", "code_presentation", "assessment_type")
    sa_cols = ("id_assessment", "id_student", "date_submitted", "score")
    require_columns(a_file, read_header(a_file), a_cols, "OULAD assessments")
    require_columns(sa_file, read_header(sa_file), sa_cols, "OULAD studentAssessment")
    assessments = read_table(a_file, a_cols, dtype=_TEXT_COLUMNS, na_values=_NA)
    subs = read_table(sa_file, sa_cols, na_values=_NA)
    ledger = Ledger("oulad_assessments", sa_file, len(subs))
    subs["score"] = parse_number(subs["score"], "score", sa_file, minimum=0, maximum=100)
    subs["date_submitted"] = parse_number(subs["date_submitted"], "date_submitted", sa_file)
    subs = ledger.drop(subs, subs["score"].isna(), "no score")
    m = subs.merge(assessments, on="id_assessment", how="left")
    m.index = subs.index
    m = ledger.drop(m, m["code_module"].isna(), f"id_assessment not in {a_file.name}")
    student = _enrolment_ids(m["id_student"], m["code_module"], m["code_presentation"])
    skill = m["code_module"] + (" " + m["assessment_type"] if by == "module_type" else "")
    m = m.assign(student_id=student, skill_id=skill.astype("str"))
    m = m.sort_values(["student_id", "date_submitted", "id_assessment"], kind="stable")
    log = pd.DataFrame(
        {
            "student_id": m["student_id"],
            "skill_id": m["skill_id"],
            "order": m.groupby("student_id", sort=False).cumcount().astype("int64"),
            "correct": (m["score"] >= pass_mark).astype("int8"),
            "item_id": _whole(m["id_assessment"], "id_assessment", sa_file, 0),
            "score": m["score"].astype(float),
        },
        index=m.index,
    )
    ledger.note(f"correct = score >= {pass_mark:g}; skill = {by.replace('_', ' and ')}")
    return finish_log(log, ledger, verbose=verbose)
