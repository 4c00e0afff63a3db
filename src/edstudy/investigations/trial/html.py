"""``report.html`` of a trial: a small self-contained page, without Jupyter.

The page leads with the finding (the rating and the main effect of every outcome, then the
forest plot), then the standards (attrition against the WWC boundary, baseline equivalence), the
impacts, moderators, process measures and caveats; long tables go to an appendix. Figures are
embedded PNGs (:func:`edstudy.plots.figure_png`); tables come from the result's DataFrames. No
timestamps or paths are written, so the same trial gives the same bytes.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from edstudy import __version__
from edstudy.investigations.trial.result import EFFECT_COLUMNS, MAIN_ESTIMATOR, TrialResult

__all__ = ["report_html", "write_report_html"]

_CSS = " ".join(
    [
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;",
        "line-height:1.5;color:#222} h1{margin-bottom:.2rem}",
        "h2{border-bottom:1px solid #ddd;margin-top:2.2rem}",
        "table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}",
        "td,th{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:right}",
        "th{background:#f6f6f6} td:first-child,th:first-child{text-align:left}",
        ".finding{background:#f3f8fc;border-left:4px solid #0072B2;padding:.6rem 1rem;",
        "margin:.6rem 0} .rating{font-weight:600} .caveat{color:#7b4a00}",
        "img{max-width:100%} .small{font-size:.85rem;color:#555}",
    ]
)


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    if frame.empty:
        return "<p class='small'><i>none</i></p>"
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
    return shown.to_html(index=False, escape=True, border=0, na_rep="")


def _figure(result: TrialResult, kind: str, alt: str) -> str:
    from edstudy.plots import figure_png

    png = figure_png(result.plot(kind), dpi=90)
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _esc(text: str) -> str:
    return html.escape(str(text))


def _findings(result: TrialResult) -> str:
    parts = []
    for sentence in result.finding_sentences():
        head, _, rest = sentence.partition(": ")
        rating, _, effect = rest.partition(". ")
        parts.append(
            f"<div class='finding'><b>{_esc(head)}</b><br><span class='rating'>{_esc(rating)}"
            f"</span><br>{_esc(effect)}</div>"
        )
    return "\n".join(parts)


def _main_table(result: TrialResult) -> pd.DataFrame:
    m = result.main_effects()
    return pd.DataFrame(
        {
            "outcome": m["outcome"],
            "comparison": m["treatment"] + " vs " + m["control"],
            "g (model)": m["estimate"],
            "CI low": m["ci_low"],
            "CI high": m["ci_high"],
            "improvement index": m["improvement_index"],
            "difference": m["difference"],
            "scale": m["difference_scale"],
            "% of control mean": m["percent_of_control_mean"],
            "p": m["p_value"],
            "p (BH)": m["p_value_bh"],
        }
    )


def _attrition_table(result: TrialResult) -> pd.DataFrame:
    a = result.attrition
    return pd.DataFrame(
        {
            "outcome": a["outcome"],
            "comparison": a["treatment"] + " vs " + a["control"],
            "level": a["level"],
            "randomized": a["randomized_treatment"].astype(str)
            + " / "
            + a["randomized_control"].astype(str),
            "analysed": a["analyzed_treatment"].astype(str)
            + " / "
            + a["analyzed_control"].astype(str),
            "overall %": 100 * a["overall"],
            "differential pp": 100 * a["differential"],
            "boundary pp": 100 * a["max_differential"],
            "attrition": a["low_attrition"].map({True: "low", False: "high"}),
        }
    )


def report_html(result: TrialResult) -> str:
    """The report page of a trial as HTML text."""
    spec = result.spec
    title = f"{spec.name}: trial analysis"
    sections = [
        f"<h1>{_esc(title)}</h1>",
        f"<p class='small'>{_esc(spec.design_text())}; {result.n_randomized} students randomized "
        f"to {_esc(', '.join([*spec.treatments, spec.control]))} (control {_esc(spec.control)}); "
        f"data: {_esc(spec.data_label)}; WWC {_esc(spec.boundary)} attrition boundary.</p>",
        f"<p>{_esc(spec.description)}</p>" if spec.description else "",
        "<h2>Finding</h2>",
        _findings(result),
        _figure(result, "forest", "effect sizes per outcome and estimator"),
        "<p class='small'>The improvement index is the expected change in percentile rank of an "
        "average control student; set a claim such as “+28% test scores” against the "
        "“% of control mean” column and its interval, not against the best single "
        "number.</p>",
        "<h2>Impacts</h2>",
        _table(_main_table(result)),
        "<h2>Attrition</h2>",
        _table(_attrition_table(result)),
        _figure(result, "attrition", "attrition against the WWC boundary"),
    ]
    if not result.baseline.empty:
        b = result.baseline
        shown = b[["outcome", "treatment", "covariate", "measure", "effect_size", "category"]]
        sections += [
            "<h2>Baseline equivalence</h2>",
            _table(shown),
            _figure(result, "baseline", "baseline differences"),
        ]
    if not result.moderators.empty:
        mod = result.moderators
        cols = ["outcome", "treatment", "moderator", "term", "level", "estimate", "ci_low",
                "ci_high", "p_value"]  # fmt: skip
        sections += ["<h2>Moderators</h2>", _table(mod[cols])]
    if result.process is not None:
        sections += [
            "<h2>Process measures (response log)</h2>",
            "<p class='small'>Descriptive, not impacts: students who practise more are not a "
            "random subset.</p>",
            _figure(result, "process", "process measures"),
            _table(result.process.summary),
        ]
    sections += [
        "<h2>Ratings and reasons</h2>",
        "".join(
            f"<p><b>{_esc(r.outcome)}, {_esc(r.treatment)} vs {_esc(r.control)}</b>: "
            f"{_esc(r.rating)}<br><span class='small'>{_esc(r.reasons)}</span></p>"
            for r in result.ratings.itertuples(index=False)
        ),
        "<h2>Caveats</h2><ul>"
        + "".join(f"<li class='caveat'>{_esc(c)}</li>" for c in result.caveats)
        + "</ul>",
        "<h2>Appendix: every estimate</h2>",
        _table(result.effects_table()[[*EFFECT_COLUMNS, "p_value_bh", "improvement_index"]]),
        "<h3>Methods</h3><ul>"
        + "".join(
            f"<li><b>{_esc(e)}</b>: {_esc(m)}</li>"
            for e, m in result.effects.drop_duplicates("estimator")[
                ["estimator", "method"]
            ].itertuples(index=False)
        )
        + "</ul>",
        f"<p class='small'>Headline estimator: {MAIN_ESTIMATOR}. Sources: "
        f"{_esc(result.standards['sources'])}. Rounding: {_esc(result.standards['rounding'])}. "
        f"edstudy {_esc(__version__)}.</p>",
    ]
    body = "\n".join(s for s in sections if s)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def write_report_html(result: TrialResult, path: str | Path) -> Path:
    """Write :func:`report_html` to ``path``; return the path."""
    target = Path(path)
    target.write_text(report_html(result), encoding="utf-8")
    return target
