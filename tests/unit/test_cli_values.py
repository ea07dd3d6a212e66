"""`signoff explain` and `signoff test` read values as /request does, and nothing they accept can overflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.unit.test_cli import run, starter

__all__ = ["starter"]  # the fixture, shared with test_cli

FIELDS = ["account=Acme", "amount_pct=5", "region=emea"]


def test_explain_decodes_slack_markup_like_the_slash_command(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "explain",
        "discount",
        "account=<@U0SAM|sam> &amp; co",
        *FIELDS[1:],
        "--requester",
        "<@U0ANA|ana>",
        "--json",
    )
    assert code == 0
    inputs = json.loads(out)["inputs"]
    assert inputs["fields"]["account"] == "@sam & co"
    assert inputs["requester"] == "U0ANA"


REFUSED = [
    (["--requester", ""], "signoff explain: --requester takes a Slack user id such as U012AB3CD, got “”\n"),
    (["--requester", "sam"], "signoff explain: --requester takes a Slack user id such as U012AB3CD, got “sam”\n"),
    (
        ["--at", "0001-01-01"],
        "signoff explain: --at: expected a date from 1900-01-01 to 2999-12-31, got “0001-01-01”\n",
    ),
    (
        ["--at", "9999-12-31T23:59"],
        "signoff explain: --at: expected a date and time from 1900-01-01 to 2999-12-31, got “9999-12-31T23:59”\n",
    ),
    (
        ["--at", "2026-03-29 02:30"],
        "signoff explain: --at: 2026-03-29 02:30 does not exist in Europe/Berlin (the clocks jump forward over it); "
        "give a time outside the jump, or add a UTC offset: 2026-03-29 02:30+01:00 or 2026-03-29 02:30+02:00\n",
    ),
    (
        ["--at", "2026-10-25T02:30"],
        "signoff explain: --at: 2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back); "
        "add its UTC offset: 2026-10-25 02:30+02:00 or 2026-10-25 02:30+01:00\n",
    ),
    (["--at", "tomorrow"], "signoff explain: --at: expected a date and time, YYYY-MM-DD HH:MM, got “tomorrow”\n"),
]


@pytest.mark.parametrize(("options", "message"), REFUSED)
def test_explain_refuses_a_requester_or_time_it_cannot_use_in_one_line(
    starter: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    code, out, err = run(capsys, "explain", "discount", *FIELDS, *options)
    assert (code, out, err) == (1, "", message)


@pytest.mark.parametrize(
    ("at", "shown"),
    [
        ("2026-03-29", "2026-03-29 00:00 CET"),
        ("2026-03-29 03:00", "2026-03-29 03:00 CEST"),
        ("2026-03-29T02:30+01:00", "2026-03-29 03:30 CEST"),  # an explicit offset: exact, and said so
        ("1900-01-01", "1900-01-01 00:00 CET"),
    ],
)
def test_explain_at_is_read_in_the_governance_timezone(
    starter: Path, capsys: pytest.CaptureFixture[str], at: str, shown: str
) -> None:
    code, out, err = run(capsys, "explain", "discount", *FIELDS, "--at", at)
    assert code == 0, err
    assert f"requested by U0TESTER at {shown}\n" in out


OFFSETS = """
version: 1
timezone: Europe/Berlin
groups: {{ops: {{members: [U0OPS]}}}}
kinds:
  launch:
    title: Launch
    owner: U0OWNER
    fields: {{day: {{type: date, required: true}}}}
    approvers: ops
    rules:
      - {{id: soon, when: {{day: {{lte: "{offset}"}}}}, decide: approve, reason: Soon.}}
    tests:
      - {{fields: {{day: 2026-03-10}}, at: "{at}", expect: approve}}
