"""Every student model of edstudy by name: :data:`MODELS` and :func:`make_model`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from edstudy.kt._base import KTModel
from edstudy.kt.bkt_ext import BKTExt
from edstudy.kt.bkt_family import BKTModel
from edstudy.kt.models import AFM, DAS3H, IRT, PFA, BestLR

__all__ = ["DEFAULT_BENCHMARK", "MODELS", "ModelSpec", "make_model"]


@dataclass(frozen=True)
class ModelSpec:
    """A named configuration: an estimator class and the options that define the model.

    Calling it returns a new, unfitted estimator; keyword arguments override or add options.
    """

    cls: type
    options: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    family: str = "logistic"

    def __call__(self, **overrides: Any) -> KTModel:
        return self.cls(**{**dict(self.options), **overrides})


MODELS: Mapping[str, ModelSpec] = MappingProxyType(
    {
        "bkt": ModelSpec(BKTModel, {}, "standard BKT (Corbett & Anderson 1995), EM", "bkt"),
        "bkt_forgets": ModelSpec(BKTModel, {"forgets": True}, "BKT with forgetting", "bkt"),
        "bkt_idem": ModelSpec(
            BKTModel,
            {"item_guess_slip": True},
            "KT-IDEM: guess and slip per item (Pardos & Heffernan 2011)",
            "bkt",
        ),
        "ibkt": ModelSpec(
            BKTModel,
            {"student_prior": True, "student_learn": True},
            "individualized BKT: per-student prior and learning effects (Yudelson et al. 2013); "
            "unseen students get effect 0",
            "bkt",
        ),
        "bkt_ext": ModelSpec(
            BKTExt,
            {},
            "BKT + forgetting + student ability (inferred online) + item difficulty "
            "(Khajah, Lindsey & Mozer 2016)",
            "bkt",
        ),
        "irt": ModelSpec(IRT, {}, "Rasch / 1PL IRT: ability (inferred online) - item difficulty"),
        "afm": ModelSpec(AFM, {}, "Additive Factors Model (Cen et al. 2006)"),
        "pfa": ModelSpec(PFA, {}, "Performance Factors Analysis (Pavlik et al. 2009)"),
        "das3h": ModelSpec(DAS3H, {}, "DAS3H (Choffin et al. 2019): IRT + windowed skill counts"),
        "best_lr": ModelSpec(BestLR, {}, "Best-LR (Gervet et al. 2020)"),
        "best_lr_plus": ModelSpec(
            BestLR,
            {"recency": True, "item_context": True, "ability": True},
            "Best-LR + recency features + item context + ability (edstudy's extension)",
        ),
    }
)

#: The models :func:`edstudy.kt.benchmark` runs by default (all but the slow coupled-EM ``ibkt``).
DEFAULT_BENCHMARK: tuple[str, ...] = (
    "bkt",
    "bkt_forgets",
    "bkt_idem",
    "bkt_ext",
    "irt",
    "afm",
    "pfa",
    "das3h",
    "best_lr",
    "best_lr_plus",
)


def make_model(name: str, **options: Any) -> KTModel:
    """A new, unfitted estimator of the named model (options override the defaults).

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones) or a bad option.
    """
    if name not in MODELS:
        raise ValueError(f"unknown student model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name](**options)
