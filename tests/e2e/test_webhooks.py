"""Webhooks end to end: a `signoff worker` process delivers to a real local receiver that verifies
each signature; killed mid-delivery it still delivers after a restart; a 410 disables the
subscription, its owner is told in Slack (the emulator) and /metrics shows it (DESIGN §9, §10)."""

from __future__ import annotations

import signal
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain.clock import SystemClock
from bot.governance_file import load_governance_file
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.slack.emulator import SlackEmulator
from storage.engine import create_db_engine
from storage.records import OutboxRecord
from storage.uow import SqlUnitOfWorkFactory
from tests.e2e.conftest import WAIT_SECONDS, notices_in, request_cards, start_serve, stop
from tests.services.conftest import LIFECYCLE
from tests.webhook_receiver import SECRET, Receiver, Reply, receiving

#: DESIGN §10: rows a killed relay had claimed are delivered within 30 s of a restart.
RESTART_DELIVERY_SECONDS = 30.0
ENV = {"SIGNOFF_E2E_WEBHOOK_SECRET": SECRET}


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    with receiving() as receiver:
        (tmp_path / "signoff.yaml").write_text(
            LIFECYCLE + "webhooks:\n"
            f"  - {{id: crm, url: '{receiver.url('/crm')}', secret_env: SIGNOFF_E2E_WEBHOOK_SECRET,"
            " events: [request.decided], kinds: [discount]}\n"
        )
        yield receiver


def file_approved(tmp_path: Path, account: str) -> None:
    """File a request a rule approves at once, from this process, in the worker's database."""
    governance = load_governance_file(tmp_path / "signoff.yaml")
    engine = create_db_engine(f"sqlite:///{tmp_path / 'signoff.db'}")
    units = SqlUnitOfWorkFactory(engine, webhooks=lambda: governance.webhooks)
    runtime = Runtime(uow=units, governance=lambda: governance, clock=SystemClock())
    submit_request(runtime=runtime, kind="discount", requester="U0SAM", text=f"account={account} amount_pct=5")
    engine.dispose()


def webhook_rows(tmp_path: Path) -> list[tuple[str, str]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'signoff.db'}")
    with engine.connect() as connection:
        query = select(OutboxRecord.idempotency_key, OutboxRecord.status).where(OutboxRecord.kind == "webhook")
        rows = [(key, status) for key, status in connection.execute(query)]
    engine.dispose()
    return rows


def test_a_worker_killed_mid_delivery_delivers_the_same_message_after_a_restart(
    tmp_path: Path, slack: SlackEmulator, receiver: Receiver
) -> None:
    receiver.hold = True  # the first delivery is held until the worker is gone
    worker = start_serve(tmp_path, slack, extra_env=ENV, args=("worker",))
    file_approved(tmp_path, "Acme")
    assert receiver.arrived.wait(WAIT_SECONDS)
    worker.process.send_signal(signal.SIGKILL)
    worker.process.wait(timeout=10)
    stop(worker.process)
    receiver.hold = False
    receiver.release.set()
    assert webhook_rows(tmp_path)[0][1] == "sending"  # claimed, never recorded

    restarted = start_serve(tmp_path, slack, extra_env=ENV, args=("worker",))
    try:
        assert receiver.wait_for(lambda r: len(r.of("/crm")) == 2, timeout=RESTART_DELIVERY_SECONDS + 5)
    finally:
        stop(restarted.process)
    first, again = receiver.of("/crm")
    assert first.verified and again.verified
    assert first.message_id == again.message_id  # the receiver can tell it is the same event
    assert first.timestamp <= again.timestamp and first.body == again.body
    assert webhook_rows(tmp_path) == [(webhook_rows(tmp_path)[0][0], "sent")]


def dead_within(tmp_path: Path, count: int, timeout: float = WAIT_SECONDS) -> bool:
    """A bounded wait (checked every 0.1 s) until ``count`` webhook rows are dead and none waits."""
    pause, waited = threading.Event(), 0.0
    while [status for _, status in webhook_rows(tmp_path)] != ["dead"] * count:
        if waited >= timeout:
            return False
        pause.wait(0.1)
        waited += 0.1
    return True


def test_a_410_disables_the_subscription_tells_the_owner_and_nothing_more_is_sent(
    tmp_path: Path, slack: SlackEmulator, receiver: Receiver
) -> None:
    receiver.answer = lambda arrival: Reply(410, "this endpoint is gone")
    worker = start_serve(tmp_path, slack, extra_env=ENV, args=("worker",))
    try:
        file_approved(tmp_path, "Acme")
        assert slack.wait_for(lambda s: bool(notices_in(s, "D0FINLEAD")), timeout=WAIT_SECONDS)
        (told,) = notices_in(slack, "D0FINLEAD")  # the owner of the first kind
        assert "webhook `crm` is disabled" in told.text and "HTTP 410: this endpoint is gone" in told.text
        assert "signoff webhooks enable crm" in told.text
        file_approved(tmp_path, "Initech")
        # the second event is kept, dead at once ("disabled"), for `signoff webhooks redeliver crm`
        assert dead_within(tmp_path, 2)
        with urllib.request.urlopen(f"{worker.url}/metrics", timeout=10) as response:
            metrics = response.read().decode()
    finally:
        stop(worker.process)
    assert len(receiver.of("/crm")) == 1
    assert len(notices_in(slack, "D0FINLEAD")) == 1
    assert 'signoff_webhook_subscription_disabled{subscription="crm"} 1.0' in metrics
    assert 'signoff_webhook_deliveries_total{outcome="disabled",subscription="crm"} 1.0' in metrics


def test_a_receiver_that_hangs_does_not_hold_up_the_workers_slack_cards(
    tmp_path: Path, slack: SlackEmulator, receiver: Receiver
) -> None:
    receiver.hold = True  # every delivery waits for an answer that does not come
    worker = start_serve(tmp_path, slack, extra_env=ENV, args=("worker",))
    try:
        for n in range(4):
            file_approved(tmp_path, f"Hang{n}")
        assert receiver.arrived.wait(WAIT_SECONDS)
        governance = load_governance_file(tmp_path / "signoff.yaml")
        engine = create_db_engine(f"sqlite:///{tmp_path / 'signoff.db'}")
        units = SqlUnitOfWorkFactory(engine, webhooks=lambda: governance.webhooks)
        runtime = Runtime(uow=units, governance=lambda: governance, clock=SystemClock())
        submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Routed amount_pct=25")
        engine.dispose()
        # the cards reach the approvers while the receiver still holds the webhooks (10 s each)
        assert slack.wait_for(
            lambda s: bool(request_cards(s, channel="D0FIN1")) and bool(request_cards(s, channel="D0FIN2")), timeout=5
        )
        assert receiver.hold and not receiver.release.is_set()
    finally:
        receiver.release.set()
        stop(worker.process)
