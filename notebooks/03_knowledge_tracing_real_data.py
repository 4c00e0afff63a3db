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
# # Knowledge tracing on real data: BKT variants on ASSISTments 2009
#
# Every *individualized* pathway in edstudy rests on a student model: the tutor decides when a
# student has mastered a skill from Bayesian Knowledge Tracing (BKT). How well does BKT predict
# real students, and which of its variants help? This notebook fits edstudy's BKT to the
# ASSISTments 2009-2010 skill-builder data (real middle-school mathematics practice) and answers:
#
# - how well the standard model and its variants (forgetting, per-problem guess and slip,
#   per-student prior and learning rate) predict the next answer, for **new students** and for
#   **returning students**, next to the published and pyBKT figures;
# - whether the predicted learning curves (P(correct) by practice opportunity) follow the
#   observed ones;
# - what the fitted parameters of each skill mean for a teacher.
#
# If the real data are not on this machine the notebook says so and runs on a simulated log.

# %% tags=["parameters"]
report_mode = False  # True in HTML reports (this notebook has no widgets either way)
seed = 0  # seed of the EM restarts, the folds and any sampling
top_skills = 10  # the most-practised skills (None: all 110 skills)
folds = 3  # folds of the new-students cross-validation (whole students held out)
returning_share = 0.2  # share of each student's rows, the last ones, held out for returning students
min_item_rows = 50  # problems with fewer rows share one guess/slip per skill (KT-IDEM variant)
restarts = 5  # EM runs per skill (the best is kept)
curve_skills = 4  # skills shown in the learning curves
kt_datasets = ["pybkt_as"]  # logs for the models beyond BKT (full: assistments2009, 2017, pybkt_as)
kt_models = ["bkt_forgets", "pfa", "irt", "best_lr", "das3h", "bkt_ext", "best_lr_plus"]
kt_folds = 3  # student folds of the kt benchmark

# %% [markdown] tags=[]
# **Parameters.** The defaults keep continuous integration fast: the 10 most-practised skills
# (117,932 rows, 3,069 students) and 3-fold cross-validation, about 20 seconds of fitting. The
# report (profile `full` in `notebooks/profiles.yaml`) runs what the published figures use:
# `top_skills: null` (all 110 skills, 325,637 rows, 4,151 students) and `folds: 5`.

# %% tags=[]
import time

import pandas as pd
from IPython.display import Markdown, display

from edstudy import plots
from edstudy.investigations import knowledge_tracing as kt
from edstudy.plots import png_image

started = time.perf_counter()
data = kt.practice_log(top_skills=top_skills, seed=seed)
log = kt.pool_rare_items(data.log, min_item_rows) if "item_id" in data.log else data.log
if data.real:
    print(data.message)
else:
    display(Markdown(f"**⚠ {data.message}**"))
    print(data.details)

# %% tags=[]
# NBVAL_CHECK_OUTPUT
sel = log.attrs["selection"]
print(f"{data.source}: {sel['rows_kept']:,} answers by {sel['students_kept']:,} students on "
      f"{sel['skills_kept']} of {sel['skills_read']} skills; dropped: {sel['dropped'] or 'none'}")
print("problems (KT-IDEM):", log.attrs.get("pooled_items", "no item ids"))

# %% [markdown] tags=[]
# ## The variants
#
# All are fitted by EM with the same restarts and bounds (guess, slip <= 0.5, so a correct
# answer never lowers the mastery estimate). For KT-IDEM, problems answered fewer than
# `min_item_rows` times share one guess/slip per skill: a problem seen by a handful of students
# would otherwise get extreme values and overconfident predictions.

# %% tags=[]
variants = [n for n in kt.VARIANTS if n != "item_guess_slip" or "item_id" in log]
display(Markdown("\n".join(f"- **{n}**: {kt.VARIANTS[n][1]}" for n in variants)))

# %% [markdown] tags=[]
# ## How well do they predict the next answer?
#
# Two protocols, both one-step-ahead (each answer is predicted from the student's earlier
# answers on that skill only):
#
# - **new students**: K-fold cross-validation with whole students held out, the protocol of the
#   published figures. Individualized models know nothing about a held-out student, so they
#   predict them as an average student.
# - **returning students**: each student's last `returning_share` of answers is held out and the
#   models are fitted on everything before. Here individualized models have estimated the
#   student's own prior and learning rate, which is where individualization should pay off.
#
# Columns: `auc_new`, `rmse_new` and `auc_returning`, `rmse_returning` are this run's (pooled
# over the held-out answers). The `auc_khajah2016`, `auc_pybkt_cv` and `auc_pybkt_test` columns
# are AUCs **as reported**, not recomputed: Khajah, Lindsey & Mozer (2016), *How deep is
# knowledge tracing?* (EDM), and pyBKT 1.4.3 as measured in the project's peer notes
# (ASSISTments 2009 skill builders, the pyBKT examples' builder split with 123 skills: pooled
# 5-fold CV and the examples' test split). No RMSE was reported with them.

# %% tags=[]
comparison = kt.compare_variants(log, variants, folds=folds, returning_share=returning_share,
                                  restarts=restarts, seed=seed)
# the published figures describe ASSISTments: shown only when this run is on it
table = kt.comparison_table(comparison.table, kt.PUBLISHED if data.real else kt.PUBLISHED[:0])

