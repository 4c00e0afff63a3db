"""Regression models of outcomes as tidy tables.

Mixed models (MixedLM), GEE/GLM for binary outcomes,
cluster-means regression.

See :mod:`edstudy.stats` for the conventions and references.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from edstudy._format import TableResult
from edstudy.stats._checks import (
    _as_float,
    _check_columns,
    _check_frame,
    _min_per_arm,
    _Sample,
    _select,
)
from edstudy.stats.effect_sizes import (
    _cluster_codes,
    anova_icc,
)

# --------------------------------------------------------------------------------------------
# Regression models
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelResult(TableResult):
    """A fitted regression model as tidy tables.

    Attributes
    ----------
    model : str
        What was fitted, in words.
    outcome : str
        The dependent variable.
    treatment_term : str
        Name of the treatment row in ``coefficients``, e.g. ``"arm[personalized]"``.
    coefficients : DataFrame
        ``term, estimate, std_error, ci_low, ci_high, p_value, df`` (``df`` is NaN for
        normal-theory rows).
    variance_components : DataFrame
        ``component, variance, std_dev, share``: for a mixed model the random-intercept variances
        and the residual, ``share`` being each one's fraction of the total (the ICC of that level,
        conditional on the covariates); for GEE the exchangeable working correlation; may be empty.
    n_obs : int
        Rows used.
    n_groups : dict
        Number of levels of each clustering column.
    n_missing : int
        Rows of the two arms left out for missing values.
    converged : bool
        Whether the optimizer reported convergence.
    fitted : object
        The underlying statsmodels results object (not compared, not shown).
    """

    model: str
    outcome: str
    treatment_term: str
    coefficients: pd.DataFrame
    variance_components: pd.DataFrame
    n_obs: int
    n_groups: dict[str, int]
    n_missing: int
    converged: bool
    confidence: float = 0.95
    fitted: Any = field(default=None, repr=False, compare=False)

    @property
    def treatment_effect(self) -> pd.Series:
        """The coefficient row of the treatment indicator."""
        rows = self.coefficients[self.coefficients["term"] == self.treatment_term]
        return rows.iloc[0]

    @property
    def icc(self) -> dict[str, float]:
        """Share of the total variance of each non-residual component (empty when none)."""
        vc = self.variance_components
        if vc.empty:
            return {}
        keep = vc[vc["component"] != "residual"]
        return dict(zip(keep["component"], keep["share"].astype(float), strict=True))

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (a copy)."""
        return self.coefficients.copy()

    def __str__(self) -> str:
        groups = ", ".join(f"{k}: {v}" for k, v in self.n_groups.items())
        head = f"{self.model}\n{self.n_obs} observations" + (f"; groups {groups}" if groups else "")
        if self.n_missing:
            head += f"; {self.n_missing} rows left out for missing values"
        if not self.converged:
            head += "\nWARNING: the optimizer did not report convergence"
        coef = self.coefficients.to_string(index=False, float_format=lambda v: f"{v:.4f}")
        out = [head, coef]
        if not self.variance_components.empty:
            out.append(
                self.variance_components.to_string(index=False, float_format=lambda v: f"{v:.4f}")
            )
        return "\n".join(out)


