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
# # Simulated cohort comparison: individualized vs personalized pathways
#
# Do personalized pathways (students choose what to learn, in the medium they say they prefer,
# and set their own goals) teach better than individualized ones (the tutor places, paces and
# remediates each student, in the teacher's medium)? This notebook runs the default study of
# edstudy (`edstudy run default`): every named strategy on the same kind of simulated cohort, in
# two worlds that differ only in the **meshing effect**, i.e. whether learning in one's own
# best medium helps (`meshing_0`: it does not, as the research on learning styles finds;
# `meshing_high`: it doubles the learning rate, as vendors claim). Because the students are
# simulated, we know their true knowledge, and can see *why* an arm wins: more practice, better
# pacing, matched media, or fewer students giving up.
#
# It answers: which arms reach higher post-tests, at what cost in practice time, over- and
# under-practice, engagement and dropout; how large the differences are (Hedges' g, a mixed
# model with random intercepts for schools and classes, dropout risk differences, all with 95%
# intervals); and how much of the personalized arm's advantage comes from pacing rather than
# from matching media.

# %% tags=["parameters"]
report_mode = False  # True in HTML reports: static figures and tables only, no widgets
seed = 20240917  # the study's seed: same seed, same students, same numbers
n_students = 1400  # students per replication, split across the 7 arms by class
replications = 1  # independent cohorts
study_file = ""  # path of a study YAML; empty means the shipped default study

# %% [markdown] tags=[]
# **Parameters.** The defaults above keep this notebook fast for continuous integration (200
# students per arm, one cohort). The report (`make report`, profile `full` in
# `notebooks/profiles.yaml`) runs the study as its file defines it: `n_students: 7000`
# (1,000 students per arm), `replications: 2`, `seed: 20240917`. Intervals shrink by about
# √10 ≈ 3.2 between the two.

# %% tags=[]
from IPython.display import Markdown, display

from edstudy import plots
from edstudy.sim import data_path
from edstudy.experiment import Study, run_study
from edstudy.investigations import strategy_comparison as cmp
from edstudy.plots import png_image

base = Study.from_yaml(study_file or data_path("default_study.yaml"))
study = base.with_changes(n_students=n_students, replications=replications, seed=seed)
display(Markdown(f"**Study `{study.name}`.** {study.description}"))

# %% tags=[]
result = run_study(study, progress=False, keep_log=False)
print(
    f"{study.n_students:,} students per cohort in classes of {study.class_size}, whole classes "
    f"randomized to {len(study.arms)} arms; {study.replications} cohort(s), each run in "
    f"{len(study.scenario_names)} worlds: {', '.join(study.scenario_names)}"
)

# %% [markdown] tags=[]
# ## The arms at a glance
#
# Means per arm with 95% intervals (cluster-robust: whole classes are randomized, so class means
# vary together). *Time to mastery* is minutes of practice per skill the student truly learned
# in the tutor; *over-practice* counts opportunities on skills the student already knew;
# *under-practice* counts skills the tutor moved on from while the student did not know them.

# %% tags=[]
summary = cmp.arm_metrics(result)
png_image(plots.arm_intervals(summary, ncols=2), dpi=72)

# %% tags=[]
# NBVAL_CHECK_OUTPUT
result.posttest_table()

# %% [markdown] tags=[]
# ## Comparisons: how large are the differences?
#
# The study's comparisons of interest, post-test of the arm minus the reference, as Hedges' g
# (standardized with the pooled within-arm SD and adjusted for the class-randomized design,
# Hedges 2007). Read the first three rows together:
#
# - **personalized vs individualized** is the comparison vendors make;
# - **personalized vs personalized_random_media** is what *matching* media adds: the two arms
#   run the same rules, but the pacing twin picks media at random;
# - **personalized_random_media vs individualized** is what pacing and choice alone explain.

# %% tags=[]
effects = cmp.effect_sizes(result)
png_image(plots.effect_forest(effects, title="Post-test: arm minus reference"), dpi=72)

# %% tags=["headline"]
display(Markdown("**Finding.** " + cmp.headline(effects)))

# %% tags=[]
effects[["scenario", "arm", "reference", "g", "ci_low", "ci_high", "p_value", "n_arm",
         "n_reference"]].round(3)

# %% [markdown] tags=[]
# ## Mixed model: post-test ~ arm + pretest, random intercepts for schools and classes
#
# One linear mixed model per scenario and comparison (REML; t tests with between-within degrees
# of freedom, which count classes, not students). The estimate is in post-test units
# (proportion correct), adjusted for the pre-test; the ICC columns are the shares of the residual
# variance between schools and between classes.

# %% tags=[]
mixed = cmp.mixed_models(result)
mixed.drop(columns=["converged"]).round(4)

# %% [markdown] tags=[]
# The full model of the first comparison in the first scenario:

# %% tags=[]
fit = cmp.mixed_model_fit(result, *study.comparisons()[0])
display(Markdown(f"`{fit.model}`; {fit.n_obs} students"))
display(fit.coefficients.round(4), fit.variance_components.round(4))

# %% [markdown] tags=[]
# ## Dropout
#
# Share of students who quit the tutor, arm minus reference, in percentage points (Newcombe's
# interval with each arm's size reduced to its effective size under class clustering).

# %% tags=[]
dropout = cmp.dropout_differences(result)
png_image(
    plots.effect_forest(dropout, estimate="difference", percent=True,
                        xlabel="dropout difference (percentage points, 95% CI)"),
    dpi=72,
)

# %% tags=[]
# NBVAL_CHECK_OUTPUT
dropout[["scenario", "arm", "reference", "rate_arm", "rate_reference", "difference"]].round(2)

# %% [markdown] tags=[]
# ## What this shows
#
# How to read it: if personalized beats individualized in the `meshing_0` world as well, the
# advantage cannot come from matching media (they do not matter there); the pacing twin then
# shows the same advantage, because it comes from pacing, choice and engagement. Only in the
# `meshing_high` world should personalized also beat its own pacing twin. The lines below are
# written from this run's numbers; a difference is called only when its 95% interval excludes
# zero.

# %% tags=[]
display(Markdown(cmp.what_this_shows(effects, dropout, n_students=study.n_students)))

# %% [markdown] tags=[]
# ## Explore
#
# In Jupyter (not in the HTML report) the study designer below reruns the comparison with your
# own cohort, curriculum and meshing effect.

# %% tags=[]
if not report_mode:
    from edstudy.widgets.study_designer import study_designer

    designer = study_designer(study, n_students=n_students, replications=1)
    display(designer.widget)
