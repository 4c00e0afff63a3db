"""The README's first session runs as written (on the real ASSISTments 2009 copy)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _first_session() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## A first session in Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


@pytest.mark.shared_data
def test_the_first_session_runs_as_written(real_data, monkeypatch, capsys):
    monkeypatch.setenv("EDSTUDY_SHARED_DATA", str(real_data))
    namespace: dict = {}
    exec(compile(_first_session(), str(README), "exec"), namespace)  # noqa: S102
    assert "assistments2009" in capsys.readouterr().out  # the loader said what it kept
    summary = namespace["result"].summary()
    assert {"individualized", "one_size"} <= set(summary["arm"])
    assert len(namespace["log"]) > 300_000
