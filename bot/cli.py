"""The ``signoff`` command line: validate, test and explain governance; start the bot.

Every command exits 0 on success and non-zero with a message on stderr otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot import __version__, cli_history, cli_report, cli_run, cli_simulate, cli_suggest, cli_webhooks
from bot.app import ConfigurationError
from bot.cli_governance import FORMATS, run_check, run_explain, run_tests
from bot.domain.api_clients import new_token, token_sha256
from bot.domain.errors import StorageBusy
from bot.domain.filetests import TEST_REQUESTER
from bot.domain.governance import GovernanceInvalid
from bot.domain.moments import parse_datetime
from bot.governance_file import load_governance_file
from bot.services.audit import export_audit, stored_kinds, verify_audit
from bot.settings import SettingsError, load_settings
from storage.engine import create_db_engine, is_busy
from storage.migrate import current_revision, schema_problem, upgrade
from storage.uow import SqlUnitOfWorkFactory

DEFAULT_CONFIG = "signoff.yaml"
#: The commands that read the governance file, and so take ``--config``.
_READS_CONFIG = (
    "check",
    "test",
    "explain",
    "serve",
    "worker",
    "digest",
    "webhooks",
    "api-token",
    "report",
    "simulate",
    "suggest",
    "history",
)


def config_path(explicit: str | None) -> Path:
    """``--config``, else ``SIGNOFF_CONFIG`` (environment, then ``.env``), else ``./signoff.yaml``."""
    return Path(explicit) if explicit else load_settings().config


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    argv = _values_that_look_like_options(parser, sys.argv[1:] if argv is None else list(argv))
    # Options may come after positionals anywhere (`explain discount a=1 --config f.yaml b=2`):
    # argparse stops a positional list at the first option, so the rest come back as extras.
    args, extras = parser.parse_known_args(argv)
    if extras and (not hasattr(args, "fields") or any(item.startswith("-") for item in extras)):
        parser.error(_unrecognized(parser, extras))
    if extras:
        args.fields = [*args.fields, *extras]
    if args.config is not None and args.command and not getattr(args, "reads_config", False):
        parser.error(f"--config applies to {', '.join(_READS_CONFIG)}, not to `signoff {args.command}`")
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.run(args, sys.stdout, sys.stderr)
    except BrokenPipeError:  # `signoff … | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0
    except SettingsError as exc:  # an operator's mistake: one line per setting, exit 2
        for line in exc.lines:
            print(f"signoff: {line}", file=sys.stderr)
        return 2
    except ConfigurationError as exc:
        print(f"signoff: {exc}", file=sys.stderr)
        return 2
    except StorageBusy:
        print(BUSY, file=sys.stderr)
        return 1
    except DBAPIError as exc:
        if not is_busy(exc):
            raise
        print(BUSY, file=sys.stderr)
        return 1
    return code


#: What any command says when the database stayed locked past the busy timeout (nothing was stored).
BUSY = (
    "signoff: the database at SIGNOFF_DATABASE_URL is busy (another signoff process is writing,"
    " e.g. `signoff history import`); nothing was stored; try again when it finishes"
)


def _value_options(parser: argparse.ArgumentParser) -> tuple[set[str], set[str]]:
    """Every option string of ``parser`` and its subcommands, and those among them that take one value."""
    every: set[str] = set()
    valued: set[str] = set()
    for action in parser._actions:
        every.update(action.option_strings)
        if action.option_strings and action.nargs is None and action.const is None:
            valued.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub_every, sub_valued = _value_options(sub)
                every |= sub_every
                valued |= sub_valued
    return every, valued


def _unrecognized(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """argparse's "unrecognized arguments", plus the full option an abbreviation was meant for."""
    said = f"unrecognized arguments: {' '.join(extras)}"
    every, _ = _value_options(parser)
    for token in extras:
        name = token.split("=", 1)[0]
        meant = sorted(option for option in every if name.startswith("--") and option.startswith(name))
        if meant and name not in every:
            return f"{said} (options are not abbreviated: {name} is {' or '.join(meant)}?)"
    return said


def _no_abbreviations(parser: argparse.ArgumentParser) -> None:
    """``allow_abbrev=False`` for ``parser`` and every subcommand: an option is its full name only.

    argparse would take ``--sin`` for ``--since``; such a prefix silently changes meaning when a
    longer option is added (``--s``), and ``_values_that_look_like_options`` (one exact list of
    option strings) would have to redo argparse's per-command prefix matching to join
    ``--sin -5d``. Full names only: one rule, and an abbreviation gets a message naming the option.
    """
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _no_abbreviations(sub)


