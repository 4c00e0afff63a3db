"""Shared test fixtures: where the real datasets are, and a skip when they are absent."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
