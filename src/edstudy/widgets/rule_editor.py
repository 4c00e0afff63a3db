"""The pathway-rule editor: edit a strategy's YAML with live validation, tune it, sweep it.

:func:`rule_editor` builds a :class:`RuleEditor` on one strategy (a shipped name, a rule file or a
:class:`~edstudy.sim.Strategy`). Every edit of the text is parsed and checked against the
curriculum at once by the rule parser (:func:`edstudy.sim.strategy_from_dict`), and its message,
which names the line, the rule number and the field (``rules.yaml, line 14, rule 2, field 'when':
unknown name 'mastry' (did you mean 'mastery'?) ...``), is shown above the text. Two sliders set
the usual thresholds (mastery to move on, consecutive errors that trigger remediation) on top of
the text's parameters, and :meth:`RuleEditor.run_sweep` runs :func:`edstudy.experiment.sweep` over
one parameter to show the trade-off between practice time, post-test and dropout.

State is readable without a browser::

    editor = rule_editor("individualized")
    editor.text.value = editor.text.value.replace("mastery >=", "mastry >=")
    editor.message   # "rules.yaml, line 26, rule 2, field 'when': unknown name 'mastry' ..."
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from edstudy.experiment.sweep import sweep
from edstudy.sim import ConfigError
from edstudy.sim.curriculum import Curriculum, default_curriculum
from edstudy.sim.engine import Budget
from edstudy.sim.population import PopulationSpec
from edstudy.sim.rule_text import parse_rules, source_text
from edstudy.sim.strategies import STRATEGY_NAMES, Strategy
from edstudy.widgets.base import WIDE, ErrorBox, ProgressBar, html_table, show_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["RuleEditor", "parse_values", "rule_editor"]

#: parameter names the two threshold sliders control
MASTERY_PARAM = "mastery_threshold"
REMEDIATION_PARAM = "remediate_after_errors"


def parse_values(text: str) -> list[float | int]:
    """``"0.8, 0.9 0.95"`` -> ``[0.8, 0.9, 0.95]`` (whole numbers stay int).

    Raises
    ------
    ValueError
        Naming the first item that is not a number.
    """
    items = [t for t in text.replace(";", ",").replace(" ", ",").split(",") if t.strip()]
    if not items:
        raise ValueError("sweep values: give at least one number, e.g. 0.8, 0.9, 0.95")
    out: list[float | int] = []
    for t in items:
        try:
            v = float(t)
        except ValueError:
            raise ValueError(
                f"sweep values must be numbers separated by commas; {t.strip()!r} is not a number"
            ) from None
        if not math.isfinite(v):
            raise ValueError(f"sweep values must be finite numbers, got {t.strip()!r}")
        out.append(int(v) if v.is_integer() and "." not in t else v)
    return out


class RuleEditor:
    """State and widgets of the rule editor; build it with :func:`rule_editor`.

    Attributes
    ----------
    widget : VBox
        What to display (CSS class ``edstudy-rule-editor``).
    source : Dropdown
        Loads a shipped strategy into the text.
    text : Textarea
        The rule file; every change is validated.
    mastery, remediation : FloatSlider, IntSlider
        ``mastery_threshold`` and ``remediate_after_errors`` (disabled when the strategy has no
        such parameter); they override the text's values.
    sweep_parameter : Dropdown
        The numeric parameter to sweep.
    sweep_values : Text
        Its values, comma-separated.
    n_students : IntSlider
        Simulated students per sweep point (the same students at every point).
    run_button : Button
    validation : ErrorBox
        The parser's message for the text.
    errors : ErrorBox
        Problems of the last sweep.
    progress : ProgressBar
    strategy : Strategy or None
        The parsed strategy with the sliders applied; None while the text is invalid.
    message : str
        The validation message ("" when the text is valid).
    sweep_table : DataFrame or None
        The last sweep (:func:`edstudy.experiment.sweep`), one row per value.
    figure_png : bytes
    """

    def __init__(
        self,
        strategy: Strategy | str | Path = "individualized",
        *,
        curriculum: Curriculum | None = None,
        population: PopulationSpec | None = None,
        budget: Budget | None = None,
        n_students: int = 300,
        seed: int = 0,
        sweep_parameter: str | None = None,
        sweep_values: Sequence[float] | None = None,
    ) -> None:
        self.curriculum = curriculum or default_curriculum()
        self.population = population or PopulationSpec()
        self.budget = budget or Budget()
        self.seed = int(seed)
        self.parsed: Strategy | None = None
        self.strategy: Strategy | None = None
        self.sweep_table: pd.DataFrame | None = None
        self.sweep_key: str | None = None
        self.figure_png = b""
        self._syncing = False
        text, name = source_text(strategy)
        self.name = name

        self.source = widgets.Dropdown(
            options=[("(edited)", "")] + [(s, s) for s in STRATEGY_NAMES],
            value=str(strategy) if isinstance(strategy, str) and strategy in STRATEGY_NAMES else "",
            description="Load",
        )
        self.source.add_class("edstudy-rule-source")
        self.text = widgets.Textarea(
            value=text,
            rows=24,
            layout=widgets.Layout(width="100%"),
            continuous_update=True,
        )
        self.text.add_class("edstudy-rule-text")
        self.validation = ErrorBox()
        self.status = widgets.HTML("")
        self.status.add_class("edstudy-rule-status")
        self.mastery = widgets.FloatSlider(
            value=0.95,
            min=0.5,
            max=0.99,
            step=0.01,
            readout_format=".2f",
            description="Mastery to move on",
            continuous_update=False,
            style=WIDE,
        )
        self.mastery.add_class("edstudy-mastery")
        self.remediation = widgets.IntSlider(
            value=2,
            min=1,
            max=8,
            description="Errors before remediation",
            continuous_update=False,
            style=WIDE,
        )
        self.remediation.add_class("edstudy-remediation")
        self.params_html = widgets.HTML("")
        self.sweep_parameter = widgets.Dropdown(options=[], description="Sweep")
        self.sweep_parameter.add_class("edstudy-sweep-parameter")
        self.sweep_values = widgets.Text(
            value="", description="values", placeholder="e.g. 0.8, 0.9, 0.95"
        )
        self.sweep_values.add_class("edstudy-sweep-values")
        self.n_students = widgets.IntSlider(
            value=int(n_students),
            min=50,
            max=max(5000, int(n_students)),
            step=50,
            description="Students",
            continuous_update=False,
            style=WIDE,
        )
        self.n_students.add_class("edstudy-sweep-students")
        self.run_button = widgets.Button(
            description="Run sweep", icon="play", button_style="primary"
        )
        self.run_button.add_class("edstudy-run-sweep")
        self.progress = ProgressBar("Sweeping")
        self.errors = ErrorBox()
        self.figure = widgets.Output()
        self.figure.add_class("edstudy-figure")
        self.table_html = widgets.HTML("")
        self.table_html.add_class("edstudy-sweep-table")

        self.text.observe(self._on_text, names="value")
        self.source.observe(self._on_source, names="value")
        self.mastery.observe(self._on_slider, names="value")
        self.remediation.observe(self._on_slider, names="value")
        self.sweep_parameter.observe(self._on_sweep_parameter, names="value")
        self.run_button.on_click(lambda _b: self.run_sweep())

        editor = widgets.VBox(
            [self.source, self.validation.widget, self.status, self.text],
            layout=widgets.Layout(width="55%"),
        )
        tuning = widgets.VBox(
            [
                widgets.HTML("<b>Thresholds</b>"),
                self.mastery,
                self.remediation,
                self.params_html,
                widgets.HTML("<b>Sweep</b>"),
                self.sweep_parameter,
                self.sweep_values,
                self.n_students,
                self.run_button,
            ],
            layout=widgets.Layout(width="45%", padding="0 0 0 12px"),
        )
        self.widget = widgets.VBox(
            [
                widgets.HTML(
                    "<style>.edstudy-rule-text textarea {font-family: monospace;}</style>"
                    "<h3>Pathway rules</h3>"
                ),
                widgets.HBox([editor, tuning]),
                self.progress.widget,
                self.errors.widget,
                self.figure,
                self.table_html,
            ]
        )
        self.widget.add_class("edstudy-rule-editor")
        self.validate()
        if sweep_parameter is not None:
            self.sweep_parameter.value = sweep_parameter
        if sweep_values is not None:
            self.sweep_values.value = ", ".join(f"{v:g}" for v in sweep_values)

    # --- validation -----------------------------------------------------------------------------
    @property
    def message(self) -> str:
        """The parser's message for the current text ("" when it is valid)."""
        return self.validation.message

    @property
    def valid(self) -> bool:
        return self.strategy is not None

    def validate(self) -> Strategy | None:
        """Parse and check the text; update the message, the sliders and the sweep choices."""
        self.validation.clear()
        try:
            parsed = parse_rules(self.text.value, curriculum=self.curriculum, name=self.name)
        except (ConfigError, ValueError, TypeError) as err:
            self.parsed = self.strategy = None
            self.validation.show(err, "The rules have a problem")
            self.status.value = ""
            return None
        self.parsed = parsed
        self._sync_sliders(parsed)
        self._apply()
        if self.sweep_parameter.value and not self.sweep_values.value:
            self._default_values()
        return self.strategy

    def _sync_sliders(self, parsed: Strategy) -> None:
        self._syncing = True
        try:
            for slider, key in (
                (self.mastery, MASTERY_PARAM),
                (self.remediation, REMEDIATION_PARAM),
            ):
                value = parsed.params.get(key)
                usable = isinstance(value, int | float) and not isinstance(value, bool)
                slider.disabled = not usable
                if usable:
                    slider.min = min(slider.min, value)
                    slider.max = max(slider.max, value)
                    slider.value = value
            numeric = [
                k
                for k, v in parsed.params.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            ]
            current = self.sweep_parameter.value
            self.sweep_parameter.options = numeric
            if current in numeric:
                self.sweep_parameter.value = current
            elif numeric:
                self.sweep_parameter.value = (
                    MASTERY_PARAM if MASTERY_PARAM in numeric else numeric[0]
                )
        finally:
            self._syncing = False

    def _overrides(self) -> dict[str, Any]:
        assert self.parsed is not None
        out: dict[str, Any] = {}
        if not self.mastery.disabled:
            out[MASTERY_PARAM] = float(self.mastery.value)
        if not self.remediation.disabled:
            value = int(self.remediation.value)
            out[REMEDIATION_PARAM] = (
                float(value) if isinstance(self.parsed.params[REMEDIATION_PARAM], float) else value
            )
        return out

    def _apply(self) -> None:
        """The parsed strategy with the sliders' values."""
        if self.parsed is None:
            return
        try:
            self.strategy = self.parsed.with_params(self._overrides())
        except (ConfigError, ValueError) as err:
            self.strategy = None
            self.validation.show(err, "The rules have a problem")
            return
        s = self.strategy
        self.status.value = (
            f'<span style="color:#1e7b34">&#10003; {len(s.rules)} rules, valid for the '
            f"curriculum '{html.escape(self.curriculum.name)}'</span>"
        )
        params = pd.DataFrame({"parameter": list(s.params), "value": list(s.params.values())})
        self.params_html.value = html_table(params.astype({"value": str}))

    def _on_text(self, _change: dict[str, Any]) -> None:
        if not self._syncing:
            self._syncing = True
            self.source.value = ""
            self._syncing = False
        self.validate()

    def _on_source(self, change: dict[str, Any]) -> None:
        if self._syncing or not change["new"]:
            return
        text, name = source_text(change["new"])
        self.name = name
        self.sweep_values.value = ""
        self._syncing = True
        try:
            self.text.value = text  # validated by _on_text
        finally:
            self._syncing = False

    def _on_slider(self, _change: dict[str, Any]) -> None:
        if not self._syncing:
            self._apply()

    def _on_sweep_parameter(self, _change: dict[str, Any]) -> None:
        if not self._syncing:
            self._default_values()

    def _default_values(self) -> None:
        """Values around the parameter's current value."""
        key = self.sweep_parameter.value
        if self.strategy is None or not key or key not in self.strategy.params:
            return
        v = self.strategy.params[key]
        if key == MASTERY_PARAM or (isinstance(v, float) and 0 < v < 1):
            values = [0.8, 0.85, 0.9, 0.95, 0.98]
        elif isinstance(v, int):
            values = sorted({max(1, v + d) for d in (-2, -1, 0, 1, 2)})
        else:
            values = [v * f for f in (0.5, 0.75, 1.0, 1.5, 2.0)]
        self.sweep_values.value = ", ".join(f"{x:g}" for x in values)

    # --- sweep ----------------------------------------------------------------------------------
    def run_sweep(self) -> pd.DataFrame | None:
        """Sweep the chosen parameter over its values on the same simulated students.

        Returns
        -------
        DataFrame or None
            The trade-off table (also in ``sweep_table``), or None with the reason in
            ``errors.message``.
        """
        table = None
        with self.errors.catch("Could not run the sweep"):
            if self.strategy is None:
                raise ValueError(f"fix the rules first: {self.message}")
            key = self.sweep_parameter.value
            if not key:
                raise ValueError("this strategy has no numeric parameter to sweep")
            values = parse_values(self.sweep_values.value)
            with self.progress.task(len(values), f"Sweeping {key}") as bar:
                table = sweep(
                    self.strategy,
                    {key: values},
                    curriculum=self.curriculum,
                    population=self.population,
                    budget=self.budget,
                    n_students=int(self.n_students.value),
                    seed=self.seed,
                    progress=False,
                    on_progress=lambda done, total: bar.update(done),
                )
            self.sweep_table, self.sweep_key = table, key
            self._render(key)
        return table

    def figure_object(self) -> Figure:
        """A new trade-off figure of the last sweep."""
        from edstudy.plots import sweep_tradeoff

        if self.sweep_table is None or self.sweep_key is None:
            raise ValueError("run a sweep first")
        return sweep_tradeoff(self.sweep_table, parameter=self.sweep_key)

    def _render(self, key: str) -> None:
        assert self.sweep_table is not None
        self.figure_png = show_figure(self.figure, self.figure_object(), dpi=72)
        cols = [
            key,
            "practice_minutes",
            "posttest",
            "dropped_out",
            "over_practice",
            "under_practice",
        ]
        self.table_html.value = html_table(self.sweep_table[cols].round(3))


def rule_editor(
    strategy: Strategy | str | Path = "individualized",
    *,
    curriculum: Curriculum | None = None,
    population: PopulationSpec | None = None,
    budget: Budget | None = None,
    n_students: int = 300,
    seed: int = 0,
    sweep_parameter: str | None = None,
    sweep_values: Sequence[float] | None = None,
) -> RuleEditor:
    """A rule editor on ``strategy`` (a shipped name such as ``"individualized"``, a rule file, or
    a Strategy).

    Parameters
    ----------
    curriculum, population, budget : optional
        The simulated course of the sweeps (defaults: shipped curriculum, ``PopulationSpec()``,
        240 minutes). Rules are validated against ``curriculum``.
    n_students, seed : int
        Students per sweep point and their seed.
    sweep_parameter, sweep_values : optional
        The initial sweep (default: ``mastery_threshold`` over 0.8-0.98 when the strategy has it).
    """
    return RuleEditor(
        strategy,
        curriculum=curriculum,
        population=population,
        budget=budget,
        n_students=n_students,
        seed=seed,
        sweep_parameter=sweep_parameter,
        sweep_values=sweep_values,
    )
