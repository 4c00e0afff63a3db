"""nbval on a machine without the shared real datasets.

Notebooks 03, 04, 07 and 08 read real tutor logs; without them they still run (each falls back to
a synthetic log or leaves the real trial out, and says so), but their stored outputs come from
the real data, so comparing them would fail for the wrong reason. Here such a notebook is still
executed under nbval (every cell must run without error), its outputs are not compared, and the
run ends with a line naming the notebooks and the missing datasets.
"""

from __future__ import annotations

import pytest

from edstudy.datasets import DataNotFoundError
from edstudy.datasets._locate import locate

# The datasets each notebook's checked cells were computed from (its `parameters` defaults).
REAL_DATA_NOTEBOOKS: dict[str, tuple[str, ...]] = {
    "03_knowledge_tracing_real_data.ipynb": ("assistments2009", "pybkt_as"),
    "04_preferences_and_meshing.ipynb": ("oulad",),
    "07_real_cohort_comparison.ipynb": ("assistments2009", "oulad"),
    "08_analyze_your_trial.ipynb": ("ab_video_vs_text",),
}


def _missing(keys: tuple[str, ...]) -> list[str]:
    """The dataset keys that neither the shared folder nor the download cache holds."""
    missing = []
    for key in keys:
        try:
            locate(key, None, download=False, verbose=False)
        except DataNotFoundError:
            missing.append(key)
    return missing


_UNCHECKED: dict[str, list[str]] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Turn off output comparison for notebooks whose real datasets are absent."""
    absent = {name: m for name, keys in REAL_DATA_NOTEBOOKS.items() if (m := _missing(keys))}
    for item in items:
        name = item.path.name
        options = getattr(item, "options", None)
        if name in absent and isinstance(options, dict) and options.get("check"):
            options["check"] = False
            _UNCHECKED[name] = absent[name]


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 (pytest's reporter)
    """Say which notebooks ran without their outputs compared, and why."""
    for name, keys in _UNCHECKED.items():
        terminalreporter.write_line(
            f"nbval: {name} ran without comparing its outputs: real dataset(s) "
            f"{', '.join(keys)} not found (set EDSTUDY_SHARED_DATA or put them in "
            "../shared/data/real)"
        )
