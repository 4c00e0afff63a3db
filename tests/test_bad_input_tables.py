"""Bad response logs and loaded files: every problem named, values shown as they were given.

``validate_log`` is fuzzed: any frame either validates or raises SchemaError, never a pandas
error. Loaders name the file for truncated or corrupt archives and refuse rows with extra fields.
"""

from __future__ import annotations

import gzip
import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edstudy._output import OutputError
from edstudy.bkt import BKT, UnscoredSkillWarning
from edstudy.datasets import DatasetFormatError, load_csv, load_pybkt_example
from edstudy.schema import IdTypeWarning, SchemaError, validate_log

LOG = pd.DataFrame(
    {"student_id": [1, 1, 2], "skill_id": ["a", "a", "b"], "order": [0, 1, 0], "correct": [1, 0, 1]}
)
MAPPING = {
    "student_id": "student_id",
    "skill_id": "skill_id",
    "order": "order",
    "correct": "correct",
}


# --- the schema ---------------------------------------------------------------------------------


def test_overlapping_logs_concatenated_give_the_uniqueness_message():
    with pytest.raises(SchemaError) as err:
        validate_log(pd.concat([LOG, LOG]))
    assert err.value.problems == [
        "(student_id, skill_id, order) must be unique: 6 rows share their key with another row, "
        "first at index 0",
        "the table's index repeats labels (as pd.concat does without ignore_index=True), so "
        "'index' above counts rows by position from 0",
    ]
    # repeated labels alone are fine, and the caller's labels come back
    both = pd.concat([LOG, LOG.assign(student_id=[3, 3, 4])])
    assert validate_log(both).index.tolist() == [0, 1, 2, 0, 1, 2]


@pytest.mark.parametrize("as_object", [True, False], ids=["int", "float"])
def test_values_are_reported_as_given(as_object):
    order = [0, 2**63, 1] if as_object else [0.0, 2.0**63, 1.0]
    bad = LOG.assign(order=pd.Series(order, dtype=object if as_object else float))
    with pytest.raises(SchemaError) as err:
        validate_log(bad)
    assert err.value.problems == [
        "order must be a whole number >= 0 (and below 2**63): 1 row, first at index 1 "
        "(value 9223372036854775808)"
    ]


def test_ids_of_mixed_types_are_a_warning_naming_both():
    mixed = LOG.assign(student_id=pd.Series([1, 1, "1"], dtype=object))
    with pytest.warns(
        IdTypeWarning, match=r"student_id holds both 1 \(a number\) and '1' \(text\)"
    ):
        out = validate_log(mixed)
    assert out["student_id"].nunique() == 2  # kept as the data say, but the user is told
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_log(LOG.assign(student_id=pd.Series([1, 1, "x"], dtype=object)))  # no clash


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.sampled_from([0, 1, "0", "1", 1.0, 0.5, pd.NA]),
)


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=0, max_value=6))
    cols = draw(
        st.lists(
            st.sampled_from(
                ["student_id", "skill_id", "order", "correct", "hints", "duration_s", "arm", "x"]
            ),
            unique=True,
            min_size=1,
        )
    )
    data = {c: draw(st.lists(VALUES, min_size=n, max_size=n)) for c in cols}
    index = draw(st.sampled_from([None, [0] * n, list(range(n))[::-1]]))
    return pd.DataFrame(data, index=index, dtype=object)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_any_frame_validates_or_gives_a_schema_error(df):
    before = df.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdTypeWarning)
        try:
            out = validate_log(df)
        except SchemaError as err:
            assert err.problems and all(isinstance(p, str) for p in err.problems)
        else:
            assert out["correct"].dropna().isin([0, 1]).all()
            assert (out["order"] >= 0).all()
            assert not out.duplicated(["student_id", "skill_id", "order"]).any()
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is never modified


# --- BKT --------------------------------------------------------------------------------------


def test_a_skill_with_no_scored_rows_gets_no_parameters():
    log = pd.DataFrame(
        {
            "student_id": [1, 1, 2, 2, 3],
            "skill_id": ["a", "a", "a", "a", "b"],
            "order": [0, 1, 0, 1, 0],
            "correct": pd.array([1, 0, 1, 1, None], dtype="Int8"),
        }
    )
    with pytest.warns(UnscoredSkillWarning, match=r"1 skill\(s\) have no scored row .*'b'"):
        model = BKT(seed=0).fit(log)
    assert set(model.params_["skill"]) == {"a"}
    with pytest.raises(ValueError, match="no scored rows"):
        BKT(seed=0).fit(log.assign(correct=pd.array([None] * 5, dtype="Int8")))