def _values_that_look_like_options(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``--since -5d`` as ``--since=-5d``: argparse would take a value starting with ``-`` for an
    option and say only "expected one argument"; joined, the option's own reader names what is
    wrong with the value and what it accepts. A value that is itself an option (``--since --kind``)
    is left alone: that really is a missing value."""
    every, valued = _value_options(parser)
    out: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        following = argv[index + 1] if index + 1 < len(argv) else None
        looks_like_option = following is not None and following.startswith("-") and following != "--"
        if token in valued and looks_like_option and following and following.split("=", 1)[0] not in every:
            out.append(f"{token}={following}")
            index += 2
            continue
        out.append(token)
        index += 1
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="signoff", description="Governed approvals and exceptions for Slack.")
    parser.add_argument("--version", action="version", version=f"signoff {__version__}")
    parser.add_argument("--config", help="governance file (default: $SIGNOFF_CONFIG, else ./signoff.yaml)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="validate the governance file; list every problem with its line")
    _config_option(check)
    _format_option(check)
    check.set_defaults(run=_check)

    test = commands.add_parser("test", help="run the tests written in the governance file")
    _config_option(test)
    _format_option(test)
    test.set_defaults(run=_test)

    explain = commands.add_parser("explain", help="dry run: what would happen to a request, and why")
    _config_option(explain)
    explain.add_argument("kind", help="the kind of request, e.g. discount")
    explain.add_argument("fields", nargs="*", metavar="FIELD=VALUE", help="the request's fields")
    explain.add_argument("--requester", default=TEST_REQUESTER, help="Slack user id of the requester")
    explain.add_argument(
        "--at", help="submission time, YYYY-MM-DD[ HH:MM], read in the governance timezone unless it has an offset"
    )
    explain.add_argument("--json", action="store_true", help="print the machine-readable receipt")
    explain.set_defaults(run=_explain)

    audit = commands.add_parser("audit", help="the tamper-evident audit log").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit.add_parser("verify", help="recompute the hash chain; name the first broken event")
    verify.set_defaults(run=_audit_verify)
    export = audit.add_parser("export", help="print every event, as JSON lines or CSV")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--since", help="only events at or after this time (ISO 8601; UTC unless it has an offset)")
    export.add_argument("--kind", help="only events of requests of this kind")
    export.set_defaults(run=_audit_export)

    database = commands.add_parser("db", help="the database schema").add_subparsers(dest="db_command", required=True)
    upgrade = database.add_parser("upgrade", help="apply pending migrations ($SIGNOFF_DATABASE_URL)")
    upgrade.set_defaults(run=_db_upgrade)

    serve = commands.add_parser("serve", help="run Signoff: Slack listener, outbox relay and sweeps")
    _config_option(serve)
    serve.add_argument("--no-worker", action="store_true", help="serve Slack only (run `signoff worker` elsewhere)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP address to listen on (default: all)")  # noqa: S104
    serve.set_defaults(run=cli_run.serve)
    worker = commands.add_parser("worker", help="run only the outbox relay and the scheduled sweeps")
    _config_option(worker)
    worker.add_argument("--host", default="0.0.0.0", help="address of /healthz, /readyz, /metrics (default: all)")  # noqa: S104
    worker.set_defaults(run=cli_run.worker)

    digest = commands.add_parser("digest", help="send this period's digests now (an operator's run)")
    _config_option(digest)
    digest.add_argument("--now", action="store_true", required=True, help="send now, outside working hours too")
    digest.add_argument("--group", help="only this group's members")
    digest.set_defaults(run=cli_run.digest)

    cli_webhooks.add_commands(commands, _config_option)
    commands.choices["webhooks"].set_defaults(run=_webhooks)
    cli_report.register(commands, _config_option, config_path, _stored)
    cli_simulate.register(commands, _config_option, config_path, _stored)
    cli_suggest.register(commands, _config_option, config_path, _stored)

    cli_history.add_commands(commands, _config_option, _stored)
    demo = commands.add_parser("demo", help="a scripted walk-through against the built-in Slack emulator")
    demo.set_defaults(run=_demo)

    token = commands.add_parser("api-token", help="make a bearer token for an HTTP API client (prints its hash)")
    token.add_argument("--id", default="my-client", help="the client's id in api_clients (default: my-client)")
    token.add_argument("--kind", action="append", default=[], help="a kind it may file (required; repeat for more)")
    _config_option(token)
    token.set_defaults(run=_api_token)

    init = commands.add_parser("init", help="write a starter signoff.yaml and .env.example")
    init.add_argument("--dir", default=".", help="where to write them (default: here)")
    init.add_argument("--force", action="store_true", help="overwrite files that exist")
    init.set_defaults(run=_init)
    _no_abbreviations(parser)
    return parser


def _config_option(command: argparse.ArgumentParser) -> None:
    # SUPPRESS: when not given here, a --config before the command (`signoff --config f check`) stays.
    help_text = f"governance file (default: $SIGNOFF_CONFIG or ./{DEFAULT_CONFIG})"
    command.add_argument("--config", default=argparse.SUPPRESS, help=help_text)
    command.set_defaults(reads_config=True)


def _format_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--format", choices=FORMATS, default="text", help="text, or json for CI (default: text)")


def _timestamp(text: str) -> datetime:
    """``audit export --since``: read like a datetime field (bounded; UTC unless it has an offset);
    ``ValueError`` saying what it accepts."""
    moment = parse_datetime(text, UTC, bare_date=True)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return run_check(config_path(args.config), fmt=args.format, out=out, err=err)


def _test(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return run_tests(config_path(args.config), fmt=args.format, out=out, err=err)


def _explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return run_explain(
        config_path(args.config),
        kind_name=args.kind,
        fields=args.fields,
        requester=args.requester,
        at=args.at,
        as_json=args.json,
        out=out,
        err=err,
    )


@contextmanager
def _database(err: TextIO, *, create: bool = True, upgraded: bool = False) -> Iterator[Engine | None]:
    """The engine for $SIGNOFF_DATABASE_URL (None, with a message, when it cannot be opened).

    Without ``create``, a SQLite file that does not exist is reported, not created. With
    ``upgraded``, a database whose schema is not this code's is reported too (no Signoff tables,
    an older revision: run `signoff db upgrade`; an unknown one): what every command that reads or
    writes requests needs (``storage.migrate.schema_problem``).
    """
    settings = load_settings()
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None and not create:
        print(
            f"signoff: there is no database at {missing} (SIGNOFF_DATABASE_URL), and none was created; "
            "check the path, or run `signoff db upgrade` to create it",
            file=err,
        )
        yield None
        return
    try:
        engine = create_db_engine(settings.database_url)
    except (SQLAlchemyError, ValueError) as exc:
        print(f"signoff: SIGNOFF_DATABASE_URL is not usable: {_first_line(exc)}", file=err)
        yield None
        return
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        print(f"signoff: cannot open the database {_where(settings.database_url)}: {_first_line(exc)}", file=err)
        engine.dispose()
        yield None
        return
    try:
        problem = schema_problem(engine) if upgraded else None
        if problem is not None:
            print(f"signoff: {problem}", file=err)
            yield None
        else:
            yield engine
    finally:
        engine.dispose()


def _stored(err: TextIO) -> AbstractContextManager[Engine | None]:
    """``_database`` for commands that read or write what is stored: never created, upgraded."""
    return _database(err, create=False, upgraded=True)


def _where(url: str) -> str:
    """Where SIGNOFF_DATABASE_URL points, without its password: the SQLite file, or the server's host and port."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"at {parsed.database or ':memory:'} (SIGNOFF_DATABASE_URL)"
    return f"on {parsed.host or 'localhost'}:{parsed.port or 5432} (SIGNOFF_DATABASE_URL)"


