"""Shared test fixtures: where the real datasets are, and a skip when they are absent."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

# In CI, property tests draw the same examples every run, so a landing is judged on fixed examples
# (locally they keep exploring and save any failure they find in .hypothesis/).
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Downloads and parsed-table caches of a test session go to a folder of its own, never into the
# user's cache (the notebooks nbval runs inherit it).
if "EDSTUDY_DATA" not in os.environ:
    os.environ["EDSTUDY_DATA"] = tempfile.mkdtemp(prefix="edstudy-test-cache-")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EDSTUDY_SHARED_DATA", ROOT.parent / "shared" / "data" / "real"))


@pytest.fixture(scope="session")
def real_data() -> Path:
    """``../shared/data/real`` beside the project; skip with the reason when it is not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared real datasets, not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def assistments2009_rows(real_data) -> pd.DataFrame:
    """ASSISTments 2009 read as pyBKT's comparison reads it (not through edstudy's loader): the
    raw user, skill name, sequence index and answer, one row per (student, skill, order)."""
    path = real_data / "assistments2009_skillbuilder" / "interactions.csv.gz"
    if not path.is_file():
        pytest.skip(f"needs {path}")
    raw = pd.read_csv(path)
    log = pd.DataFrame(
        {
            "student_id": raw["user_id"],
            "skill_id": raw["skill_name"],
            "order": raw["seq_idx"],
            "correct": raw["correct"],
        }
    )
    return log.drop_duplicates(["student_id", "skill_id", "order"]).reset_index(drop=True)
