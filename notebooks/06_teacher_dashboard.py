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

# %% [markdown]
# # Teacher dashboard: who has mastered what, who needs help, what comes next
#
# The view a teacher gets in the middle of a unit. For every student and skill it shows the
# current probability of mastery traced by Bayesian Knowledge Tracing, flags students who are
# **stuck** (many tries on a skill without mastering it: wheel-spinning, Beck & Gong 2013),
# **off pace** (far fewer skills mastered per try than the class median) or **disengaged**
# (rapid answers, heavy hint use or a long run of errors), recommends each student's next
# activity with its reason, and summarises the class.
#
# The class here is simulated (`edstudy.sim`), and the BKT model was fitted on *last year's*
# simulated cohort, as a school would do. **Next responses** plays the course on: every click
# appends the next few responses of each student and the whole view updates. A real class is
# monitored the same way: pass its response log as a CSV with `log_csv` (or upload new responses
# with **Add responses (CSV)**).
#
# Serve it with `make dashboard` (Voila on http://127.0.0.1:8866).

# %% tags=["parameters"]
n_students = 30  # students in the monitored class
history_students = 60  # last year's students the BKT model is fitted on
strategy = "adaptive"  # pathway strategy the simulated students follow
start = 20  # responses per student already in when the dashboard opens
step = 5  # responses per student added by each "Next responses"
seed = 7
log_csv = ""  # a real response log (CSV with the schema's columns) instead of the simulation
report_mode = False  # True: static figures and tables only (HTML reports)

# %%
import pandas as pd
from IPython.display import Markdown, display

from edstudy.bkt import BKT
from edstudy.monitor import class_snapshot, simulated_class
from edstudy.plots import png_image

# %% [markdown]
# ## The class and the model

# %%
if log_csv:
    log, curriculum, next_responses = pd.read_csv(log_csv), None, None
    model = BKT(seed=seed).fit(log)
else:
    demo = simulated_class(
        n_students,
        history_students=history_students,
        strategy=strategy,
        start=start,
        step=step,
        seed=seed,
    )
    log, model, curriculum = demo.log, demo.model, demo.curriculum
    next_responses = demo.replay.next
print(f"{len(log)} responses from {log['student_id'].nunique()} students so far")

# %% [markdown]
# ## Dashboard
# Move the mastery threshold or the "stuck after" slider, pick a student, filter the skills, or
# click **Next responses** to see the class move on. In the heatmap, dots mark mastered skills
# and red labels flagged students (S stuck, P off pace, D disengaged).

# %%
if report_mode:
    snapshot = class_snapshot(log, model, curriculum=curriculum)
    display(png_image(snapshot.plot()))
    with pd.option_context("display.max_colwidth", None, "display.max_rows", None):
        display(snapshot.flags)
        display(snapshot.recommendations)
else:
    from edstudy.widgets import teacher_dashboard

    dash = teacher_dashboard(
        log,
        model,
        curriculum,
        next_responses=next_responses,
        next_label="Next responses (simulated)",
    )
    display(dash.widget)

# %% [markdown]
# ## Class summary when the dashboard opened
# Mean P(mastered) per skill, the share of students at or above the mastery threshold (0.95),
# students who practised the skill and tries per student, with the flag counts.

# %%
# NBVAL_CHECK_OUTPUT
snapshot = class_snapshot(log, model, curriculum=curriculum)
print(snapshot.summary.flag_text())
print(snapshot.summary.table(2).to_string())

# %% tags=["headline"]
display(Markdown("**Finding.** " + snapshot.summary.text()))
