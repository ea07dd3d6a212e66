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
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from bot.cli_governance import load, print_problems
from bot.cli_output import Replacement, output_problem
from bot.cli_report import Database, window_options
from bot.domain.clock import SystemClock
from bot.domain.governance import ERROR, Governance, UnknownKind
from bot.domain.simulate import Replayed, Simulation
from bot.domain.simulate_report import simulation_json, simulation_text
from bot.domain.surface import Window, parse_window
from bot.services.runtime import Runtime
from bot.services.simulate import simulate_candidate
from storage.uow import SqlUnitOfWorkFactory

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
    window_options(command)
    command.add_argument("--json", action="store_true", help="print one JSON document (DESIGN §8)")
    command.add_argument("--per-request", metavar="FILE", help="also write one JSON line per request to FILE")

    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        return run_simulate(args, config_path(getattr(args, "config", None)), database, out, err)

    command.set_defaults(run=run)


def _governance(path: Path, label: str, err: TextIO, *, hint: bool) -> Governance | None:
    """The file ``label`` (``CANDIDATE`` or the file in force), or None after saying why: one line
    naming it when it cannot be read at all (``hint``: keep the advice to run ``signoff init``,
    which writes ./signoff.yaml, the file in force), else every problem located as ``signoff
    check`` prints them. Its warnings are printed too."""
    governance, problems = load(path)
    unreadable = governance is None and len(problems) == 1 and not problems[0].path and not problems[0].line
    if unreadable:
        message = problems[0].message if hint else problems[0].message.replace(_INIT_HINT, "")
        named = f"{label} {message}" if message.startswith(f"{path} ") else f"{label} {path}: {message}"
        print(f"{NAME}: {named}", file=err)
        return None
    print_problems(path, problems if governance is not None else [p for p in problems if p.severity == ERROR], err)
    return governance


#: What the reader suggests for a missing or empty file: right for the file in force, not for a candidate.
_INIT_HINT = "; `signoff init` writes a starter file"


def run_simulate(args: argparse.Namespace, config: Path, database: Database, out: TextIO, err: TextIO) -> int:
    """Exit 0 with the comparison written; 1 (a governance file, the database, ``--per-request``)
    or 2 (options: an empty CANDIDATE or ``--per-request``, the window, an unknown kind) with a
    message on ``err``. ``--per-request FILE`` is replaced only when the run succeeds."""
    if not args.candidate.strip():
        print(f"{NAME}: CANDIDATE is empty: name the governance file to try (e.g. candidate.yaml)", file=err)
        return 2
    if args.per_request is not None and (problem := output_problem("--per-request", args.per_request)):
        print(f"{NAME}: {problem}", file=err)
        return 2
    candidate = _governance(Path(args.candidate), "CANDIDATE", err, hint=False)
    if candidate is None:
        return 1
    current = _governance(config, "the file in force (--config)", err, hint=True)
    if current is None:
        return 1
    clock = SystemClock()
    try:
        window = parse_window(args.since, args.until, now=clock.now(), timezone=current.tz)
    except ValueError as exc:
        print(f"{NAME}: {exc}", file=err)
        return 2
    try:
        with ExitStack() as stack:
            sink = stack.enter_context(Replacement(args.per_request)) if args.per_request is not None else None
            code = _simulate(args, (candidate, current), window, database, sink, out, err)
            if code == 0 and sink is not None:
                sink.commit()
    except OSError as exc:
        print(f"{NAME}: --per-request: cannot write {args.per_request}: {exc.strerror or exc}", file=err)
        return 1
    if code == 0 and args.per_request is not None:
        print(f"wrote {args.per_request}: one line per request", file=err)
    return code


def _simulate(
    args: argparse.Namespace,
    files: tuple[Governance, Governance],
    window: Window,
    database: Database,
    sink: Replacement | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Run the backtest and print it; the exit code (``OSError`` from writing ``sink`` passes through)."""
    candidate, current = files
    with database(err) as engine:
        if engine is None:
            return 1
        runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: current, clock=SystemClock())
        try:
            simulation = _run(runtime, candidate, window, args.kind, sink.stream if sink is not None else None)
        except UnknownKind as exc:
            print(f"{NAME}: {exc}", file=err)
            return 2
    if args.json:
        out.write(json.dumps(simulation_json(simulation), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(simulation_text(simulation, current.tz))
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
