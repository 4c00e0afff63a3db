"""Real cohorts: compare strategies on students drawn from student models fitted to a real log.

A real response log records one instructional policy, so it cannot say directly how another
strategy would have done. The comparison is therefore model-based (Doroudi, Aleven & Brunskill,
2017): fit several student models to the log, let every strategy teach students drawn from each
fitted model, and look at how much the verdict depends on the model.

Pipeline (every step takes any log in the response-log schema, see :mod:`edstudy.schema`):

1. :func:`edstudy.datasets.select_log` keeps the skills and students to study (e.g. the
   most-practised skills and a random sample of students) and reports what it dropped.
2. :func:`fit_student_models` fits standard BKT, BKT with forgets, individualized BKT (per-student
   prior and learning rate, Yudelson et al. 2013) and the hierarchical Bayesian BKT
   (:mod:`edstudy.bayes`, its fast ADVI/MAP path), each as a
   :class:`~edstudy.sim.from_model.StudentModel`; :func:`fit_kt_models` fits models of
   :mod:`edstudy.kt` (by default Best-LR and PFA) as :class:`~edstudy.sim.from_kt.KTStudentModel`
   columns; :func:`score_student_models` scores them all on held-out students (skills or
   students unseen in the fit are predicted with averaged parameters and counted).
3. :func:`robust_evaluation_matrix` runs every named strategy on cohorts drawn from each model
   (:func:`~edstudy.sim.from_model.cohort_from_model`) and returns the **Robust Evaluation
   Matrix**: rows strategies, columns student models, cells the expected post-test mastery
   (share of skills truly known at the end), practice opportunities, over-practice (opportunities
   on skills already known) and under-practice (skills left while unknown; Lee & Brunskill 2012),
   with 95% intervals, plus the strategies' ranks per column and a flag on every strategy whose
   rank changes across columns (:func:`rank_changes`). In a kt column the students of the fitted
   kt model answer from their own history (:mod:`edstudy.sim.responder`); a logistic model has
   no hidden state, so a skill counts as mastered when its P(correct) reaches ``1 - slip`` of
   the tutor's BKT model (see :mod:`edstudy.sim.from_kt`).
4. :func:`mastery_threshold_analysis` asks how many opportunities a mastery-threshold policy
   gives per skill under each model and threshold (Rollinson & Brunskill, 2015), both on
   students simulated from the model and replayed on the real sequences.

:func:`run_real_cohort_pipeline` chains the four steps with timings;
:meth:`RealCohortResult.headline` says whether the winning strategy holds under the model that
predicts held-out students best.

Modules: :mod:`~.student_models` (step 2), :mod:`~.matrix` (step 3), :mod:`~.thresholds` (step 4),
:mod:`~.pipeline` (all of them, with one :class:`RealCohortSettings`).

What the comparison can and cannot say
    Real logs have no media: every column runs with **one neutral medium** (``text``) and meshing
    0, so strategies that choose media (``blended``, ``adaptive``, the media choice of
    ``personalized``) differ from ``individualized`` only through pacing rules, never through the
    medium. No prerequisites are known, so none are used. Remediation activities teach like any
    other opportunity (in the kt columns: an answered attempt like any other). The tutor's
    mastery estimate uses the standard BKT fit in every column (a deployed tutor's model), so
    columns differ only in how the simulated students really learn and answer.
    Intervals cover the simulation and the sampling of students, not the uncertainty of the
    fitted parameters.

References
----------
Doroudi, S., Aleven, V., & Brunskill, E. (2017). Robust evaluation matrix: Towards a more
principled offline exploration of instructional policies. *Proceedings of L@S 2017*, 3-12.
Lee, J. I., & Brunskill, E. (2012). The impact on individualizing student models on necessary
practice opportunities. *Proceedings of EDM 2012*, 118-125.
Rollinson, J., & Brunskill, E. (2015). From predictive models to instructional policies.
*Proceedings of EDM 2015*, 179-186.
Yudelson, M. V., Koedinger, K. R., & Gordon, G. J. (2013). Individualized Bayesian Knowledge
Tracing models. *AIED 2013*, 171-180.
"""

from edstudy.investigations.real_cohort.matrix import (
    METRIC_LABELS,
    REM_METRICS,
    MatrixSettings,
    RobustEvaluationMatrix,
    rank_changes,
    robust_evaluation_matrix,
)
from edstudy.investigations.real_cohort.pipeline import (
    RealCohortResult,
    RealCohortSettings,
    run_real_cohort_pipeline,
)
from edstudy.investigations.real_cohort.student_models import (
    MODEL_LABELS,
    MODEL_NAMES,
    fit_kt_models,
    fit_student_models,
    score_student_models,
)
from edstudy.investigations.real_cohort.thresholds import (
    mastery_threshold_analysis,
    threshold_table,
)
from edstudy.sim.from_kt import KTStudentModel

__all__ = [
    "METRIC_LABELS",
    "MODEL_LABELS",
    "MODEL_NAMES",
    "REM_METRICS",
    "KTStudentModel",
    "MatrixSettings",
    "RealCohortResult",
    "RealCohortSettings",
    "RobustEvaluationMatrix",
    "fit_kt_models",
    "fit_student_models",
    "mastery_threshold_analysis",
    "rank_changes",
    "robust_evaluation_matrix",
    "run_real_cohort_pipeline",
    "score_student_models",
    "threshold_table",
]
