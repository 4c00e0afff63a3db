"""Reproducible HTML reports: execute the notebooks with papermill and export them without code.

A report is the executed notebook exported by nbconvert with ``exclude_input`` (no code, static
figures only, images embedded so each file stands alone), followed by a provenance section: the
parameters it ran with, the edstudy version and git commit, and the versions of the packages that
produce its numbers. ``index.html`` links the reports. Two runs with the same parameters give the
same tables, because every notebook seeds its randomness from its parameters.

Every notebook gets the parameter ``report_mode=True`` (its interactive widgets are then replaced
by static figures and tables). Parameter profiles: each notebook's ``parameters`` cell holds
*small* defaults that keep CI fast; ``notebooks/profiles.yaml`` documents the *full* settings
that ``make report`` uses.
"""

from __future__ import annotations

import html
import importlib.metadata
import json
import platform
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from edstudy._output import result_folder

__all__ = ["ReportResult", "build_reports", "find_notebooks", "notebook_title", "package_versions"]

# Packages whose versions change the numbers in a report.
_REPORTED_PACKAGES = (
    "edstudy",
    "numpy",
    "pandas",
    "scipy",
    "numba",
    "statsmodels",
    "pymc",
    "arviz",
    "scikit-learn",
    "matplotlib",
    "papermill",
    "nbconvert",
)


@dataclass(frozen=True)
class ReportResult:
    """One exported report: the notebook it came from, its HTML file, how long it ran and its
    headline finding (the output of the cell tagged ``headline``, written from the run's
    numbers; empty when the notebook has none)."""

    notebook: Path
    html: Path
    title: str
    parameters: Mapping[str, Any]
    seconds: float
    headline: str = ""


#: The tag of the cell whose output is a notebook's headline finding in ``index.html``.
HEADLINE_TAG = "headline"


