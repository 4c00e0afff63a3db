"""Loaders for real student data, each mapping one source into the edstudy response log or outcomes.

Every loader validates its result with :func:`edstudy.schema.validate_log` (or
:func:`~edstudy.schema.validate_outcomes`), never drops a row without counting it, and stores a
:class:`LoadReport` in ``df.attrs["load_report"]``: rows read, rows kept, rows dropped by reason.
The one-line summary is logged at INFO on the ``edstudy.datasets`` logger and printed unless
``verbose=False``.

Where the data are looked for when no ``path`` is given: ``$EDSTUDY_SHARED_DATA`` (or
``../shared/data/real`` beside the repository checkout or the working directory), then the
download cache (``$EDSTUDY_DATA`` or ``platformdirs.user_cache_dir("edstudy")``); with
``download=True`` a missing file is fetched into the cache and its SHA-256 checked. Provenance,
URLs and checksums are in :data:`edstudy.datasets.sources.SOURCES`.
"""

from edstudy.datasets._errors import ChecksumError, DataNotFoundError, DatasetFormatError
from edstudy.datasets._report import LoadReport
from edstudy.datasets.ab_test import load_ab_video_vs_text
from edstudy.datasets.assistments2009 import load_assistments2009
from edstudy.datasets.assistments2017 import load_assistments2017
from edstudy.datasets.custom import load_csv
from edstudy.datasets.datashop import load_datashop
from edstudy.datasets.oulad import load_oulad, load_oulad_assessments, load_oulad_outcomes
from edstudy.datasets.pybkt import load_pybkt_example
from edstudy.datasets.select import REAL_DATASETS, load_log, select_log, split_students
from edstudy.datasets.sources import SOURCES

__all__ = [
    "ChecksumError",
    "DataNotFoundError",
    "DatasetFormatError",
    "LoadReport",
    "REAL_DATASETS",
    "SOURCES",
    "load_ab_video_vs_text",
    "load_assistments2009",
    "load_assistments2017",
    "load_csv",
    "load_datashop",
    "load_oulad",
    "load_oulad_assessments",
    "load_oulad_outcomes",
    "load_log",
    "load_pybkt_example",
    "select_log",
    "split_students",
]
