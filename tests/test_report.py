"""Report builder: runs notebooks with papermill, exports code-free HTML, reproducible tables."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from edstudy.report import build_reports, find_notebooks, load_profile


def write_notebook(folder: Path, name: str = "01_demo.ipynb") -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("seed = 1\nn = 4")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Demo study\nA tiny report."),
        params,
        nbformat.v4.new_code_cell(
            "import numpy as np, pandas as pd\n"
            "SECRET_CODE_MARKER = 1\n"
            "rng = np.random.default_rng(seed)\n"
            "pd.DataFrame(rng.normal(size=(n, 2)), columns=['a', 'b']).round(4)"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / name
    nbformat.write(nb, path)
    return path


def tables(html: str) -> list[str]:
    return re.findall(r"<table.*?</table>", html, flags=re.S)


def test_report_is_code_free_with_provenance_and_reproducible(tmp_path):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    write_notebook(nb_dir)
    (nb_dir / "profiles.yaml").write_text("full:\n  01_demo: {n: 6}\n")

    index = build_reports(tmp_path / "r1", notebook_dir=nb_dir, profile="full", progress=False)
    build_reports(tmp_path / "r2", notebook_dir=nb_dir, profile="full", progress=False)

    page = (tmp_path / "r1" / "01_demo.html").read_text()
    assert "SECRET_CODE_MARKER" not in page  # no code in reports
    assert "Provenance" in page and "numpy" in page and "<td>n</td>" in page
    first = tables(page)[0]
    assert first.count("<tr") == 7  # header + the 6 rows the full profile asked for
    again = (tmp_path / "r2" / "01_demo.html").read_text()
    assert tables(page)[0] == tables(again)[0]
    assert 'href="01_demo.html"' in index.read_text() and "Demo study" in index.read_text()


def test_unknown_names_and_profiles_are_explained(tmp_path):
    write_notebook(tmp_path)
    with pytest.raises(
        FileNotFoundError, match=r"no notebook matches \['99'\]; available: 01_demo"
    ):
        find_notebooks(tmp_path, ["99"])
    assert load_profile(tmp_path, "full") == {}  # a project without profiles: its own defaults
    with pytest.raises(
        FileNotFoundError, match="profile 'huge' requested but .*profiles.yaml does not exist"
    ):
        load_profile(tmp_path, "huge")
    (tmp_path / "profiles.yaml").write_text("full: {}\n")
    with pytest.raises(KeyError, match="profile 'huge' is not in"):
        load_profile(tmp_path, "huge")
    with pytest.raises(FileNotFoundError, match="no numbered notebooks"):
        find_notebooks(tmp_path / "nope")
