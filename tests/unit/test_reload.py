"""A reload can never kill the server: whatever the new file is, the governance in force stays
and the refusal is one log line (issue 9, item 9)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.app
from bot.app import GovernanceHolder
from bot.cli_run import reload_on_hangup
from bot.domain.governance import Governance
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


class SlowReader:
    """Stands in for ``load_governance_file``: each load waits until the test lets it finish."""

    def __init__(self, holder: GovernanceHolder):
        self.fresh = holder.current()
        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, path: object) -> Governance:
        self.calls += 1
        self.started.release()
        assert self.release.wait(timeout=10), "the test never let the load finish"
        return self.fresh


@pytest.fixture
def slow(holder: GovernanceHolder, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowReader]:
    reader = SlowReader(holder)
    monkeypatch.setattr(bot.app, "load_governance_file", reader)
    holder.start_reloader()
    yield reader
    reader.release.set()
    holder.close()


def test_a_reload_runs_off_the_asking_thread_and_signals_meanwhile_merge_into_one_more(
    holder: GovernanceHolder, slow: SlowReader
) -> None:
    loaded = threading.Event()
    holder.on_reload.append(loaded.set)
    holder.request_reload()
    assert slow.started.acquire(timeout=10)  # the load is under way, and the asking thread is free
    before = holder.current()
    for _ in range(8):  # a burst of SIGHUPs while the file loads
        holder.request_reload()
    assert holder.current() is before  # answers at once: nothing waits on the load in progress
    slow.release.set()
    assert slow.started.acquire(timeout=10)  # the burst: one more load, not eight
    assert loaded.wait(timeout=10)
    holder.close()
    assert slow.calls == 2


def test_sighup_returns_at_once_while_a_large_file_loads(holder: GovernanceHolder, slow: SlowReader) -> None:
    previous = signal.getsignal(signal.SIGHUP)
    try:
        reload_on_hangup(holder)
        started = time.perf_counter()
        os.kill(os.getpid(), signal.SIGHUP)  # the handler runs on this thread, as on serve's
        assert slow.started.acquire(timeout=10)
        os.kill(os.getpid(), signal.SIGHUP)
        assert holder.current() is slow.fresh
        assert time.perf_counter() - started < 5  # before: the handler loaded the file itself (7 s at 10k rules)
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert slow.calls == 1  # the second signal waits for the first load to end
