"""Text formatting shared by every layer: markdown tables and ``mean [low, high]`` cells.

A leaf module (imports nothing from edstudy), so statistics, experiments and investigations can
all turn their tidy tables into the same readable text.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["TableResult", "interval_cells", "markdown_table"]


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table (the index is not included; reset it first)."""
    cols = [str(c) for c in df.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        out.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(out)


def interval_cells(
    mean: Iterable[float],
    low: Iterable[float],
    high: Iterable[float],
    *,
    digits: int = 3,
    signed: bool = False,
) -> list[str]:
    """``"mean [low, high]"`` text per row (``signed``: always show the sign, for differences)."""
    f = f"{{:{'+' if signed else ''}.{digits}f}}"
    return [
        f"{f.format(m)} [{f.format(lo)}, {f.format(hi)}]"
        for m, lo, hi in zip(mean, low, high, strict=True)
    ]


class TableResult:
    """Mixin of the result objects whose tidy table says it all: ``to_markdown()`` from
    ``to_frame()``, so every result answers the same three questions (``to_frame``,
    ``to_markdown``, ``plot`` where a figure exists) the same way."""

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def to_markdown(self, digits: int = 3) -> str:
        """The :meth:`to_frame` table as markdown, numbers rounded to ``digits``."""
        return markdown_table(self.to_frame().round(digits))
