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
# # Pathway rule tuning: practice time, post-test and dropout
#
# A strategy in edstudy is a rule file an instructional designer can read and edit: ordered
# rules such as "move on when the estimated mastery reaches `mastery_threshold`" or "after
# `remediate_after_errors` wrong answers in a row, show a worked example". This notebook answers
# two questions about such a file:
#
# 1. **Is my rule file right?** The rule parser checks every rule before anything runs and
#    reports the line, the rule number and the field of each mistake.
# 2. **Where should the thresholds be?** Raising the mastery threshold buys a more reliable
#    "mastered" at the price of more practice; a quicker remediation trigger helps strugglers
#    but costs time. The sweeps below run the *same simulated students* at every value, so the
#    differences between rows are the thresholds' doing, and plot practice time against the
#    post-test and against dropout.

# %% tags=["parameters"]
report_mode = False  # True in HTML reports: static figures and tables only, no widgets
seed = 11  # seed of the simulated students (the same students at every sweep point)
strategy = "individualized"  # a shipped strategy or a rule file with both thresholds
n_students = 300  # simulated students per sweep point
replications = 1  # independent cohorts per sweep point
mastery_values = [0.8, 0.85, 0.9, 0.95, 0.98]  # mastery_threshold sweep
remediation_values = [1, 2, 3, 4, 6]  # remediate_after_errors sweep
meshing_effect = 0.0  # learning bonus in a student's best medium (0: media do not matter)

# %% [markdown] tags=[]
# **Parameters.** The defaults run 300 students per sweep point so continuous integration stays
# fast. The report (profile `full` in `notebooks/profiles.yaml`) runs `n_students: 2000` and
# `replications: 2` (4,000 students per point), which narrows the intervals about 3.7-fold.

# %% tags=[]
import pandas as pd
from IPython.display import Markdown, display

from edstudy import plots
from edstudy.sim import PopulationSpec
from edstudy.experiment import sweep, sweep_headline
from edstudy.plots import png_image
from edstudy.sim import check_edits, parse_rules, rule_text

pd.set_option("display.max_colwidth", None)  # show the parser's messages in full
text = rule_text(strategy)
rules = parse_rules(text, name=f"{strategy}.yaml")
population = PopulationSpec(meshing_effect=meshing_effect)
display(Markdown(f"The rule file of `{rules.name}` ({len(rules.rules)} rules):\n\n"
                 f"```yaml\n{text.strip()}\n```"))

# %% [markdown] tags=[]
# ## Validation: what the parser says about common mistakes
#
# Each row changes one thing in the file above. Nothing runs until every rule parses and names
# only state variables, parameters, media and activities that exist; the message says where the
# problem is, and suggests the closest valid name.

# %% tags=[]
check_edits(
    text,
    {
        "misspelt state variable": ("mastery >=", "mastry >="),
        "'=' instead of '=='": ("streak >=", "streak ="),
        "unknown action": ("do: remediate", "do: remediat"),
        "unknown activity": ("activity: worked_example", "activity: worked_exampel"),
        "unknown key in a rule": ("do: advance", "do: advance\n    colour: red"),
        "parameter of the wrong type": ("mastery_threshold: 0.95", "mastery_threshold: high"),
    },
    name=f"{strategy}.yaml",
)

# %% [markdown] tags=[]
# ## Mastery threshold
#
# The tutor moves a student on when its estimate of P(mastered) reaches the threshold. Each point
# is one threshold (labelled), with 95% intervals; the students are the same at every point.

# %% tags=[]
by_mastery = sweep(rules, {"mastery_threshold": mastery_values}, population=population,
                   n_students=n_students, replications=replications, seed=seed)
png_image(plots.sweep_tradeoff(by_mastery, parameter="mastery_threshold"), dpi=72)

# %% tags=[]
# NBVAL_CHECK_OUTPUT
columns = ["practice_minutes", "posttest", "dropped_out", "over_practice", "under_practice"]
by_mastery[["mastery_threshold", *columns]].round(2)

# %% tags=["headline"]
display(Markdown("**Finding.** " + sweep_headline(by_mastery, "mastery_threshold")))

# %% [markdown] tags=[]
# ## Remediation trigger
#
# After this many wrong answers in a row the tutor shows a worked example (slower than a
# practice item, but it teaches more).

# %% tags=[]
by_remediation = sweep(rules, {"remediate_after_errors": remediation_values},
                       population=population, n_students=n_students,
                       replications=replications, seed=seed)
png_image(plots.sweep_tradeoff(by_remediation, parameter="remediate_after_errors"), dpi=72)

# %% tags=[]
by_remediation[["remediate_after_errors", *columns]].round(2)

# %% [markdown] tags=[]
# ## Reading the trade-off
#
# Moving right costs practice time; moving up on the left panel buys post-test points; moving
# up on the right panel loses students. Over-practice (opportunities on skills the student
# already knew) grows with the threshold and under-practice (skills left while unknown) shrinks:
# the threshold trades one kind of mistake for the other. Where the intervals of neighbouring
# points overlap, this cohort size cannot tell the settings apart; run the `full` profile (or
# raise `n_students`) before choosing between them.

# %% [markdown] tags=[]
# ## Edit and tune
#
# In Jupyter (not in the HTML report) the editor below validates the rule file as you type and
# sweeps any numeric parameter.

# %% tags=[]
if not report_mode:
    from edstudy.widgets.rule_editor import rule_editor

    editor = rule_editor(strategy, population=population, n_students=n_students, seed=seed)
    display(editor.widget)
