"""Benchmark and calibration of the Bayesian models (edstudy.bayes).

Parts (``--part``, default all):

- ``speed``: hierarchical BKT on 1,000 students x 3 skills x 20 opportunities, NUTS with 4 chains
  on the machine's cores: wall and CPU seconds, the smallest bulk ESS of the population
  parameters, ESS per second, divergences, R-hat, and whether the truth is inside the 90 %
  intervals. Samplers: PyMC's NUTS and, when installed, nutpie (numba backend) with the same
  warm-up and with its own default warm-up of 300 ("nutpie-short").
- ``coverage``: repeated simulations at a fixed truth (200 students x 3 skills x 15): share of
  population parameters inside their 90 % intervals.
- ``sbc``: simulation-based calibration (Talts et al. 2018) of the population parameters, with
  parameters drawn from the prior: rank uniformity (chi-square) and 90 % interval coverage.
- ``meshing``: repeated meshing studies with no effect and with a true effect: how often the 90 %
  interval of the match effect covers 0, covers the truth, and excludes 0.

Usage::

    python benchmarks/bayes_speed.py                 # everything (about 20-30 min on 2 cores)
    python benchmarks/bayes_speed.py --part speed --samplers pymc nutpie
    python benchmarks/bayes_speed.py --quick         # small sizes, a smoke run

Results are printed as Markdown and written as JSON to ``--out`` (default
``benchmarks/results_bayes.json``); the notes are in ``benchmarks/results_bayes.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore", category=FutureWarning)


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _inside(idata, truth, interval: float = 0.9) -> tuple[int, int]:
    q = [(1 - interval) / 2, (1 + interval) / 2]
    inside = total = 0
    for name, value in truth.population().items():
        x = idata.posterior[name].to_numpy().reshape(-1, *np.shape(value))
        lo, hi = np.quantile(x, q, axis=0)
        inside += int(np.sum((lo <= value) & (value <= hi)))
        total += int(np.size(value))
    return inside, total


def part_speed(
    *, samplers: list[str], n_students: int, draws: int, tune: int, cores: int, seed: int
) -> list[dict]:
    import arviz as az

    from edstudy.bayes import FitSettings
    from edstudy.bayes.hbkt import POPULATION_VARS, build_hbkt_model, fit_hbkt
    from edstudy.bayes.synthetic import simulate_hbkt

    log, truth = simulate_hbkt(n_students=n_students, n_skills=3, n_opportunities=20, seed=seed)
    results = []
    for sampler in samplers:
        if sampler.startswith("nutpie") and importlib.util.find_spec("nutpie") is None:
            print("nutpie is not installed: skipped")
            continue
        # "nutpie-short": nutpie's own default warm-up (300), which its adaptation is built for
        n_tune = min(tune, 300) if sampler == "nutpie-short" else tune
        cpu0, t0 = _cpu_seconds(), time.perf_counter()
        if sampler.startswith("nutpie"):
            import nutpie

            model = build_hbkt_model(log)
            compiled = nutpie.compile_pymc_model(model, backend="numba")
            compile_s = time.perf_counter() - t0
            idata = nutpie.sample(
                compiled,
                draws=draws,
                tune=n_tune,
                chains=4,
                cores=cores,
                seed=seed,
                progress_bar=False,
            )
        else:
            compile_s = float("nan")
            idata = fit_hbkt(
                log,
                settings=FitSettings(
                    draws=draws, tune=tune, chains=4, cores=cores, target_accept=0.8
                ),
                seed=seed,
            )
        wall = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
        summary = az.summary(idata, var_names=list(POPULATION_VARS))
        ess_z = az.ess(idata, var_names=["z_prior", "z_learn"])
        min_ess = float(summary["ess_bulk"].min())
        inside, total = _inside(idata, truth)
        row = {
            "sampler": sampler,
            "data": f"{n_students} students x 3 skills x 20",
            "chains": 4,
            "tune": n_tune,
            "draws": draws,
            "cores": cores,
            "wall_s": round(wall, 1),
            "compile_s": round(compile_s, 1),
            "cpu_s": round(cpu, 1),
            "min_ess_bulk_population": round(min_ess),
            "min_ess_bulk_students": round(
                float(min(ess_z["z_prior"].min(), ess_z["z_learn"].min()))
            ),
            "ess_per_s": round(min_ess / wall, 2),
            "max_rhat": float(summary["r_hat"].max()),
            "divergences": int(idata.sample_stats["diverging"].sum()),
            "mean_leapfrog_steps": float(idata.sample_stats["n_steps"].mean()),
            "truth_in_90": f"{inside}/{total}",
        }
        print(row, flush=True)
        results.append(row)
    return results


def part_coverage(*, replicates: int, seed: int) -> dict:
    from edstudy.bayes import FitSettings
    from edstudy.bayes.hbkt import fit_hbkt
    from edstudy.bayes.synthetic import simulate_hbkt

    rng = np.random.default_rng(seed)
    inside = total = 0
    per_param: dict[str, list[bool]] = {}
    for _ in range(replicates):
        log, truth = simulate_hbkt(
            n_students=200,
            n_skills=3,
            n_opportunities=15,
            mu_prior=[-1.0, -0.3, 0.4],
            mu_learn=[-1.2, -2.0, -1.6],
            sigma_prior=0.8,
            sigma_learn=0.5,
            guess=[0.15, 0.25, 0.3],
            slip=[0.05, 0.1, 0.15],
            seed=rng,
        )
        idata = fit_hbkt(
            log,
            settings=FitSettings(draws=500, tune=500, chains=2, cores=1),
            seed=int(rng.integers(2**31)),
        )
        q = [0.05, 0.95]
        for name, value in truth.population().items():
            x = idata.posterior[name].to_numpy().reshape(-1, *np.shape(value))
            lo, hi = np.quantile(x, q, axis=0)
            hits = np.atleast_1d((lo <= value) & (value <= hi))
            per_param.setdefault(name, []).extend(hits.tolist())
            inside += int(hits.sum())
            total += hits.size
    out = {
        "replicates": replicates,
        "inside": inside,
        "total": total,
        "coverage_90": round(inside / total, 3),
        "by_parameter": {k: round(float(np.mean(v)), 3) for k, v in per_param.items()},
    }
    print(out, flush=True)
    return out


def part_sbc(*, replicates: int, seed: int) -> dict:
    from edstudy.bayes.sbc import sbc_hbkt, sbc_uniformity

    t0 = time.perf_counter()
    ranks = sbc_hbkt(n_replicates=replicates, seed=seed)
    table = sbc_uniformity(ranks)
    print(table.to_string(), flush=True)
    out = {
        "replicates": replicates,
        "cohort": "40 students x 2 skills x 10 opportunities, NUTS 2 x 300 draws",
        "seconds": round(time.perf_counter() - t0, 1),
        "coverage_90_all": round(float(ranks["covered"].mean()), 3),
        "min_p_value": float(table["p_value"].min()),
        "replicates_with_divergences": int(
            (ranks.groupby("replicate")["divergences"].first() > 0).sum()
        ),
        "by_parameter": table.round(4).to_dict(orient="index"),
    }
    print({k: v for k, v in out.items() if k != "by_parameter"}, flush=True)
    return out


def part_meshing(*, replicates: int, seed: int, effect: float = 0.08) -> dict:
    from edstudy.bayes import FitSettings
    from edstudy.bayes.meshing import fit_meshing, meshing_summary
    from edstudy.bayes.synthetic import simulate_meshing

    rng = np.random.default_rng(seed)
    out = {}
    for true in (0.0, effect):
        covers_truth = covers_zero = 0
        means = []
        for _ in range(replicates):
            log, outcomes, _ = simulate_meshing(n_students=300, match_effect=true, seed=rng)
            idata = fit_meshing(
                log,
                outcomes,
                settings=FitSettings(draws=400, tune=400, chains=2, cores=1, target_accept=0.95),
                seed=int(rng.integers(2**31)),
            )
            row = meshing_summary(idata, interval=0.9).loc["match_effect"]
            covers_truth += int(row["lower"] <= true <= row["upper"])
            covers_zero += int(row["lower"] <= 0 <= row["upper"])
            means.append(float(row["mean"]))
        out[f"effect={true}"] = {
            "replicates": replicates,
            "interval_covers_truth": covers_truth,
            "interval_covers_0": covers_zero,
            "mean_estimate": round(float(np.mean(means)), 4),
        }
    print(out, flush=True)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", choices=["speed", "coverage", "sbc", "meshing", "all"], default="all"
    )
    parser.add_argument("--samplers", nargs="+", default=["pymc", "nutpie", "nutpie-short"])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--seed", type=int, default=20240)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results_bayes.json"))
    args = parser.parse_args(argv)
    cores = min(4, os.cpu_count() or 1)
    quick = args.quick
    results: dict = {"machine": {"cpu_count": os.cpu_count()}}
    if args.part in ("speed", "all"):
        results["speed"] = part_speed(
            samplers=args.samplers,
            n_students=100 if quick else 1000,
            draws=200 if quick else 1000,
            tune=200 if quick else 1000,
            cores=cores,
            seed=args.seed,
        )
    if args.part in ("coverage", "all"):
        results["coverage"] = part_coverage(replicates=2 if quick else 20, seed=args.seed)
    if args.part in ("sbc", "all"):
        results["sbc"] = part_sbc(replicates=3 if quick else 100, seed=args.seed)
    if args.part in ("meshing", "all"):
        results["meshing"] = part_meshing(replicates=2 if quick else 20, seed=args.seed)
    if not quick:
        previous = json.loads(args.out.read_text()) if args.out.exists() else {}
        previous.update(results)
        args.out.write_text(json.dumps(previous, indent=2, default=float) + "\n")
    return results


if __name__ == "__main__":
    main()
