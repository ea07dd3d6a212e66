"""Processes killed with SIGKILL lose no Slack message, and none is sent twice."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from bot.domain.clock import FixedClock
from bot.domain.outbox import MessageRef
from bot.services.relay import LEASE, relay_outbox
from bot.services.runtime import Runtime
from storage.records import MessageRecord, OutboxRecord
from tests.conftest import ROOT
from tests.fakes import FakeGateway, drain
from tests.services.conftest import LIFECYCLE

REQUESTS = 5  # each routed to finance: two DM cards apiece


def start(entry: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", f"from tests.processes import {entry}; {entry}()"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(process: subprocess.Popen[str], expected: str, timeout: float = 60) -> None:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout):
        process.kill()
        raise AssertionError(
            f"no {expected!r} within {timeout}s; stderr: {process.stderr.read() if process.stderr else ''}"
        )
    line = process.stdout.readline().strip()
    assert line == expected, (line, process.stderr.read() if process.stderr else "")


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def submitted_then_killed(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A process commits REQUESTS requests and is killed before any delivery; the environment it ran with."""
    config = tmp_path / "signoff.yaml"
    config.write_text(LIFECYCLE)
    env = {"SIGNOFF_DATABASE_URL": database_url, "SIGNOFF_CONFIG": str(config), "REQUESTS": str(REQUESTS)}
    submitter = start("submit_then_hang", env)
    wait_for_line(submitter, f"committed {REQUESTS}")
    kill(submitter)
    return env


def test_killed_between_commit_and_delivery_then_killed_mid_relay(
    database_url: str, engine: Engine, runtime: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    env = submitted_then_killed(database_url, tmp_path)  # committed, nothing delivered yet

    deliveries = tmp_path / "deliveries.txt"
    relay = start("relay_then_hang", {**env, "DELIVERIES": str(deliveries), "HANG_AT": "5"})
    wait_for_line(relay, "hanging")
    kill(relay)  # four delivered and recorded; the fifth claimed but never sent
    first = [line.split("\t")[0] for line in deliveries.read_text().splitlines()]
    assert len(first) == 4

    clock.set(clock.now().replace(year=2100))  # long past the dead relay's lease
    clock.advance(LEASE)
    gateway = FakeGateway()
    while relay_outbox(runtime=runtime, gateway=gateway).handled:
        pass
    after = [f"post {d.card.request_id} {d.target}" for d in gateway.delivered if d.card is not None]
    everything = Counter(first + after)
    assert len(everything) == 2 * REQUESTS
    assert set(everything.values()) == {1}, everything
    with engine.connect() as connection:
        statuses = dict(
            connection.execute(select(OutboxRecord.status, func.count()).group_by(OutboxRecord.status)).all()
        )
    assert statuses == {"sent": 3 * REQUESTS}  # a fan-out and two cards per request
    assert relay_outbox(runtime=runtime, gateway=gateway).handled == 0


def test_killed_just_after_slack_took_a_card_every_approver_has_one_card_within_the_lease(
    database_url: str, engine: Engine, runtime: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    env = submitted_then_killed(database_url, tmp_path)

    deliveries = tmp_path / "deliveries.txt"
    relay = start("relay_then_hang", {**env, "DELIVERIES": str(deliveries), "HANG_AFTER": "2"})
    wait_for_line(relay, "hanging")
    kill(relay)  # the second card is in Slack, but its relay died before it heard back
    killed_at = datetime.now(UTC)
    first = [line.split("\t") for line in deliveries.read_text().splitlines()]
    assert len(first) == 2
    # Slack remembers what it was given, with the outbox key in each message's metadata.
    slack = FakeGateway()
    for n, (line, key) in enumerate(first):
        _, request_id, target = line.split()
        slack.posted[key] = MessageRef("D" + target[1:], f"{request_id}.{n}", target)

    clock.set(killed_at + LEASE)  # no heartbeat since the kill: the dead relay's rows are due again
    drain(runtime, slack)
    after = [f"post {d.card.request_id} {d.target}" for d in slack.of("post") if d.card is not None]
    everything = Counter([line for line, _ in first] + after)
    assert len(everything) == 2 * REQUESTS
    assert set(everything.values()) == {1}, everything  # one card per approver, none twice
    with engine.connect() as connection:
        statuses = dict(
            connection.execute(select(OutboxRecord.status, func.count()).group_by(OutboxRecord.status)).all()
        )
        recorded = connection.execute(select(func.count()).select_from(MessageRecord)).scalar_one()
    assert statuses == {"sent": 3 * REQUESTS}
    assert recorded == 2 * REQUESTS  # the card posted before the kill is known, so decisions update it
