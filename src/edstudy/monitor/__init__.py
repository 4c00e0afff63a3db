"""What a teacher needs to know about a class right now: mastery, flags, next steps.

Pure logic (no widgets, no I/O, no figures), shared by the teacher dashboard
(:mod:`edstudy.widgets`), the reports and the command line. Everything is computed from a
response log and a fitted :class:`edstudy.bkt.BKT` model, so a real class and a simulated one are
monitored the same way. One module per job:

* :mod:`~edstudy.monitor.settings` – :class:`MonitorSettings`, the ten thresholds (mastery,
  stuck, off pace, disengaged, medium evidence), validated on construction; :data:`FLAGS`.
* :mod:`~edstudy.monitor.snapshot` – :func:`class_snapshot`: current P(mastered) per student and
  skill, students flagged as *stuck*, *off pace* or *disengaged* with a reason that quotes the
  numbers, a recommended next activity per student with its reason, and a class summary, as a
  :class:`ClassSnapshot` (``to_frame()``, ``to_markdown()``, ``plot()``).
* :mod:`~edstudy.monitor.flags` – the three flags and the flag table.
* :mod:`~edstudy.monitor.recommendations` – media evidence, medium choice, prerequisites.
* :mod:`~edstudy.monitor.replay` – :func:`append_responses` (validate and append new responses;
  the snapshot is simply recomputed, the BKT forward pass over a class takes milliseconds) and
  :class:`ResponseReplay` (reveal a complete log a few responses per student at a time, so a demo
  shows the dashboard changing as a lesson goes on).
* :mod:`~edstudy.monitor.demo` – :func:`simulated_class`: a simulated class and a BKT model fitted
  on last year's cohort, for demos and the dashboard notebook.

The heatmap is :func:`edstudy.plots.mastery_heatmap` (or :meth:`ClassSnapshot.plot`).

The flags follow the tutoring literature, with thresholds as explicit settings:

``stuck``
    Wheel-spinning (Beck & Gong, 2013): ``stuck_after`` or more scored tries on a skill without
    reaching the mastery threshold. Beck & Gong used 10 opportunities, the default here.
``off_pace``
    Progress relative to the class: skills mastered per scored try below ``off_pace_ratio`` times
    the class median (among students with at least ``min_tries`` tries).
``disengaged``
    Behaviour in the student's ``recent`` last responses, from whatever the log records:
    rapid responses (``duration_s`` below ``rapid_fraction`` of the class mean time, the
    "normative threshold" of Wise & Ma, 2012), heavy hint use (``hints``), or a trailing streak of
    ``error_streak`` errors. :attr:`ClassSnapshot.notes` says which evidence was available.
"""

from edstudy.monitor.demo import SimulatedClass, simulated_class
from edstudy.monitor.replay import ResponseReplay, append_responses
from edstudy.monitor.settings import FLAGS, MonitorSettings
from edstudy.monitor.snapshot import ClassSnapshot, ClassSummary, class_snapshot

__all__ = [
    "FLAGS",
    "ClassSnapshot",
    "ClassSummary",
    "MonitorSettings",
    "ResponseReplay",
    "SimulatedClass",
    "append_responses",
    "class_snapshot",
    "simulated_class",
]
