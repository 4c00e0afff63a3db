"""Errors raised by the loaders. Each message names the file and the column, line and value."""

from __future__ import annotations

__all__ = ["ChecksumError", "DataNotFoundError", "DatasetFormatError"]


class DatasetFormatError(ValueError):
    """A source file does not have the layout or values its loader expects.

    The message starts with the file's path and names the column, the line of the file (the header
    is line 1) and the offending value, e.g.
    ``data.csv: column 'correct' must be 0 or 1: 1 row, first at line 3 (value 'yes')``.
    """


class DataNotFoundError(FileNotFoundError):
    """No copy of a dataset was found; the message lists every place looked and how to get it."""


class ChecksumError(OSError):
    """A downloaded file's SHA-256 differs from the published one; the file was not kept."""
