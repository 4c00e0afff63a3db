"""The ``edstudy`` command: run a study, analyse a trial, build the HTML reports, serve the
teacher dashboard.

Each subcommand imports what it needs only when it runs, so ``edstudy --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _recorded_command(args: argparse.Namespace) -> list[str]:
    """The command line as given, with the output folder written ``<out>`` so that the same
    command writes the same manifest wherever its results go."""
    out, argv = [], list(args.argv)
    for i, a in enumerate(argv):
        if i and argv[i - 1] == "--out":
            a = "<out>"
        elif a.startswith("--out="):
            a = "--out=<out>"
        out.append(a)
    return ["edstudy", *out]


def _run(args: argparse.Namespace) -> int:
    from edstudy.experiment.runner import run_study_file

    out = run_study_file(
        args.study,
        args.out,
        scheduler=args.scheduler,
        overwrite=args.overwrite,
        command=_recorded_command(args),
        format=args.format,
    )
    print(f"study results written to {out}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from edstudy.investigations.trial import run_trial_file

    out, result = run_trial_file(
        args.trial, args.out, overwrite=args.overwrite, command=_recorded_command(args)
    )
    for sentence in result.finding_sentences():
        print(sentence)
    print(f"trial results written to {out} (report.html, effects.csv, standards.json)")
    return 0


def _kt_benchmark(args: argparse.Namespace) -> int:
    import warnings

    from edstudy._output import result_folder
    from edstudy.datasets import REAL_DATASETS, load_csv, load_log
    from edstudy.kt import benchmark, published_beside

    name = str(args.log)
    if name in REAL_DATASETS:
        log = load_log(name, verbose=True)
    else:
        path = Path(args.log)
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: no such file; give a response-log CSV or a dataset name "
                f"({', '.join(REAL_DATASETS)})"
            )
        log = load_csv(path, {c: c for c in ("student_id", "skill_id", "order", "correct")})
    models = [m.strip() for m in args.models.split(",")] if args.models else None
    with result_folder(
        args.out, kind="kt-benchmark", overwrite=args.overwrite, seed=args.seed,
        command=_recorded_command(args),
    ) as tmp:  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notes of the EM fits are in the table
            table = benchmark(
                log, models, folds=args.folds, seed=args.seed, level=args.level,
                progress=None if args.quiet else print,
            )  # fmt: skip
        table.to_csv(tmp / "benchmark.csv", index=False)
        text = published_beside(table, name if name in REAL_DATASETS else None)
        (tmp / "benchmark.md").write_text(f"# Student models on {name}\n\n{text}", encoding="utf-8")
    print(table.round(4).to_string(index=False))
    print(f"kt benchmark written to {args.out} (benchmark.csv, benchmark.md)")
    return 0


def _report(args: argparse.Namespace) -> int:
    from edstudy.report import build_reports

    index = build_reports(
        args.out,
        notebook_dir=args.notebooks,
        only=args.only or None,
        profile=args.profile,
        progress=not args.quiet,
        overwrite=args.overwrite,
    )
    print(f"report written to {index.resolve()}")
    return 0


def _init(args: argparse.Namespace) -> int:
    from edstudy.scaffold import init_project

    root = init_project(args.directory, name=args.name)
    print(f"study project written to {root}; next: see {root / 'README.md'}")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    import subprocess

    from edstudy.report import default_notebook_dir

    notebook = default_notebook_dir() / "06_teacher_dashboard.ipynb"
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={args.port}",
        "--Voila.ip=127.0.0.1",
    ]
    if args.no_browser:
        cmd.append("--no-browser")
    return subprocess.call(cmd)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a whole number, got {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, got {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edstudy",
        description="Test individualized vs personalized learning on simulated and real cohorts.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a study described by a YAML file")
    run.add_argument("study", type=Path, help="study YAML, or a shipped study's name: default")
    run.add_argument("--out", type=Path, required=True, help="folder for log, outcomes, summary")
    run.add_argument(
        "--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786"
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier edstudy result in --out (never files edstudy did not write)",
    )
    run.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="csv (default): outcomes.csv and log.csv.gz; parquet: every task writes its own "
        "Parquet parts and the log is never gathered (big studies)",
    )
    run.set_defaults(func=_run)

    analyze = sub.add_parser(
        "analyze", help="analyse a randomized trial described by a trial file (YAML)"
    )
    analyze.add_argument(
        "trial", type=Path, help="trial YAML, or a shipped example (video_vs_text)"
    )
    analyze.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder for report.html, effects.csv, standards.json",
    )
    analyze.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier edstudy result in --out (never files edstudy did not write)",
    )
    analyze.set_defaults(func=_analyze)

    ktb = sub.add_parser("kt-benchmark", help="score student models on the same student folds")
    ktb.add_argument("log", help="a response-log CSV, or a dataset name (assistments2009, ...)")
    ktb.add_argument("--out", type=Path, required=True, help="folder for benchmark.csv/.md")
    ktb.add_argument("--models", default=None, help="comma-separated names of edstudy.kt.MODELS")
    ktb.add_argument("--folds", type=int, default=5)
    ktb.add_argument("--seed", type=int, default=0)
    ktb.add_argument(
        "--level", choices=("row", "attempt", "both"), default="attempt",
        help="score every skill row, or one prediction per attempt (Gervet et al.)",
    )  # fmt: skip
    ktb.add_argument("--quiet", action="store_true")
    ktb.add_argument("--overwrite", action="store_true")
    ktb.set_defaults(func=_kt_benchmark)

    report = sub.add_parser("report", help="execute the notebooks and export HTML reports")
    report.add_argument(
        "--out", type=Path, default=Path("reports"), help="output folder (default: reports)"
    )
    report.add_argument(
        "--profile", default="full", help="parameter profile: full (default) or small"
    )
    report.add_argument(
        "--notebooks", type=Path, default=None, help="notebook folder (default: repo notebooks/)"
    )
    report.add_argument("--only", nargs="*", help="notebook names or number prefixes to run")
    report.add_argument("--quiet", action="store_true", help="no progress bars")
    report.add_argument(
        "--overwrite", action="store_true", help="replace an earlier edstudy report in --out"
    )
    report.set_defaults(func=_report)

    init = sub.add_parser("init", help="start a study project of your own in a new folder")
    init.add_argument("directory", type=Path, help="the project folder (new or empty)")
    init.add_argument("--name", default=None, help="the study's name (default: the folder name)")
    init.set_defaults(func=_init)

    dash = sub.add_parser("dashboard", help="serve the teacher dashboard with Voila")
    dash.add_argument("--port", type=_port, default=8866, help="1-65535 (default 8866)")
    dash.add_argument("--no-browser", action="store_true")
    dash.set_defaults(func=_dashboard)
    return parser


def _user_message(err: BaseException) -> str:
    if isinstance(err, RecursionError):
        return "the input is nested too deeply to read (a YAML file or a rule condition)"
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    if isinstance(err, UnicodeDecodeError):
        return f"a file is not UTF-8 text ({err.reason} at byte {err.start})"
    if isinstance(err, OSError) and err.filename is not None:
        return f"{err.filename}: {err.strerror or err}"
    return str(err)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``edstudy`` console script.

    Bad input (a study or rule file with an error, a table that fails the schema, a missing or
    unreadable file, an output folder that holds other files) is reported as one readable
    ``error:`` message with exit status 2, not a traceback. ``EDSTUDY_DEBUG=1`` shows the
    traceback instead.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except (ValueError, KeyError, OSError, RecursionError) as err:
        if os.environ.get("EDSTUDY_DEBUG"):
            raise
        print(f"error: {_user_message(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written (partial results are removed)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
