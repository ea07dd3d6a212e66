"""Owners' weekly decision-surface summaries with a controlled clock: Monday in working hours in the
owner's timezone, once per owner per week (two workers included), figures computed at delivery."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from bot.domain.clock import FixedClock
from bot.domain.outbox import DeliveryError
from bot.domain.routing import Verdict
from bot.jobs import run_surface_summaries
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.services.surface_summary import owner_figures, queue_surface_summaries
from storage.records import OutboxRecord
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeGateway, drain
from tests.races import at_once

NOBODY_ABROAD: dict[str, str] = {}
OWNERS = ("U0BRANDLEAD", "U0FINLEAD", "U0LAWLEAD")
#: Monday 2 March 2026 (ISO week 10), in Berlin.
MONDAY = datetime.fromisoformat("2026-03-02T09:00:00+01:00")


def summary_rows(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        query = select(OutboxRecord.idempotency_key, OutboxRecord.status).where(OutboxRecord.kind == "surface_summary")
        return [(key, status) for key, status in connection.execute(query.order_by(OutboxRecord.idempotency_key))]


def keys(week: str, owners: tuple[str, ...] = OWNERS) -> list[str]:
    return [f"surface:{owner}:{week}" for owner in owners]


def test_each_owner_gets_one_on_monday_in_working_hours(runtime: Runtime, clock: FixedClock, engine: Engine) -> None:
    for early in ("2026-03-01T12:00:00+01:00", "2026-03-02T07:59:00+01:00"):  # Sunday; Monday before 08:00
        clock.set(datetime.fromisoformat(early))
        assert queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get).queued == 0
    clock.set(MONDAY)
    report = queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get)
    assert report.queued == 3
    assert [key for key, _ in summary_rows(engine)] == keys("2026-W10")
    clock.set(datetime.fromisoformat("2026-03-02T17:30:00+01:00"))
    assert queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get).queued == 0  # not twice
    for later in ("2026-03-02T18:00:00+01:00", "2026-03-03T09:00:00+01:00", "2026-03-06T10:00:00+01:00"):
        clock.set(datetime.fromisoformat(later))  # after Monday's hours, Tuesday, Friday
        assert queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get).queued == 0
    clock.set(datetime.fromisoformat("2026-03-09T08:00:00+01:00"))  # the next Monday
    assert queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get).queued == 3
    assert [key for key, _ in summary_rows(engine)] == sorted(keys("2026-W10") + keys("2026-W11"))


def test_a_tuesday_start_sends_nothing_until_the_next_monday(runtime: Runtime, clock: FixedClock) -> None:
    clock.set(datetime.fromisoformat("2026-03-03T09:00:00+01:00"))
    assert queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get).keys == ()


def test_a_deactivated_owner_gets_none(runtime: Runtime, clock: FixedClock) -> None:
    with runtime.uow() as uow:
        uow.people.record("U0LAWLEAD", deleted=True, tz=None, now=clock.now())
        uow.commit()
    clock.set(MONDAY)
    report = queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get)
    assert report.keys == ("surface:U0BRANDLEAD:2026-W10", "surface:U0FINLEAD:2026-W10")


def test_monday_and_working_hours_are_the_owners_own(runtime: Runtime, clock: FixedClock, engine: Engine) -> None:
    zones = {"U0FINLEAD": "America/Los_Angeles", "U0LAWLEAD": "Asia/Tokyo"}.get
    clock.set(datetime.fromisoformat("2026-03-01T23:30:00+01:00"))  # Sunday in Berlin, Monday 07:30 in Tokyo
    assert queue_surface_summaries(runtime=runtime, timezone_of=zones).queued == 0
    clock.set(datetime.fromisoformat("2026-03-02T00:30:00+01:00"))  # Monday 08:30 in Tokyo
    assert queue_surface_summaries(runtime=runtime, timezone_of=zones).keys == ("surface:U0LAWLEAD:2026-W10",)
    clock.set(MONDAY)  # 09:00 in Berlin, 00:00 in Los Angeles, 17:00 in Tokyo
    assert queue_surface_summaries(runtime=runtime, timezone_of=zones).keys == (
        "surface:U0BRANDLEAD:2026-W10",
        "surface:U0LAWLEAD:2026-W10",
    )
    clock.set(datetime.fromisoformat("2026-03-02T08:00:00-08:00"))  # Monday 08:00 in Los Angeles, 17:00 in Berlin
    report = queue_surface_summaries(runtime=runtime, timezone_of=zones)
    assert report.keys == ("surface:U0BRANDLEAD:2026-W10", "surface:U0FINLEAD:2026-W10")
    assert report.queued == 1
    assert len(summary_rows(engine)) == 3


def history(runtime: Runtime, clock: FixedClock) -> None:
    """Six discount requests: five in the week before MONDAY + 7 days, one three weeks before that."""
    clock.set(datetime.fromisoformat("2026-02-17T10:00:00+01:00"))
    submit_request(runtime=runtime, kind="discount", requester="U0A4", text="account=Old amount_pct=5")
    clock.set(datetime.fromisoformat("2026-03-03T10:00:00+01:00"))
    for requester, pct in (("U0A1", 5), ("U0A2", 8), ("U0A3", 50)):  # two rule approvals, one rule rejection
        submit_request(runtime=runtime, kind="discount", requester=requester, text=f"account=X amount_pct={pct}")
    sam = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=S amount_pct=25")
    kim = submit_request(runtime=runtime, kind="discount", requester="U0KIM", text="account=K amount_pct=30")
    clock.advance(timedelta(hours=3))
    decide_request(runtime=runtime, request_id=sam.request_id, voter="U0FIN1", verdict=Verdict.APPROVE)
    clock.advance(timedelta(hours=7))  # 10 h after submission: past the 8 h SLA
    decide_request(runtime=runtime, request_id=kim.request_id, voter="U0FIN2", verdict=Verdict.REJECT, reason="No")


def test_the_figures_are_the_owners_kinds_over_7_and_30_days(runtime: Runtime, clock: FixedClock) -> None:
    history(runtime, clock)
    clock.set(datetime.fromisoformat("2026-03-09T09:00:00+01:00"))
    surface = owner_figures(runtime=runtime, owner="U0FINLEAD")
    assert surface is not None and not surface.quiet
    (discount,) = surface.kinds
    week, month = discount.week, discount.month
    assert (discount.kind, discount.title) == ("discount", "Discount approval")
    assert (week.requests, month.requests) == (5, 6)
    assert (week.resolved_by_default_share, month.resolved_by_default_share) == (
        pytest.approx(3 / 5),
        pytest.approx(4 / 6),
    )
    assert (week.human_decisions, week.p50_hours, week.p90_hours, week.sla_breaches) == (2, 3.0, 10.0, 1)
    assert [(a.user, a.decisions) for a in week.busiest] == [("U0FIN1", 1), ("U0FIN2", 1)]
    contract = owner_figures(runtime=runtime, owner="U0LAWLEAD")
    assert contract is not None and contract.quiet and contract.kind_names == ["contract"]
    assert owner_figures(runtime=runtime, owner="U0FIN1") is None  # owns no kind


def test_at_delivery_owners_with_requests_get_the_summary_and_a_chart_the_rest_nothing(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    history(runtime, clock)
    gateway = FakeGateway()
    drain(runtime, gateway)
    clock.set(datetime.fromisoformat("2026-03-09T09:00:00+01:00"))
    queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get)
    # A request after the summary was queued is in it: the figures are computed at delivery.
    submit_request(runtime=runtime, kind="discount", requester="U0A5", text="account=Late amount_pct=3")
    clock.advance(timedelta(minutes=1))
    drain(runtime, gateway)
    (summary,) = gateway.of("surface")
    assert (summary.target, summary.text, summary.event) == ("U0FINLEAD", "discount:6/7", "2026-W11")
    assert [(c.target, c.event) for c in gateway.of("chart")] == [("U0FINLEAD", "decision-surface-2026-W11.png")]
    # Nothing in 30 days for contract and brand: their owners get nothing, and the rows are done.
    assert {status for _, status in summary_rows(engine)} == {"sent"}


def test_a_retry_sends_only_what_is_missing(runtime: Runtime, clock: FixedClock, engine: Engine) -> None:
    history(runtime, clock)
    clock.set(datetime.fromisoformat("2026-03-09T09:00:00+01:00"))
    gateway = FakeGateway()
    drain(runtime, gateway)
    gateway.delivered.clear()
    queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get)

    class ChartFailsOnce(FakeGateway):
        failed = False

        def share_surface_chart(self, **kwargs: object) -> None:
            super().share_surface_chart(**kwargs)  # type: ignore[arg-type]
            if not self.failed:  # Slack took it, and the answer was lost
                self.failed = True
                raise DeliveryError("files_upload_v2: TimeoutError")

    flaky = ChartFailsOnce()
    flaky.fail_next.append(DeliveryError("chat.postMessage: internal_error (HTTP 500)"))  # the post first
    for _ in range(3):
        drain(runtime, flaky)
        clock.advance(timedelta(minutes=5))
    assert flaky.counts() == Counter({("surface", "U0FINLEAD"): 1, ("chart", "U0FINLEAD"): 1})
    assert {status for _, status in summary_rows(engine)} == {"sent"}


def test_a_run_is_claimed_once_per_minute_across_workers(runtime: Runtime, clock: FixedClock, engine: Engine) -> None:
    clock.set(MONDAY)
    other_worker = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=runtime.governance, clock=clock)
    assert run_surface_summaries(runtime, NOBODY_ABROAD.get) is True
    assert run_surface_summaries(other_worker, NOBODY_ABROAD.get) is False
    clock.advance(timedelta(minutes=1))
    assert run_surface_summaries(other_worker, NOBODY_ABROAD.get) is True  # claimed; nothing new to queue
    assert len(summary_rows(engine)) == 3


def test_two_workers_racing_all_monday_send_one_summary_per_owner(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    """Two workers (clocks a minute apart, so both claim runs) race their scheduled passes every 20 minutes of
    Monday, and race the queueing itself; then two relays race the delivery. One summary per owner."""
    history(runtime, clock)
    skewed = FixedClock(MONDAY)
    other_worker = Runtime(uow=SqlUnitOfWorkFactory(engine), governance=runtime.governance, clock=skewed)
    clock.set(datetime.fromisoformat("2026-03-09T07:00:00+01:00"))
    while clock.now() < datetime.fromisoformat("2026-03-09T19:00:00+01:00"):
        skewed.set(clock.now() + timedelta(minutes=1))
        at_once(
            [
                lambda: run_surface_summaries(runtime, NOBODY_ABROAD.get),
                lambda: run_surface_summaries(other_worker, NOBODY_ABROAD.get),
                lambda: queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get),
                lambda: queue_surface_summaries(runtime=other_worker, timezone_of=NOBODY_ABROAD.get),
            ]
        )
        clock.advance(timedelta(minutes=20))
    assert [key for key, _ in summary_rows(engine)] == keys("2026-W11")
    gateway = FakeGateway()
    skewed.set(clock.now())  # relays a minute apart would take each other's 15 s leases as lapsed
    at_once([lambda: drain(runtime, gateway), lambda: drain(other_worker, gateway)])
    assert Counter(d.action for d in gateway.delivered if d.action in ("surface", "chart")) == Counter(
        {"surface": 1, "chart": 1}
    )


def test_an_owner_deactivated_after_the_summary_was_queued_gets_nothing(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    history(runtime, clock)
    gateway = FakeGateway()
    drain(runtime, gateway)
    clock.set(datetime.fromisoformat("2026-03-09T09:00:00+01:00"))
    assert "surface:U0FINLEAD:2026-W11" in queue_surface_summaries(runtime=runtime, timezone_of=NOBODY_ABROAD.get).keys
    with runtime.uow() as uow:
        uow.people.record("U0FINLEAD", deleted=True, tz=None, now=clock.now())
        uow.commit()
    drain(runtime, gateway)
    assert gateway.of("surface") == [] and gateway.of("chart") == []
    assert {status for _, status in summary_rows(engine)} == {"sent"}  # done with, not retried
