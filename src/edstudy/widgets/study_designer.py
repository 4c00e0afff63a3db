"""The study designer: set up a simulated cohort comparison, run every strategy, see the arms.

:func:`study_designer` builds a :class:`StudyDesigner` from a study file (the shipped
``default_study.yaml`` by default). Its controls change the cohort (students, class size, how
valid stated preferences are, dropout), the curriculum (how many skills, minutes of tutor time)
and the world (the meshing effect: how much a student's own best medium speeds learning), and
pick the arms. :meth:`StudyDesigner.run` simulates every (scenario, arm) with a progress bar and
shows the arms' means with intervals and the study's comparisons as Hedges' g.

All numbers come from :mod:`edstudy.experiment` (the runner) and
:mod:`edstudy.investigations.strategy_comparison`, and the figure from :mod:`edstudy.plots`; the
results are plain attributes (``result``, ``summary``, ``effects``, ``figure_png``) so tests need
no browser::

    designer = study_designer(n_students=700)
    designer.meshing.value = 1.0
    designer.run()
    designer.summary      # DataFrame: scenario, arm, metric, mean, ci_low, ci_high, ...
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import ipywidgets as widgets
import pandas as pd

from edstudy.experiment.result import StudyResult
from edstudy.experiment.runner import run_study, tasks_of
from edstudy.experiment.study import Study
from edstudy.investigations.strategy_comparison import ARM_METRICS, arm_metrics, effect_sizes
from edstudy.sim.curriculum import data_path
from edstudy.sim.engine import Budget
from edstudy.widgets.base import WIDE, ErrorBox, ProgressBar, control, html_table, show_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["StudyDesigner", "study_designer"]


class StudyDesigner:
    """State and widgets of the study designer; build it with :func:`study_designer`.

    Attributes
    ----------
    widget : VBox
        What to display (CSS class ``edstudy-study-designer``).
    n_students, class_size : IntSlider
        Students per replication (split across the arms by class) and students per class.
    preference_validity : FloatSlider
        P(the medium a student says they prefer is their true best medium).
    dropout_per_hour : FloatSlider
        Hazard of quitting per hour of work at average engagement.
    n_skills : IntSlider
        The first skills of the curriculum (in prerequisite order) that the course covers.
    minutes : IntSlider
        Tutor time each student has.
    meshing : FloatSlider
        Learning-rate bonus in a student's true best medium (0: media do not matter).
    compare_null : Checkbox
        Also run the world without meshing (scenario ``meshing 0``) on the same students.
    arms : SelectMultiple
        The strategies to compare.
    replications : IntSlider
    seed : BoundedIntText
    run_button : Button
    progress : ProgressBar
    errors : ErrorBox
    study : Study or None
        The study of the last run.
    result : StudyResult or None
    summary : DataFrame or None
        :func:`edstudy.investigations.strategy_comparison.arm_metrics` of the last run.
    effects : DataFrame or None
        :func:`edstudy.investigations.strategy_comparison.effect_sizes` of the last run.
    figure_png : bytes
        The figure as shown.
    """

    def __init__(
        self,
        study: Study | str | Path | None = None,
        *,
        n_students: int | None = None,
        replications: int = 1,
        meshing: float | None = None,
        arms: list[str] | None = None,
        seed: int | None = None,
        metrics: tuple[str, ...] = tuple(ARM_METRICS),
    ) -> None:
        if study is None:
            study = data_path("default_study.yaml")
        self.base = study if isinstance(study, Study) else Study.from_yaml(study)
        base = self.base
        self.metrics = tuple(metrics)
        self.study: Study | None = None
        self.result: StudyResult | None = None
        self.summary: pd.DataFrame | None = None
        self.effects: pd.DataFrame | None = None
        self.figure_png = b""

        pop = base.population
        if meshing is None:
            levels = [
                float(v.get("meshing_effect", pop.meshing_effect)) for v in base.scenarios.values()
            ] or [pop.meshing_effect]
            meshing = max(levels)
        n = int(n_students if n_students is not None else base.n_students)
        self.n_students = control(
            widgets.IntSlider,
            "edstudy-n-students",
            value=n,
            min=50,
            max=max(20_000, n),
            step=50,
            description="Students",
        )
        self.class_size = control(
            widgets.IntSlider,
            "edstudy-class-size",
            value=base.class_size,
            min=5,
            max=max(40, base.class_size),
            description="Class size",
        )
        self.preference_validity = control(
            widgets.FloatSlider,
            "edstudy-preference-validity",
            value=pop.preference_validity,
            min=0.0,
            max=1.0,
            step=0.05,
            description="Stated preference valid",
        )
        self.dropout_per_hour = control(
            widgets.FloatSlider,
            "edstudy-dropout",
            value=pop.dropout_per_hour,
            min=0.0,
            max=0.5,
            step=0.01,
            description="Dropout per hour",
        )
        n_skills = len(base.curriculum.skills)
        self.n_skills = control(
            widgets.IntSlider,
            "edstudy-n-skills",
            value=n_skills,
            min=1,
            max=n_skills,
            description="Skills in the course",
        )
        self.minutes = control(
            widgets.IntSlider,
            "edstudy-minutes",
            value=int(round(base.budget.minutes)),
            min=30,
            max=max(600, int(base.budget.minutes)),
            step=30,
            description="Tutor minutes",
        )
        self.meshing = control(
            widgets.FloatSlider,
            "edstudy-meshing",
            value=float(meshing),
            min=0.0,
            max=max(2.0, float(meshing)),
            step=0.1,
            description="Meshing effect",
        )
        self.compare_null = widgets.Checkbox(
            value=True, description="also run the world without meshing", indent=False
        )
        self.compare_null.add_class("edstudy-compare-null")
        self.arms = widgets.SelectMultiple(
            options=list(base.arm_names),
            value=list(arms) if arms is not None else list(base.arm_names),
            rows=min(8, len(base.arm_names)),
            description="Arms",
        )
        self.arms.add_class("edstudy-arms")
        self.replications = control(
            widgets.IntSlider,
            "edstudy-replications",
            value=int(replications),
            min=1,
            max=10,
            description="Replications",
        )
        self.seed = widgets.BoundedIntText(
            value=int(base.seed if seed is None else seed),
            min=0,
            max=2**31 - 1,
            description="Seed",
            style=WIDE,
        )
        self.seed.add_class("edstudy-seed")
        self.run_button = widgets.Button(
            description="Run study", icon="play", button_style="primary"
        )
        self.run_button.add_class("edstudy-run")
        self.run_button.on_click(lambda _b: self.run())
        self.progress = ProgressBar("Simulating")
        self.errors = ErrorBox()
        self.status = widgets.HTML("")
        self.status.add_class("edstudy-status")
        self.figure = widgets.Output()
        self.figure.add_class("edstudy-figure")
        self.table_html = widgets.HTML("")
        self.table_html.add_class("edstudy-effects")

        cohort = widgets.VBox(
            [
                widgets.HTML("<b>Cohort</b>"),
                self.n_students,
                self.class_size,
                self.preference_validity,
                self.dropout_per_hour,
            ]
        )
        course = widgets.VBox(
            [
                widgets.HTML("<b>Curriculum</b>"),
                self.n_skills,
                self.minutes,
                widgets.HTML("<b>World</b>"),
                self.meshing,
                self.compare_null,
            ]
        )
        runs = widgets.VBox(
            [
                widgets.HTML("<b>Arms and runs</b>"),
                self.arms,
                self.replications,
                self.seed,
                self.run_button,
            ]
        )
        self.widget = widgets.VBox(
            [
                widgets.HTML(f"<h3>Study designer: {html.escape(base.name)}</h3>"),
                widgets.HBox([cohort, course, runs]),
                self.progress.widget,
                self.errors.widget,
                self.status,
                self.figure,
                self.table_html,
            ]
        )
        self.widget.add_class("edstudy-study-designer")

    # --- state ---------------------------------------------------------------------------------
    @property
    def message(self) -> str:
        """The error shown ("" when the last run succeeded)."""
        return self.errors.message

    def build_study(self) -> Study:
        """The study the controls describe (checked; raises ValueError for bad settings)."""
        base = self.base
        chosen = [a for a in base.arms if a.name in set(self.arms.value)]
        if not chosen:
            raise ValueError("select at least one arm to run")
        names = {a.name for a in chosen}
        contrasts = tuple((a, b) for a, b in base.contrasts if a in names and b in names)
        curriculum = base.curriculum
        if self.n_skills.value < len(curriculum.skills):
            curriculum = replace(curriculum, skills=curriculum.skills[: self.n_skills.value])
        population = replace(
            base.population,
            preference_validity=float(self.preference_validity.value),
            dropout_per_hour=float(self.dropout_per_hour.value),
        )
        m = float(self.meshing.value)
        scenarios = {}
        if self.compare_null.value and m > 0:
            scenarios["meshing 0"] = {"meshing_effect": 0.0}
        scenarios[f"meshing {m:g}"] = {"meshing_effect": m}
        return base.with_changes(
            arms=tuple(chosen),
            contrasts=contrasts,
            curriculum=curriculum,
            population=population,
            scenarios=scenarios,
            n_students=int(self.n_students.value),
            class_size=int(self.class_size.value),
            replications=int(self.replications.value),
            seed=int(self.seed.value),
            budget=Budget(minutes=float(self.minutes.value), max_steps=base.budget.max_steps),
        )

    def run(self) -> StudyResult | None:
        """Simulate the study the controls describe and show the results.

        Returns
        -------
        StudyResult or None
            None when the settings are invalid (the reason is in ``message``).
        """
        ok = False
        with self.errors.catch("Could not run the study"):
            self.status.value = ""
            study = self.build_study()
            with self.progress.task(len(tasks_of(study)), "Simulating") as bar:
                result = run_study(
                    study,
                    progress=False,
                    on_progress=lambda done, total: bar.update(done),
                    keep_log=False,
                )
            summary = arm_metrics(result, self.metrics)
            effects = effect_sizes(result) if len(study.arms) > 1 else pd.DataFrame()
            self.study, self.result, self.summary, self.effects = study, result, summary, effects
            self._render()
            ok = True
        if not ok:
            self.status.value = ""
        return self.result if ok else None

    def figure_object(self) -> Figure:
        """A new figure of the last run's arm means with intervals."""
        from edstudy.plots import arm_intervals

        if self.summary is None:
            raise ValueError("run the study first")
        return arm_intervals(self.summary, ncols=3 if len(self.metrics) > 4 else 2)

    def _render(self) -> None:
        study = self.study
        assert study is not None and self.result is not None
        self.status.value = (
            f"{len(self.result.outcomes)} simulated student-arm rows: {study.n_students} students "
            f"x {study.replications} replication(s) in {len(study.scenario_names)} scenario(s), "
            f"randomized by {study.randomization}."
        )
        self.figure_png = show_figure(self.figure, self.figure_object(), dpi=72)
        if self.effects is None or self.effects.empty:
            self.table_html.value = ""
            return
        shown = self.effects[
            ["scenario", "arm", "reference", "g", "ci_low", "ci_high", "mean_arm", "mean_reference"]
        ].round(3)
        self.table_html.value = "<h4>Post-test comparisons (Hedges' g, 95% CI)</h4>" + html_table(
            shown
        )


def study_designer(
    study: Study | str | Path | None = None,
    *,
    n_students: int | None = None,
    replications: int = 1,
    meshing: float | None = None,
    arms: list[str] | None = None,
    seed: int | None = None,
) -> StudyDesigner:
    """A study designer for ``study`` (a Study, a study file, or the shipped default study).

    Parameters
    ----------
    study : Study, path or None
        The starting point: its arms, curriculum, population, seed and contrasts.
    n_students : int, optional
        Students per replication (default: the study's).
    replications : int
        Replications (default 1, for speed).
    meshing : float, optional
        Initial meshing effect (default: the largest of the study's scenarios).
    arms : list of str, optional
        Arms selected at first (default: all).
    seed : int, optional
        Default: the study's seed.

    Returns
    -------
    StudyDesigner
        Display ``.widget``; nothing runs until :meth:`StudyDesigner.run` or the Run button.
    """
    return StudyDesigner(
        study,
        n_students=n_students,
        replications=replications,
        meshing=meshing,
        arms=arms,
        seed=seed,
    )
