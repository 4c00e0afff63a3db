"""The power planner: how many classes or schools a study needs, and a check by simulation.

:func:`power_planner` builds a :class:`PowerPlanner`. Its sliders describe a design (students,
classes or schools randomized; class size; intraclass correlations; the share of variance a
pretest explains) and the effect to detect; every change recomputes the power, the minimum
detectable effect (MDES), the number of units needed and the power curve with
:func:`edstudy.stats.planning.plan_power` (the modelling choices live there, not here).
:meth:`PowerPlanner.simulate` checks the formula by simulating trials from the formula's own model
(:func:`edstudy.stats.trial_simulation.simulation_check`), with a progress bar.

State is readable without a browser::

    planner = power_planner()
    before = planner.mdes
    planner.icc.value = 0.2
    planner.mdes > before   # True
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from edstudy.stats.planning import (
    DESIGN_KINDS,
    PowerPlan,
    make_design,
    plan_power,
)
from edstudy.stats.power import Design
from edstudy.stats.trial_simulation import simulation_check
from edstudy.widgets.base import (
    ErrorBox,
    ProgressBar,
    control,
    html_table,
    show_figure,
    styled,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["PowerPlanner", "power_planner"]

_UNIT_MAX = {"two-level": 400, "three-level": 200, "individual": 5000}


class PowerPlanner:
    """State and widgets of the power planner; build it with :func:`power_planner`.

    Attributes
    ----------
    widget : VBox
        What to display (CSS class ``edstudy-power-planner``).
    design_kind : ToggleButtons
        ``"two-level"`` (classes randomized), ``"three-level"`` (schools randomized) or
        ``"individual"`` (students randomized).
    n_units : IntSlider
        Classes, schools or students randomized (both arms together).
    cluster_size : IntSlider
        Students per class.
    classes_per_school : IntSlider
        Three-level designs.
    icc : FloatSlider
        Share of the outcome variance between classes (within schools for three levels).
    icc_school : FloatSlider
        Share between schools (three-level designs).
    r2 : FloatSlider
        Share of the variance at every level explained by the pretest (0: no covariate).
    effect : FloatSlider
        The standardized effect to detect.
    target_power : FloatSlider
    alpha : Dropdown
    n_sims : IntSlider
        Simulated trials for the check.
    simulate_button : Button
    progress : ProgressBar
    errors : ErrorBox
    design : Design or None
        The current design (None when the settings are invalid).
    power, mdes : float or None
        At the current design and effect.
    required_units : int or None
        Smallest number of units with MDES <= effect at the target power.
    curve : DataFrame or None
        Power and MDES against the number of units.
    check : DataFrame or None
        The last simulation check (analytic vs simulated power at ``n_units``).
    figure_png : bytes
    """

    def __init__(
        self,
        *,
        design: str = "two-level",
        n_units: int = 40,
        cluster_size: int = 25,
        classes_per_school: int = 4,
        icc: float = 0.15,
        icc_school: float = 0.05,
        r2: float = 0.5,
        effect: float = 0.25,
        target_power: float = 0.80,
        alpha: float = 0.05,
        n_sims: int = 200,
        seed: int = 0,
    ) -> None:
        if design not in DESIGN_KINDS:
            raise ValueError(f"design must be one of {list(DESIGN_KINDS)}, got {design!r}")
        self.seed = int(seed)
        self.design: Design | None = None
        self.power: float | None = None
        self.mdes: float | None = None
        self.required_units: int | None = None
        self.curve: pd.DataFrame | None = None
        self.check: pd.DataFrame | None = None
        self.figure_png = b""
        self.plan: PowerPlan | None = None
        self._quiet = True

        self.design_kind = styled(
            widgets.ToggleButtons(
                options=[
                    ("classes randomized", "two-level"),
                    ("schools randomized", "three-level"),
                    ("students randomized", "individual"),
                ],
                value=design,
            ),
            "edstudy-design-kind",
        )
        self.n_units = control(
            widgets.IntSlider,
            "edstudy-n-units",
            value=int(n_units),
            min=4,
            max=max(_UNIT_MAX[design], int(n_units)),
            description="Units",
        )
        self.cluster_size = control(
            widgets.IntSlider,
            "edstudy-cluster-size",
            value=int(cluster_size),
            min=2,
            max=max(60, cluster_size),
            description="Students per class",
        )
        self.classes_per_school = control(
            widgets.IntSlider,
            "edstudy-classes-per-school",
            value=int(classes_per_school),
            min=1,
            max=max(10, classes_per_school),
            description="Classes per school",
        )
        self.icc = control(
            widgets.FloatSlider,
            "edstudy-icc",
            value=float(icc),
            min=0.0,
            max=0.5,
            step=0.01,
            description="ICC (classes)",
        )
        self.icc_school = control(
            widgets.FloatSlider,
            "edstudy-icc-school",
            value=float(icc_school),
            min=0.0,
            max=0.4,
            step=0.01,
            description="ICC (schools)",
        )
        self.r2 = control(
            widgets.FloatSlider,
            "edstudy-r2",
            value=float(r2),
            min=0.0,
            max=0.9,
            step=0.05,
            description="Pretest R²",
        )
        self.effect = control(
            widgets.FloatSlider,
            "edstudy-effect",
            value=float(effect),
            min=0.05,
            max=1.0,
            step=0.01,
            description="Effect (SD)",
        )
        self.target_power = control(
            widgets.FloatSlider,
            "edstudy-target-power",
            value=float(target_power),
            min=0.5,
            max=0.95,
            step=0.05,
            description="Target power",
        )
        self.alpha = styled(
            widgets.Dropdown(options=[0.01, 0.05, 0.10], value=alpha, description="alpha"),
            "edstudy-alpha",
        )
        self.n_sims = control(
            widgets.IntSlider,
            "edstudy-n-sims",
            value=int(n_sims),
            min=20,
            max=max(2000, n_sims),
            step=20,
            description="Simulated trials",
        )
        self.simulate_button = styled(
            widgets.Button(description="Check by simulation", icon="random"),
            "edstudy-simulate",
        )
        self.simulate_button.on_click(lambda _b: self.simulate())
        self.progress = ProgressBar("Simulating")
        self.errors = ErrorBox()
        self.result_html = styled(widgets.HTML(""), "edstudy-power-result")
        self.check_html = styled(widgets.HTML(""), "edstudy-power-check")
        self.figure = styled(widgets.Output(), "edstudy-figure")

        for w in (
            self.design_kind,
            self.n_units,
            self.cluster_size,
            self.classes_per_school,
            self.icc,
            self.icc_school,
            self.r2,
            self.effect,
            self.target_power,
            self.alpha,
        ):
            w.observe(self._on_change, names="value")

        left = widgets.VBox(
            [
                self.n_units,
                self.cluster_size,
                self.classes_per_school,
                self.icc,
                self.icc_school,
                self.r2,
            ]
        )
        right = widgets.VBox(
            [self.effect, self.target_power, self.alpha, self.n_sims, self.simulate_button]
        )
        self.widget = styled(
            widgets.VBox(
                [
                    widgets.HTML("<h3>Power planner</h3>"),
                    self.design_kind,
                    widgets.HBox([left, right]),
                    self.progress.widget,
                    self.errors.widget,
                    self.result_html,
                    self.figure,
                    self.check_html,
                ]
            ),
            "edstudy-power-planner",
        )
        self._quiet = False
        self._layout()
        self.update()

    # --- the design ---------------------------------------------------------------------------
    @property
    def message(self) -> str:
        """The error shown ("" when the settings are valid)."""
        return self.errors.message

    @property
    def unit_name(self) -> str:
        return DESIGN_KINDS[self.design_kind.value]

    def build_design(self) -> Design:
        """The design the controls describe (raises ValueError for impossible settings)."""
        return make_design(
            self.design_kind.value,
            int(self.n_units.value),
            cluster_size=int(self.cluster_size.value),
            classes_per_school=int(self.classes_per_school.value),
            icc=float(self.icc.value),
            icc_school=float(self.icc_school.value),
            r2=float(self.r2.value),
        )

    def _layout(self) -> None:
        kind = self.design_kind.value
        show = {
            self.cluster_size: kind != "individual",
            self.icc: kind != "individual",
            self.classes_per_school: kind == "three-level",
            self.icc_school: kind == "three-level",
        }
        for w, visible in show.items():
            w.layout.display = None if visible else "none"
        self.n_units.description = f"{self.unit_name.capitalize()} randomized"
        self.n_units.max = max(_UNIT_MAX[kind], self.n_units.value)

    def _on_change(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        if change.get("owner") is self.design_kind:
            self._quiet = True
            try:
                self._layout()
            finally:
                self._quiet = False
        self.check = None
        self.check_html.value = ""
        self.update()

    def update(self) -> None:
        """Recompute power, MDES, units needed and the curve; redraw."""
        with self.errors.catch("These settings do not describe a possible study"):
            self.design = self.power = self.mdes = self.required_units = None
            self.plan = plan_power(
                self.build_design(),
                float(self.effect.value),
                target_power=float(self.target_power.value),
                alpha=float(self.alpha.value),
            )
            self.design, self.power, self.mdes = self.plan.design, self.plan.power, self.plan.mdes
            self.required_units, self.curve = self.plan.required_units, self.plan.curve
            self._render()
        if self.design is None:
            self.result_html.value = ""

    def _render(self) -> None:
        assert self.plan is not None
        self.result_html.value = html_table(self.plan.to_frame().rename(columns={"quantity": ""}))
        self.figure_png = show_figure(self.figure, self.figure_object(), dpi=72)

    def figure_object(self) -> Figure:
        """A new figure: power and MDES against the number of units (and the last check)."""
        if self.plan is None or self.design is None:
            raise ValueError("no valid design to draw")
        return self.plan.plot(checks=self.check)

    # --- simulation -----------------------------------------------------------------------------
    def simulate(self) -> pd.DataFrame | None:
        """Check the formula at the current design by simulating ``n_sims`` trials.

        Returns
        -------
        DataFrame or None
            :func:`edstudy.stats.trial_simulation.simulation_check` at ``n_units`` (also in
            ``check``), or None with the reason in ``message``.
        """
        out = None
        with self.errors.catch("Could not run the simulation"):
            design = self.build_design()
            n = int(self.n_sims.value)
            with self.progress.task(n, "Simulating") as bar:
                out = simulation_check(
                    design,
                    [int(self.n_units.value)],
                    effect=float(self.effect.value),
                    n_sims=n,
                    seed=self.seed,
                    alpha=float(self.alpha.value),
                    step=bar.step,
                )
            self.check = out
            row = out.iloc[0]
            self.check_html.value = (
                f"<b>Simulated power</b> {row['simulated']:.3f} "
                f"(95% CI {row['ci_low']:.3f} to {row['ci_high']:.3f}, {int(row['n_sims'])} "
                f"trials) vs <b>formula</b> {row['analytic']:.3f}: "
                + html.escape(
                    "the formula holds"
                    if row["ci_low"] <= row["analytic"] <= row["ci_high"]
                    else "outside the simulation's interval: check the design's assumptions"
                )
            )
            self._render()
        return out


def power_planner(
    *,
    design: str = "two-level",
    n_units: int = 40,
    cluster_size: int = 25,
    classes_per_school: int = 4,
    icc: float = 0.15,
    icc_school: float = 0.05,
    r2: float = 0.5,
    effect: float = 0.25,
    target_power: float = 0.80,
    alpha: float = 0.05,
    n_sims: int = 200,
    seed: int = 0,
) -> PowerPlanner:
    """A power planner, starting from a design.

    Parameters
    ----------
    design : {"two-level", "three-level", "individual"}
        Classes, schools or students randomized.
    n_units : int
        Units randomized (classes, schools or students), both arms together.
    cluster_size, classes_per_school : int
        Students per class; classes per school (three-level).
    icc, icc_school : float
        Variance shares between classes and between schools.
    r2 : float
        Variance share the pretest explains at every level.
    effect : float
        Standardized effect to detect.
    target_power, alpha : float
    n_sims, seed : int
        Simulated trials of the check and their seed.
    """
    return PowerPlanner(
        design=design,
        n_units=n_units,
        cluster_size=cluster_size,
        classes_per_school=classes_per_school,
        icc=icc,
        icc_school=icc_school,
        r2=r2,
        effect=effect,
        target_power=target_power,
        alpha=alpha,
        n_sims=n_sims,
        seed=seed,
    )
