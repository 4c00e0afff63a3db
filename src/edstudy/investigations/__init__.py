"""Research questions, one module each: the back ends of the notebooks.

Each module answers one question with the layers below it (datasets, student models, the
simulator, :mod:`edstudy.stats`, :mod:`edstudy.experiment`) and returns tidy tables and result
objects that a notebook, a widget, a report or the command line shows the same way:

=================================  ======================================================  =====
module                             question                                                 nb
=================================  ======================================================  =====
``strategy_comparison``            do personalized pathways beat individualized ones?      01
``knowledge_tracing``              which BKT variant predicts real students best?          03
``media_preferences``              do surveys predict choices; does the preferred medium   04
                                   help? (simulated, truth known)
``oulad_preferences``              how do real students' activity preferences relate to    04, 07
                                   their outcomes? (observational)
``video_vs_text``                  does a video worked example beat text? (randomized)     07
``real_cohort``                    which strategy wins on students drawn from models of    07
                                   a real log, and under every model?
``trial``                          what does my own randomized trial show, and does it     08
                                   meet the WWC standards? (real or simulated data)
=================================  ======================================================  =====

A new research question gets a new module (or folder) here; a new statistic goes to
:mod:`edstudy.stats`, a new experiment feature to :mod:`edstudy.experiment`.
"""