def headline_of(executed: Path) -> str:
    """The headline finding of an executed notebook, as HTML (empty when it has none).

    The first text output of the cell tagged :data:`HEADLINE_TAG` (markdown is rendered), so
    the sentence is the one that run's numbers wrote, not a summary typed by hand.
    """
    from nbconvert.filters import markdown2html

    nb = json.loads(executed.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if HEADLINE_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data:
                return markdown2html("".join(data["text/markdown"]))
            if "text/plain" in data or out.get("output_type") == "stream":
                text = "".join(data.get("text/plain", out.get("text", "")))
                return f"<p>{html.escape(text.strip())}</p>"
    return ""


def default_notebook_dir() -> Path:
    """The notebooks the reports are built from.

    In a source checkout (an editable install) the repository's ``notebooks/``; in an installed
    wheel the copy shipped inside the package (``edstudy/_notebooks``). A project of your own
    passes its folder instead (``edstudy report --notebooks DIR``).
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "notebooks"
        if candidate.is_dir() and (parent / "pyproject.toml").is_file():
            return candidate
    return here.parent / "_notebooks"


def find_notebooks(directory: Path, only: Iterable[str] | None = None) -> list[Path]:
    """Numbered notebooks (``NN_name.ipynb``) in run order, optionally only those named.

    Raises
    ------
    FileNotFoundError
        When the folder has no notebooks, or a name in ``only`` matches none.
    """
    notebooks = sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no numbered notebooks (NN_name.ipynb) in {directory}")
    if only:
        wanted = list(only)
        chosen = [p for p in notebooks if any(p.stem == w or p.stem.startswith(w) for w in wanted)]
        unknown = [
            w for w in wanted if not any(p.stem == w or p.stem.startswith(w) for p in notebooks)
        ]
        if unknown:
            names = ", ".join(p.stem for p in notebooks)
            raise FileNotFoundError(f"no notebook matches {unknown}; available: {names}")
        return chosen
    return notebooks


def notebook_title(path: Path) -> str:
    """The first markdown heading of a notebook, or its file name."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that produce a report's numbers."""
    versions = {"python": platform.python_version()}
    for name in _REPORTED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _git_commit(directory: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def load_profile(directory: Path, profile: str) -> dict[str, dict[str, Any]]:
    """Parameter overrides per notebook for ``profile`` (``small`` means the notebooks' defaults).

    Without a ``profiles.yaml`` (a project made by ``edstudy init``), ``full`` also means the
    notebooks' own defaults.

    Raises
    ------
    KeyError
        When ``profiles.yaml`` has no such profile.
    """
    if profile == "small":
        return {}
    path = directory / "profiles.yaml"
    if not path.is_file():
        if profile == "full":  # a project without profiles: every notebook runs its own defaults
            return {}
        raise FileNotFoundError(f"profile {profile!r} requested but {path} does not exist")
    profiles = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if profile not in profiles:
        raise KeyError(
            f"profile {profile!r} is not in {path}; available: small, {', '.join(profiles)}"
        )
    return {name: dict(params or {}) for name, params in (profiles[profile] or {}).items()}


def _provenance_cell(parameters: Mapping[str, Any], commit: str, profile: str) -> dict[str, Any]:
    import nbformat

    versions = package_versions()
    rows = "\n".join(f"| {k} | {v} |" for k, v in versions.items())
    params = "\n".join(
        f"| {k} | `{json.dumps(v, default=str)}` |" for k, v in sorted(parameters.items())
    )
    params = params or "| (none) | notebook defaults |"
    text = (
        "## Provenance\n\n"
        f"Parameters (profile `{profile}`; notebook defaults unless listed):\n\n"
        f"| parameter | value |\n|---|---|\n{params}\n\n"
        f"edstudy commit: `{commit}`\n\n| package | version |\n|---|---|\n{rows}\n"
    )
    return nbformat.v4.new_markdown_cell(text)


def _export_html(
    executed: Path, target: Path, parameters: Mapping[str, Any], commit: str, profile: str
) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    nb.cells.append(_provenance_cell(parameters, commit, profile))
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    exporter.embed_images = True
    body, _ = exporter.from_notebook_node(nb)
    target.write_text(body, encoding="utf-8")


def _write_index(out_dir: Path, results: list[ReportResult], commit: str, profile: str) -> Path:
    items = "\n".join(
        f'<li><h3><a href="{html.escape(r.html.name)}">{html.escape(r.title)}</a></h3>'
        f'<div class="finding">{r.headline or "<p><i>(no headline cell)</i></p>"}</div>'
        f"<small>{html.escape(r.notebook.stem)}, {r.seconds:.0f} s</small></li>"
        for r in results
    )
    versions = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in package_versions().items()
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>edstudy reports</title>
<style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;line-height:1.5}}
td{{padding:0 1rem 0 0}} li{{margin-bottom:1.2rem}} h3{{margin:0 0 .3rem}}
.finding p{{margin:.2rem 0}}</style></head>
<body><h1>edstudy reports</h1>
<p>What each report found, in its own numbers; the title opens the full report (executed
notebook, exported without code; profile <code>{html.escape(profile)}</code>, commit
<code>{html.escape(commit)}</code>).</p>
<ol>
{items}
</ol>
<h2>Package versions</h2><table>{versions}</table>
</body></html>
"""
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def build_reports(
    out_dir: str | Path = "reports",
    *,
    notebook_dir: str | Path | None = None,
    only: Iterable[str] | None = None,
    profile: str = "full",
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
    keep_executed: bool = True,
    progress: bool = True,
    overwrite: bool = False,
) -> Path:
    """Execute the numbered notebooks and export each as a self-contained HTML report.

    Parameters
    ----------
    out_dir : path
        Where the ``.html`` files, their executed ``.ipynb`` and ``index.html`` go.
    notebook_dir : path, optional
        Folder of ``NN_name.ipynb`` notebooks; the repository's ``notebooks/`` by default.
    only : names, optional
        Notebook stems or number prefixes (``"01"``) to run; all by default.
    profile : {"full", "small"} or a name in ``notebooks/profiles.yaml``
        ``small`` runs the notebooks' own (CI-sized) defaults.
    parameters : mapping of notebook stem to parameter overrides, optional
        Applied on top of the profile.
    keep_executed : bool
        Keep the executed notebooks next to the HTML (useful to diff two runs).
    overwrite : bool
        Replace an earlier edstudy report folder at ``out_dir`` (never a folder edstudy did not
        write). The reports appear in ``out_dir`` only when every notebook has run.

    Returns
    -------
    Path
        ``index.html``.

    Raises
    ------
    OutputError
        Before any notebook runs, when ``out_dir`` cannot be used.
    """
    nb_dir = Path(notebook_dir) if notebook_dir is not None else default_notebook_dir()
    overrides = load_profile(nb_dir, profile)
    notebooks = find_notebooks(nb_dir, only)
    commit = _git_commit(nb_dir)
    with result_folder(
        out_dir, kind="reports", overwrite=overwrite, extra={"profile": profile}
    ) as tmp:
        _build(
            tmp, nb_dir, notebooks, overrides, parameters, commit, profile, keep_executed, progress
        )
    return Path(out_dir) / "index.html"


def _build(
    out: Path,
    nb_dir: Path,
    notebooks: list[Path],
    overrides: Mapping[str, Mapping[str, Any]],
    parameters: Mapping[str, Mapping[str, Any]] | None,
    commit: str,
    profile: str,
    keep_executed: bool,
    progress: bool,
) -> Path:
    import papermill as pm

    results = []
    for notebook in notebooks:
        params = {
            "report_mode": True,  # notebooks show static figures, no widget-only content
            **overrides.get(notebook.stem, {}),
            **dict((parameters or {}).get(notebook.stem, {})),
        }
        executed = out / notebook.name
        start = time.perf_counter()
        print(
            f"running {notebook.name} {json.dumps(params, default=str) if params else ''}",
            flush=True,
        )
        pm.execute_notebook(
            str(notebook),
            str(executed),
            parameters=params,
            cwd=str(nb_dir),
            progress_bar=progress,
            kernel_name="python3",
        )
        html_path = out / f"{notebook.stem}.html"
        _export_html(executed, html_path, params, commit, profile)
        finding = headline_of(executed)
        if not keep_executed:
            executed.unlink()
        results.append(
            ReportResult(
                notebook,
                html_path,
                notebook_title(notebook),
                params,
                time.perf_counter() - start,
                finding,
            )
        )
    return _write_index(out, results, commit, profile)
