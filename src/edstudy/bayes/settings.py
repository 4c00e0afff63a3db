"""How a Bayesian model is fitted: one frozen :class:`FitSettings` for every ``fit_*`` function.

The sampler settings (method, draws, chains, ...) travel together from a notebook's parameters
through a pipeline to :func:`edstudy.bayes._sampling.fit_model`, so every layer passes one object
instead of re-declaring ten keywords. This module does not import PyMC.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

__all__ = ["FitSettings", "Method", "Sampler", "quiet_pymc"]

Method = Literal["nuts", "advi", "map"]
Sampler = Literal["pymc", "nutpie"]


def _whole(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class FitSettings:
    """Sampler settings of a Bayesian fit.

    Parameters
    ----------
    method : {"nuts", "advi", "map"}
        ``"nuts"``: the full posterior (for reports). ``"advi"``: mean-field variational
        approximation, ``draws`` draws in one chain (fast, under-dispersed). ``"map"``: the
        posterior mode as a single draw (fastest; intervals are degenerate, and hierarchical
        spreads shrink towards 0).
    draws, tune, chains : int
        NUTS draws and tuning steps per chain, and chains (``draws`` also for ADVI).
    cores : int, optional
        Processes for the chains (None: PyMC's choice).
    target_accept : float
        NUTS step-size adaptation target, in (0, 1).
    sampler : {"pymc", "nutpie"}
        NUTS implementation; ``"nutpie"`` needs the optional ``nutpie`` package.
    advi_steps : int
        Maximum ADVI iterations (stops earlier when the parameters converge).
    progressbar : bool

    Examples
    --------
    >>> FitSettings(draws=500, chains=2)                 # doctest: +SKIP
    >>> FitSettings.fast()                               # ADVI for widgets and quick looks
    """

    method: Method = "nuts"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    cores: int | None = None
    target_accept: float = 0.9
    sampler: Sampler = "pymc"
    advi_steps: int = 20_000
    progressbar: bool = False

    def __post_init__(self) -> None:
        if self.method not in ("nuts", "advi", "map"):
            raise ValueError(f"method must be 'nuts', 'advi' or 'map', got {self.method!r}")
        if self.sampler not in ("pymc", "nutpie"):
            raise ValueError(f"sampler must be 'pymc' or 'nutpie', got {self.sampler!r}")
        _whole("draws", self.draws, 1)
        _whole("tune", self.tune, 0)
        _whole("chains", self.chains, 1)
        _whole("advi_steps", self.advi_steps, 1)
        if self.cores is not None:
            _whole("cores", self.cores, 1)
        if not 0.0 < float(self.target_accept) < 1.0:
            raise ValueError(f"target_accept must be in (0, 1), got {self.target_accept!r}")

    @classmethod
    def fast(cls, draws: int = 200, advi_steps: int = 20_000) -> FitSettings:
        """ADVI with ``draws`` draws: seconds instead of minutes, intervals too narrow."""
        return cls(method="advi", draws=draws, advi_steps=advi_steps)

    def with_changes(self, **changes: Any) -> FitSettings:
        """A copy with some settings changed (checked again)."""
        return replace(self, **changes)


@contextlib.contextmanager
def quiet_pymc() -> Iterator[None]:
    """Silence PyMC's INFO messages (ADVI's "Finished [100%]" lines) and warnings."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
