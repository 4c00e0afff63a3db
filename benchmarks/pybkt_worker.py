"""Run pyBKT inside its own virtual environment (called by the BKT benchmarks; not edstudy code).

Usage: ``<pybkt-venv>/bin/python benchmarks/pybkt_worker.py '<json task>'``. Tasks:

* ``{"task": "fit", "data": csv, "out": json, "forgets": bool, "num_fits": int, "seed": int,
  "repeat": int}``: fits ``repeat`` times; writes the fit times, pyBKT's version and ``coef_``.
* ``{"task": "cv", ... , "folds": int}``: ``data`` has a ``fold`` column; for each fold fits on
  the other folds and predicts the held-out rows; writes ``row`` and ``p`` (P(correct)) lists.
"""

import json
import resource
import sys
import time

import numpy as np
import pandas as pd
import pyBKT
from pyBKT.models import Model


def _coef(model):
    out = {}
    for skill, c in model.coef_.items():
        out[skill] = {
            k: (np.asarray(v, dtype=float).reshape(-1).tolist() if k != "prior" else float(v))
            for k, v in c.items()
        }
    return out


def _cpu():
    """CPU seconds of this process (all threads) and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main():
    task = json.loads(sys.argv[1])
    df = pd.read_csv(task["data"], dtype={"skill_name": str})
    out = {"version": pyBKT.version}
    if task["task"] == "fit":
        times, cpu = [], []
        for _ in range(task.get("repeat", 1)):
            model = Model(seed=task["seed"], num_fits=task["num_fits"])
            data = df.drop(columns=["row"]).copy()
            t0, c0 = time.perf_counter(), _cpu()
            model.fit(data=data, forgets=task["forgets"])
            times.append(time.perf_counter() - t0)
            cpu.append(_cpu() - c0)
        out["times"] = times
        out["cpu"] = cpu
        out["coef"] = _coef(model)
    elif task["task"] == "cv":
        rows, preds, times = [], [], []
        for k in range(task["folds"]):
            train = df[df["fold"] != k].drop(columns=["fold"]).copy()
            test = df[df["fold"] == k].drop(columns=["fold"]).copy()
            skills = sorted(set(train["skill_name"]))
            test = test[test["skill_name"].isin(skills)].copy()
            model = Model(seed=task["seed"], num_fits=task["num_fits"])
            t0 = time.perf_counter()
            model.fit(data=train, forgets=task["forgets"])
            times.append(time.perf_counter() - t0)
            pred = model.predict(data=test)
            rows += pred["row"].astype(int).tolist()
            preds += pred["correct_predictions"].astype(float).tolist()
        out.update(row=rows, p=preds, times=times)
    else:
        raise SystemExit(f"unknown task {task['task']!r}")
    with open(task["out"], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
