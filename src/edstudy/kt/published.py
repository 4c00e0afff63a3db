"""Published knowledge-tracing results, to set edstudy's numbers beside (never recomputed here).

Sources and protocol differences (see ``benchmarks/results_kt.md``):

- Gervet, Koedinger, Schneider & Mitchell (2020), "When is deep learning the best approach to
  knowledge tracing?", JEDM 12(3): item-level AUC, one 80/20 student split, their own
  preprocessing (ASSISTments 2017 with timestamps and the "noskill" rows).
- The pyKT leaderboard (pykt-team/pykt-toolkit): deep models only, question-level "fused" AUC, 20%
  of students held out, 5 folds on the rest, 200-step windows; its maintainers note that
  skill-level AUC leaks labels when a question carries several skills, so these are not directly
  comparable with a skill-level AUC.
- Khajah, Lindsey & Mozer (2016), "How deep is knowledge tracing?": on an ASSISTments 2009 copy
  that repeats each multi-skill problem once per skill, which inflates AUC (the second copy is
  predicted from the first).
"""

from __future__ import annotations

import pandas as pd

from edstudy._format import markdown_table

__all__ = ["PUBLISHED", "published_beside"]

#: One row per published figure: ``dataset, source, model, auc, note``.
PUBLISHED = pd.DataFrame(
    [
        ("assistments2009", "Gervet et al. 2020", "PFA", 0.72, "item-level, student split"),
        ("assistments2009", "Gervet et al. 2020", "Best-LR", 0.77, "item-level, student split"),
        ("assistments2009", "Gervet et al. 2020", "DKT", 0.75, "item-level, student split"),
        ("assistments2009", "Gervet et al. 2020", "SAKT", 0.75, "item-level, student split"),
        ("assistments2009", "pyKT leaderboard", "DKT", 0.754, "question-level fused AUC"),
        ("assistments2009", "pyKT leaderboard", "AKT", 0.785, "question-level fused AUC"),
        ("assistments2009", "Khajah et al. 2016", "BKT", 0.73, "copy with duplicated rows"),
        ("assistments2009", "Khajah et al. 2016", "BKT+forgets", 0.83, "copy with duplicated rows"),
        ("assistments2017", "Gervet et al. 2020", "PFA", 0.62, "their preprocessing"),
        ("assistments2017", "Gervet et al. 2020", "Best-LR", 0.71, "their preprocessing"),
        ("assistments2017", "Gervet et al. 2020", "DKT", 0.77, "their preprocessing"),
    ],
    columns=["dataset", "source", "model", "auc", "note"],
)


def published_beside(table: pd.DataFrame, dataset: str | None, *, digits: int = 4) -> str:
    """Markdown: this run's benchmark table, then the published figures for ``dataset``."""
    cols = [c for c in ("model", "level", "auc", "rmse", "log_loss", "fit_s") if c in table]
    lines = ["**This run** (student-level cross-validation, the same folds for every model)", ""]
    lines.append(markdown_table(table[cols].round(digits)))
    pub = PUBLISHED[PUBLISHED["dataset"] == dataset]
    if len(pub):
        lines += ["", "**Published** (other protocols: see the notes)", ""]
        lines.append(markdown_table(pub.drop(columns="dataset")))
    return "\n".join(lines) + "\n"
