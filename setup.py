"""Build hook: ship the notebooks (the reports' sources) inside the wheel.

The notebooks live at the top of the repository (``notebooks/``, reviewed as jupytext scripts
beside their ``.ipynb``). A wheel installed anywhere must still be able to run
``edstudy report``, so ``build_py`` copies the ``.ipynb`` files (outputs cleared: papermill runs
them anyway) and ``profiles.yaml`` into ``edstudy/_notebooks`` of the built package. Everything
else about the build is in ``pyproject.toml``.
"""

import json
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithNotebooks(build_py):
    def run(self) -> None:
        super().run()
        source = HERE / "notebooks"
        target = Path(self.build_lib) / "edstudy" / "_notebooks"
        target.mkdir(parents=True, exist_ok=True)
        for nb in sorted(source.glob("[0-9][0-9]_*.ipynb")):
            doc = json.loads(nb.read_text(encoding="utf-8"))
            for cell in doc["cells"]:
                if cell["cell_type"] == "code":
                    cell["outputs"], cell["execution_count"] = [], None
                cell.get("metadata", {}).pop("papermill", None)
            doc.get("metadata", {}).pop("papermill", None)
            (target / nb.name).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        for extra in ("profiles.yaml",):
            if (source / extra).is_file():
                (target / extra).write_text((source / extra).read_text(encoding="utf-8"))


setup(cmdclass={"build_py": BuildWithNotebooks})
