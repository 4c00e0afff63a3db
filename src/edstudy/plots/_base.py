"""What every figure module shares: the palette, table checks, and PNG output.

A leaf (imports nothing from edstudy). :func:`figure_png` renders a figure without pyplot;
:func:`png_image` wraps it for a notebook (``png_image(fig)`` as a cell's last line shows the
figure the same way in Jupyter, in nbconvert reports and in Voila).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from IPython.display import Image
    from matplotlib.figure import Figure

__all__ = ["PALETTE", "figure_png", "png_image"]

#: Colour of each series (colour-blind safe, Okabe & Ito 2008).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def _need(table: pd.DataFrame, columns: Sequence[str], func: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{func}: expected a DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"{func}: the table has no column(s) {missing}; it has {list(map(str, table.columns))}"
        )
    if table.empty:
        raise ValueError(f"{func}: the table has no rows")


def _unique(values: pd.Series) -> list[str]:
    return list(dict.fromkeys(values.astype(str)))


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a matplotlib figure to PNG bytes (no pyplot, no display needed).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure; one built without pyplot gets an Agg canvas here.
    dpi : int
        Resolution.

    Returns
    -------
    bytes
        The PNG file.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def png_image(fig: Figure, dpi: int = 80) -> Image:
    """The figure as an ``IPython.display.Image``, for static (report) notebooks.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int
        Resolution.

    Returns
    -------
    IPython.display.Image
        Shown when it is a cell's last value, or with ``display(...)``.
    """
    from IPython.display import Image

    return Image(data=figure_png(fig, dpi=dpi), format="png")
