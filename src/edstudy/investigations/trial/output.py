"""Writing a trial's results: ``report.html``, ``effects.csv``, ``standards.json`` (one folder).

Every file goes through :func:`edstudy._output.result_folder` (``kind="trial"``): the folder is
checked before any work, written in a temporary sibling and published with its manifest last.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edstudy._output import result_folder
from edstudy.investigations.trial.analysis import analyze_trial
from edstudy.investigations.trial.html import write_report_html
from edstudy.investigations.trial.result import TrialResult
from edstudy.investigations.trial.spec import load_trial

__all__ = ["FILES", "run_trial_file", "write_trial_results"]

#: The files of a trial result.
FILES = ("report.html", "effects.csv", "standards.json")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write(result: TrialResult, folder: Path) -> None:
    result.effects_table().to_csv(folder / "effects.csv", index=False, float_format="%.10g")
    text = json.dumps(_plain(result.standards), indent=1, ensure_ascii=False) + "\n"
    (folder / "standards.json").write_text(text, encoding="utf-8")
    write_report_html(result, folder / "report.html")


def write_trial_results(
    result: TrialResult,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    command: Sequence[str] | None = None,
) -> Path:
    """Write :data:`FILES` of ``result`` into ``out_dir`` (see the module docstring).

    Raises
    ------
    OutputError
        ``out_dir`` holds files edstudy did not write, or an earlier result without
        ``overwrite``.
    """
    with result_folder(
        out_dir, kind="trial", overwrite=overwrite, command=command,
        extra={"trial": result.spec.name},
    ) as tmp:  # fmt: skip
        _write(result, tmp)
    return Path(out_dir)


def run_trial_file(
    path: str | Path,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    command: Sequence[str] | None = None,
) -> tuple[Path, TrialResult]:
    """Read a trial file, analyse it and write its results (the function behind ``edstudy
    analyze``). The trial file is checked, and the output folder found usable, before the data
    are read.

    Returns
    -------
    (Path, TrialResult)
        ``out_dir`` and the result.
    """
    spec = load_trial(path)
    with result_folder(
        out_dir, kind="trial", overwrite=overwrite, command=command, extra={"trial": spec.name}
    ) as tmp:
        result = analyze_trial(spec)
        _write(result, tmp)
    return Path(out_dir), result