def _prepare_model_frame(
    sample: _Sample,
    outcome: str,
    arm: str,
    covariates: Sequence[str],
    groups: Sequence[str],
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Internal frame with formula-safe names: y, treated, x0.., g0..; returns term-name map."""
    data: dict[str, Any] = {"y": sample.y, "treated": sample.treated.astype(np.float64)}
    names = {"Intercept": "Intercept", "treated": ""}
    cov_names = []
    for i, name in enumerate(covariates):
        safe = f"x{i}"
        data[safe] = _as_float(sample.frame[name], name)
        names[safe] = name
        cov_names.append(safe)
    for i, name in enumerate(groups):
        codes, _ = pd.factorize(sample.frame[name], sort=True)
        data[f"g{i}"] = codes
    return pd.DataFrame(data), cov_names, names


def _tidy(
    terms: Sequence[str],
    estimate: np.ndarray,
    std_error: np.ndarray,
    df: np.ndarray,
    confidence: float,
) -> pd.DataFrame:
    estimate = np.asarray(estimate, dtype=np.float64)
    std_error = np.asarray(std_error, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    q = 0.5 + confidence / 2.0
    crit = np.where(np.isnan(df), stats.norm.ppf(q), stats.t.ppf(q, np.where(np.isnan(df), 1, df)))
    stat = estimate / std_error
    p = np.where(
        np.isnan(df),
        2 * stats.norm.sf(np.abs(stat)),
        2 * stats.t.sf(np.abs(stat), np.where(np.isnan(df), 1, df)),
    )
    return pd.DataFrame(
        {
            "term": list(terms),
            "estimate": estimate,
            "std_error": std_error,
            "ci_low": estimate - crit * std_error,
            "ci_high": estimate + crit * std_error,
            "p_value": p,
            "df": df,
        }
    )


def _between_within_df(
    data: pd.DataFrame, columns: Sequence[str], group_cols: Sequence[str]
) -> np.ndarray:
    """Denominator degrees of freedom of fixed effects, Pinheiro & Bates (2000, sec. 2.4.2).

    Levels run from the outermost grouping (e.g. school) to the observations. A term belongs to the
    outermost level within whose groups it is constant; the intercept belongs to the innermost.
    ``df_k = m_k - m_{k-1} - p_k`` with ``m_k`` the number of groups at level ``k`` (``m_0 = 1``,
    observations last) and ``p_k`` the number of terms at level ``k`` (intercept excluded).
    """
    keys = []
    for i in range(len(group_cols)):
        keys.append(group_cols[: i + 1])
    counts = [1] + [int(data.groupby(list(k), sort=False).ngroups) for k in keys] + [len(data)]
    n_levels = len(group_cols) + 1  # grouping levels + observation level
    level_of = {}
    for col in columns:
        if col == "Intercept":
            level_of[col] = n_levels
            continue
        level = n_levels
        for k, key in enumerate(keys, start=1):
            if (data.groupby(list(key), sort=False)[col].nunique() <= 1).all():
                level = k
                break
        level_of[col] = level
    p = {
        k: sum(1 for c in columns if c != "Intercept" and level_of[c] == k)
        for k in range(1, n_levels + 1)
    }
    df_level = {k: counts[k] - counts[k - 1] - p[k] for k in range(1, n_levels + 1)}
    return np.array([float(df_level[level_of[c]]) for c in columns])


def _arm_term(arm: str, treatment: object) -> str:
    return f"{arm}[{treatment}]"


def mixed_model(
    outcomes: pd.DataFrame,
    outcome: str = "posttest",
    arm: str = "arm",
    *,
    treatment: object,
    control: object,
    covariates: Sequence[str] = ("pretest",),
    levels: Sequence[str] = ("school_id", "class_id"),
    reml: bool = True,
    df_method: Literal["between-within", "normal"] = "between-within",
    confidence: float = 0.95,
) -> ModelResult:
    """Linear mixed model of ``outcome`` on the arm and covariates with nested random intercepts.

    ``outcome ~ 1 + treated + covariates + (1 | school) + (1 | school:class)`` fitted by
    :class:`statsmodels.regression.mixed_linear_model.MixedLM` with the outermost level of
    ``levels`` as ``groups`` and the next one as a variance component nested in it
    (``vc_formula={class: "0 + C(class)"}``). With one level it is a random-intercept model.

    Parameters
    ----------
    outcomes : DataFrame
        One row per student.
    outcome : str
        Numeric outcome.
    arm, treatment, control
        Arm column and the two levels; the model codes ``treated = (arm == treatment)``.
    covariates : sequence of str
        Numeric covariates (fixed effects), e.g. ``("pretest",)``; may be empty.
    levels : sequence of str
        Clustering columns from the outermost to the innermost, one or two of them, e.g.
        ``("school_id", "class_id")`` or ``("class_id",)``. Inner levels are nested in the outer
        one (class labels may repeat across schools).
    reml : bool
        REML (default) or maximum likelihood.
    df_method : {"between-within", "normal"}
        ``"between-within"`` (default): t tests and intervals with the denominator degrees of
        freedom of Pinheiro & Bates (2000, sec. 2.4.2) as in R's ``nlme`` (a school-randomized
        treatment gets ``n_schools - 2 - (school-level covariates)``). ``"normal"``: the z tests
        statsmodels reports.
    confidence : float
        Interval level.

    Returns
    -------
    ModelResult
        ``coefficients`` with terms ``Intercept``, ``arm[treatment]`` and the covariates;
        ``variance_components`` with one row per level and ``residual``, whose ``share`` column is
        the (conditional) ICC of that level.

    Raises
    ------
    ValueError
        Missing columns, unknown arm level, or fewer than 3 groups at the outermost level.
    """
    import statsmodels.formula.api as smf

    func = "mixed_model"
    levels = list(levels)
    if not 1 <= len(levels) <= 2:
        raise ValueError(f"levels must name one or two clustering columns, got {levels}")
    _check_frame(outcomes, func)
    for name in levels:
        _check_columns(outcomes, {"level": name})
    sample = _select(
        outcomes,
        func=func,
        outcome=outcome,
        arm=arm,
        treatment=treatment,
        control=control,
        extra=[*covariates, *levels],
    )
    _min_per_arm(sample, 2, func, outcome, treatment, control)
    data, cov_names, names = _prepare_model_frame(sample, outcome, arm, covariates, levels)
    n_top = int(data["g0"].nunique())
    if n_top < 3:
        raise ValueError(
            f"too few clusters: mixed_model needs at least 3 groups of {levels[0]!r}, got {n_top}"
        )
    formula = "y ~ " + " + ".join(["treated", *cov_names])
    vc = {"g1": "0 + C(g1)"} if len(levels) == 2 else None
    model = smf.mixedlm(formula, data, groups=data["g0"], re_formula="1", vc_formula=vc)
    fitted = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in ("nm", "powell", "lbfgs"):
            fitted = model.fit(reml=reml, method=method)
            if fitted.converged:
                break
    assert fitted is not None
    fe_names = list(fitted.fe_params.index)
    est = fitted.fe_params.to_numpy()
    se = np.asarray(fitted.bse_fe, dtype=np.float64)
    if df_method == "between-within":
        group_cols = ["g0", "g1"][: len(levels)]
        df = _between_within_df(data, fe_names, group_cols)
    elif df_method == "normal":
        df = np.full(len(fe_names), np.nan)
    else:
        raise ValueError(f"df_method must be 'between-within' or 'normal', got {df_method!r}")
    term = _arm_term(arm, treatment)
    labels = [term if n == "treated" else names[n] for n in fe_names]
    coefficients = _tidy(labels, est, se, df, confidence)
    comp = [levels[0]]
    variances = [float(fitted.cov_re.iloc[0, 0])]
    if len(levels) == 2:
        comp.append(levels[1])
        variances.append(float(np.asarray(fitted.vcomp)[0]))
    comp.append("residual")
    variances.append(float(fitted.scale))
    total = sum(variances)
    vcs = pd.DataFrame(
        {
            "component": comp,
            "variance": variances,
            "std_dev": np.sqrt(np.maximum(variances, 0.0)),
            "share": [v / total for v in variances],
        }
    )
    nested = f"; {levels[1]} within {levels[0]}" if len(levels) == 2 else ""
    description = (
        f"linear mixed model ({'REML' if reml else 'ML'}): {outcome} ~ "
        + " + ".join([term, *covariates])
        + f"; random intercepts for {levels[0]}{nested}"
        + f"; df: {df_method}"
    )
    n_groups = {name: int(data[f"g{i}"].nunique()) for i, name in enumerate(levels)}
    if len(levels) == 2:
        n_groups[levels[1]] = int(data.groupby(["g0", "g1"]).ngroups)
    return ModelResult(
        model=description,
        outcome=outcome,
        treatment_term=term,
        coefficients=coefficients,
        variance_components=vcs,
        n_obs=len(data),
        n_groups=n_groups,
        n_missing=sample.n_missing,
        converged=bool(fitted.converged),
        confidence=confidence,
        fitted=fitted,
    )


def binary_model(
    outcomes: pd.DataFrame,
    outcome: str = "dropped_out",
    arm: str = "arm",
    *,
    treatment: object,
    control: object,
    covariates: Sequence[str] = ("pretest",),
    cluster: str = "class_id",
    method: Literal["gee", "glm"] = "gee",
    cov_type: Literal["robust", "bias_reduced"] = "robust",
    exponentiate: bool = False,
    confidence: float = 0.95,
) -> ModelResult:
    """Logistic model of a binary outcome (dropout, completion) on the arm, clustered by class.

    Parameters
    ----------
    outcomes : DataFrame
        One row per student.
    outcome : str
        Binary column (bool, nullable boolean or 0/1).
    arm, treatment, control
        Arm column and the two levels; the model codes ``treated = (arm == treatment)``.
    covariates : sequence of str
        Numeric covariates; may be empty.
    cluster : str
        Cluster column, e.g. ``"class_id"``; needs at least 3 clusters.
    method : {"gee", "glm"}
        ``"gee"`` (default): population-averaged logistic GEE with an exchangeable working
        correlation (statsmodels ``GEE``), robust sandwich standard errors. ``"glm"``: ordinary
        logistic regression with cluster-robust (CR1) standard errors.
    cov_type : {"robust", "bias_reduced"}
        For GEE: the usual sandwich or the Mancl-DeRouen bias-reduced sandwich, better with
        fewer than ~40 clusters. Ignored for ``"glm"``.
    exponentiate : bool
        Report ``estimate``, ``ci_low`` and ``ci_high`` as odds ratios (``std_error`` stays on
        the log-odds scale).
    confidence : float
        Interval level (normal theory).

    Returns
    -------
    ModelResult
        Coefficients on the log-odds (or odds-ratio) scale; ``variance_components`` holds the
        GEE working correlation (``share`` = the within-cluster correlation), or for GLM the
        one-way ANOVA ICC of the binary outcome.
    """
    import statsmodels.api as sm

    func = "binary_model"
    _check_frame(outcomes, func)
    _check_columns(outcomes, {"cluster": cluster})
    sample = _select(
        outcomes,
        func=func,
        outcome=outcome,
        arm=arm,
        treatment=treatment,
        control=control,
        binary=True,
        extra=[*covariates, cluster],
    )
    _min_per_arm(sample, 1, func, outcome, treatment, control)
    data, cov_names, names = _prepare_model_frame(sample, outcome, arm, covariates, [cluster])
    n_clusters = int(data["g0"].nunique())
    if n_clusters < 3:
        raise ValueError(
            f"too few clusters: binary_model needs at least 3 clusters of {cluster!r}, "
            f"got {n_clusters}"
        )
    exog = sm.add_constant(data[["treated", *cov_names]], has_constant="add")
    exog = exog.rename(columns={"const": "Intercept"})
    groups = data["g0"].to_numpy()
    term = _arm_term(arm, treatment)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "gee":
            if cov_type not in ("robust", "bias_reduced"):
                raise ValueError(f"cov_type must be 'robust' or 'bias_reduced', got {cov_type!r}")
            model = sm.GEE(
                data["y"],
                exog,
                groups=groups,
                family=sm.families.Binomial(),
                cov_struct=sm.cov_struct.Exchangeable(),
            )
            fitted = model.fit(cov_type=cov_type)
            converged = bool(getattr(fitted, "converged", True))
            rho = float(model.cov_struct.dep_params)
            vcs = pd.DataFrame(
                {
                    "component": [f"{cluster} (working correlation)"],
                    "variance": [np.nan],
                    "std_dev": [np.nan],
                    "share": [rho],
                }
            )
            description = (
                f"logistic GEE, exchangeable working correlation within {cluster}, "
                f"{cov_type} sandwich SE: {outcome} ~ " + " + ".join([term, *covariates])
            )
        elif method == "glm":
            model = sm.GLM(data["y"], exog, family=sm.families.Binomial())
            fitted = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
            converged = bool(fitted.converged)
            rho = anova_icc(data["y"].to_numpy(), groups)
            vcs = pd.DataFrame(
                {
                    "component": [f"{cluster} (ANOVA ICC of the outcome)"],
                    "variance": [np.nan],
                    "std_dev": [np.nan],
                    "share": [rho],
                }
            )
            description = (
                f"logistic GLM, cluster-robust SE by {cluster}: {outcome} ~ "
                + " + ".join([term, *covariates])
            )
        else:
            raise ValueError(f"method must be 'gee' or 'glm', got {method!r}")
    fe_names = list(exog.columns)
    labels = [term if n == "treated" else names[n] for n in fe_names]
    coefficients = _tidy(
        labels,
        np.asarray(fitted.params),
        np.asarray(fitted.bse),
        np.full(len(labels), np.nan),
        confidence,
    )
    if exponentiate:
        for col in ("estimate", "ci_low", "ci_high"):
            coefficients[col] = np.exp(coefficients[col])
        description += " (odds ratios)"
    return ModelResult(
        model=description,
        outcome=outcome,
        treatment_term=term,
        coefficients=coefficients,
        variance_components=vcs,
        n_obs=len(data),
        n_groups={cluster: n_clusters},
        n_missing=sample.n_missing,
        converged=converged,
        confidence=confidence,
        fitted=fitted,
    )


def cluster_means_model(
    outcomes: pd.DataFrame,
    outcome: str = "posttest",
    arm: str = "arm",
    *,
    treatment: object,
    control: object,
    cluster: str = "school_id",
    covariates: Sequence[str] = (),
    confidence: float = 0.95,
) -> ModelResult:
    """OLS on cluster means: the analysis a two-level cluster-randomized power formula assumes.

    Each cluster's mean outcome is regressed on the treatment indicator and the cluster means of
    ``covariates``; the treatment t test has ``J - g - 2`` degrees of freedom (``J`` clusters,
    ``g`` covariates) as in Bloom (2005) and PowerUp! (Dong & Maynard 2013). With equal cluster
    sizes it is exact under the random-intercept model; it is fast enough for simulation.

    Parameters
    ----------
    outcomes : DataFrame
        One row per student.
    outcome, arm, treatment, control
        As in :func:`mixed_model`.
    cluster : str
        The unit of randomization (clusters must be nested in arms).
    covariates : sequence of str
        Student-level numeric covariates, averaged per cluster.
    confidence : float
        Interval level.

    Returns
    -------
    ModelResult
        ``coefficients`` in outcome units; no variance components.
    """
    func = "cluster_means_model"
    _check_frame(outcomes, func)
    _check_columns(outcomes, {"cluster": cluster})
    sample = _select(
        outcomes,
        func=func,
        outcome=outcome,
        arm=arm,
        treatment=treatment,
        control=control,
        extra=[*covariates, cluster],
    )
    codes = _cluster_codes(sample.frame, cluster, arm, func, treatment, control)
    m = int(codes.max()) + 1
    size = np.bincount(codes, minlength=m).astype(np.float64)
    treated = np.zeros(m)
    treated[codes] = sample.treated
    k = len(covariates)
    df = m - k - 2
    for level, count in ((treatment, int(treated.sum())), (control, int(m - treated.sum()))):
        if count < 1:
            raise ValueError(
                "too few clusters: cluster_means_model needs clusters in each arm, "
                f"got 0 in {level!r}"
            )
    if df < 1:
        raise ValueError(
            f"too few clusters: cluster_means_model with {m} clusters and {k} covariate(s) has "
            f"{df} degrees of freedom (J - g - 2); it needs at least {k + 3} clusters"
        )
    x = np.empty((m, k + 2))
    x[:, 0] = 1.0
    x[:, 1] = treated
    for i, name in enumerate(covariates):
        x[:, 2 + i] = (
            np.bincount(codes, weights=_as_float(sample.frame[name], name), minlength=m) / size
        )
    ybar = np.bincount(codes, weights=sample.y, minlength=m) / size
    beta, _, rank, _ = np.linalg.lstsq(x, ybar, rcond=None)
    if rank < x.shape[1]:
        raise ValueError("cluster_means_model: the cluster-level design matrix is rank deficient")
    resid = ybar - x @ beta
    sigma2 = float(resid @ resid) / df
    cov = sigma2 * np.linalg.inv(x.T @ x)
    term = _arm_term(arm, treatment)
    coefficients = _tidy(
        ["Intercept", term, *covariates],
        beta,
        np.sqrt(np.diag(cov)),
        np.full(k + 2, float(df)),
        confidence,
    )
    return ModelResult(
        model=f"OLS on {cluster} means: {outcome} ~ " + " + ".join([term, *covariates]),
        outcome=outcome,
        treatment_term=term,
        coefficients=coefficients,
        variance_components=pd.DataFrame(columns=["component", "variance", "std_dev", "share"]),
        n_obs=len(sample.y),
        n_groups={cluster: m},
        n_missing=sample.n_missing,
        converged=True,
        confidence=confidence,
    )
