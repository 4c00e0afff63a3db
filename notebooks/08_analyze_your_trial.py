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
# # Analyse your own trial: from a randomized experiment's files to a standards-based verdict
#
# Researchers who run a real experiment (a school trial of an individualized programme against a
# personalized one, a class-size study, an A/B test inside a tutor) write a **trial file** beside
# their data: which column holds the arm, which arms are compared, how units were randomized
# (students, clusters, or students within blocks), the outcomes and the baseline covariates.
# `edstudy analyze TRIAL.yaml --out DIR` (or `analyze_trial` from Python, or the picker at the
# end of this notebook) then reports what a What Works Clearinghouse review would check:
# attrition against the WWC boundary, baseline equivalence, the impacts (Hedges' g, the
# cluster-adjusted g, the design-respecting model, the improvement index, Benjamini-Hochberg
# adjusted p-values), moderators, process measures from a tutor log, and the rating with every
# reason. This notebook runs the two shipped example trials, then checks the analysis on
# simulated trials whose truth is known.

# %% tags=["parameters"]
report_mode = False  # True in HTML reports: static figures and tables only, no widgets
trials = ["video_vs_text.yaml", "simulated_cluster_trial.yaml"]  # shipped examples (edstudy/data/trials)
replicates = 20  # simulated trials per design in the known-truth check
seed = 8  # seed of the known-truth check

# %% [markdown] tags=[]
# **Parameters.** The defaults keep continuous integration fast: 20 simulated trials per design
# (a coverage estimate within about ±0.1). The report (profile `full`) runs 300 (±0.025).

# %% tags=[]
import pandas as pd
from IPython.display import Markdown, display

from edstudy.datasets import DataNotFoundError
from edstudy.investigations.trial import analyze_trial
from edstudy.investigations.trial.synthetic import SyntheticTrial, recovery_check
from edstudy.plots import png_image
from edstudy.sim import data_path

pd.set_option("display.max_colwidth", 80)
results = {}
for name in trials:
    try:
        results[name] = analyze_trial(data_path(f"trials/{name}"))
    except DataNotFoundError as err:  # the public dataset is not on this machine
        print(f"{name}: skipped, its data were not found.\n{err}")

# %% [markdown] tags=[]
# ## The verdicts
#
# One line per finding (an outcome of one treatment arm against the control): the WWC rating,
# then the effect of the design-respecting model as g with its interval and improvement index
# (the expected change in percentile rank of an average control student), the difference in
# the outcome's own units and as a share of the control mean (the scale of a vendor's "+28% test
# scores"), and the p-value before and after the Benjamini-Hochberg correction.

# %% tags=[]
for name, result in results.items():
    display(Markdown(f"**{result.spec.name}** ({result.spec.design_text()})\n\n"
                     + "\n".join(f"- {s}" for s in result.finding_sentences())))

# %% tags=[]
# NBVAL_CHECK_OUTPUT
pd.concat([r.ratings[["outcome", "treatment", "control", "rating"]].assign(trial=r.spec.name)
           for r in results.values()], ignore_index=True)

# %% [markdown] tags=[]
# ## The video-vs-text A/B test (ASSISTments)
#
# 683 students randomized individually to worked examples shown as video or as text; the
# outcome is completing the skill builder. Nobody was lost (no attrition), so the trial can meet
# the standards without reservations whatever the baseline differences; the prior-work
# covariates still enter the model, as the WWC requires for differences above 0.05 SD.

# %% tags=[]
if "video_vs_text.yaml" in results:
    vt = results["video_vs_text.yaml"]
    display(png_image(vt.plot("forest"), dpi=72))
    display(vt.effects_table()[["estimator", "estimate", "ci_low", "ci_high", "p_value",
                                "improvement_index", "scale"]].round(3))
    display(vt.baseline[["covariate", "measure", "effect_size", "category"]].round(3))

# %% tags=["headline"]
first = next(iter(results.values()), None)
if first is not None:
    display(Markdown("**Finding.** " + first.finding_sentences()[0]))

# %% [markdown] tags=[]
# ## A simulated cluster trial (edstudy.sim)
#
# Eight schools of two classes; in every school one class was randomized to individualized
# pathways and the other to one-size-fits-all, and students who left the tutor early were not
# post-tested. Attrition is judged at the cluster level (no class was lost) and at the student
# level within the classes; the model has a random intercept per class and fixed school effects,
# so its test rests on few degrees of freedom (see the caveats).

# %% tags=[]
if "simulated_cluster_trial.yaml" in results:
    sim = results["simulated_cluster_trial.yaml"]
    display(png_image(sim.plot("forest"), dpi=72))
    display(png_image(sim.plot("attrition"), dpi=72))

# %% tags=[]
if "simulated_cluster_trial.yaml" in results:
    display(sim.attrition[["outcome", "level", "overall", "differential", "max_differential",
                           "low_attrition"]].round(3))
    display(Markdown("**Caveats**\n\n" + "\n".join(f"- {c}" for c in sim.caveats)))

# %% [markdown] tags=[]
# The tutor's log shows *how* the arms differed (descriptive, not impacts): mastery trajectories
# from one BKT model fitted to the whole log, practice, time and first-attempt accuracy.

# %% tags=[]
if "simulated_cluster_trial.yaml" in results and sim.process is not None:
    display(png_image(sim.plot("process"), dpi=72))
    display(sim.moderators[["outcome", "term", "level", "estimate", "p_value"]].round(3))

# %% [markdown] tags=[]
# ## Does the analysis find the truth? Simulated trials of each design
#
# Trials drawn from a normal model with a known effect (0.3 SD): 1000 students randomized with a
# baseline imbalance of 0.12 SD and 20% vs 5% attrition (high attrition: 12.5% overall, 15 points
# differential), 10 clusters of 10 randomized, and 200 students randomized within 5 blocks. Bias
# is the mean estimate minus the truth, coverage the share of intervals that contain it (its
# Monte Carlo SE beside it). The unadjusted g absorbs the imbalance (0.6 x 0.12 = 0.07 SD of
# bias); the adjusted model does not. Ignoring the clusters (plain Hedges' g in the cluster
# design) under-covers. The ratings come out as constructed: the student trial's high attrition
# leaves it *with reservations* (its baseline difference is adjusted for), the others meet the
# standards without reservations.

# %% tags=[]
settings = [
    SyntheticTrial("student", n_units=1000, imbalance=0.12, attrition_treatment=0.2,
                   attrition_control=0.05),
    SyntheticTrial("cluster", n_units=10, cluster_size=10),
    SyntheticTrial("block", n_units=200, n_blocks=5),
]
check = pd.concat([recovery_check(s, replicates=replicates, seed=seed) for s in settings],
                  ignore_index=True)
check[["design", "estimator", "truth", "mean_estimate", "bias", "coverage", "coverage_se",
       "rating", "rating_share"]].round(3)

# %% [markdown] tags=[]
# ## Analyse your own
#
# In Jupyter (not in the HTML report) the picker below lists the trial files of a folder; pick
# one, change its columns, arms or design, and press *Analyse*.

# %% tags=[]
if not report_mode:
    from edstudy.widgets.trial_picker import trial_picker

    picker = trial_picker(folder=data_path("trials"))
    display(picker.widget)
