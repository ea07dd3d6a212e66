"""Digests with a controlled clock: content and order, nothing empty, nothing twice, working hours."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from bot.domain.clock import FixedClock
from bot.domain.outbox import DeliveryError
from bot.domain.routing import Verdict
from bot.jobs import run_digests
from bot.services.decide import decide_request
from bot.services.digest_now import send_digests_now, summary
from bot.services.digests import queue_digests
from bot.services.relay import relay_outbox
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.services.sweeps import escalate_due
from storage.records import OutboxRecord
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import governance_from
from tests.fakes import FakeGateway, drain
from tests.services.conftest import LIFECYCLE

NOBODY_ABROAD: dict[str, str] = {}


def routed(runtime: Runtime, account: str, requester: str = "U0SAM") -> str:
    return submit_request(
        runtime=runtime, kind="discount", requester=requester, text=f"account={account} amount_pct=25"
    ).ref


def digest_rows(engine: Engine) -> list[tuple[str, datetime]]:
    with engine.connect() as connection:
        query = select(OutboxRecord.idempotency_key, OutboxRecord.next_attempt_at).where(OutboxRecord.kind == "digest")
        return [(key, at) for key, at in connection.execute(query.order_by(OutboxRecord.id))]


def test_each_approver_gets_what_waits_on_them_overdue_first_then_oldest(runtime: Runtime, clock: FixedClock) -> None:
    clock.set(datetime.fromisoformat("2026-03-02T09:30:00+01:00"))  # Monday
    oldest = routed(runtime, "Oldest")
    clock.advance(timedelta(hours=1))
    middle = routed(runtime, "Middle")
    clock.advance(timedelta(hours=1))
    newest = routed(runtime, "Newest")
    clock.set(datetime.fromisoformat("2026-03-03T09:00:00+01:00"))
    escalate_due(runtime=runtime)  # all three are past their 8 h SLA now
    submission = submit_request(runtime=runtime, kind="discount", requester="U0KIM", text="account=Today amount_pct=30")
    clock.advance(timedelta(minutes=5))
    report = queue_digests(runtime=runtime, timezone_of=NOBODY_ABROAD.get)
    assert report.recipients == 3  # both of finance, and the CMO office the escalation added
    gateway = FakeGateway()
    drain(runtime, gateway)
    digests = {d.target: d.event.split(",") for d in gateway.of("digest")}
    assert digests["U0FIN1"] == [oldest, middle, newest, submission.ref]
    assert digests["U0CMO"] == [oldest, middle, newest]


def test_no_pending_items_no_digest_and_a_period_is_sent_once(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    assert queue_digests(runtime=runtime, timezone_of=NOBODY_ABROAD.get).queued == 0
    routed(runtime, "Acme")
    assert queue_digests(runtime=runtime, timezone_of=NOBODY_ABROAD.get).queued == 2
    clock.advance(timedelta(hours=3))
    assert queue_digests(runtime=runtime, timezone_of=NOBODY_ABROAD.get).queued == 0  # same period
    assert [key for key, _ in digest_rows(engine)] == [
        "digest:U0FIN1:2026-03-04T08:00:00+00:00",
        "digest:U0FIN2:2026-03-04T08:00:00+00:00",
    ]
    clock.advance(timedelta(days=1))
    assert queue_digests(runtime=runtime, timezone_of=NOBODY_ABROAD.get).queued == 2  # the next weekday's period


def test_a_vote_on_the_current_fields_takes_the_item_off_that_persons_digest(runtime: Runtime) -> None:
    request = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=2026-03-20"
    )
    decide_request(runtime=runtime, request_id=request.request_id, voter="U0BR1", verdict=Verdict.APPROVE)
    queue_digests(runtime=runtime, timezone_of=NOBODY_ABROAD.get)
    gateway = FakeGateway()
    drain(runtime, gateway)
    assert sorted(d.target for d in gateway.of("digest")) == ["U0BR2", "U0BR3"]


def test_digests_wait_for_working_hours_in_the_recipients_timezone(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    routed(runtime, "Acme")  # Wednesday 10:00 in Berlin is 01:00 in Los Angeles
    queue_digests(runtime=runtime, timezone_of={"U0FIN1": "America/Los_Angeles"}.get)
    due = dict(digest_rows(engine))
    assert due["digest:U0FIN1:2026-03-04T08:00:00+00:00"] == datetime.fromisoformat("2026-03-04T08:00:00-08:00")
    assert due["digest:U0FIN2:2026-03-04T08:00:00+00:00"] == clock.now()
    gateway = FakeGateway()
    drain(runtime, gateway)
    assert [d.target for d in gateway.of("digest")] == ["U0FIN2"]
    clock.set(datetime.fromisoformat("2026-03-04T08:00:00-08:00"))
    drain(runtime, gateway)
    assert [d.target for d in gateway.of("digest")] == ["U0FIN2", "U0FIN1"]


def test_an_operator_run_ignores_working_hours_but_not_the_period(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    clock.set(datetime.fromisoformat("2026-03-07T12:00:00+01:00"))  # Saturday
    routed(runtime, "Weekend")
    assert queue_digests(runtime=runtime, timezone_of=NOBODY_ABROAD.get, operator_run=True).queued == 2
    assert all(at == clock.now() for _, at in digest_rows(engine))
    assert queue_digests(runtime=runtime, timezone_of=NOBODY_ABROAD.get, operator_run=True).queued == 0


def test_the_digest_counts_what_governed_defaults_resolved_since_the_last_one(
    runtime: Runtime, clock: FixedClock
) -> None:
    clock.set(datetime.fromisoformat("2026-03-03T11:00:00+01:00"))  # Tuesday, after Tuesday's digest
    for requester in ("U0A1", "U0A2", "U0A3"):
        submit_request(runtime=runtime, kind="discount", requester=requester, text="account=X amount_pct=5")
    routed(runtime, "Pending")
    clock.set(datetime.fromisoformat("2026-03-04T09:01:00+01:00"))
    queue_digests(runtime=runtime, timezone_of=NOBODY_ABROAD.get)
    gateway = FakeGateway()
    relay_outbox(runtime=runtime, gateway=gateway)
    relay_outbox(runtime=runtime, gateway=gateway)
    assert {d.text for d in gateway.of("digest")} == {"1+0 waiting; 3 resolved by rule"}


def test_a_digest_run_is_claimed_once_per_minute_across_workers(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    routed(runtime, "Acme")
    other_worker = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=runtime.governance, clock=clock)
    assert run_digests(runtime, NOBODY_ABROAD.get) is True
    assert run_digests(other_worker, NOBODY_ABROAD.get) is False  # same minute: the other worker skips
    clock.advance(timedelta(minutes=1))
    assert run_digests(other_worker, NOBODY_ABROAD.get) is True  # next minute: claimed, but nothing new to send
    assert len(digest_rows(engine)) == 2


def digest_deliveries(
    runtime: Runtime, other_worker: Runtime, clock: FixedClock, until: datetime
) -> list[tuple[str, datetime]]:
    """Two workers taking turns at the scheduled pass every 5 minutes, relaying after each: who got
    a digest when."""
    gateway, when = FakeGateway(), []
    workers = [runtime, other_worker]
    while clock.now() <= until:
        for worker in workers:  # both try each tick; only one claims it
            run_digests(worker, NOBODY_ABROAD.get)
        workers.reverse()
        before = len(gateway.of("digest"))
        drain(runtime, gateway)
        when += [(d.target, clock.now()) for d in gateway.of("digest")[before:]]
        clock.advance(timedelta(minutes=5))
    return when


def test_an_evening_request_yields_one_digest_the_next_morning(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    # Tuesday 19:00: Tuesday's period (09:00) has not had a digest, and working hours hold it back
    # until 08:00 — an hour before Wednesday's period. One digest at 09:00, not two an hour apart.
    clock.set(datetime.fromisoformat("2026-03-03T19:00:00+01:00"))
    routed(runtime, "Evening")
    other_worker = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=runtime.governance, clock=clock)
    deliveries = digest_deliveries(runtime, other_worker, clock, datetime.fromisoformat("2026-03-04T11:00:00+01:00"))
    nine = datetime.fromisoformat("2026-03-04T09:00:00+01:00")
    assert deliveries == [("U0FIN1", nine), ("U0FIN2", nine)]
    assert [key for key, _ in digest_rows(engine)] == [
        "digest:U0FIN1:2026-03-04T08:00:00+00:00",
        "digest:U0FIN2:2026-03-04T08:00:00+00:00",
    ]


def test_a_digest_held_back_long_before_the_next_period_keeps_its_own(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    # Wednesday 09:00 Berlin is 00:00 in Los Angeles: held back to 08:00 there (17:00 Berlin),
    # sixteen hours before Thursday's period, so it goes out on its own that afternoon.
    clock.set(datetime.fromisoformat("2026-03-04T09:00:00+01:00"))
    routed(runtime, "Acme")
    report = queue_digests(runtime=runtime, timezone_of={"U0FIN1": "America/Los_Angeles"}.get)
    assert (report.queued, report.merged) == (2, 0)
    assert dict(digest_rows(engine))["digest:U0FIN1:2026-03-04T08:00:00+00:00"] == datetime.fromisoformat(
        "2026-03-04T08:00:00-08:00"
    )


def test_a_digest_for_a_time_the_fall_back_repeats_is_queued_once(engine: Engine, clock: FixedClock) -> None:
    governance = governance_from(
        LIFECYCLE.replace(
            "timezone: Europe/Berlin", 'timezone: Europe/Berlin\ndigest: "30 2 * * *"\nworking_hours: always'
        )
    )
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=clock)
    # Berlin repeats 02:00–03:00 on Sunday 2026-10-25; the request comes in at 02:45, after the
    # first 02:30. Through the second 02:00–03:00 the period stays Sunday's (not Saturday's again).
    clock.set(datetime.fromisoformat("2026-10-25T02:45:00+02:00"))
    routed(runtime, "Acme")
    other_worker = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=runtime.governance, clock=clock)
    deliveries = digest_deliveries(runtime, other_worker, clock, datetime.fromisoformat("2026-10-25T12:00:00+01:00"))
    at = datetime.fromisoformat("2026-10-25T02:45:00+02:00")
    assert deliveries == [("U0FIN1", at), ("U0FIN2", at)]
    assert {key for key, _ in digest_rows(engine)} == {
        "digest:U0FIN1:2026-10-25T00:30:00+00:00",  # the first 02:30
        "digest:U0FIN2:2026-10-25T00:30:00+00:00",
    }


def test_an_operator_run_delivers_the_digests_the_scheduled_pass_held_back(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    clock.set(datetime.fromisoformat("2026-03-04T09:00:00+01:00"))
    routed(runtime, "Acme")
    gateway = FakeGateway()
    queue_digests(runtime=runtime, timezone_of={"U0FIN1": "America/Los_Angeles"}.get)
    drain(runtime, gateway)  # U0FIN2's goes out; U0FIN1's waits for 08:00 in Los Angeles
    assert [d.target for d in gateway.of("digest")] == ["U0FIN2"]
    clock.advance(timedelta(minutes=10))
    report = send_digests_now(runtime=runtime, gateway=gateway, timezone_of={"U0FIN1": "America/Los_Angeles"}.get)
    assert summary(report) == "digests: 1 sent now, 1 had been sent already"
    assert report.left == 0
    assert [d.target for d in gateway.of("digest")] == ["U0FIN2", "U0FIN1"]
    again = send_digests_now(runtime=runtime, gateway=gateway, timezone_of=NOBODY_ABROAD.get)
    assert summary(again) == "digests: 0 sent now, 2 had been sent already"
    clock.set(datetime.fromisoformat("2026-03-04T08:00:00-08:00"))
    drain(runtime, gateway)
    assert [d.target for d in gateway.of("digest")] == ["U0FIN2", "U0FIN1"]  # and not again at 08:00 there


def test_an_operator_run_counts_only_what_slack_took(runtime: Runtime, clock: FixedClock) -> None:
    routed(runtime, "Acme")
    drain(runtime, FakeGateway())  # the cards
    gateway = FakeGateway(fail_next=[DeliveryError("slack is down")])
    report = send_digests_now(runtime=runtime, gateway=gateway, timezone_of=NOBODY_ABROAD.get)
    assert summary(report) == "digests: 1 sent now, 0 had been sent already, 1 failed (will retry)"
    assert report.left == 1
    assert len(gateway.of("digest")) == 1


def test_a_group_schedule_that_never_fires_skips_only_that_groups_digests(
    engine: Engine, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    governance = governance_from(
        LIFECYCLE.replace("timezone: Europe/Berlin", "timezone: Europe/Berlin\nworking_hours: always")
    )
    # A governance in force from before `check` refused such schedules.
    finance = governance.spec.groups["finance"]
    governance.spec.groups["finance"] = finance.model_copy(update={"digest": "0 9 31 2 *"})
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=lambda: governance, clock=clock)
    clock.set(datetime.fromisoformat("2026-03-02T09:30:00+01:00"))
    waiting = routed(runtime, "Acme")
    clock.set(datetime.fromisoformat("2026-03-03T09:00:00+01:00"))
    escalate_due(runtime=runtime)  # the CMO office waits on it too now
    clock.advance(timedelta(minutes=5))
    gateway = FakeGateway()
    with caplog.at_level(logging.ERROR, logger="bot.services.digests"):
        report = queue_digests(runtime=runtime, timezone_of=NOBODY_ABROAD.get)
        drain(runtime, gateway)
        now = send_digests_now(runtime=runtime, gateway=gateway, timezone_of=NOBODY_ABROAD.get)
    assert report.recipients == 1
    assert [(d.target, d.event) for d in gateway.of("digest")] == [("U0CMO", waiting)]
    assert summary(now) == "digests: 0 sent now, 1 had been sent already"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all("'0 9 31 2 *'" in line and "skipped" in line for line in lines), lines
    assert all(r.exc_info is None for r in caplog.records)
