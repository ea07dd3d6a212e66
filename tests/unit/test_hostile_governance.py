"""Hostile governance files: each one is refused by `signoff check` with one located line, exit 1,
and never a traceback, a stall or exhausted memory (issue 9, items 7 and 8)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.contracts import ContractError
from bot.domain.outcome import resolve
from bot.domain.regex import MATCH_INPUT_LIMIT
from bot.governance_file import MAX_FILE_BYTES, load_governance_text
from tests.unit.test_cli import run

BASE = """\
version: 1
timezone: UTC
groups:
  finance: {members: [U0FIN1, U0FIN2]}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      account: {type: text}
      code: {type: text}
      amount: {type: number}
      until: {type: date}
    approvers: finance
    rules:
      - id: r1
        when: WHEN
        decide: approve
        reason: Fine.
"""
WHEN_LINE = 17
NULL_SETTING = "expected a number, got null; write a number, or leave the setting out"


def with_when(when: str) -> str:
    return BASE.replace("WHEN", when)


def with_field(old: str, new: str) -> str:
    assert old in BASE
    return with_when("{amount: {lt: 5}}").replace(old, new)


def nested(levels: int, inner: str, around: str) -> str:
    for _ in range(levels):
        inner = around.replace("X", inner)
    return inner


BILLION_LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)
RE2_ONLY = "RE2 syntax is required (no lookaround, backreferences or possessive quantifiers)"

HOSTILE = [
    pytest.param(
        BILLION_LAUGHS,
        "F:5: too many values: expanding the alias *d here brings the file past 60,000 values; use fewer aliases",
        id="billion-laughs",
    ),
    pytest.param(
        "a: &a [b, *a]\n",
        "F:1: the alias *a is inside the value it names: YAML cannot expand it",
        id="alias-inside-itself",
    ),
    pytest.param(
        with_when(nested(300, "{amount: {lt: 5}}", "{all: [X]}")),
        f"F:{WHEN_LINE}: mappings and lists nest deeper than 64 levels here (aliases count as what they name); flatten the file",
        id="all-nested-300-deep",
    ),
    pytest.param(
        with_when(nested(40, "{amount: {lt: 5}}", "{not: X}")),
        f"F:{WHEN_LINE}: kinds.deal.rules[0].when" + ".not" * 32 + ": conditions nest deeper than 32 levels "
        "of all/any/not",
        id="not-nested-40-deep",
    ),
    pytest.param(
        "[" * 100_000 + "]" * 100_000 + "\n",
        "F:1: mappings and lists nest deeper than 64 levels here (aliases count as what they name); flatten the file",
        id="flow-nested-100000-deep",
    ),
    pytest.param(
        with_when("!!python/object/apply:os.system [echo hi]"),
        f"F:{WHEN_LINE}: the YAML tag !!python/object/apply:os.system is not allowed: "
        "write plain values (quote text that starts with !)",
        id="python-object-tag",
    ),
    pytest.param(
        with_when("!!str {amount: {lt: 5}}"),
        f"F:{WHEN_LINE}: a mapping cannot be read as str: remove the tag !!str",
        id="scalar-tag-on-a-mapping",
    ),
    pytest.param(
        "version: 1\n# padding\n" + "#" * MAX_FILE_BYTES,
        f"F: the file is {MAX_FILE_BYTES + 21:,} bytes; a governance file is at most 1 MiB (1,048,576 bytes)",
        id="oversize-file",
    ),
    pytest.param(
        with_when("{account: {matches: '(?=evil)'}}"),
        f"F:{WHEN_LINE}: kinds.deal.rules[0].when.account.matches: the pattern uses lookahead (?=…), "
        f"which RE2 does not support: {RE2_ONLY}",
        id="matches-lookahead",
    ),
    pytest.param(
        with_when(r"{account: {matches: '(a)\1'}}"),
        f"F:{WHEN_LINE}: kinds.deal.rules[0].when.account.matches: the pattern uses a backreference \\1, "
        f"which RE2 does not support: {RE2_ONLY}",
        id="matches-backreference",
    ),
    pytest.param(
        with_field("code: {type: text}", "code: {type: text, pattern: '(?<!x)[a-z]++'}"),
        f"F:11: kinds.deal.fields.code: pattern uses negative lookbehind (?<!…), which RE2 does not support: "
        f"{RE2_ONLY}",
        id="field-pattern-lookbehind",
    ),
    pytest.param(
        with_when("{until: {lt: '+999999w'}}"),
        f"F:{WHEN_LINE}: kinds.deal.rules[0].when.until.lt: "
        "a duration is at most 36500d (about 100 years), got “999999w”",
        id="overflowing-date-offset",
    ),
    pytest.param(
        with_when("{until: {gte: '-40000d'}}"),
        f"F:{WHEN_LINE}: kinds.deal.rules[0].when.until.gte: "
        "a duration is at most 36500d (about 100 years), got “40000d”",
        id="overflowing-negative-offset",
    ),
    pytest.param(
        with_when("{amount: {lt: 5}}").replace(
            "reason: Fine.\n", "reason: Fine.\n        limit: {sum: amount, max: null, window: 30d}\n"
        ),
        f"F:{WHEN_LINE + 3}: kinds.deal.rules[0].limit.max: {NULL_SETTING}",
        id="null-budget",  # pydantic could not apply ``gt`` to None: a TypeError, not a located line
    ),
    pytest.param(
        with_field("amount: {type: number}", "amount: {type: number, min: ~}"),
        f"F:12: kinds.deal.fields.amount.min: {NULL_SETTING}",
        id="null-bound",
    ),
]


@pytest.mark.parametrize(("text", "expected"), HOSTILE)
def test_check_refuses_a_hostile_file_with_one_located_line(
    text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "F"
    path.write_text(text)
    started = time.perf_counter()
    code, out, err = run(capsys, "check", "--config", str(path))
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"{path}: 1 error", "  " + expected.replace("F", str(path), 1)]
    assert time.perf_counter() - started < 10  # generous: the point is "not minutes"


def test_an_oversize_file_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as file:  # 50 MB without writing 50 MB: a sparse file
        file.truncate(50 * 1024 * 1024)
    code, _, err = run(capsys, "check", "--config", str(path))
    assert code == 1
    assert (
        err.splitlines()[1]
        == f"  {path}: the file is 52,428,800 bytes; a governance file is at most 1 MiB (1,048,576 bytes)"
    )


def test_aliases_that_expand_modestly_still_load() -> None:
    text = with_when("{amount: {lt: 5}}").replace(
        "finance: {members: [U0FIN1, U0FIN2]}",
        "finance: {members: &people [U0FIN1, U0FIN2]}\n  all: {members: *people}",
    )
    assert load_governance_text(text).members("all") == ("U0FIN1", "U0FIN2")


CATASTROPHIC = "^(a+)+$"


@pytest.mark.parametrize("length", [27, MATCH_INPUT_LIMIT - 1], ids=["27-chars", "limit"])
def test_a_catastrophic_matches_rule_evaluates_in_bounded_time(length: int) -> None:
    governance = load_governance_text(with_when(f"{{account: {{matches: '{CATASTROPHIC}'}}}}"))
    kind = governance.kind("deal")
    started = time.perf_counter()
    resolution = resolve(governance, kind, {"account": "a" * length + "!"}, requester="U0SAM", at=datetime.now(UTC))
    resolution.receipt()
    assert time.perf_counter() - started < 1.0  # Python's re takes ~8 s at 27 characters, doubling with each
    assert resolution.rule is None


@pytest.mark.parametrize("length", [27, MATCH_INPUT_LIMIT - 1], ids=["27-chars", "limit"])
def test_a_catastrophic_field_pattern_validates_in_bounded_time(length: int) -> None:
    governance = load_governance_text(
        with_field("code: {type: text}", f"code: {{type: text, pattern: '{CATASTROPHIC}'}}")
    )
    kind = governance.kind("deal")
    started = time.perf_counter()
    with pytest.raises(ContractError, match="does not match the required pattern"):
        governance.validate_fields(kind, {"code": "a" * length + "!"}, at=datetime.now(UTC))
    assert time.perf_counter() - started < 1.0


def test_links_and_emails_longer_than_the_match_limit_are_refused() -> None:
    governance = load_governance_text(with_field("code: {type: text}", "code: {type: url}\n      mail: {type: email}"))
    kind = governance.kind("deal")
    for field, value in (("code", "https://x.example/" + "a" * MATCH_INPUT_LIMIT), ("mail", "a" * 3000 + "@x.io")):
        with pytest.raises(ContractError):
            governance.validate_fields(kind, {field: value}, at=datetime.now(UTC))


def test_a_relative_date_at_the_calendars_edge_evaluates() -> None:
    governance = load_governance_text(with_when("{until: {lte: '+36500d'}}"))
    kind = governance.kind("deal")
    at = datetime(9999, 12, 30, tzinfo=UTC)
    resolution = resolve(governance, kind, {"until": datetime(9999, 12, 31).date()}, requester="U0SAM", at=at)
    assert resolution.rule == "r1"
    assert resolution.receipt()["trace"][0]["conditions"][0]["expected"] == "+36500d (9999-12-31)"


def test_a_device_that_never_ends_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--config", "/dev/zero")
    assert (code, err.splitlines()) == (
        1,
        [
            "/dev/zero: 1 error",
            "  /dev/zero: /dev/zero is not a regular file (a FIFO, device, socket or directory); point to a YAML file",
        ],
    )
