"""``edstudy init DIR``: a study project of one's own, ready to edit, run and rebuild in CI.

The project holds copies of the shipped study, curriculum and strategy rule files (to edit), a
notebook that runs the study and reports it, a README with the two commands, an
``environment.yml`` and a CI workflow that rebuilds the report on every push and keeps it as an
artifact. Nothing is written into a folder that already holds files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import yaml

from edstudy import __version__
from edstudy._output import OutputError
from edstudy.sim.curriculum import data_path

__all__ = ["PROJECT_FILES", "init_project"]

#: What ``edstudy init`` writes (strategies/ holds one file per shipped strategy).
PROJECT_FILES = (
    "README.md",
    "study.yaml",
    "curriculum.yaml",
    "strategies/",
    "notebooks/01_my_study.ipynb",
    "environment.yml",
    ".github/workflows/report.yml",
    ".gitignore",
)

_README = """# {name}

A study of individualized and personalized learning with
[edstudy](https://pypi.org/project/edstudy/) {version}. Edit `study.yaml` (arms, sizes,
scenarios), `curriculum.yaml` and the rule files in `strategies/`.

## Two commands

```bash
edstudy run study.yaml --out results --overwrite                # the study: log, outcomes, summary
edstudy report --notebooks notebooks --out reports --overwrite  # the report: reports/index.html
```

`results/` and `reports/` are rebuilt by each run (edstudy replaces only what it wrote there). A
fresh environment: `conda env create -f environment.yml` or
`pip install "edstudy[notebooks]=={version}"`. The CI workflow
(`.github/workflows/report.yml`) rebuilds the report on every push and keeps it as an artifact.
"""

_ENVIRONMENT = """name: {name}
channels: [conda-forge]
dependencies:
  - python>=3.11
  - pip
  - pip:
      - "edstudy[notebooks]=={version}"
"""

_WORKFLOW = """name: report
on:
  push:
  workflow_dispatch:
jobs:
  report:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
      - run: pip install "edstudy[notebooks]=={version}"
      - run: edstudy run study.yaml --out results --overwrite
      - run: edstudy report --notebooks notebooks --out reports --overwrite
      - uses: actions/upload-artifact@v4
        with:
          name: report
          path: |
            reports/
            results/summary.md
            results/manifest.json
"""

_CELLS = [
    (
        "markdown",
        "# {name}\n\nThe study in `../study.yaml`, run and compared arm by arm: means with 95% "
        "intervals, Hedges' g of each comparison, and what it shows in words.",
        [],
    ),
    (
        "code",
        'study_file = "../study.yaml"\nn_students = None  # None: the study\'s own size\n'
        "report_mode = False",
        ["parameters"],
    ),
    (
        "code",
        "from IPython.display import Markdown, display\n\n"
        "from edstudy import plots\n"
        "from edstudy.experiment import Study, run_study\n"
        "from edstudy.investigations import strategy_comparison as cmp\n\n"
        "study = Study.from_yaml(study_file)\n"
        "if n_students:\n"
        "    study = study.with_changes(n_students=n_students)\n"
        "result = run_study(study, progress=False, keep_log=False)\n"
        "summary = cmp.arm_metrics(result)\n"
        "plots.png_image(plots.arm_intervals(summary, ncols=2), dpi=72)",
        [],
    ),
    (
        "code",
        "effects = cmp.effect_sizes(result)\ndisplay(Markdown(cmp.headline(effects)))",
        ["headline"],
    ),
    ("code", "effects.round(3)", []),
    (
        "code",
        "dropout = cmp.dropout_differences(result)\n"
        "display(Markdown(cmp.what_this_shows(effects, dropout, n_students=study.n_students)))",
        [],
    ),
]


def _notebook(name: str) -> dict:
    cells = []
    for i, (kind, source, tags) in enumerate(_CELLS):
        cell = {
            "cell_type": kind,
            "id": f"cell-{i}",
            "metadata": {"tags": tags},
            "source": source.format(name=name),
        }
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def init_project(directory: str | Path, *, name: str | None = None) -> Path:
    """Write a study project into ``directory`` (created; it must be absent or empty).

    Parameters
    ----------
    directory : path
    name : str, optional
        The study's name (default: the folder's name).

    Returns
    -------
    Path
        The project folder.

    Raises
    ------
    OutputError
        When ``directory`` is a file or already holds files (nothing is written then).
    """
    root = Path(directory).expanduser()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise OutputError(
            f"{root} already exists and is not an empty folder; edstudy init writes a new project "
            "only into an empty or new folder"
        )
    project = name or root.resolve().name
    parent = root.parent
    parent.mkdir(parents=True, exist_ok=True)
    # a sibling on the same file system: the project appears whole or not at all
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.part-", dir=parent))
    try:
        _write(tmp, project)
        if root.exists():
            root.rmdir()
        tmp.rename(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root


def _write(root: Path, name: str) -> None:
    version = __version__
    shutil.copytree(data_path("strategies"), root / "strategies")
    shutil.copyfile(data_path("curriculum_default.yaml"), root / "curriculum.yaml")
    doc = yaml.safe_load(data_path("default_study.yaml").read_text(encoding="utf-8"))
    doc["name"] = name
    doc["curriculum"] = "curriculum.yaml"
    doc["replications"] = 1
    doc["design"]["n_students"] = 1400  # a quick first run; raise it for the real study
    header = (
        f"# {name}: a study made by `edstudy init` from edstudy {version}'s default study.\n"
        "# Arms point to the rule files in strategies/; edit them, or the design, and rerun:\n"
        "#   edstudy run study.yaml --out results --overwrite\n"
    )
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    (root / "study.yaml").write_text(header + body, encoding="utf-8")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    (notebooks / "01_my_study.ipynb").write_text(
        json.dumps(_notebook(name), indent=1) + "\n", encoding="utf-8"
    )
    (root / "README.md").write_text(_README.format(name=name, version=version), encoding="utf-8")
    (root / "environment.yml").write_text(
        _ENVIRONMENT.format(name=name, version=version), encoding="utf-8"
    )
    workflow = root / ".github" / "workflows"
    workflow.mkdir(parents=True)
    (workflow / "report.yml").write_text(_WORKFLOW.format(version=version), encoding="utf-8")
    (root / ".gitignore").write_text("results/\nreports/\n.ipynb_checkpoints/\n", encoding="utf-8")
