"""The trial picker: choose a trial file and its columns, analyse, read the verdict.

:func:`trial_picker` builds a :class:`TrialPicker`. Its controls pick a trial file from a folder
(the shipped examples in ``edstudy/data/trials/`` by default); picking one reads it
(:func:`edstudy.investigations.trial.load_trial`) and its data, and fills the column controls
with what the trial file says: the arm column, the treatment and control arms, the design, the
outcomes and the baseline covariates. Change any of them and press *Analyse*:
:func:`edstudy.investigations.trial.analyze_trial` runs on the changed trial, and the rating,
the main effects, the forest plot and the attrition figure appear. No statistics live here.

State is readable without a browser::

    picker = trial_picker()  # the shipped examples
    picker.file.value = "video_vs_text.yaml"
    picker.analyze()
    picker.result.ratings      # the verdict, as a table
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from edstudy.investigations.trial import (
    TrialResult,
    TrialSpec,
    analyze_trial,
    load_trial,
    load_trial_data,
)
from edstudy.investigations.trial.spec import DESIGNS, OutcomeSpec
from edstudy.widgets.base import ErrorBox, html_table, show_figure, styled

__all__ = ["TrialPicker", "trial_picker"]

_NONE = "(none)"


def _default_folder() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "data" / "trials").is_dir() and (parent / "pyproject.toml").is_file():
            return parent / "data" / "trials"
    return Path.cwd()


class TrialPicker:
    """State and widgets of the trial picker; build it with :func:`trial_picker`.

    Attributes
    ----------
    widget : VBox
        What to display (CSS class ``edstudy-trial-picker``).
    folder : Text
        Folder of trial files.
    file : Dropdown
        A trial file (``*.yaml``) of the folder.
    arm, control, cluster, block : Dropdown
        Columns and the control arm (``cluster``/``block``: ``"(none)"`` for none).
    treatments, outcomes, baseline : SelectMultiple
    randomization : ToggleButtons
        ``student``, ``cluster`` or ``block``.
    analyze_button : Button
    errors : ErrorBox
    spec : TrialSpec or None
        The trial the controls describe (None when no valid file is chosen).
    data : DataFrame or None
        Its outcomes table.
    result : TrialResult or None
        The last analysis.
    result_html : HTML
        The findings and main effects.
    figure_png, attrition_png : bytes
    """

    def __init__(self, folder: str | Path | None = None, file: str | None = None) -> None:
        self.spec: TrialSpec | None = None
        self.data: pd.DataFrame | None = None
        self.result: TrialResult | None = None
        self.figure_png = b""
        self.attrition_png = b""
        self._quiet = False
        self.errors = ErrorBox()
        self.folder = styled(
            widgets.Text(
                value=str(folder or _default_folder()),
                description="Folder",
                continuous_update=False,
            ),
            "edstudy-trial-folder",
        )
        self.file = styled(widgets.Dropdown(description="Trial file"), "edstudy-trial-file")
        self.arm = styled(widgets.Dropdown(description="Arm column"), "edstudy-trial-arm")
        self.treatments = styled(
            widgets.SelectMultiple(description="Treatment(s)", rows=3), "edstudy-trial-treatments"
        )
        self.control = styled(widgets.Dropdown(description="Control"), "edstudy-trial-control")
        self.randomization = styled(
            widgets.ToggleButtons(options=list(DESIGNS), description="Randomized"),
            "edstudy-trial-design",
        )
        self.cluster = styled(widgets.Dropdown(description="Cluster"), "edstudy-trial-cluster")
        self.block = styled(widgets.Dropdown(description="Block"), "edstudy-trial-block")
        self.outcomes = styled(
            widgets.SelectMultiple(description="Outcomes", rows=5), "edstudy-trial-outcomes"
        )
        self.baseline = styled(
            widgets.SelectMultiple(description="Baseline", rows=5), "edstudy-trial-baseline"
        )
        self.analyze_button = styled(
            widgets.Button(description="Analyse", icon="play"), "edstudy-trial-analyze"
        )
        self.analyze_button.on_click(lambda _b: self.analyze())
        self.result_html = styled(widgets.HTML(""), "edstudy-trial-result")
        self.figure = styled(widgets.Output(), "edstudy-figure")
        self.attrition_figure = styled(widgets.Output(), "edstudy-figure")
        self.folder.observe(lambda _c: self.refresh_files(), names="value")
        self.file.observe(lambda _c: self.load(), names="value")
        self.arm.observe(self._on_arm, names="value")
        columns = widgets.VBox(
            [self.arm, self.treatments, self.control, self.randomization, self.cluster, self.block]
        )
        measures = widgets.VBox([self.outcomes, self.baseline, self.analyze_button])
        self.widget = styled(
            widgets.VBox(
                [
                    widgets.HTML("<h3>Analyse your trial</h3>"),
                    widgets.HBox([self.folder, self.file]),
                    widgets.HBox([columns, measures]),
                    self.errors.widget,
                    self.result_html,
                    self.figure,
                    self.attrition_figure,
                ]
            ),
            "edstudy-trial-picker",
        )
        self.refresh_files(select=file)

    # --- choosing a file ------------------------------------------------------------------------
    @property
    def message(self) -> str:
        """The error shown ("" when none)."""
        return self.errors.message

    def refresh_files(self, select: str | None = None) -> None:
        """List the folder's trial files (and load the first, or ``select``)."""
        with self.errors.catch("Cannot list the trial files"):
            folder = Path(self.folder.value).expanduser()
            if not folder.is_dir():
                raise ValueError(f"{folder} is not a folder")
            names = sorted(p.name for p in folder.glob("*.yaml"))
            if not names:
                raise ValueError(f"{folder} holds no trial files (*.yaml)")
            self._quiet = True
            try:
                self.file.options = names
                self.file.value = select if select in names else names[0]
            finally:
                self._quiet = False
            self.load()

    def load(self) -> None:
        """Read the chosen trial file and its data; fill the column controls from it."""
        if self._quiet or not self.file.value:
            return
        self.spec = self.data = self.result = None
        self.result_html.value = ""
        with self.errors.catch("Cannot read this trial"):
            spec = load_trial(Path(self.folder.value).expanduser() / self.file.value)
            data = load_trial_data(spec).outcomes
            self.spec, self.data = spec, data
            self._fill(spec, data)

    def _fill(self, spec: TrialSpec, data: pd.DataFrame) -> None:
        columns = [str(c) for c in data.columns]
        self._quiet = True
        try:
            self.arm.options = columns
            self.arm.value = spec.arm
            self._arm_levels(spec.arm)
            self.treatments.value = tuple(spec.treatments)
            self.control.value = spec.control
            self.randomization.value = spec.randomization
            self.cluster.options = [_NONE, *columns]
            self.cluster.value = spec.cluster or _NONE
            self.block.options = [_NONE, *columns]
            self.block.value = spec.block or _NONE
            numeric = [
                c
                for c in columns
                if pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])
            ]
            self.outcomes.options = numeric
            self.outcomes.value = tuple(o for o in spec.outcome_names if o in numeric)
            self.baseline.options = numeric
            self.baseline.value = tuple(c for c in spec.baseline if c in numeric)
        finally:
            self._quiet = False

    def _arm_levels(self, column: str) -> None:
        assert self.data is not None
        levels = sorted(str(v) for v in self.data[column].dropna().unique())
        self.treatments.options = levels
        self.control.options = levels

    def _on_arm(self, change: dict) -> None:
        if self._quiet or self.data is None:
            return
        with self.errors.catch("Cannot use this arm column"):
            self._quiet = True
            try:
                self._arm_levels(change["new"])
            finally:
                self._quiet = False

    # --- analysing ------------------------------------------------------------------------------
    def build_spec(self) -> TrialSpec:
        """The trial the controls describe (raises ValueError for impossible choices)."""
        if self.spec is None:
            raise ValueError("choose a trial file first")
        if not self.treatments.value:
            raise ValueError("choose at least one treatment arm")
        if not self.outcomes.value:
            raise ValueError("choose at least one outcome")
        kinds = {o.name: o for o in self.spec.outcomes}
        outcomes = tuple(kinds.get(name, OutcomeSpec(name)) for name in self.outcomes.value)
        cluster = None if self.cluster.value == _NONE else self.cluster.value
        block = None if self.block.value == _NONE else self.block.value
        design = self.randomization.value
        if design == "student":
            cluster = block = None
        elif design == "cluster":
            block = None
        return replace(
            self.spec,
            arm=self.arm.value,
            treatments=tuple(self.treatments.value),
            control=self.control.value,
            randomization=design,
            cluster=cluster,
            block=block,
            outcomes=outcomes,
            baseline=tuple(c for c in self.baseline.value if c not in self.outcomes.value),
            moderators=tuple(m for m in self.spec.moderators if m != self.arm.value),
        )

    def analyze(self) -> TrialResult | None:
        """Analyse the trial as the controls describe it; show the verdict and the figures.

        Returns
        -------
        TrialResult or None
            None with the reason in ``message``.
        """
        self.result = None
        with self.errors.catch("Cannot analyse this trial"):
            spec = self.build_spec()
            if spec.cluster_assigned and spec.cluster is None:
                raise ValueError("a cluster design needs a cluster column")
            if spec.randomization == "block" and spec.block is None:
                raise ValueError("a blocked design needs a block column")
            assert self.data is not None
            result = analyze_trial(spec, outcomes=self.data, process=False)
            self.result = result
            items = "".join(f"<li>{html.escape(s)}</li>" for s in result.finding_sentences())
            main = result.main_effects()[
                ["outcome", "treatment", "estimate", "ci_low", "ci_high", "improvement_index"]
            ].round(3)
            self.result_html.value = f"<ul>{items}</ul>" + html_table(main)
            self.figure_png = show_figure(self.figure, result.plot("forest"), dpi=72)
            self.attrition_png = show_figure(
                self.attrition_figure, result.plot("attrition"), dpi=72
            )
        if self.result is None:
            self.result_html.value = ""
        return self.result


def trial_picker(folder: str | Path | None = None, file: str | None = None) -> TrialPicker:
    """A trial picker over the trial files of ``folder`` (default: the shipped examples).

    Parameters
    ----------
    folder : path, optional
    file : str, optional
        The file to select first (default: the first in the folder).
    """
    return TrialPicker(folder=folder, file=file)