@pytest.fixture(scope="module")
def model_doc(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "model.json"
    log = pd.concat([LOG.assign(order=LOG["order"] + 2 * k) for k in range(5)], ignore_index=True)
    BKT(seed=0, restarts=1).fit(log).to_json(path)
    return json.loads(path.read_text())


def _edit(doc, keys, value):
    d = json.loads(json.dumps(doc))
    target = d
    for k in keys[:-1]:
        target = target[k]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return d


@pytest.mark.parametrize(
    ("keys", "value", "message"),
    [
        (("format",), "other/1", r"is not a saved edstudy BKT model \(format 'other/1'"),
        (("fit",), KeyError, r": fit: is missing"),
        (("colour",), 1, r": colour: unknown key"),
        (("options", "colour"), 1, r": options.colour: unknown option"),
        (("options", "restarts"), "many", r": options: restarts must be an int >= 1"),
        (("params", "prior"), [1.5, 0.2], r": params.prior\[0\]: must be a probability, got 1.5"),
        (("params", "prior"), ["x", 0.2], r": params.prior\[0\]: must be a finite number"),
        (("params", "skills"), [], r": params.skills: must be a non-empty list"),
        (("params", "skills"), [[1], 2], r": params.skills\[0\]: must be text or a whole number"),
        (("params", "guess_slip_classes", "guess"), [0.8, 0.8], r"guess\[0\]: 0.8 with slip"),
        (("fit", "n_iter"), -1, r": fit.n_iter: must be a whole number >= 0, got -1"),
        (("fit", "converged"), "yes", r": fit.converged: must be true or false"),
    ],
)
def test_a_model_file_is_checked_whole(tmp_path, model_doc, keys, value, message):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(_edit(model_doc, keys, value)))
    with pytest.raises(ValueError, match=message) as err:
        BKT.from_json(path)
    assert str(err.value).startswith(str(path))


def test_unreadable_model_files_name_the_file(tmp_path):
    cases = [(b"{not json", "not JSON"), (b"\xff\xfe", "not UTF-8"), (b"[1]", "JSON object")]
    for content, message in cases:
        path = tmp_path / "m.json"
        path.write_bytes(content)
        with pytest.raises(ValueError, match=message):
            BKT.from_json(path)
    with pytest.raises(ValueError, match="cannot read the model file"):
        BKT.from_json(tmp_path / "absent.json")


def test_saving_a_model_never_overwrites_a_stranger(tmp_path, model_doc):
    model = BKT.from_json(_write(tmp_path / "a.json", model_doc))
    mine = tmp_path / "notes.json"
    mine.write_text('{"my": "notes"}')
    with pytest.raises(OutputError, match="exists and is not a BKT model"):
        model.to_json(mine)
    assert mine.read_text() == '{"my": "notes"}'
    model.to_json(tmp_path / "a.json")  # an edstudy model may be saved over
    assert BKT.from_json(tmp_path / "a.json").params_.equals(model.params_)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "notes.json"]


def _write(path, doc):
    path.write_text(json.dumps(doc))
    return path


# --- loaders ------------------------------------------------------------------------------------


@pytest.fixture
def csv_text() -> str:
    return "student_id,skill_id,order,correct\n1,a,0,1\n1,a,1,0\n2,a,0,1\n"


def test_truncated_and_garbage_archives_name_the_file(tmp_path, csv_text):
    data = gzip.compress(csv_text.encode() * 200)
    cases = {
        "trunc.csv.gz": data[: len(data) // 2],
        "garbage.csv.gz": b"\x1f\x8b" + os.urandom(300),
        "plain.csv.gz": csv_text.encode(),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(DatasetFormatError) as err:
            load_csv(path, MAPPING, verbose=False)
        assert str(err.value).startswith(f"{path}: could not be read")
        with pytest.raises(DatasetFormatError, match=f"{path}: could not be read"):
            load_pybkt_example(path, verbose=False)


def test_a_row_with_extra_fields_is_refused_with_its_line(tmp_path, csv_text):
    path = tmp_path / "extra.csv"
    lines = csv_text.splitlines()
    lines[2] += ",surprise"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetFormatError, match=r"Expected 4 fields in line 3, saw 5"):
        load_csv(path, MAPPING, verbose=False)


def test_a_pybkt_file_with_an_extra_field_is_not_trimmed(tmp_path):
    header = "order_id,assignment_id,user_id,assistment_id,problem_id,original,correct,skill_name"
    row = "1,1,7,1,1,1,1,Addition"
    path = tmp_path / "pybkt.csv"
    path.write_text(f"{header}\n{row}\n{row.replace('1,1,7', '2,1,7')},EXTRA\n")
    with pytest.raises(DatasetFormatError, match=r"Expected \d+ fields in line 3"):
        load_pybkt_example(path, verbose=False)


def test_numbers_in_the_log_are_checked_before_they_are_cast():
    with pytest.raises(SchemaError, match=r"order must be a whole number >= 0: 1 row, first at"):
        validate_log(LOG.assign(order=[0.0, 1.5, 0.0]))
    assert np.array_equal(validate_log(LOG)["order"].to_numpy(), [0, 1, 0])
