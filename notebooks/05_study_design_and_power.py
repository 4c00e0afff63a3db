# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] tags=[]
# # Study design and power: how many classes or schools?
#
# Studies of learning strategies randomize whole classes or schools, so their power depends
# mostly on the number of *clusters*, not of students: students of one class share a teacher
# and a timetable, and their scores move together (the intraclass correlation, ICC). This
# notebook answers, for designs that randomize classes (two levels) or schools (three levels):
#
# - how power and the minimum detectable effect size (MDES) change with the number of clusters,
#   the ICC and a pretest covariate (the formulas of Bloom 2005 as in PowerUp!);
# - whether those formulas can be trusted: each is checked against simulated trials analysed
#   the way the formula assumes, and against repeated runs of edstudy's own simulated study;
# - how many classes, schools or students the common designs need to detect effects of 0.20,
#   0.25 and 0.30 standard deviations with 80% power.

# %% tags=["parameters"]
report_mode = False  # True in HTML reports: static figures and tables only, no widgets
seed = 5  # seed of every simulation in this notebook
effect = 0.25  # standardized effect the power curves are drawn for
iccs = [0.05, 0.10, 0.20]  # intraclass correlations of the outcome
r2 = 0.5  # share of the variance at every level explained by the pretest
class_size = 25  # students per class
classes_per_school = 4  # classes per school (three-level designs)
check_sizes = [10, 20, 40]  # numbers of clusters checked by simulation
n_sims = 100  # simulated trials per checked size
pilot_students = 2000  # students in the pilot run of the simulated study
runner_classes = 8  # classes in each simulated study of the runner check
runner_class_size = 10  # students per class in the runner check
runner_sims = 20  # simulated studies in the runner check

# %% [markdown] tags=[]
# **Parameters.** The defaults keep continuous integration fast: 100 simulated trials per
# checked size (a Monte Carlo interval of about ±0.1 around a power of 0.5) and 20 simulated
# studies. The report (profile `full` in `notebooks/profiles.yaml`) runs `n_sims: 1000` (±0.03),
# `pilot_students: 6000` and `runner_sims: 200`.

# %% tags=[]
import pandas as pd
from IPython.display import Markdown, display

from edstudy import plots
from edstudy.sim import data_path
from edstudy.experiment import Study, run_study
from edstudy.experiment import power_check
from edstudy.stats import planning as plan
from edstudy.stats import trial_simulation as trials
from edstudy.stats.pilot import pilot_estimates
from edstudy.plots import png_image

pd.set_option("display.max_colwidth", None)
two_level = plan.icc_designs("two-level", iccs, class_size=class_size, r2=r2)
three_level = plan.icc_designs("three-level", iccs, class_size=class_size,
                               classes_per_school=classes_per_school, r2=r2)
checked = f"ICC {sorted(iccs)[len(iccs) // 2]:g}"  # the middle ICC is checked by simulation

# %% [markdown] tags=[]
# ## Two levels: whole classes randomized
#
# Power to detect an effect of `effect` SD (left) and the MDES at 80% power (right) against the
# number of classes in both arms together, with the pretest in the analysis. The points are
# simulated trials: class effects, student noise and a pretest drawn from the formula's own
# model, analysed by regression on class means; the bars are their 95% Monte Carlo intervals.

# %% tags=[]
curves = plan.curve_table(two_level, range(6, 121, 2), effect=effect)
checks = trials.simulation_check(two_level[checked], check_sizes, effect=effect, n_sims=n_sims,
                                 seed=seed).assign(design=checked)
png_image(plots.power_curves(curves, checks=checks, effect=effect), dpi=72)

# %% tags=[]
# NBVAL_CHECK_OUTPUT
plan.mdes_table(two_level, [10, 20, 40, 80, 120])

# %% tags=["headline"]
need = plan.plan_power(two_level[checked], effect).required_units
display(Markdown(f"**Finding.** Detecting {effect:g} SD with 80% power takes {need} classes of "
                 f"{class_size} (both arms) at {checked} with a pretest explaining {r2:g} of the "
                 "variance; the formula's promise holds where the simulated trials agree with it."))

