"""Checking a saved BKT model document before it becomes an estimator.

A model file may have been edited by hand, truncated, or written by another program. Every key,
type and range is checked, and a message names the file and the key, e.g.
``model.json: params.guess_slip_classes.guess[3] = 0.7 with slip 0.4 means a correct answer
lowers mastery (guess must be at most 1 - slip)``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from edstudy._output import write_file

__all__ = ["document_options", "is_model_file", "read_model_document", "write_model_document"]

_TOP = ("format", "options", "params", "fit")
_FIT = ("history", "log_likelihood", "n_iter", "converged")


def _fail(path: Path, key: str, reason: str) -> ValueError:
    return ValueError(f"{path}: {key}: {reason}")


def _numbers(path: Path, key: str, values: Any, *, allow_none: bool = False) -> list[float]:
    if values is None and allow_none:
        return []
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise _fail(path, key, f"must be a list of numbers, got {type(values).__name__}")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise _fail(path, f"{key}[{i}]", f"must be a finite number, got {v!r}")
        out.append(float(v))
    return out


def _check_params(path: Path, params: Any) -> None:
    if not isinstance(params, Mapping):
        raise _fail(path, "params", "must be a mapping")
    for key in ("skills", "prior", "transition_classes", "guess_slip_classes"):
        if key not in params:
            raise _fail(path, f"params.{key}", "is missing")
    skills = params["skills"]
    if not isinstance(skills, list) or not skills:
        raise _fail(path, "params.skills", "must be a non-empty list of skill ids")
    for i, s in enumerate(skills):
        if isinstance(s, bool) or not isinstance(s, int | str):
            raise _fail(path, f"params.skills[{i}]", f"must be text or a whole number, got {s!r}")
    for i, p in enumerate(_numbers(path, "params.prior", params["prior"])):
        if not 0 <= p <= 1:
            raise _fail(path, f"params.prior[{i}]", f"must be a probability, got {p!r}")
    gs = params["guess_slip_classes"]
    if not isinstance(gs, Mapping):
        raise _fail(path, "params.guess_slip_classes", "must be a mapping")
    for key in ("skill", "label", "guess", "slip"):
        if key not in gs:
            raise _fail(path, f"params.guess_slip_classes.{key}", "is missing")
    guess = _numbers(path, "params.guess_slip_classes.guess", gs["guess"])
    slip = _numbers(path, "params.guess_slip_classes.slip", gs["slip"])
    for i, (g, s) in enumerate(zip(guess, slip, strict=False)):
        if g > 1 - s:
            raise _fail(
                path,
                f"params.guess_slip_classes.guess[{i}]",
                f"{g:g} with slip {s:g} means a correct answer lowers mastery "
                "(guess must be at most 1 - slip)",
            )
    tr = params["transition_classes"]
    if not isinstance(tr, Mapping):
        raise _fail(path, "params.transition_classes", "must be a mapping")
    for key in ("skill", "label", "learn", "forget"):
        if key not in tr:
            raise _fail(path, f"params.transition_classes.{key}", "is missing")


def read_model_document(
    path: str | Path, *, model_format: str, option_names: Sequence[str]
) -> dict[str, Any]:
    """Read and check a model file; the returned document is safe to build an estimator from.

    Raises
    ------
    ValueError
        Naming the file and the key: unreadable or not JSON, another format, a missing or
        unknown key, a value of the wrong type or out of range, guess/slip that invert mastery.
        (Parameter ranges beyond these are checked again when the parameters are built.)
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as err:
        raise ValueError(f"{p}: cannot read the model file ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{p}: not a model file (not UTF-8 text)") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{p}: not JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(doc, Mapping):
        raise ValueError(f"{p}: a model file holds a JSON object, got {type(doc).__name__}")
    if doc.get("format") != model_format:
        raise ValueError(
            f"{p} is not a saved edstudy BKT model (format {doc.get('format')!r}, "
            f"expected {model_format!r})"
        )
    for key in _TOP:
        if key not in doc:
            raise _fail(p, key, "is missing")
    extra = [k for k in doc if k not in _TOP]
    if extra:
        raise _fail(p, str(extra[0]), f"unknown key; a model file has {', '.join(_TOP)}")
    options = doc["options"]
    if not isinstance(options, Mapping):
        raise _fail(p, "options", "must be a mapping")
    for k in options:
        if k not in option_names:
            raise _fail(p, f"options.{k}", f"unknown option; allowed: {', '.join(option_names)}")
    _check_params(p, doc["params"])
    fit = doc["fit"]
    if not isinstance(fit, Mapping) or any(k not in fit for k in _FIT):
        raise _fail(p, "fit", f"must hold {', '.join(_FIT)}")
    _numbers(p, "fit.history", fit["history"])
    ll = fit["log_likelihood"]
    if ll is not None and (isinstance(ll, bool) or not isinstance(ll, int | float)):
        raise _fail(p, "fit.log_likelihood", f"must be a number or null, got {ll!r}")
    n_iter = fit["n_iter"]
    if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 0:
        raise _fail(p, "fit.n_iter", f"must be a whole number >= 0, got {n_iter!r}")
    if not isinstance(fit["converged"], bool):
        raise _fail(p, "fit.converged", f"must be true or false, got {fit['converged']!r}")
    return dict(doc)


def is_model_file(path: Path, model_format: str) -> bool:
    """Whether ``path`` holds a BKT model edstudy saved (so saving over it destroys nothing)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("format") == model_format


def write_model_document(
    path: str | os.PathLike,
    *,
    model_format: str,
    options: dict[str, Any],
    params: dict[str, Any],
    history: Sequence[float],
    log_likelihood: float,
    n_iter: int,
    converged: bool,
) -> None:
    """Write a model's JSON document (atomically; an existing file only if it is a model)."""
    options = dict(options)
    if isinstance(options.get("fixed"), pd.DataFrame):
        options["fixed"] = {"__frame__": json.loads(options["fixed"].to_json(orient="records"))}
    doc = {
        "format": model_format,
        "options": options,
        "params": params,
        "fit": {
            "history": [float(x) for x in history],
            "log_likelihood": float(log_likelihood) if math.isfinite(log_likelihood) else None,
            "n_iter": int(n_iter),
            "converged": bool(converged),
        },
    }
    write_file(
        path,
        json.dumps(doc, indent=1),
        is_ours=lambda p: is_model_file(p, model_format),
        what="a BKT model",
    )


def document_options(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The estimator options of a checked document (a saved ``fixed`` table back as a frame)."""
    options = dict(doc["options"])
    fx = options.get("fixed")
    if isinstance(fx, Mapping) and "__frame__" in fx:
        options["fixed"] = pd.DataFrame(fx["__frame__"])
    return options