# %% tags=[]
# NBVAL_CHECK_OUTPUT
table.round(3)

# %% [markdown] tags=[]
# **Reading the table.** The reference figures come from other preparations of the 2009 data,
# so they frame this run rather than grade it. On this copy (the corrected release as processed
# for AKT: 110 skills, one row per skill of a multi-skill problem) pyBKT itself scores lower
# than on its examples' file: the project's benchmark (`benchmarks/results_bkt.md`, all skills,
# 5 folds) measured pooled CV AUC .714 (standard) and .720 (forgets) for pyBKT 1.4.3, within
# 0.001 of edstudy, against .783 and .814 on the examples' file. Khajah et al.'s large gain from
# forgetting (.73 to .83) is not reproduced on this copy by either library. The differences
# between variants in this run:

# %% tags=[]
display(Markdown(kt.comparison_notes(comparison.table)))

# %% tags=["headline"]
display(Markdown("**Finding.** " + kt.headline(comparison.table, real=data.real)))

# %% tags=[]
print(comparison.table[["variant", "protocol", "log_loss", "accuracy", "n_rows"]].round(3)
      .to_string(index=False))

# %% [markdown] tags=[]
# ## Learning curves: do the models follow the students?
#
# Share of correct answers at the n-th practice opportunity of a skill (points, sized by the
# number of students who got that far) and the models' mean out-of-fold prediction for the same
# answers (lines). Skill builders stop once a student answers three in a row correctly, so later
# opportunities hold the students who struggle: observed curves can flatten or dip even while
# each student improves, and a model that tracks each student follows that selection.

# %% tags=[]
curve_series = {n: comparison.predictions[n] for n in ("standard", "forgets") if n in variants}
curves = kt.learning_curves(log, curve_series, n_skills=curve_skills, max_opportunity=10)
png_image(plots.learning_curves(curves, ncols=2), dpi=72)

# %% [markdown] tags=[]
# ## Per-skill parameters (standard BKT, fitted on all selected students)
#
# *discrimination* is 1 - guess - slip, how much more often a student who knows the skill
# answers correctly than one who does not; *p_correct_first* is the model's P(correct) at a
# student's first opportunity and *observed_first* the observed share; *opportunities_95* is how many opportunities it takes
# until 95% of students have learned the skill, from the prior and the learning rate alone.
# Skills practised by few students (the bottom of the table in a run on all skills) often get
# values at the bounds (0, or 0.5 for guess and slip): too few answers to pin them down.

# %% tags=[]
skills = kt.skill_table(comparison.models["standard"], log)
with pd.option_context("display.max_rows", 200):
    display(skills.round(3))

# %% [markdown] tags=[]
# ## What the parameters mean for a teacher

# %% tags=[]
display(Markdown(kt.teacher_notes(skills)))

# %% [markdown] tags=[]
# **A caution.** BKT's four parameters are not always identifiable from the answers alone: a
# high prior with slow learning and a low prior with fast learning can draw nearly the same
# curve (Beck & Chang 2007), and skill builders end after three correct answers in a row, which
# censors the data of fast learners. Read single values as tendencies, compare skills with
# similar numbers of students, and check a surprising value against the learning curve.

# %% [markdown] tags=[]
# ## Beyond BKT: stronger interpretable student models
#
# BKT is one student model among several. `edstudy.kt` holds the logistic models of the
# knowledge-tracing literature (IRT/Rasch, PFA, Best-LR of Gervet et al. 2020 and DAS3H, plus an
# extended Best-LR) and BKT with student ability and item difficulty (Khajah et al. 2016), all
# with the same estimator verbs. Every model is scored on the same student folds, one prediction
# per attempt (a multi-skill problem counts once, Gervet's item-level protocol); features come only
# from each student's earlier attempts, so no answer leaks into its own prediction.
#
# The published figures beside them come from other protocols: Gervet et al. used one 80/20
# student split and their own preprocessing (ASSISTments 2017 with timestamps); pyKT's leaderboard
# scores deep models with a question-level "fused" AUC on 200-step windows; Khajah et al.'s
# BKT+forgets 0.83 was measured on a copy that repeats multi-skill problems, which inflates AUC.

# %% tags=[]
import warnings

from edstudy.datasets import REAL_DATASETS, DataNotFoundError, load_log
from edstudy.kt import benchmark, published_beside

kt_tables = {}
for name in kt_datasets:
    try:
        kt_log = load_log(name)
    except DataNotFoundError as err:
        print(f"{name}: not found, skipped.\n{err}")
        continue
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EM convergence notes; the table says how well it fits
        kt_tables[name] = benchmark(kt_log, kt_models, folds=kt_folds, seed=seed, level="attempt")
    display(Markdown(f"**{REAL_DATASETS[name]}**\n\n" + published_beside(kt_tables[name], name)))

# %% tags=[]
# NBVAL_CHECK_OUTPUT
for name, table in kt_tables.items():
    print(f"{name}: best model by AUC is {table.sort_values('auc').iloc[-1]['model']}")

# %% tags=[]
print(f"fitting: {comparison.table['seconds'].sum():.0f} s; whole notebook "
      f"{time.perf_counter() - started:.0f} s")
