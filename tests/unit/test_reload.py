"""A reload can never kill the server: whatever the new file is, the governance in force stays
and the refusal is one log line (issue 9, item 9)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import bot.app
from bot.app import GovernanceHolder
from tests.unit.test_hostile_governance import BASE, BILLION_LAUGHS, nested, with_when

VALID = with_when("{amount: {lt: 5}}")
HOSTILE = [
    pytest.param(BILLION_LAUGHS, "line 5: (top level): too many values: expanding the alias *d", id="billion-laughs"),
    pytest.param(
        with_when(nested(300, "{amount: {lt: 5}}", "{all: [X]}")),
        "line 17: (top level): mappings and lists nest deeper than 64 levels",
        id="all-nested-300-deep",
    ),
    pytest.param("[" * 100_000, "line 1: (top level): mappings and lists nest deeper", id="flow-nested"),
    pytest.param("a: &a [*a]\n", "line 1: (top level): the alias *a is inside the value it names", id="alias-loop"),
    pytest.param(with_when("!!python/object:os.system {}"), "the YAML tag !!python/object:os.system", id="tag"),
    pytest.param("#" * (5 * 1024 * 1024), "the file is 5,242,880 bytes", id="oversize"),
    pytest.param(b"\xff\xfe", "the file is not UTF-8 text", id="not-utf8"),
    pytest.param(BASE, "kinds.deal.rules[0].when", id="invalid"),
]


@pytest.fixture
def holder(tmp_path: Path) -> GovernanceHolder:
    path = tmp_path / "signoff.yaml"
    path.write_text(VALID)
    return GovernanceHolder(path)


@pytest.mark.parametrize(("content", "logged"), HOSTILE)
def test_a_hostile_file_keeps_the_governance_in_force_and_logs_one_line(
    holder: GovernanceHolder, content: str | bytes, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = holder.current()
    if isinstance(content, bytes):
        holder.path.write_bytes(content)
    else:
        holder.path.write_text(content)
    with caplog.at_level(logging.INFO, logger="signoff"):
        assert holder.reload() is False
    assert holder.current() is before
    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith(f"governance reload refused, keeping {before.version[:12]}: ")
    assert logged in message
    assert "\n" not in message and record.exc_info is None


def test_an_unexpected_failure_of_the_reader_keeps_the_governance_in_force(
    holder: GovernanceHolder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(path: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(bot.app, "load_governance_file", explode)
    before = holder.current()
    assert holder.reload() is False
    assert holder.current() is before
    assert [r.getMessage() for r in caplog.records] == [
        f"governance reload failed, keeping {before.version[:12]}: RecursionError: maximum recursion depth exceeded"
    ]


def test_a_failing_follow_up_does_not_undo_or_escape_a_good_reload(
    holder: GovernanceHolder, caplog: pytest.LogCaptureFixture
) -> None:
    def follow_up() -> None:
        raise ConnectionError("database gone")

    holder.on_reload.append(follow_up)
    holder.path.write_text(VALID.replace("reason: Fine.", "reason: Still fine."))
    assert holder.reload() is True
    assert holder.current().kind("deal").rules[0].reason == "Still fine."
    assert "after the governance reload: ConnectionError: database gone" in [r.getMessage() for r in caplog.records]
