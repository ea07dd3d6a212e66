"""``signoff check``, ``test`` and ``explain``: the governance file as its author and CI see it.

``check`` and ``test`` print text by default, or one JSON document with ``--format json``
(shapes in the README); the exit code is the same in both formats: 0 when the file is
valid (warnings allowed) and every test passed, 1 otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, TextIO

from bot.domain.contracts import ContractError, FieldProblem
from bot.domain.explain import render_explanation
from bot.domain.fields import FieldType, is_user_id
from bot.domain.filetests import FileTestResult, run_file_tests
from bot.domain.governance import ERROR, Governance, GovernanceInvalid, Kind, LoadProblem, UnknownKind
from bot.domain.json_values import show_given
from bot.domain.moments import parse_datetime
from bot.domain.outcome import resolve
from bot.domain.slash_text import SlashTextError, decode_slack_value, split_slash_text
from bot.governance_file import load_governance_file

FORMATS = ("text", "json")


def load(path: Path) -> tuple[Governance | None, tuple[LoadProblem, ...]]:
    """The governance in ``path`` (None when it has errors) and every problem found (errors, warnings)."""
    try:
        governance = load_governance_file(path)
    except GovernanceInvalid as exc:
        return None, tuple(exc.problems)
    return governance, governance.warnings


def print_problems(path: Path, problems: Sequence[LoadProblem], err: TextIO) -> None:
    """``f.yaml: 2 errors, 1 warning`` then one located line per problem."""
    if not problems:
        return
    errors = sum(p.severity == ERROR for p in problems)
    warnings = len(problems) - errors
    counts = [_count(errors, "error")] if errors else []
    counts += [_count(warnings, "warning")] if warnings else []
    print(f"{path}: {', '.join(counts)}", file=err)
    for problem in problems:
        where = f"{path}:{problem.line}" if problem.line else str(path)
        level = "" if problem.severity == ERROR else "warning: "
        what = f"{problem.path}: " if problem.path else ""
        print(f"  {where}: {level}{what}{problem.message}", file=err)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def problem_json(path: Path, problem: LoadProblem) -> dict[str, Any]:
    return {
        "file": str(path),
        "line": problem.line,
        "path": problem.path,
        "message": problem.message,
        "severity": problem.severity,
    }


def _dump(document: dict[str, Any], out: TextIO) -> None:
    json.dump(document, out, indent=2, ensure_ascii=False)
    out.write("\n")


def run_check(path: Path, *, fmt: str, out: TextIO, err: TextIO) -> int:
    """Validate the file: every problem, located; exit 1 when there are errors."""
    governance, problems = load(path)
    if fmt == "json":
        document: dict[str, Any] = {
            "valid": governance is not None,
            "problems": [problem_json(path, p) for p in problems],
            "governance": governance.version if governance is not None else None,
        }
        if governance is not None:
            document |= _summary(governance)
        _dump(document, out)
        return 0 if governance is not None else 1
    print_problems(path, problems, err)
    if governance is None:
        return 1
    s = _summary(governance)
    print(
        f"{path} is valid: {s['kinds']} kinds, {s['groups']} groups, "
        f"{s['rules']} rules, {s['tests']} tests (governance {governance.version[:12]})",
        file=out,
    )
    return 0


def _summary(governance: Governance) -> dict[str, int]:
    return {
        "kinds": len(governance.kinds),
        "groups": len(governance.groups),
        "rules": sum(len(kind.rules) for kind in governance.kinds.values()),
        "tests": sum(len(kind.spec.tests) for kind in governance.kinds.values()),
    }


def run_tests(path: Path, *, fmt: str, out: TextIO, err: TextIO) -> int:
    """Run the file's tests; exit 1 when the file has errors or a test fails."""
    governance, problems = load(path)
    if governance is None:
        if fmt == "json":
            invalid = {"passed": 0, "failed": 0, "tests": [], "valid": False, "governance": None}
            _dump(invalid | {"problems": [problem_json(path, p) for p in problems]}, out)
        else:
            print_problems(path, problems, err)
        return 1
    results = run_file_tests(governance, now=datetime.now(UTC))
    failed = sum(not r.passed for r in results)
    if fmt == "json":
        tests = [_test_json(result) for result in results]
        _dump(
            {"passed": len(results) - failed, "failed": failed, "tests": tests, "governance": governance.version}, out
        )
        return 1 if failed else 0
    print_problems(path, problems, err)
    for result in results:
        print(f"{'PASS' if result.passed else 'FAIL'}  {result.title}", file=out)
        for failure in result.failures:
            print(f"      {failure}", file=out)
        if not result.passed and result.resolution is not None:
            for line in render_explanation(governance, result.resolution).splitlines():
                print(f"      | {line}", file=out)
    print(f"{len(results) - failed} passed, {failed} failed", file=out)
    if not results:
        print(f"{path} has no tests; add some under kinds.<kind>.tests", file=err)
    return 1 if failed else 0