# %% [markdown] tags=[]
# ## Three levels: whole schools randomized
#
# Schools of `classes_per_school` classes; a third of each ICC lies between schools and two
# thirds between classes within schools. Randomizing schools needs fewer *units* than
# randomizing classes, but each unit is a whole school.

# %% tags=[]
curves3 = plan.curve_table(three_level, range(6, 81, 2), effect=effect)
checks3 = trials.simulation_check(three_level[checked], check_sizes, effect=effect,
                                  n_sims=n_sims, seed=seed + 1).assign(design=checked)
png_image(plots.power_curves(curves3, checks=checks3, effect=effect), dpi=72)

# %% tags=[]
pd.concat([checks.assign(level="two-level"), checks3.assign(level="three-level")]).round(3)

# %% [markdown] tags=[]
# ## Sample sizes for common designs
#
# Units needed (both arms together) for 80% power at a two-sided 5% level, and the students
# they hold.

# %% tags=[]
# NBVAL_CHECK_OUTPUT
designs = plan.common_designs(class_size=class_size, classes_per_school=classes_per_school,
                              iccs=(0.10, 0.20), r2=(0.0, r2))
plan.sample_size_table(designs, [0.20, 0.25, 0.30], wide=True)

# %% [markdown] tags=[]
# ## Check against the simulated study itself
#
# The formulas assume normal scores and equal clusters; edstudy's simulated students take a
# post-test with a few items per skill, drop out, and practise for as long as their strategy
# says. A pilot run of the default study (individualized vs one-size-fits-all, whole classes
# randomized, no meshing) gives the effect, the ICC and the pretest's R²; the formula then
# predicts the power of a small study of `runner_classes` classes, which is compared with the
# share of `runner_sims` simulated studies of that size whose class-means analysis detects the
# effect.

# %% tags=[]
default = Study.from_yaml(data_path("default_study.yaml"))
pilot_study = power_check.two_arm_study(default, treatment="individualized", control="one_size")
pilot_run = run_study(pilot_study.with_changes(n_students=pilot_students, replications=1,
                                               seed=seed), progress=False, keep_log=False)
pilot = pilot_estimates(pilot_run.analysis_frame(), treatment="individualized",
                        control="one_size")
pilot.to_frame()

# %% tags=[]
small = pilot_study.with_changes(n_students=runner_classes * runner_class_size,
                                 class_size=runner_class_size, replications=1)
power_check.study_power_check(small, treatment="individualized", control="one_size",
                             pilot=pilot, n_sims=runner_sims, seed=seed).round(3)

# %% [markdown] tags=[]
# ## What this shows
#
# Where the simulated points fall on the curves, the formulas can be used to plan; the Monte
# Carlo intervals say how closely this run could tell. With few clusters and the pretest in the
# analysis, expect the simulated power a few points *below* the formula: the formulas (like
# PowerUp!) treat the pretest's R² as known, while the analysis estimates the pretest's slope,
# which inflates the variance of the treatment estimate by (J − 3)/(J − 4) on average for J
# randomized units (17% with 10 units, 3% with 40) and costs about 5 points of power at 10
# units, 10 at 6 (the `exact` column above averages the power over that estimated slope,
# `power(design, effect, exact=True)`; plan with it, or with a few units to spare, when J is
# small). Three further lessons hold whatever the numbers: adding students to each class helps
# less and less, because the class-level variance does not shrink with class size; a pretest
# that explains half of the variance at every level roughly halves the number of classes
# needed; and a school-randomized study needs fewer schools than a class-randomized study needs
# classes, but more students. For the simulated cohorts, whose post-test is a short test, the
# pilot's ICC and R² are what to plug in, not textbook values.

# %% [markdown] tags=[]
# ## Plan your own
#
# In Jupyter (not in the HTML report) the planner below recomputes power, MDES and the number of
# units as you move the sliders, and checks the formula by simulation on request.

# %% tags=[]
if not report_mode:
    from edstudy.widgets.power_planner import power_planner

    planner = power_planner(effect=effect, r2=r2, cluster_size=class_size,
                            classes_per_school=classes_per_school, seed=seed)
    display(planner.widget)
