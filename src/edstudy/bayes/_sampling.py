"""Shared fitting front end: NUTS (PyMC or nutpie) for reports, ADVI or MAP for widgets."""

from __future__ import annotations

import importlib.util
import time

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from edstudy.bayes.settings import FitSettings

__all__ = ["fit_model", "summarize"]


def _posterior_dims(model: pm.Model) -> dict[str, list[str]]:
    return {name: list(dims) for name, dims in model.named_vars_to_dims.items() if dims}


def _coords(model: pm.Model) -> dict[str, list]:
    return {name: list(values) for name, values in model.coords.items() if values is not None}


def _point_names(model: pm.Model) -> list[str]:
    return [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics]


def fit_model(
    model: pm.Model, settings: FitSettings | None = None, *, seed: int | None = None
) -> az.InferenceData:
    """Fit a PyMC model and return ArviZ InferenceData with the model's coords.

    Parameters
    ----------
    model : pymc.Model
    settings : FitSettings, optional
        Method and sampler settings (default ``FitSettings()``: NUTS, 4 chains of 1000).
    seed : int, optional

    Returns
    -------
    InferenceData
        ``posterior`` (+ ``sample_stats`` for NUTS); ``attrs`` record ``method``, ``sampler`` and
        ``fit_seconds``.
    """
    st = settings if settings is not None else FitSettings()
    method, sampler, draws, progressbar = st.method, st.sampler, st.draws, st.progressbar
    start = time.perf_counter()
    if method == "nuts":
        if sampler == "nutpie" and importlib.util.find_spec("nutpie") is None:
            raise ImportError("sampler='nutpie' needs the nutpie package: pip install nutpie")
        kwargs: dict = {}
        if sampler == "nutpie":
            kwargs["nuts_sampler_kwargs"] = {"backend": "numba"}
        with model:
            idata = pm.sample(
                draws=draws,
                tune=st.tune,
                chains=st.chains,
                cores=st.cores,
                target_accept=st.target_accept,
                random_seed=seed,
                progressbar=progressbar,
                nuts_sampler=sampler,
                compute_convergence_checks=False,
                **kwargs,
            )
    elif method == "advi":
        with model:
            approx = pm.fit(
                n=st.advi_steps,
                method="advi",
                random_seed=seed,
                progressbar=progressbar,
                callbacks=[
                    pm.callbacks.CheckParametersConvergence(tolerance=1e-3, diff="absolute")
                ],
            )
            idata = approx.sample(draws, random_seed=seed)
    elif method == "map":
        with model:
            point = pm.find_MAP(seed=seed, progressbar=progressbar)
        names = _point_names(model)
        idata = az.from_dict(
            posterior={name: np.asarray(point[name])[None, None, ...] for name in names},
            coords=_coords(model),
            dims=_posterior_dims(model),
        )
    else:  # pragma: no cover - FitSettings checks the method
        raise ValueError(f"method must be 'nuts', 'advi' or 'map', got {method!r}")
    idata.attrs["method"] = method
    idata.attrs["sampler"] = sampler if method == "nuts" else method
    idata.attrs["fit_seconds"] = time.perf_counter() - start
    return idata


def summarize(
    idata: az.InferenceData, var_names: list[str], *, interval: float = 0.9
) -> pd.DataFrame:
    """Posterior mean, SD, equal-tailed interval and P(> 0) of (scalar or vector) variables.

    Returns
    -------
    DataFrame, one row per scalar element, indexed by ``name`` or ``name[coord]``, columns
    ``mean, sd, lower, upper, p_positive``.
    """
    if not 0 < interval < 1:
        raise ValueError(f"interval must be in (0, 1), got {interval}")
    q = [(1 - interval) / 2, (1 + interval) / 2]
    rows = {}
    for name in var_names:
        x = idata.posterior[name]
        flat = x.stack(sample=("chain", "draw")).transpose(..., "sample")
        values = flat.to_numpy().reshape(-1, flat.sizes["sample"])
        other = [d for d in flat.dims if d != "sample"]
        labels = [name]
        if other:
            coords = [flat[d].to_numpy() for d in other]
            labels = [
                f"{name}[{', '.join(str(coords[k][i]) for k, i in enumerate(idx))}]"
                for idx in np.ndindex(*[flat.sizes[d] for d in other])
            ]
        lo, hi = np.quantile(values, q, axis=1)
        for label, v, lo_, hi_ in zip(labels, values, lo, hi, strict=True):
            rows[label] = {
                "mean": v.mean(),
                "sd": v.std(ddof=1) if v.size > 1 else 0.0,
                "lower": lo_,
                "upper": hi_,
                "p_positive": (v > 0).mean(),
            }
    return pd.DataFrame.from_dict(rows, orient="index")
