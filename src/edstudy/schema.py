"""The two tables every part of edstudy reads and writes: the response log and the outcomes table.

Real datasets are loaded *into* the response log and simulated cohorts are written *as* one, so
models, analyses, widgets and reports take the same input whether the cohort is real or simulated.
Both tables are declared once here (pandera) and checked at the edges: loaders and public entry
points call :func:`validate_log` / :func:`validate_outcomes`; inner code trusts the result.

Response log, one row per practice opportunity (or activity):

============  ========  ==========================================================================
column        required  meaning
============  ========  ==========================================================================
student_id    yes       student identifier (int or str, never missing)
skill_id      yes       skill / knowledge component (int or str, never missing)
order         yes       int >= 0, position of the row in the student's timeline; unique per
                        (student_id, skill_id): a multi-skill step shares one order across skills
correct       yes       1 correct, 0 incorrect (first attempt); <NA> for an activity with no
                        scored answer (a watched video, an OULAD click). Models need it scored.
item_id       no        item / problem identifier
activity      no        medium or resource type (``video``, ``audio``, ``hands_on``, ``text`` ...)
chosen        no        bool, did the student pick this activity?
class_id      no        class identifier
school_id     no        school identifier
arm           no        strategy or experimental condition
timestamp     no        datetime of the response
duration_s    no        seconds spent, >= 0
hints         no        hints used, int >= 0
============  ========  ==========================================================================

Outcomes, one row per student: ``student_id`` (unique) and optional ``arm, class_id, school_id,
pretest, posttest`` (proportions in [0, 1]), ``skills_mastered, opportunities`` (counts),
``time_on_task`` (seconds), ``dropped_out, completed`` (bool), ``engagement`` ([0, 1]),
``final_result`` (text). Studies may add further columns; unknown columns pass through unchecked.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

__all__ = [
    "IdTypeWarning",
    "LOG_REQUIRED",
    "LOG_OPTIONAL",
    "OUTCOME_COLUMNS",
    "SchemaError",
    "Sequences",
    "log_schema",
    "outcomes_schema",
    "validate_log",
    "validate_outcomes",
    "to_sequences",
]

LOG_REQUIRED: tuple[str, ...] = ("student_id", "skill_id", "order", "correct")
LOG_OPTIONAL: tuple[str, ...] = (
    "item_id",
    "activity",
    "chosen",
    "class_id",
    "school_id",
    "arm",
    "timestamp",
    "duration_s",
    "hints",
)
OUTCOME_COLUMNS: tuple[str, ...] = (
    "student_id",
    "arm",
    "class_id",
    "school_id",
    "pretest",
    "posttest",
    "skills_mastered",
    "opportunities",
    "time_on_task",
    "dropped_out",
    "completed",
    "engagement",
    "final_result",
)


class SchemaError(ValueError):
    """A table does not follow the edstudy schema.

    The message lists every problem, one per line, each naming the column, how many rows fail,
    the index of the first failing row and its value. ``problems`` holds the same lines.
    """

    def __init__(self, table: str, problems: list[str]):
        self.table = table
        self.problems = problems
        head = f"{table} failed validation with {len(problems)} problem(s):"
        super().__init__("\n".join([head, *(f"  - {p}" for p in problems)]))


def _ids(name: str, required: bool = True) -> pa.Column:
    return pa.Column(
        None,
        nullable=False,
        required=required,
        description=f"{name} must not be missing",
    )


def _in_unit(name: str, required: bool = False, nullable: bool = True) -> pa.Column:
    return pa.Column(
        float,
        pa.Check.in_range(0.0, 1.0, error=f"{name} must be between 0 and 1"),
        nullable=nullable,
        required=required,
        coerce=True,
        description=f"{name} must be a number between 0 and 1",
    )


def _count(name: str, dtype: str = "Int64") -> pa.Column:
    return pa.Column(
        dtype,
        pa.Check.ge(0, error=f"{name} must be >= 0"),
        nullable=True,
        required=False,
        coerce=True,
        description=f"{name} must be a whole number >= 0",
    )


log_schema = pa.DataFrameSchema(
    {
        "student_id": _ids("student_id"),
        "skill_id": _ids("skill_id"),
        "order": pa.Column(
            "int64",
            pa.Check.ge(0, error="order must be >= 0"),
            nullable=False,
            coerce=True,
            description="order must be a whole number >= 0",
        ),
        "correct": pa.Column(
            "Int8",
            pa.Check.isin([0, 1], error="correct must be 0 or 1"),
            nullable=True,
            coerce=True,
            description="correct must be 0 or 1",
        ),
        "item_id": _ids("item_id", required=False),
        "activity": pa.Column(
            "string", nullable=True, required=False, coerce=True, description="activity is text"
        ),
        "chosen": pa.Column(
            "boolean",
            nullable=True,
            required=False,
            coerce=True,
            description="chosen must be true or false",
        ),
        "class_id": pa.Column(None, nullable=True, required=False),
        "school_id": pa.Column(None, nullable=True, required=False),
        "arm": pa.Column(
            "string", nullable=True, required=False, coerce=True, description="arm is text"
        ),
        "timestamp": pa.Column(
            "datetime64[ns]",
            nullable=True,
            required=False,
            coerce=True,
            description="timestamp must be a date/time",
        ),
        "duration_s": pa.Column(
            float,
            pa.Check.ge(0, error="duration_s must be >= 0"),
            nullable=True,
            required=False,
            coerce=True,
            description="duration_s must be a number of seconds >= 0",
        ),
        "hints": _count("hints"),
    },
    unique=["student_id", "skill_id", "order"],
    strict=False,
    name="response log",
)

outcomes_schema = pa.DataFrameSchema(
    {
        "student_id": pa.Column(
            None, nullable=False, unique=True, description="student_id must not be missing"
        ),
        "arm": pa.Column(
            "string", nullable=True, required=False, coerce=True, description="arm is text"
        ),
        "class_id": pa.Column(None, nullable=True, required=False),
        "school_id": pa.Column(None, nullable=True, required=False),
        "pretest": _in_unit("pretest"),
        "posttest": _in_unit("posttest"),
        "skills_mastered": _count("skills_mastered"),
        "opportunities": _count("opportunities"),
        "time_on_task": pa.Column(
            float,
            pa.Check.ge(0, error="time_on_task must be >= 0"),
            nullable=True,
            required=False,
            coerce=True,
            description="time_on_task must be a number of seconds >= 0",
        ),
        "dropped_out": pa.Column(
            "boolean",
            nullable=True,
            required=False,
            coerce=True,
            description="dropped_out must be true or false",
        ),
        "completed": pa.Column(
            "boolean",
            nullable=True,
            required=False,
            coerce=True,
            description="completed must be true or false",
        ),
        "engagement": _in_unit("engagement"),
        "final_result": pa.Column(
            "string", nullable=True, required=False, coerce=True, description="final_result is text"
        ),
    },
    strict=False,
    name="outcomes",
)


def _describe_value(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _summarize(message: str, index: pd.Series, values: pd.Series) -> str:
    """``message: N rows, first at index I (value V)``, counting each row once."""
    frame = pd.DataFrame({"index": index.to_numpy(), "value": values.to_numpy()})
    frame = frame.dropna(subset=["index"]).drop_duplicates(subset=["index"])
    if frame.empty:
        return f"{message}: column is of type {_describe_value(values.iloc[0])}"
    numeric = pd.to_numeric(frame["index"], errors="coerce")
    first = frame.loc[numeric.idxmin()] if numeric.notna().any() else frame.iloc[0]
    n = len(frame)
    noun = "row" if n == 1 else "rows"
    where, value = _describe_value(first["index"]), _describe_value(first["value"])
    return f"{message}: {n} {noun}, first at index {where} (value {value})"


# Integer columns are checked for whole numbers before pandera coerces them, because a cast
# from 1.5 to int64 would silently truncate.
_INTEGER_COLUMNS = {"order", "hints", "skills_mastered", "opportunities"}


_INT64_LIMIT = 2.0**63


def _lossy_integer_problems(df: pd.DataFrame, schema: pa.DataFrameSchema) -> list[str]:
    """Values a cast to int64 would change: fractions, and numbers beyond int64 (a cast would
    wrap 2**63 round to -2**63, so the message would show a value the input never had)."""
    problems = []
    for name in sorted(_INTEGER_COLUMNS & set(df.columns) & set(schema.columns)):
        col = df[name]
        if pd.api.types.is_object_dtype(col):
            bad = pd.to_numeric(col, errors="coerce").abs() >= _INT64_LIMIT
        elif pd.api.types.is_float_dtype(col):
            bad = col.notna() & ((col != np.floor(col)) | (col.abs() >= _INT64_LIMIT))
        else:
            continue
        if bad.any():
            message = schema.columns[name].description
            if (pd.to_numeric(col[bad], errors="coerce").abs() >= _INT64_LIMIT).any():
                message += " (and below 2**63)"
            problems.append(_summarize(message, col.index[bad].to_series(), col[bad]))
    return problems


def _problems_from(
    err: pa.errors.SchemaErrors, schema: pa.DataFrameSchema, skip: set[str] = frozenset()
) -> list[str]:
    """Turn pandera's failure-case table into one readable line per column and kind of problem
    (columns in ``skip`` were already reported, with the values as they were in the input)."""
    cases = err.failure_cases
    cases = cases[~cases["column"].isin(list(skip))]
    lines: list[str] = []
    missing = cases[cases["check"].astype(str).str.startswith("column_in_dataframe")]
    lines += [f"missing required column '{name}'" for name in missing["failure_case"]]
    unique_rows = cases[cases["check"] == "multiple_fields_uniqueness"]
    if len(unique_rows):
        keys = ", ".join(schema.unique)
        idx = unique_rows["index"].drop_duplicates()
        lines.append(
            f"({keys}) must be unique: {len(idx)} rows share their key with another row, "
            f"first at index {_describe_value(idx.min())}"
        )
    rest = cases.drop(missing.index.union(unique_rows.index), errors="ignore")
    for column, group in rest.groupby("column", sort=False):
        col = schema.columns.get(column)
        described = col.description if col is not None and col.description else None
        checks = group["check"].astype(str)
        # Type failures and value-check failures of one column describe the same rule.
        type_or_value = ~checks.isin(["not_nullable", "field_uniqueness"])
        if type_or_value.any():
            g = group[type_or_value]
            message = described or f"{column}: {checks[type_or_value].iloc[0]}"
            value_checks = checks[type_or_value & ~checks.str.contains(r"dtype\(")]
            if described is None and len(value_checks):
                message = value_checks.iloc[0]
            lines.append(_summarize(message, g["index"], g["failure_case"]))
        nulls = group[checks == "not_nullable"]
        if len(nulls):
            lines.append(
                _summarize(f"{column} must not be missing", nulls["index"], nulls["failure_case"])
            )
        dups = group[checks == "field_uniqueness"]
        if len(dups):
            lines.append(
                _summarize(f"{column} must be unique", dups["index"], dups["failure_case"])
            )
    return lines


class IdTypeWarning(UserWarning):
    """An id column mixes numbers and text that read the same (``1`` and ``"1"``)."""


_ID_COLUMNS = ("student_id", "skill_id", "item_id", "class_id", "school_id")


def _warn_mixed_ids(df: pd.DataFrame, table: str) -> None:
    """Warn when an id column holds both ``1`` and ``"1"``: two different ids that print alike,
    which usually means two files were joined with different types."""
    for name in _ID_COLUMNS:
        if name not in df.columns or not pd.api.types.is_object_dtype(df[name]):
            continue
        values = pd.unique(df[name].dropna())
        texts = {v for v in values if isinstance(v, str)}
        numbers = [v for v in values if isinstance(v, int | float | np.number) and v == v]
        if not texts or not numbers:
            continue
        same = [v for v in numbers if _describe_value(v) in texts]
        if same:
            v = same[0]
            warnings.warn(
                f"{table}: {name} holds both {_describe_value(v)} (a number) and "
                f"{_describe_value(str(_describe_value(v)))} (text), which are different ids "
                f"({len(same)} such pair(s)); convert the column to one type, e.g. "
                f"df['{name}'] = df['{name}'].astype(str)",
                IdTypeWarning,
                stacklevel=4,
            )


def _validate(df: pd.DataFrame, schema: pa.DataFrameSchema, table: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{table} must be a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise SchemaError(table, [f"{table} is empty (0 rows)"])
    index = df.index
    repeated = not index.is_unique
    if repeated:  # e.g. pd.concat of two logs without ignore_index: number rows by position
        df = df.reset_index(drop=True)
    problems = _lossy_integer_problems(df, schema)
    reported = {c for c in _INTEGER_COLUMNS if any(p.startswith(f"{c} ") for p in problems)}
    try:
        validated = schema.validate(df.copy(), lazy=True)
    except pa.errors.SchemaErrors as err:
        problems += _problems_from(err, schema, reported)
    if problems:
        if repeated:
            problems.append(
                "the table's index repeats labels (as pd.concat does without "
                "ignore_index=True), so 'index' above counts rows by position from 0"
            )
        raise SchemaError(table, problems)
    _warn_mixed_ids(df, table)
    if repeated:
        validated.index = index
    return validated


def validate_log(df: pd.DataFrame) -> pd.DataFrame:
    """Check a response log and return a validated copy with canonical dtypes.

    Parameters
    ----------
    df : DataFrame
        At least ``student_id, skill_id, order, correct``; see the module docstring.

    Returns
    -------
    DataFrame
        A copy: ``order`` as int64, ``correct`` as nullable Int8, optional columns coerced.
        The caller's frame is never modified.

    Raises
    ------
    SchemaError
        One error listing every problem, e.g.
        ``correct must be 0 or 1: 3 rows, first at index 17 (value 2)``.
    """
    return _validate(df, log_schema, "response log")


def validate_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    """Check an outcomes table (one row per student) and return a validated copy.

    Raises
    ------
    SchemaError
        Listing every problem with column, row count, first index and value.
    """
    return _validate(df, outcomes_schema, "outcomes")


@dataclass(frozen=True)
class Sequences:
    """A response log as flat arrays grouped into per-(student, skill) sequences.

    Rows are sorted by skill, then student, then ``order``; sequence ``k`` occupies
    ``correct[offsets[k]:offsets[k+1]]``. This is the input of the models' compiled kernels.

    Attributes
    ----------
    correct : int8 array, shape (n_rows,)
        0/1 answers in sequence order.
    offsets : int64 array, shape (n_sequences + 1,)
        Start of each sequence; ``offsets[-1] == n_rows``.
    seq_student, seq_skill : int64 arrays, shape (n_sequences,)
        Codes of each sequence's student and skill (indices into ``students`` / ``skills``).
    skill_offsets : int64 array, shape (n_skills + 1,)
        Sequences of skill ``s`` are ``skill_offsets[s]:skill_offsets[s+1]``.
    row_index : int64 array, shape (n_rows,)
        Position in the original log of each sorted row, to map results back:
        ``out[row_index] = sorted_values``.
    students, skills : Index
        The distinct ids, in code order.
    """

    correct: np.ndarray
    offsets: np.ndarray
    seq_student: np.ndarray
    seq_skill: np.ndarray
    skill_offsets: np.ndarray
    row_index: np.ndarray
    students: pd.Index
    skills: pd.Index

    @property
    def n_rows(self) -> int:
        return int(self.correct.shape[0])

    @property
    def n_sequences(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def to_sequences(log: pd.DataFrame, *, skills: pd.Index | None = None) -> Sequences:
    """Group a (validated, fully scored) response log into flat per-(student, skill) sequences.

    Parameters
    ----------
    log : DataFrame
        A response log whose ``correct`` has no missing values.
    skills : Index, optional
        Fix the skill coding (e.g. the skills a model was fitted on); a skill of the log not in it
        raises ``KeyError`` naming it.

    Returns
    -------
    Sequences
    """
    correct = log["correct"]
    if correct.isna().any():
        n = int(correct.isna().sum())
        first = correct.index[correct.isna().to_numpy()][0]
        raise ValueError(
            f"correct is missing in {n} rows (first at index {first}): models need scored rows; "
            "drop unscored activity rows first, e.g. log.dropna(subset=['correct'])"
        )
    student_codes, students = pd.factorize(log["student_id"], sort=True)
    if skills is None:
        skill_codes, skills = pd.factorize(log["skill_id"], sort=True)
    else:
        skill_codes = skills.get_indexer(log["skill_id"])
        if (skill_codes < 0).any():
            unknown = pd.unique(log["skill_id"].to_numpy()[skill_codes < 0])
            raise KeyError(f"skill_id not known to the model: {list(unknown[:5])}")
    order = log["order"].to_numpy(dtype=np.int64)
    row_index = np.lexsort((order, student_codes, skill_codes)).astype(np.int64)
    sc = skill_codes[row_index].astype(np.int64)
    st = student_codes[row_index].astype(np.int64)
    n = len(row_index)
    starts = np.empty(n, dtype=bool)
    if n:
        starts[0] = True
        starts[1:] = (sc[1:] != sc[:-1]) | (st[1:] != st[:-1])
    start_pos = np.flatnonzero(starts)
    offsets = np.append(start_pos, n).astype(np.int64)
    seq_skill = sc[start_pos]
    seq_student = st[start_pos]
    skill_offsets = np.searchsorted(seq_skill, np.arange(len(skills) + 1)).astype(np.int64)
    return Sequences(
        correct=correct.to_numpy(dtype=np.int8)[row_index],
        offsets=offsets,
        seq_student=seq_student,
        seq_skill=seq_skill,
        skill_offsets=skill_offsets,
        row_index=row_index,
        students=pd.Index(students),
        skills=pd.Index(skills),
    )
