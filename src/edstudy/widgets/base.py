"""Pieces every edstudy widget shares: a progress bar, an error box, figures and tables as HTML.

Figures are rendered by :func:`edstudy.plots.figure_png`; :func:`show_figure` puts one in an
``Output`` widget. (Notebooks show a figure with :func:`edstudy.plots.png_image`.)

Why these exist: a widget callback that raises shows nothing in Voila (the traceback goes to the
server log) and a long computation looks like a frozen page. Widgets therefore run their work
inside :meth:`ErrorBox.catch`, which turns bad input into a readable message in the page, and
report progress through :class:`ProgressBar`.
"""

from __future__ import annotations

import base64
import contextlib
import html
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import ipywidgets as widgets
import pandas as pd

from edstudy.plots import figure_png

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "READABLE_ERRORS",
    "WIDE",
    "control",
    "styled",
    "ErrorBox",
    "ProgressBar",
    "html_table",
    "show_figure",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
W = TypeVar("W", bound=widgets.DOMWidget)

#: style that keeps long control descriptions on one line
WIDE = {"description_width": "initial"}


def styled(widget: W, css_class: str) -> W:
    """``widget`` with a CSS class, the stable handle browser tests and themes use."""
    widget.add_class(css_class)
    return widget


def control(cls: type[W], css_class: str, **kw: Any) -> W:
    """A slider or number control that updates on release, with a wide label and a CSS class."""
    return styled(cls(continuous_update=False, style=WIDE, **kw), css_class)


#: Exceptions that mean "the input is wrong" and are shown as their message. ``ValueError``
#: covers :class:`edstudy.schema.SchemaError`, :class:`edstudy.sim.ConfigError` and
#: :class:`edstudy.bkt.NotFittedError`, which all derive from it.
READABLE_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, TypeError)


class ProgressBar:
    """A labelled ``IntProgress`` shown while work runs and hidden when it ends.

    Parameters
    ----------
    description : str
        Default label left of the bar.

    Attributes
    ----------
    widget : HBox
        The bar and a text label (CSS class ``edstudy-progress``).
    bar : IntProgress
    label : Label
        What is being done now.
    """

    def __init__(self, description: str = "Working") -> None:
        self.description = description
        self.bar = widgets.IntProgress(
            value=0, min=0, max=1, description=description, bar_style="info"
        )
        self.label = widgets.Label("")
        self.widget = widgets.HBox([self.bar, self.label], layout=widgets.Layout(display="none"))
        self.widget.add_class("edstudy-progress")

    @property
    def visible(self) -> bool:
        return self.widget.layout.display != "none"

    @contextlib.contextmanager
    def task(self, total: int, description: str | None = None) -> Iterator[ProgressBar]:
        """Show the bar for ``total`` steps while the block runs; hide it afterwards.

        >>> with bar.task(3, "Updating") as p:  # doctest: +SKIP
        ...     p.step("mastery"); ...; p.step("flags"); ...; p.step("figure")
        """
        self.bar.max = max(int(total), 1)
        self.bar.value = 0
        self.bar.description = description or self.description
        self.label.value = ""
        self.widget.layout.display = "flex"
        try:
            yield self
        finally:
            self.bar.value = self.bar.max
            self.widget.layout.display = "none"

    def update(self, done: int, text: str = "") -> None:
        """Set the bar to ``done`` steps (a progress callback: ``on_progress(done, total)``)."""
        self.bar.value = min(int(done), self.bar.max)
        self.label.value = text

    def step(self, text: str = "", n: int = 1) -> None:
        """Advance by ``n`` steps and say what comes next."""
        self.bar.value = min(self.bar.value + n, self.bar.max)
        self.label.value = text

    def iterate(
        self, items: Iterable[T], total: int | None = None, description: str | None = None
    ) -> Iterator[T]:
        """Yield ``items`` while advancing the bar (``total`` defaults to ``len(items)``)."""
        if total is None:
            total = len(items) if isinstance(items, Sequence) else 0
        with self.task(total, description):
            for item in items:
                yield item
                self.step()


class ErrorBox:
    """Shows what went wrong as a readable message instead of a traceback.

    Attributes
    ----------
    widget : HTML
        Hidden while there is no error (CSS class ``edstudy-error``).
    message : str
        The text shown ("" when none).
    last_exception : BaseException or None
        The exception behind the message, for debugging.
    """

    def __init__(self) -> None:
        self.widget = widgets.HTML("", layout=widgets.Layout(display="none"))
        self.widget.add_class("edstudy-error")
        self.message = ""
        self.last_exception: BaseException | None = None

    def clear(self) -> None:
        self.message = ""
        self.last_exception = None
        self.widget.value = ""
        self.widget.layout.display = "none"

    def show(self, error: BaseException | str, title: str = "Could not update") -> None:
        """Display ``error`` (an exception or a text) under ``title``."""
        if isinstance(error, BaseException):
            self.last_exception = error
            text = readable(error)
        else:
            text = str(error)
        self.message = text
        lines = "<br>".join(html.escape(line) for line in text.splitlines())
        self.widget.value = (
            '<div style="border:1px solid #c0392b;background:#fdecea;color:#7b241c;'
            'padding:6px 10px;border-radius:4px">'
            f"<b>{html.escape(title)}</b><br>{lines}</div>"
        )
        self.widget.layout.display = "block"

    @contextlib.contextmanager
    def catch(self, title: str = "Could not update") -> Iterator[ErrorBox]:
        """Run a block; show an exception's message instead of raising it.

        Errors from bad input (:data:`READABLE_ERRORS`) show their own message; anything else
        shows its type and message and is logged with the traceback.
        """
        self.clear()
        try:
            yield self
        except READABLE_ERRORS as err:
            self.show(err, title)
        except Exception as err:  # noqa: BLE001 - a UI must not die on an unexpected error
            log.exception("unexpected error in a widget callback")
            self.show(err, title)


def readable(error: BaseException) -> str:
    """The message of an exception as a user should read it (no quotes around KeyErrors)."""
    if isinstance(error, KeyError) and error.args:
        text = str(error.args[0])
    else:
        text = str(error)
    if not isinstance(error, READABLE_ERRORS):
        text = f"unexpected {type(error).__name__}: {text}"
    return text or type(error).__name__


def show_figure(output: widgets.Output, fig: Figure, dpi: int = 80) -> bytes:
    """Replace what ``output`` shows with ``fig`` as a PNG; return the PNG bytes.

    The output's ``outputs`` are set directly, so this works from any callback (and in tests,
    where there is no kernel to capture ``display`` calls).
    """
    png = figure_png(fig, dpi=dpi)
    output.outputs = (
        {
            "output_type": "display_data",
            "data": {
                "image/png": base64.b64encode(png).decode("ascii"),
                "text/plain": "<matplotlib figure>",
            },
            "metadata": {},
        },
    )
    return png


def html_table(
    frame: pd.DataFrame,
    *,
    empty: str = "none",
    css_class: str = "edstudy-table",
    max_rows: int | None = None,
    formatters: dict[str, Any] | None = None,
) -> str:
    """A DataFrame as escaped HTML (no index), or ``empty`` in italics when it has no rows."""
    if frame.empty:
        return f"<i>{html.escape(empty)}</i>"
    shown = frame if max_rows is None else frame.head(max_rows)
    table = shown.to_html(
        index=False, escape=True, border=0, classes=css_class, na_rep="", formatters=formatters
    )
    if max_rows is not None and len(frame) > max_rows:
        table += f"<i>... and {len(frame) - max_rows} more</i>"
    return table
