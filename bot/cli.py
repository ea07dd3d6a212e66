"""The ``signoff`` command line: validate, test and explain governance; start the bot.

Every command exits 0 on success and non-zero with a message on stderr otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TextIO

from bot import __version__
from bot.domain.contracts import ContractError
from bot.domain.explain import render_explanation
from bot.domain.filetests import TEST_REQUESTER, run_file_tests
from bot.domain.governance import Governance, GovernanceInvalid, UnknownKind
from bot.domain.outcome import resolve
from bot.governance_file import load_governance_file

DEFAULT_CONFIG = "signoff.yaml"


def config_path(explicit: str | None) -> Path:
    """``--config``, else ``SIGNOFF_CONFIG``, else ``./signoff.yaml``."""
    return Path(explicit or os.environ.get("SIGNOFF_CONFIG") or DEFAULT_CONFIG)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    code: int = args.run(args, sys.stdout, sys.stderr)
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="signoff", description="Governed approvals and exceptions for Slack.")
    parser.add_argument("--version", action="version", version=f"signoff {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="validate the governance file; list every problem with its line")
    _config_option(check)
    check.set_defaults(run=_check)

    test = commands.add_parser("test", help="run the tests written in the governance file")
    _config_option(test)
    test.set_defaults(run=_test)

    explain = commands.add_parser("explain", help="dry run: what would happen to a request, and why")
    _config_option(explain)
    explain.add_argument("kind", help="the kind of request, e.g. discount")
    explain.add_argument("fields", nargs="*", metavar="FIELD=VALUE", help="the request's fields")
    explain.add_argument("--requester", default=TEST_REQUESTER, help="Slack user id of the requester")
    explain.add_argument("--at", type=_timestamp, help="submission time, ISO 8601 (default: now)")
    explain.add_argument("--json", action="store_true", help="print the machine-readable receipt")
    explain.set_defaults(run=_explain)

    init = commands.add_parser("init", help="write a starter signoff.yaml and .env.example")
    init.add_argument("--dir", default=".", help="where to write them (default: here)")
    init.add_argument("--force", action="store_true", help="overwrite files that exist")
    init.set_defaults(run=_init)
    return parser


def _config_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--config", help=f"governance file (default: $SIGNOFF_CONFIG or ./{DEFAULT_CONFIG})")


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return value


def _load(args: argparse.Namespace, err: TextIO) -> tuple[Path, Governance | None]:
    path = config_path(args.config)
    try:
        return path, load_governance_file(path)
    except GovernanceInvalid as exc:
        count = len(exc.problems)
        print(f"{path}: {count} problem{'s' if count != 1 else ''}", file=err)
        for problem in exc.problems:
            where = f"{path}:{problem.line}" if problem.line else str(path)
            print(f"  {where}: {problem.path or '(file)'}: {problem.message}", file=err)
        return path, None


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path, governance = _load(args, err)
    if governance is None:
        return 1
    rules = sum(len(kind.rules) for kind in governance.kinds.values())
    tests = sum(len(kind.spec.tests) for kind in governance.kinds.values())
    print(
        f"{path} is valid: {len(governance.kinds)} kinds, {len(governance.groups)} groups, "
        f"{rules} rules, {tests} tests (governance {governance.version[:12]})",
        file=out,
    )
    return 0


def _test(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path, governance = _load(args, err)
    if governance is None:
        return 1
    results = run_file_tests(governance, now=datetime.now(UTC))
    for result in results:
        print(f"{'PASS' if result.passed else 'FAIL'}  {result.title}", file=out)
        for failure in result.failures:
            print(f"      {failure}", file=out)
        if not result.passed and result.resolution is not None:
            for line in render_explanation(governance, result.resolution).splitlines():
                print(f"      | {line}", file=out)
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed", file=out)
    if not results:
        print(f"{path} has no tests; add some under kinds.<kind>.tests", file=err)
    return 1 if failed else 0


def _explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _, governance = _load(args, err)
    if governance is None:
        return 1
    try:
        kind = governance.kind(args.kind)
    except UnknownKind as exc:
        print(f"signoff explain: {exc}", file=err)
        return 1
    raw: dict[str, str] = {}
    for item in args.fields:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            print(f"signoff explain: expected FIELD=VALUE, got {item!r}", file=err)
            return 1
        raw[key.strip().lower()] = value
    at = args.at or datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=governance.tz)
    try:
        fields = governance.validate_fields(kind, raw, at=at)
    except ContractError as exc:
        print(f"signoff explain: the {kind.name} request is not valid:", file=err)
        for problem in exc.problems:
            print(f"  {problem}", file=err)
        print(f"\n{kind.name} takes:\n  " + kind.contract.usage().replace("\n", "\n  "), file=err)
        return 1
    resolution = resolve(governance, kind, fields, requester=args.requester, at=at)
    if args.json:
        json.dump(resolution.receipt(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        print(render_explanation(governance, resolution), file=out)
    return 0


def _init(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    target = Path(args.dir)
    files = {"signoff.yaml": "signoff.yaml", ".env.example": "env.example"}
    existing = [name for name in files if (target / name).exists()]
    if existing and not args.force:
        print(f"signoff init: {', '.join(existing)} already exist in {target}; use --force to overwrite", file=err)
        return 1
    target.mkdir(parents=True, exist_ok=True)
    templates = resources.files("bot") / "templates"
    for name, template in files.items():
        (target / name).write_text((templates / template).read_text(encoding="utf-8"), encoding="utf-8")
        print(f"wrote {target / name}", file=out)
    print("next: edit signoff.yaml, then run `signoff check` and `signoff test`", file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