def _test_json(result: FileTestResult) -> dict[str, Any]:
    name = result.spec.name or ", ".join(f"{k}={v}" for k, v in result.spec.fields.items())
    return {
        "kind": result.kind,
        "index": result.index,
        "name": name,
        "passed": result.passed,
        "failures": list(result.failures),
    }


def run_explain(
    path: Path,
    *,
    kind_name: str,
    fields: Sequence[str],
    requester: str,
    at: str | None,
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    """Dry run of one request: its outcome, reason, steps and trace.

    Input is read as ``/request`` reads it: Slack markup in values and ``--requester`` is
    decoded (``<@U1|sam>`` is U1), and ``--at`` is read like a datetime field, in the
    governance timezone unless it carries an offset (a bare date is the start of that day).
    """
    undecodable = not_utf8([kind_name, *fields, requester, at or ""])
    if undecodable is not None:
        print(f"signoff explain: {undecodable}", file=err)
        return 1
    governance, problems = load(path)
    print_problems(path, problems, err)
    if governance is None:
        return 1
    try:
        kind = governance.kind(kind_name)
        who = explain_requester(requester)
        when = explain_time(at, governance.tz)
    except (UnknownKind, ValueError) as exc:
        print(f"signoff explain: {exc}", file=err)
        return 1
    try:
        values = governance.validate_fields(kind, field_pairs(kind, fields), at=when)
    except ContractError as exc:
        print(f"signoff explain: the {kind.name} request is not valid:", file=err)
        for problem in exc.problems:
            print(f"  {problem}", file=err)
        print(f"\n{kind.name} takes:\n  " + kind.contract.usage().replace("\n", "\n  "), file=err)
        return 1
    resolution = resolve(governance, kind, values, requester=who, at=when)
    if as_json:
        _dump(resolution.receipt(), out)
    else:
        print(render_explanation(governance, resolution), file=out)
    return 0


def not_utf8(arguments: Sequence[str]) -> str | None:
    """Why one of ``arguments`` is not text, or None. Python reads argv bytes that are not UTF-8
    as lone surrogates (``surrogateescape``, PEP 383); such an argument is named with its bytes
    escaped (``pct=\\xff``), since it cannot be printed as it is."""
    for argument in arguments:
        if any("\udc80" <= char <= "\udcff" for char in argument):
            shown = argument.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            return f"the argument “{shown}” is not valid UTF-8; pass text encoded as UTF-8"
    return None


def explain_requester(text: str) -> str:
    """``--requester`` as a Slack user id (a mention is decoded as ``/request`` does); ``ValueError`` otherwise."""
    user = decode_slack_value(text, FieldType.USER).strip()
    if not is_user_id(user):
        raise ValueError(f"--requester takes a Slack user id such as U012AB3CD, got {show_given(text)}")
    return user


def explain_time(text: str | None, tz: tzinfo) -> datetime:
    """``--at`` read like a datetime field (``bot.domain.moments``); now when not given; ``ValueError`` otherwise."""
    if text is None:
        return datetime.now(UTC)
    try:
        return parse_datetime(text, tz, bare_date=True)
    except ValueError as exc:
        raise ValueError(f"--at: {exc}") from None


def field_pairs(kind: Kind, items: Sequence[str]) -> dict[str, str]:
    """``FIELD=VALUE`` arguments as plain text per field type, decoded from Slack markup exactly as
    ``/request`` decodes them; a malformed item or a field given twice is refused with the
    slash-command parser's own words (``ContractError``)."""
    raw: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ContractError(kind.name, [FieldProblem(None, f"expected FIELD=VALUE, got {show_given(item)}")])
        raw[key.strip().lower()] = value
    try:  # the slash-command parser checks the names: same rules, same messages
        split_slash_text(" ".join(f"{item.partition('=')[0].strip()}=" for item in items))
    except SlashTextError as exc:
        raise ContractError(kind.name, [FieldProblem(None, str(exc))]) from None
    return kind.contract.decode_slash_pairs(raw)
