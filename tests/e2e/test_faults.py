"""End to end with Slack misbehaving: rate limits, server errors, and the bot killed meanwhile."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.emulator import SlackEmulator
from tests.e2e.conftest import WAIT_SECONDS, start_serve, stop, wait_for_log


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def legal_cards(slack: SlackEmulator) -> int:
    return len(slack.messages_in("C0LEGAL"))


def test_429_twice_and_500_five_times_still_deliver_each_card_once(tmp_path: Path, slack: SlackEmulator) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=1, times=2)
    slack.fail("chat.postMessage", status=500, times=5)
    served = start_serve(tmp_path, slack, extra_env={"SIGNOFF_RETRY_BACKOFF": "0.2"})
    try:
        reply = served.command("/request", "contract counterparty=Initech", user="U0SAM")
        assert "sent to *legal*" in reply.body
        assert slack.wait_for(lambda s: legal_cards(s) == 1, timeout=WAIT_SECONDS * 2)
        statuses = [c.status for c in slack.calls_to("chat.postMessage", ok=None) if c.args.get("channel") == "C0LEGAL"]
        assert statuses == [429, 429, 500, 500, 500, 500, 500, 200]
    finally:
        stop(served.process)
    assert legal_cards(slack) == 1


def outbox_state(database: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT status, attempts FROM outbox WHERE kind = 'post_card'").fetchall()


def test_killed_while_slack_fails_and_restarted_the_card_still_arrives_once(
    tmp_path: Path, slack: SlackEmulator
) -> None:
    slack.fail("chat.postMessage", status=500, times=10_000)
    env = {"SIGNOFF_RETRY_BACKOFF": "2"}
    served = start_serve(tmp_path, slack, extra_env=env)
    served.command("/request", "contract counterparty=Globex", user="U0SAM")
    database = tmp_path / "signoff.db"
    deadline = time.monotonic() + WAIT_SECONDS
    while not any(status == "pending" and attempts >= 2 for status, attempts in outbox_state(database)):
        assert time.monotonic() < deadline, outbox_state(database)
        time.sleep(0.05)  # polling another process's database: no event to wait on
    served.process.send_signal(signal.SIGKILL)  # between attempts, while Slack is failing
    served.process.wait(timeout=10)
    stop(served.process)
    slack.clear_faults()
    restarted = start_serve(tmp_path, slack, extra_env=env)
    try:
        assert slack.wait_for(lambda s: legal_cards(s) == 1, timeout=WAIT_SECONDS * 2)
        deadline = time.monotonic() + WAIT_SECONDS
        while outbox_state(database)[0][0] != "sent":  # the relay records the delivery just after Slack took it
            assert time.monotonic() < deadline, outbox_state(database)
            time.sleep(0.05)
    finally:
        stop(restarted.process)
    assert legal_cards(slack) == 1
    ((status, attempts),) = outbox_state(database)
    assert status == "sent" and attempts >= 3


def test_sighup_reloads_the_governance_file_and_refuses_a_broken_one(tmp_path: Path, slack: SlackEmulator) -> None:
    served = start_serve(tmp_path, slack)
    config = tmp_path / "signoff.yaml"
    try:
        assert "sent to *finance*" in served.command("/request", "discount account=A amount_pct=12", user="U0H1").body
        config.write_text(config.read_text().replace("{amount_pct: {lte: 10}}", "{amount_pct: {lte: 15}}"))
        served.process.send_signal(signal.SIGHUP)
        assert wait_for_log(served.process, "loaded from", WAIT_SECONDS)
        assert (
            "approved by rule `small`"
            in served.command("/request", "discount account=A amount_pct=12", user="U0H2").body
        )
        config.write_text("version: 1\nkinds: [this is not valid]\n")
        served.process.send_signal(signal.SIGHUP)
        assert wait_for_log(served.process, "governance reload refused", WAIT_SECONDS)
        assert (
            "approved by rule `small`"
            in served.command("/request", "discount account=A amount_pct=14", user="U0H3").body
        )
    finally:
        stop(served.process)


def test_sighup_with_a_hostile_file_never_ends_serve(tmp_path: Path, slack: SlackEmulator) -> None:
    """An alias bomb, 300-deep nesting, an alias inside itself, aliases nesting 1,440 deep, a FIFO:
    each reload is refused, one log line each."""
    from tests.unit.test_governance_bounds import alias_chain
    from tests.unit.test_hostile_governance import BILLION_LAUGHS, nested

    served = start_serve(tmp_path, slack)
    config = tmp_path / "signoff.yaml"
    valid = config.read_text()
    deep = valid.replace("{amount_pct: {lte: 10}}", nested(300, "{amount_pct: {lte: 10}}", "{all: [X]}"))
    try:
        for hostile in ("a: &a [*a]\n", deep, BILLION_LAUGHS, alias_chain(24), "fifo"):
            config.unlink()
            if hostile == "fifo":  # reading one waits for a writer: forever
                os.mkfifo(config)
            else:
                config.write_text(hostile)
            served.process.send_signal(signal.SIGHUP)
            assert wait_for_log(served.process, "governance reload refused", WAIT_SECONDS)
            assert served.process.poll() is None
            with urllib.request.urlopen(f"{served.url}/healthz", timeout=5) as response:
                assert response.status == 200
        assert (
            "approved by rule `small`"
            in served.command("/request", "discount account=A amount_pct=5", user="U0H4").body
        )
    finally:
        stop(served.process)


def test_healthz_answers_while_sighups_reload_a_large_file(tmp_path: Path, slack: SlackEmulator) -> None:
    """A reload runs beside the server, not in the signal handler on its thread: a burst of
    SIGHUPs with a file of 1,900 rules (~1.5 s to load) leaves /healthz answering at once."""
    served = start_serve(tmp_path, slack)
    config = tmp_path / "signoff.yaml"
    extra = "".join(
        f"      - {{id: x{i}, when: {{amount_pct: {{eq: {i % 100}}}, account: {{eq: acct{i}}}}}, "
        "decide: approve, reason: A sentence of reason for this one account.}\n"
        for i in range(1_900)
    )
    config.write_text(config.read_text().replace("    rules:\n", "    rules:\n" + extra, 1))
    try:
        for _ in range(8):
            served.process.send_signal(signal.SIGHUP)
        started = time.monotonic()
        with urllib.request.urlopen(f"{served.url}/healthz", timeout=WAIT_SECONDS) as response:
            assert response.status == 200
        assert time.monotonic() - started < 1.0  # before: 8 nested loads in the handler held it ~12 s
        assert wait_for_log(served.process, "loaded from", WAIT_SECONDS)
    finally:
        stop(served.process)
