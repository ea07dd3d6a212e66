"""``signoff simulate CANDIDATE [--since …] [--until …] [--kind K] [--json] [--per-request FILE]`` (DESIGN §8).

A backtest: the stored requests of the window replayed through the governance file CANDIDATE and
through the file in force (``--config``), compared with what happened. Text (default) or one JSON
document on stdout; ``--per-request FILE`` also writes one JSON line per request of the window.
Stores nothing.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from bot.cli_governance import load, print_problems
from bot.domain.clock import SystemClock
from bot.domain.governance import ERROR, Governance, UnknownKind
from bot.domain.simulate import Replayed, Simulation
from bot.domain.simulate_report import simulation_json, simulation_text
from bot.domain.surface import DEFAULT_SINCE, Window, parse_window
from bot.services.runtime import Runtime
from bot.services.simulate import simulate_candidate
from storage.migrate import current_revision
from storage.uow import SqlUnitOfWorkFactory

Database = Callable[[TextIO], AbstractContextManager[Engine | None]]
NAME = "signoff simulate"


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    config_option: Callable[[argparse.ArgumentParser], None],
    config_path: Callable[[str | None], Path],
    database: Database,
) -> None:
    """Add ``signoff simulate``; the file in force comes from ``config_path``, history from the database."""
    command = commands.add_parser("simulate", help="backtest a governance file on stored history")
    config_option(command)
    command.add_argument("candidate", metavar="CANDIDATE", help="the governance file to try")
    command.add_argument(
        "--since", help=f"a duration back from now (e.g. 30d) or a date, 2026-06-01 (default: {DEFAULT_SINCE})"
    )
    command.add_argument("--until", help="a date, exclusive (default: now)")
    command.add_argument("--kind", action="append", help="only this kind (repeat for more)")
    command.add_argument("--json", action="store_true", help="print one JSON document (DESIGN §8)")
    command.add_argument("--per-request", metavar="FILE", help="also write one JSON line per request to FILE")

    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        return run_simulate(args, config_path(getattr(args, "config", None)), database, out, err)

    command.set_defaults(run=run)


def _candidate(path: Path, err: TextIO) -> Governance | None:
    """The candidate file, or None after saying why: one line when it cannot be read at all, else
    every problem located as ``signoff check`` prints them. Its warnings are printed too."""
    governance, problems = load(path)
    unreadable = governance is None and len(problems) == 1 and not problems[0].path and not problems[0].line
    if unreadable:
        print(f"{NAME}: {problems[0].message}", file=err)
        return None
    print_problems(path, problems, err)
    return governance


def run_simulate(args: argparse.Namespace, config: Path, database: Database, out: TextIO, err: TextIO) -> int:
    """Exit 0 with the comparison written; 1 (a governance file, the database, ``--per-request``)
    or 2 (options: the window, an unknown kind) with a message on ``err``."""
    candidate = _candidate(Path(args.candidate), err)
    if candidate is None:
        return 1
    current, problems = load(config)
    if current is None:
        print_problems(config, [p for p in problems if p.severity == ERROR], err)
        return 1
    clock = SystemClock()
    try:
        window = parse_window(args.since, args.until, now=clock.now(), timezone=current.tz)
    except ValueError as exc:
        print(f"{NAME}: {exc}", file=err)
        return 2
    with ExitStack() as stack:
        sink = None
        if args.per_request:
            try:
                sink = stack.enter_context(Path(args.per_request).open("w", encoding="utf-8"))
            except OSError as exc:
                print(f"{NAME}: cannot write {args.per_request}: {exc.strerror or exc}", file=err)
                return 1
        engine = stack.enter_context(database(err))
        if engine is None:
            return 1
        if current_revision(engine) is None:
            print("signoff: the database has no Signoff tables yet; run `signoff db upgrade`", file=err)
            return 1
        runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: current, clock=clock)
        try:
            simulation = _run(runtime, candidate, window, args.kind, sink)
        except UnknownKind as exc:
            print(f"{NAME}: {exc}", file=err)
            return 2
        except OSError as exc:
            print(f"{NAME}: cannot write {args.per_request}: {exc.strerror or exc}", file=err)
            return 1
    if args.json:
        out.write(json.dumps(simulation_json(simulation), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(simulation_text(simulation, current.tz))
    if args.per_request:
        print(f"wrote {args.per_request}: one line per request", file=err)
    return 0


def _run(
    runtime: Runtime, candidate: Governance, window: Window, kinds: list[str] | None, sink: TextIO | None
) -> Simulation:
    on_request: Callable[[Replayed], None] | None = None
    if sink is not None:
        lines = sink

        def on_request(item: Replayed) -> None:
            lines.write(json.dumps(item.as_json(), ensure_ascii=False, default=str) + "\n")

    return simulate_candidate(runtime, candidate, window=window, kinds=kinds, on_request=on_request)
