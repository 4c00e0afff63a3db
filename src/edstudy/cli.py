"""The ``edstudy`` command: run a study, build the HTML reports, serve the teacher dashboard.

Each subcommand imports what it needs only when it runs, so ``edstudy --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from edstudy.experiment.runner import run_study_file

    out = run_study_file(args.study, args.out, scheduler=args.scheduler)
    print(f"study results written to {out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from edstudy.report import build_reports

    index = build_reports(
        args.out,
        notebook_dir=args.notebooks,
        only=args.only or None,
        profile=args.profile,
        progress=not args.quiet,
    )
    print(f"report written to {index.resolve()}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edstudy",
        description="Test individualized vs personalized learning on simulated and real cohorts.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a study described by a YAML file")
    run.add_argument("study", type=Path, help="study YAML, e.g. data/default_study.yaml")
    run.add_argument("--out", type=Path, required=True, help="folder for log, outcomes, summary")
    run.add_argument(
        "--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786"
    )
    run.set_defaults(func=_run)

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
    report.set_defaults(func=_report)

    dash = sub.add_parser("dashboard", help="serve the teacher dashboard with Voila")
    dash.add_argument("--port", type=int, default=8866)
    dash.add_argument("--no-browser", action="store_true")
    dash.set_defaults(func=_dashboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``edstudy`` console script.

    Bad input (a study or rule file with an error, a table that fails the schema, a missing file)
    is reported as one readable ``error:`` message with exit status 2, not a traceback.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError, FileNotFoundError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
