"""``signoff history import FILE [--format jsonl|csv] [--skip-invalid]`` (DESIGN §8).

Brings a team's past decisions into the database, checked against the governance file in force
(``--config``) as of each row's submission. Prints ``imported N, skipped M already present, K
invalid`` on stdout, also when it stores nothing (then N and M are 0). Exit codes: 0 stored
(with ``--skip-invalid``, invalid rows are listed on stderr and the rest stored); 1 when any row
is invalid without ``--skip-invalid`` (nothing stored, every problem listed as
``FILE:LINE: field: message``), when the file cannot be read or holds no row, or when the
governance file or database cannot be used; 2 when the format cannot be told.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.cli_governance import load, print_problems
from bot.domain.clock import SystemClock
from bot.domain.errors import StorageBusy
from bot.domain.governance import Governance
from bot.domain.history import RawRow, RowProblem
from bot.domain.history_files import EXTENSIONS, FORMATS, csv_rows, format_of, jsonl_rows
from bot.services.history_import import ImportReport, import_history
from bot.services.runtime import Runtime
from bot.settings import load_settings
from storage.engine import is_busy
from storage.uow import SqlUnitOfWorkFactory

Database = Callable[[TextIO], AbstractContextManager[Engine | None]]
_NAME = "signoff history import"


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    config_option: Callable[[argparse.ArgumentParser], None],
    database: Database,
) -> None:
    """``history import``; ``database`` opens $SIGNOFF_DATABASE_URL (None, with a message, when it cannot)."""
    history = commands.add_parser("history", help="past decisions: bring them in from another system")
    config_option(history)
    actions = history.add_subparsers(dest="history_command", required=True)
    importing = actions.add_parser("import", help="import past requests from a JSONL or CSV file (all or nothing)")
    config_option(importing)
    importing.add_argument("file", metavar="FILE", help="the history file: .jsonl/.ndjson or .csv")
    importing.add_argument("--format", choices=FORMATS, help="jsonl or csv (default: from the file name's ending)")
    importing.add_argument(
        "--skip-invalid", action="store_true", help="store the valid rows and list the invalid ones (exit 0)"
    )
    importing.set_defaults(run=partial(run_import, database=database))


def run_import(args: argparse.Namespace, out: TextIO, err: TextIO, *, database: Database) -> int:
    fmt = format_of(args.file, args.format)
    if fmt is None:
        endings = ", ".join(EXTENSIONS)
        said = f"cannot tell the format of {args.file}; name it {endings}, or give --format jsonl|csv"
        print(f"{_NAME}: {said}", file=err)
        return 2
    config = Path(args.config) if getattr(args, "config", None) else load_settings().config
    governance, problems = load(config)
    if governance is None:
        print_problems(config, problems, err)
        return 1
    try:
        # surrogateescape: bytes that are not UTF-8 make that row invalid rather than the whole file
        stream = open(args.file, encoding="utf-8-sig", errors="surrogateescape", newline="")  # noqa: SIM115
    except OSError as exc:
        print(f"{_NAME}: cannot read {args.file} ({exc.strerror or exc})", file=err)
        return 1
    with stream, database(err) as engine:
        if engine is None:
            return 1
        runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=SystemClock())
        try:
            report = import_history(
                runtime=runtime, rows=_rows(fmt, stream, governance), source=args.file, skip_invalid=args.skip_invalid
            )
        except (SQLAlchemyError, StorageBusy) as exc:
            if isinstance(exc, StorageBusy) or is_busy(exc):
                raise  # `signoff: the database … is busy …` (bot.cli)
            said = " ".join(str(exc).split())[:300]
            print(f"{_NAME}: the database refused the import, nothing was stored ({said}); is it upgraded?", file=err)
            return 1
    return _answer(report, args.file, out, err)


def _rows(fmt: str, stream: TextIO, governance: Governance) -> Iterator[RawRow | RowProblem]:
    if fmt == "jsonl":
        return jsonl_rows(stream)
    names = {name for kind in governance.kinds.values() for name in kind.contract.fields}
    return csv_rows(stream, names)


def _answer(report: ImportReport, source: str, out: TextIO, err: TextIO) -> int:
    for problem in report.problems:
        print(problem.located(source), file=err)
    print(report.summary(), file=out)  # refused or not: scripts read the counts from this line
    if report.empty:
        print(f"{_NAME}: {source} holds no rows (an empty export?); nothing was imported", file=err)
        return 1
    if report.unreadable:
        print(f"{_NAME}: {source} cannot be read as a history file; nothing was imported", file=err)
        return 1
    if not report.stored:
        rows = f"{report.invalid} invalid row{'s' if report.invalid != 1 else ''}" if report.invalid else "problems"
        print(f"{_NAME}: {rows} in {source}; nothing was imported (--skip-invalid imports the valid rows)", file=err)
        return 1
    return 0
