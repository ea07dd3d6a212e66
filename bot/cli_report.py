"""``signoff report [--since …] [--until …] [--kind K] [--format text|json|html] [--output FILE]`` (DESIGN §8).

The decision surface of requests submitted in a window, live and imported alike. ``text`` and
``json`` print to stdout unless ``--output`` names a file; ``html`` is one self-contained file
and needs ``--output`` (a page of base64 images is no terminal output).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from bot.cli_governance import load, print_problems
from bot.cli_output import output_problem, write_replacing
from bot.domain.clock import SystemClock
from bot.domain.governance import UnknownKind
from bot.domain.surface import DEFAULT_SINCE, SurfaceReport, parse_window
from bot.domain.surface_json import report_json
from bot.domain.surface_text import text_report
from bot.services.report import surface_report
from bot.services.runtime import Runtime
from storage.uow import SqlUnitOfWorkFactory

Database = Callable[[TextIO], AbstractContextManager[Engine | None]]
FORMATS = ("text", "json", "html")


def window_options(command: argparse.ArgumentParser) -> None:
    """``--since``, ``--until`` and ``--kind``: the window of stored requests (DESIGN §8 "The window"),
    read alike by ``report``, ``suggest`` and ``simulate`` (``bot.domain.surface_window.parse_window``)."""
    command.add_argument(
        "--since", help=f"a duration back from now (e.g. 30d) or a date, 2026-06-01 (default: {DEFAULT_SINCE})"
    )
    command.add_argument("--until", help="a date, exclusive (default: now)")
    command.add_argument("--kind", action="append", help="only this kind (repeat for more)")


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    config_option: Callable[[argparse.ArgumentParser], None],
    config_path: Callable[[str | None], Path],
    database: Database,
) -> None:
    """Add ``signoff report``; it reads the governance file from ``config_path`` and the database."""
    report = commands.add_parser("report", help="the decision surface: who and what decided, per kind")
    config_option(report)
    window_options(report)
    report.add_argument("--format", choices=FORMATS, default="text", help="text (default), json, or html")
    report.add_argument("--output", help="write to this file (required for --format html)")

    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        return run_report(args, config_path(getattr(args, "config", None)), database, out, err)

    report.set_defaults(run=run)


def run_report(args: argparse.Namespace, config: Path, database: Database, out: TextIO, err: TextIO) -> int:
    """Exit 0 with the report written; 1 (governance, database, file) or 2 (options) with one line on ``err``."""
    if args.output is not None and (problem := output_problem("--output", args.output)):
        print(f"signoff report: {problem}", file=err)
        return 2
    if args.format == "html" and not args.output:
        print("signoff report: --format html writes one file: add --output FILE (e.g. report.html)", file=err)
        return 2
    governance, problems = load(config)
    if governance is None:
        print_problems(config, problems, err)
        return 1
    clock = SystemClock()
    try:
        window = parse_window(args.since, args.until, now=clock.now(), timezone=governance.tz)
    except ValueError as exc:
        print(f"signoff report: {exc}", file=err)
        return 2
    with database(err) as engine:
        if engine is None:
            return 1
        runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=clock)
        try:
            report = surface_report(runtime, window=window, kinds=args.kind)
        except UnknownKind as exc:
            print(f"signoff report: {exc}", file=err)
            return 2
    return _write(report, args.format, args.output, out, err)


def _render(report: SurfaceReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "html":
        from bot.charts import html_report  # matplotlib loads for html only: other commands start faster

        return html_report(report)
    return text_report(report)


def _write(report: SurfaceReport, fmt: str, output: str | None, out: TextIO, err: TextIO) -> int:
    text = _render(report, fmt)
    if output is None:
        out.write(text)
        return 0
    try:
        write_replacing(output, text)  # an existing file stays whole until the new one is complete
    except OSError as exc:
        print(f"signoff report: --output: cannot write {output}: {exc.strerror or exc}", file=err)
        return 1
    print(f"wrote {output}", file=err)
    return 0