def _first_line(exc: BaseException) -> str:
    """The driver's own words, first line: SQLAlchemy appends the statement and a link to its docs."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0].strip() if lines else exc.__class__.__name__


def _missing_sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def _db_upgrade(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _database(err) as engine:
        if engine is None:
            return 1
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    state = " (already up to date)" if before == after else f" (was {before or 'empty'})"
    print(f"database at revision {after}{state}", file=out)
    return 0


def _audit_verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _stored(err) as engine:
        if engine is None:
            return 1  # ``_stored`` said why
        uow = SqlUnitOfWorkFactory(engine)
        broken = verify_audit(uow=uow)
        if broken is not None:
            print(f"audit log is NOT intact: {broken}", file=err)
            return 1
        with uow(read_only=True) as unit:
            seq, head = unit.audit.head()
    print(f"audit log intact: {seq} events, head {head[:12]}", file=out)
    return 0


def _audit_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        since = _timestamp(args.since) if args.since is not None else None
    except ValueError as exc:
        print(f"signoff audit export: --since: {exc}", file=err)
        return 2
    kind = args.kind.strip().lower() if args.kind is not None else None
    with _stored(err) as engine:
        if engine is None:
            return 1  # ``_stored`` said why
        uow = SqlUnitOfWorkFactory(engine)
        if kind is not None and kind not in (stored := stored_kinds(uow=uow)):
            listed = f"stored kinds: {', '.join(stored)}" if stored else "no request is stored yet"
            print(f"signoff audit export: --kind: no stored request is of kind “{args.kind}”; {listed}", file=err)
            return 2
        events = export_audit(uow=uow, since=since, kind=kind)
        if args.format == "jsonl":
            for event in events:
                out.write(json.dumps(event.as_json(), ensure_ascii=False, sort_keys=True) + "\n")
            return 0
        writer = csv.writer(out)
        columns = ["seq", "request_id", "at", "actor", "action", "data", "prev_hash", "hash"]
        writer.writerow(columns)
        for event in events:
            row = event.as_json()
            row["data"] = json.dumps(row["data"], ensure_ascii=False, sort_keys=True)
            writer.writerow([row[c] for c in columns])
    return 0


def _webhooks(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return cli_webhooks.run(args, config_path(args.config), _stored, out, err)


def _demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.demo import run_demo  # the emulator is loaded for the demo only, never by serve or check

    return run_demo(out)


def _init(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    target = Path(args.dir)
    files = {"signoff.yaml": "signoff.yaml", ".env.example": "env.example"}
    existing = [name for name in files if (target / name).exists()]
    if existing and not args.force:
        print(f"signoff init: {', '.join(existing)} already exist in {target}; use --force to overwrite", file=err)
        return 1
    templates = resources.files("bot") / "templates"
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, template in files.items():
            (target / name).write_text((templates / template).read_text(encoding="utf-8"), encoding="utf-8")
            print(f"wrote {target / name}", file=out)
    except OSError as exc:
        print(f"signoff init: cannot write into {target} ({exc.strerror or exc}); --dir takes a folder", file=err)
        return 1
    print("next: edit signoff.yaml, then run `signoff check` and `signoff test`", file=out)
    return 0


#: An id or kind in ``api_clients`` (``bot.domain.governance_spec.Name``).
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


def _api_token(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """A new token, printed once and kept nowhere, its ``token_sha256``, and the entry to paste (DESIGN §9)."""
    bad = [name for name in [args.id, *args.kind] if not _NAME.fullmatch(name)]
    if bad:
        print(
            f"signoff api-token: “{bad[0]}” is not a name: it starts with a-z and uses only a-z, 0-9, - and _", file=err
        )
        return 2
    known = _file_kinds(getattr(args, "config", None))
    listed = f" (the governance file's kinds: {', '.join(known)})" if known else ""
    if not args.kind:
        print(f"signoff api-token: name what the client may use with --kind KIND, repeated for more{listed}", file=err)
        return 2
    unknown = [kind for kind in args.kind if known and kind not in known]
    if unknown:
        print(
            f"signoff api-token: warning: {', '.join(unknown)} is not a kind of the governance file{listed}", file=err
        )
    token = new_token()
    digest = token_sha256(token)
    print(f"token:        {token}\ntoken_sha256: {digest}\n", file=out)
    print("Give the token to the client (sent as `Authorization: Bearer <token>`); Signoff keeps only", file=out)
    print("its hash. Add the client to the governance file, then `signoff check` and reload (SIGHUP):\n", file=out)
    kinds = ", ".join(args.kind)
    print(f"api_clients:\n  - id: {args.id}\n    token_sha256: {digest}\n    kinds: [{kinds}]", file=out)
    return 0


def _file_kinds(explicit: str | None) -> list[str]:
    """The kinds of the governance file in force, or none when it cannot be read (the token is made anyway)."""
    try:
        return sorted(load_governance_file(config_path(explicit)).kinds)
    except (GovernanceInvalid, SettingsError, OSError):
        return []


if __name__ == "__main__":
    raise SystemExit(main())
