"""`signoff audit export --kind`: a kind no stored request has is one line listing the stored kinds, exit 2."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_cli_report import run, stored  # noqa: F401 — the fixture: three discount requests in SQLite

pytestmark = pytest.mark.usefixtures("stored")


@pytest.mark.parametrize("kind", ["nope", "-x"])
def test_an_unknown_kind_names_the_stored_kinds(capsys: pytest.CaptureFixture[str], kind: str) -> None:
    code, out, err = run(capsys, "audit", "export", "--kind", kind)
    assert (code, out) == (2, "")
    assert err == f"signoff audit export: --kind: no stored request is of kind “{kind}”; stored kinds: discount\n"


def test_a_kind_is_read_as_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "export", "--kind", " Discount ")
    assert (code, err) == (0, "")
    events = [json.loads(line) for line in out.splitlines()]
    assert events and {event["request_id"] for event in events} == {"REQ-1", "REQ-2", "REQ-3"}
