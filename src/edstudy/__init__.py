"""edstudy: a research workbench for testing claims about individualized and personalized learning.

Packages, from the ground up (each imports only packages above it in this list):
``schema`` (the response-log and outcomes tables), ``datasets`` (loaders), ``bkt`` and ``kt``
(student models), ``bayes`` (PyMC models), ``sim`` (simulated cohorts and pathway rules),
``stats`` (statistics only), ``experiment`` (studies and their runner), ``investigations`` (one
research question each, the notebooks' back ends), ``monitor`` (the teacher dashboard's logic),
``plots``, ``widgets``, ``report`` and ``cli``. See ``docs/architecture.md``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edstudy")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"
