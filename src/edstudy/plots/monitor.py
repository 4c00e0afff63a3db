"""The teacher dashboard's figure: P(mastered) per student and skill, flagged students marked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

__all__ = ["mastery_heatmap"]

#: Initial of each flag in the student labels.
FLAG_INITIALS = {"stuck": "S", "off_pace": "P", "disengaged": "D"}


def mastery_heatmap(
    snapshot: Any,
    *,
    skills: Iterable | None = None,
    highlight: Any | None = None,
    width: float = 7.5,
) -> Figure:
    """Students x skills heatmap of current P(mastered).

    Cells at or above the snapshot's threshold are marked with a dot, flagged students' labels are
    red with the flag initials (S stuck, P off pace, D disengaged), and ``highlight`` (a student
    id) gets a frame. Uses :class:`matplotlib.figure.Figure` directly, so no pyplot state is
    touched.

    Parameters
    ----------
    snapshot : ClassSnapshot
        From :func:`edstudy.monitor.class_snapshot` (uses its ``mastery``, ``flags`` and
        ``settings.mastery_threshold``).
    skills : iterable, optional
        Skills to show (default all, in display order).
    highlight : student id, optional
    width : float
        Figure width in inches; the height grows with the number of students.

    Returns
    -------
    matplotlib.figure.Figure
    """
    m = snapshot.mastery
    cols = list(m.columns) if skills is None else [s for s in m.columns if s in set(skills)]
    if not cols:
        raise ValueError("choose at least one skill to show")
    data = m[cols].to_numpy(dtype=float)
    n_students = data.shape[0]
    height = min(2.0 + 0.22 * n_students, 14.0)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(data, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="none")
    thr = snapshot.settings.mastery_threshold
    yy, xx = np.nonzero(data >= thr)
    ax.scatter(xx, yy, s=10, c="white", marker="o", linewidths=0)
    ax.set_xticks(range(len(cols)), [str(c) for c in cols], rotation=45, ha="right", fontsize=8)
    marks: dict = {}
    for sid, f in zip(snapshot.flags["student_id"], snapshot.flags["flag"], strict=True):
        marks.setdefault(sid, set()).add(FLAG_INITIALS[f])
    labels = [
        f"{sid} [{''.join(c for c in 'SPD' if c in marks[sid])}]" if sid in marks else str(sid)
        for sid in m.index
    ]
    fs = 8 if n_students <= 40 else 6
    ax.set_yticks(range(n_students), labels, fontsize=fs)
    for tick, sid in zip(ax.get_yticklabels(), m.index, strict=True):
        if sid in marks:
            tick.set_color("#c0392b")
    if highlight is not None and highlight in m.index:
        i = list(m.index).index(highlight)
        ax.axhline(i - 0.5, color="red", lw=1.5)
        ax.axhline(i + 0.5, color="red", lw=1.5)
    ax.set_xlabel("skill")
    ax.set_ylabel("student [flags: S stuck, P off pace, D disengaged]")
    ax.set_title(f"P(mastered) now; dots: mastered (>= {thr:.2f})", fontsize=10)
    fig.colorbar(im, ax=ax, label="P(mastered)", shrink=0.8)
    return fig
