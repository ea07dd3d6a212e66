"""The outbox relay against a fake Slack: delivery, retries, Retry-After, dead rows, leases."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from bot.domain.clock import FixedClock
from bot.domain.notices import Notice
from bot.domain.outbox import DeliveryError, notify
from bot.domain.routing import Verdict
from bot.services.decide import decide_request
from bot.services.relay import LEASE, MAX_ATTEMPTS, relay_outbox
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.records import MessageRecord, OutboxRecord
from tests.fakes import FakeGateway, drain


def routed(runtime: Runtime) -> int:
    return submit_request(
        runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=25"
    ).request_id


def outbox_rows(engine: Engine) -> list[OutboxRecord]:
    with engine.connect() as connection:
        return list(connection.execute(select(OutboxRecord).order_by(OutboxRecord.id)).all())  # type: ignore[arg-type]


def test_cards_are_posted_then_every_copy_updated_and_the_requester_told(runtime: Runtime, engine: Engine) -> None:
    gateway = FakeGateway()
    request_id = routed(runtime)
    assert relay_outbox(runtime=runtime, gateway=gateway).sent == 1  # the fan-out queues one card per approver
    assert gateway.delivered == []
    assert relay_outbox(runtime=runtime, gateway=gateway).sent == 2
    assert [(d.action, d.target) for d in gateway.delivered] == [("post", "U0FIN1"), ("post", "U0FIN2")]
    assert gateway.delivered[0].card is not None and gateway.delivered[0].card.progress == ("finance 0/1",)
    with engine.connect() as connection:
        refs = connection.execute(select(MessageRecord.channel, MessageRecord.ts).order_by(MessageRecord.id)).all()
    assert [channel for channel, _ in refs] == ["D0FIN1", "D0FIN2"]

    decide_request(runtime=runtime, request_id=request_id, voter="U0FIN1", verdict=Verdict.APPROVE)
    drain(runtime, gateway)
    updates = gateway.of("update")
    assert [u.target for u in updates] == [f"{c}/{ts}" for c, ts in refs]
    assert all(u.card is not None and not u.card.is_open and u.card.decided_by == "U0FIN1" for u in updates)
    (told,) = gateway.of("notify")
    assert (told.target, told.text) == ("U0SAM", f"REQ-{request_id} was approved by <@U0FIN1>.")
    assert relay_outbox(runtime=runtime, gateway=gateway).handled == 0
    assert {row.status for row in outbox_rows(engine)} == {"sent"}


def test_rate_limits_wait_for_retry_after_without_spending_attempts(
    runtime: Runtime, engine: Engine, clock: FixedClock
) -> None:
    routed(runtime)
    gateway = FakeGateway(
        fail_next=[DeliveryError("ratelimited", retry_after=30), DeliveryError("ratelimited", retry_after=30)]
    )
    relay_outbox(runtime=runtime, gateway=gateway)  # the fan-out
    report = relay_outbox(runtime=runtime, gateway=gateway)
    assert (report.sent, report.retried) == (0, 2)
    cards = [row for row in outbox_rows(engine) if row.kind == "post_card"]
    assert all(row.attempts == 0 and row.next_attempt_at == clock.now() + timedelta(seconds=30) for row in cards)
    clock.advance(timedelta(seconds=29))
    assert relay_outbox(runtime=runtime, gateway=gateway).handled == 0
    clock.advance(timedelta(seconds=1))
    assert relay_outbox(runtime=runtime, gateway=gateway).sent == 2
    assert gateway.counts() == {("post", "U0FIN1"): 1, ("post", "U0FIN2"): 1}


def test_server_errors_back_off_and_each_card_arrives_once(runtime: Runtime, engine: Engine, clock: FixedClock) -> None:
    submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Initech"})
    gateway = FakeGateway(fail_next=[DeliveryError("internal_error") for _ in range(5)])
    backoffs = []
    while not gateway.delivered:
        if relay_outbox(runtime=runtime, gateway=gateway).retried:
            (row,) = [row for row in outbox_rows(engine) if row.kind == "post_card"]
            backoffs.append((row.attempts, row.next_attempt_at - clock.now()))
            clock.set(row.next_attempt_at)
    assert backoffs == [(n, timedelta(seconds=5 * 2 ** (n - 1))) for n in range(1, 6)]
    assert gateway.counts() == {("post", "C0LEGAL"): 1}


def test_permanent_errors_and_exhausted_attempts_mark_the_row_dead(
    runtime: Runtime, engine: Engine, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Initech"})
    gateway = FakeGateway(fail_next=[DeliveryError("channel_not_found", permanent=True)])
    with caplog.at_level(logging.ERROR, logger="bot.services.relay"):
        drain(runtime, gateway)
    (row,) = [row for row in outbox_rows(engine) if row.kind == "post_card"]
    assert (row.status, row.last_error) == ("dead", "channel_not_found")
    assert "is dead after 1 attempt(s): channel_not_found" in caplog.text
    clock.advance(timedelta(minutes=2))
    drain(runtime, gateway)  # the owner's message about it, gathered for a minute

    submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Globex"})
    gateway = FakeGateway(fail_next=[DeliveryError("service_unavailable") for _ in range(MAX_ATTEMPTS)])
    for _ in range(MAX_ATTEMPTS + 1):  # the fan-out, then every attempt of the card
        relay_outbox(runtime=runtime, gateway=gateway)
        clock.advance(timedelta(hours=1))
    (last,) = [
        row for row in outbox_rows(engine) if row.kind == "post_card" and row.idempotency_key.startswith("req:2:")
    ]
    assert (last.status, last.attempts, last.last_error) == ("dead", MAX_ATTEMPTS, "service_unavailable")
    assert gateway.delivered == []


def test_a_claim_left_by_a_dead_relay_is_delivered_after_its_lease(runtime: Runtime, clock: FixedClock) -> None:
    routed(runtime)
    gateway = FakeGateway()
    relay_outbox(runtime=runtime, gateway=gateway)  # fan-out: two cards due
    with runtime.uow() as uow:  # a relay claims them and dies before delivering
        assert len(uow.outbox.claim_due(now=clock.now(), limit=10, lease=LEASE)) == 2
        uow.commit()
    assert relay_outbox(runtime=runtime, gateway=gateway).handled == 0
    clock.advance(LEASE)  # 15 s: a dead relay's rows do not wait minutes
    assert relay_outbox(runtime=runtime, gateway=gateway).sent == 2


def test_relays_running_at_once_never_deliver_a_row_twice(runtime: Runtime) -> None:
    for _ in range(15):
        routed(runtime)
    gateway = FakeGateway()
    barrier = threading.Barrier(3)

    def relay() -> None:
        barrier.wait(timeout=10)
        while relay_outbox(runtime=runtime, gateway=gateway, batch_size=4).handled:
            pass

    threads = [threading.Thread(target=relay) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(gateway.delivered) == 30
    assert set(gateway.counts().values()) == {15}


def test_queueing_the_same_key_twice_is_refused_and_said_so(runtime: Runtime, clock: FixedClock) -> None:
    intent = notify(1, "U0SAM", notice=Notice.EXPIRED, event="x", version=1)
    with runtime.uow() as uow:
        assert uow.outbox.add(intent, now=clock.now()) is True
        assert uow.outbox.add(intent, now=clock.now()) is False