"""


def test_the_longest_offset_at_the_edge_of_the_range_evaluates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "signoff.yaml"
    path.write_text(OFFSETS.format(offset="+36500d", at="2999-12-31T12:00:00"))
    code, out, _ = run(capsys, "test", "--config", str(path))
    assert code == 0 and "1 passed, 0 failed" in out
    code, out, err = run(capsys, "explain", "launch", "day=1900-01-01", "--at", "1900-01-01", "--config", str(path))
    assert code == 0, err


def test_an_offset_longer_than_the_longest_duration_is_refused_at_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "signoff.yaml"
    path.write_text(OFFSETS.format(offset="+999999w", at="2026-03-01T12:00:00"))
    code, _, err = run(capsys, "check", "--config", str(path))
    assert code == 1
    assert "a duration is at most 36500d (about 100 years), got “999999w”" in err


def test_a_file_test_at_the_calendars_edge_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "signoff.yaml"
    path.write_text(OFFSETS.format(offset="-7d", at="0001-01-01T00:00:00"))
    code, out, _ = run(capsys, "test", "--config", str(path))
    assert code == 1
    assert (
        "      at is not valid: expected a date and time from 1900-01-01 to 2999-12-31, got “0001-01-01T00:00:00”"
        in out
    )


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (
            "9999-12-31T23:59:59-10:00",
            "expected a date and time from 1900-01-01 to 2999-12-31, got “9999-12-31T23:59:59-10:00”",
        ),
        ("-1", "expected a date and time, YYYY-MM-DD HH:MM, got “-1”"),
    ],
)
def test_audit_export_since_is_bounded_like_a_datetime_field(
    capsys: pytest.CaptureFixture[str], value: str, said: str
) -> None:
    """One line, exit 2: the option's own message, no usage text around it."""
    assert main(["audit", "export", "--since", value]) == 2
    assert capsys.readouterr().err == f"signoff audit export: --since: {said}\n"


SANTIAGO = """
version: 1
timezone: America/Santiago
groups: {ops: {members: [U0OPS]}}
kinds:
  launch:
    title: Launch
    owner: U0OWNER
    fields: {day: {type: date, required: true}, seats: {type: number, integer: true}}
    approvers: ops
    rules:
      - {id: soon, when: {day: {lte: "+1d"}}, decide: approve, reason: Soon.}
    tests:
      - {name: typed date, fields: {day: 2026-09-07}, at: 2026-09-06, expect: approve}
      - {name: quoted date, fields: {day: 2026-09-07}, at: "2026-09-06", expect: approve}
      - {name: far offset, fields: {day: 2026-09-07}, at: "2026-09-06 10:00+15:00", expect: approve}
"""


@pytest.mark.parametrize(
    ("options", "code", "shown"),
    [
        # 2026-09-06 begins at 01:00 in Santiago: the clocks skip midnight
        (["--at", "2026-09-06"], 0, "requested by U0TESTER at 2026-09-06 01:00 -03\n"),
        (["--at", "2026-09-07"], 0, "requested by U0TESTER at 2026-09-07 00:00 -03\n"),
        (
            ["--at", "2026-09-06 00:30"],
            1,
            "signoff explain: --at: 2026-09-06 00:30 does not exist in America/Santiago (the clocks jump forward "
            "over it); give a time outside the jump, or add a UTC offset: 2026-09-06 00:30-04:00 or 2026-09-06 00:30-03:00\n",
        ),
        (
            ["--at", "2026-09-06 10:00+15:00"],
            1,
            "signoff explain: --at: expected a UTC offset from -14:00 to +14:00, got “2026-09-06 10:00+15:00”\n",
        ),
        (
            ["seats=7%"],
            1,
            "  seats: “7%”: this field takes a plain number, not a percentage; write it without “%”\n",
        ),
    ],
)
def test_explain_at_a_bare_date_is_the_first_instant_of_that_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], code: int, shown: str
) -> None:
    path = tmp_path / "signoff.yaml"
    path.write_text(SANTIAGO)
    got, out, err = run(capsys, "explain", "launch", "day=2026-09-07", *options, "--config", str(path))
    assert got == code
    assert shown in (out if code == 0 else err)


def test_a_file_tests_at_is_read_like_explain_at(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "signoff.yaml"
    path.write_text(SANTIAGO)
    code, out, err = run(capsys, "test", "--config", str(path))
    assert code == 1, err
    assert out.splitlines() == [
        "PASS  launch.tests[0] typed date",
        "PASS  launch.tests[1] quoted date",
        "FAIL  launch.tests[2] far offset",
        "      at is not valid: expected a UTC offset from -14:00 to +14:00, got “2026-09-06 10:00+15:00”",
        "2 passed, 1 failed",
    ]


def test_a_file_tests_at_is_never_a_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "signoff.yaml"
    path.write_text(SANTIAGO + "      - {name: a number, fields: {day: 2026-09-07}, at: 17, expect: approve}\n")
    code, _, err = run(capsys, "check", "--config", str(path))
    assert code == 1
    assert (
        "signoff.yaml:17: kinds.launch.tests[3].at: expected a date and time, YYYY-MM-DD HH:MM, or a date, got 17\n"
        in err
    )
