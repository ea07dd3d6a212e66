"""Signed webhooks end to end in one process: queued by each transition, delivered by the relay to a
real local receiver that verifies every signature with the ``standardwebhooks`` library (DESIGN §9)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.domain.routing import Verdict
from bot.metrics import SignoffMetrics
from bot.services.amend import amend_request
from bot.services.cancel import cancel_request
from bot.services.decide import decide_request
from bot.services.relay import RelayReport, relay_outbox
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.services.sweeps import expire_due, lapse_due
from bot.services.webhooks import Enabled, WebhookDisabled, enable_webhook, redeliver_webhook, webhook_states
from bot.webhooks.sender import WebhookSender
from storage.health import work_waiting
from storage.records import OutboxRecord
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import governance_from
from tests.fakes import FakeGateway
from tests.services.conftest import LIFECYCLE
from tests.webhook_receiver import SECRET, Arrival, Receiver, Reply, receiving

SECRET_ENV = "SIGNOFF_TEST_WEBHOOK_SECRET"


def with_webhooks(receiver: Receiver) -> Governance:
    return governance_from(
        LIFECYCLE
        + f"""
webhooks:
  - {{id: everything, url: "{receiver.url("/all")}", secret_env: {SECRET_ENV}}}
  - {{id: decisions, url: "{receiver.url("/decisions")}", secret_env: {SECRET_ENV},
     events: [request.decided], kinds: [discount]}}
  - {{id: brand, url: "{receiver.url("/brand")}", secret_env: {SECRET_ENV}, kinds: [brand], owner: U0OPS}}
"""
    )


@dataclass
class Hooks:
    receiver: Receiver
    runtime: Runtime
    clock: FixedClock
    engine: Engine
    sender: WebhookSender
    slack: FakeGateway

    def relay(self) -> RelayReport:
        return relay_outbox(runtime=self.runtime, gateway=self.slack, webhooks=self.sender)

    def drain(self) -> None:
        while self.relay().handled:
            pass

    def file(self, text: str, kind: str = "discount") -> int:
        return submit_request(runtime=self.runtime, kind=kind, requester="U0SAM", text=text).request_id

    def rows(self, kind: str = "webhook") -> list[OutboxRecord]:
        with self.engine.connect() as connection:
            query = select(OutboxRecord).where(OutboxRecord.kind == kind).order_by(OutboxRecord.id)
            return list(connection.execute(query).all())  # type: ignore[arg-type]


@pytest.fixture
def hooks(engine: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hooks]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with receiving() as receiver:
        governance = with_webhooks(receiver)
        units = SqlUnitOfWorkFactory(engine, webhooks=lambda: governance.webhooks)
        runtime = Runtime(uow=units, governance=lambda: governance, clock=clock, observer=SignoffMetrics())
        sender = WebhookSender({SECRET_ENV: SECRET}.get, timeout=5)
        yield Hooks(receiver, runtime, clock, engine, sender, FakeGateway())


def test_every_event_of_a_requests_life_arrives_once_per_subscription_that_wants_it(hooks: Hooks) -> None:
    clock, runtime = hooks.clock, hooks.runtime
    clock.set(datetime.fromisoformat("2026-03-04T09:00:00+00:00"))
    by_rule = hooks.file("account=Acme amount_pct=5")
    refused = hooks.file("account=Acme amount_pct=50")
    changed = hooks.file("account=Acme amount_pct=25")
    decide_request(runtime=runtime, request_id=changed, voter="U0FIN1", verdict=Verdict.CHANGES, reason="Why?")
    amend_request(runtime=runtime, request_id=changed, requester="U0SAM", text="account=Acme amount_pct=20")
    decide_request(runtime=runtime, request_id=changed, voter="U0FIN1", verdict=Verdict.APPROVE)
    cancelled = hooks.file("account=Initech amount_pct=30")
    cancel_request(runtime=runtime, request_id=cancelled, requester="U0SAM")
    expiring = hooks.file("account=Globex amount_pct=30")
    brand = hooks.file("asset=https://a.io/x.png until=2026-03-10", kind="brand")
    for voter in ("U0BR1", "U0BR2"):
        decide_request(runtime=runtime, request_id=brand, voter=voter, verdict=Verdict.APPROVE)
    clock.set(datetime.fromisoformat("2026-03-07T23:00:00+00:00"))
    assert lapse_due(runtime=runtime) == 1
    clock.set(datetime.fromisoformat("2026-03-10T23:00:00+00:00"))
    assert lapse_due(runtime=runtime) == 1
    clock.set(datetime.fromisoformat("2026-03-19T00:00:00+00:00"))
    assert expire_due(runtime=runtime) == 1
    hooks.drain()

    arrivals = hooks.receiver.arrivals
    assert arrivals and all(a.verified for a in arrivals)
    assert len({a.message_id for a in arrivals}) == len(arrivals)  # no delivery twice
    ref = {n: f"REQ-{n}" for n in (by_rule, refused, changed, cancelled, expiring, brand)}
    everything = Counter((a.request, a.type) for a in hooks.receiver.of("/all"))
    assert everything == Counter(
        [(ref[by_rule], "request.submitted"), (ref[by_rule], "request.decided")]
        + [(ref[refused], "request.submitted"), (ref[refused], "request.decided")]
        + [(ref[changed], t) for t in ("request.submitted", "request.changes_requested", "request.amended")]
        + [(ref[changed], "request.decided")]
        + [(ref[cancelled], "request.submitted"), (ref[cancelled], "request.cancelled")]
        + [(ref[expiring], "request.submitted"), (ref[expiring], "request.expired")]
        + [(ref[brand], t) for t in ("request.submitted", "request.decided", "exception.lapsing")]
        + [(ref[brand], "exception.lapsed")]
    )
    decisions = [(a.request, a.type) for a in hooks.receiver.of("/decisions")]
    assert sorted(decisions) == sorted((ref[n], "request.decided") for n in (by_rule, refused, changed))
    assert Counter(a.type for a in hooks.receiver.of("/brand")) == Counter(
        ["request.submitted", "request.decided", "exception.lapsing", "exception.lapsed"]
    )

    data = {(a.request, a.type): a.body["data"] for a in hooks.receiver.of("/all")}
    assert data[(ref[by_rule], "request.decided")]["decided_by"] == "rule:small"
    assert data[(ref[by_rule], "request.decided")]["rule"] == "small"
    assert data[(ref[by_rule], "request.decided")]["receipt"]["outcome"] == "approve"
    assert data[(ref[refused], "request.decided")]["state"] == "rejected"
    person = data[(ref[changed], "request.decided")]
    assert (person["state"], person["decided_by"], person["fields"]["amount_pct"]) == ("approved", "U0FIN1", 20)
    assert data[(ref[changed], "request.changes_requested")]["state"] == "changes_requested"
    assert data[(ref[changed], "request.changes_requested")]["fields"]["amount_pct"] == 25  # a snapshot
    assert data[(ref[brand], "exception.lapsed")]["state"] == "lapsed"
    submitted = next(a for a in arrivals if a.type == "request.submitted" and a.request == ref[by_rule])
    assert submitted.body["timestamp"] == "2026-03-04T09:00:00+00:00"
    assert submitted.body["data"]["governance"] == hooks.runtime.governance().version


def test_a_receiver_failing_three_times_gets_the_event_with_the_same_webhook_id_then_the_next_in_order(
    hooks: Hooks,
) -> None:
    hooks.receiver.answer = lambda arrival: Reply(500, "down") if arrival.path == "/all" else Reply()
    hooks.file("account=Acme amount_pct=5")  # decided by a rule at submission: submitted, then decided
    passes = 0
    while len(hooks.receiver.of("/all")) < 3:
        hooks.relay()
        hooks.clock.advance(timedelta(hours=1))
        passes += 1
        assert passes < 10
    hooks.receiver.answer = lambda arrival: Reply()
    hooks.drain()
    all_ = hooks.receiver.of("/all")
    assert all(a.verified for a in all_)
    # `decided` waited while `submitted` was retried: a receiver never sees them out of order
    assert [a.type for a in all_] == ["request.submitted"] * 4 + ["request.decided"]
    assert len({a.message_id for a in all_[:4]}) == 1  # one webhook-id on every retry
    assert all_[4].message_id != all_[0].message_id
    submitted, decided = all_[0].body["data"], all_[4].body["data"]
    assert submitted["version"] == decided["version"] and submitted["sequence"] < decided["sequence"]
    assert {r.status for r in hooks.rows()} == {"sent"}
    assert hooks.relay().handled == 0


def test_a_410_disables_the_subscription_tells_its_owner_and_nothing_more_is_sent(hooks: Hooks) -> None:
    hooks.receiver.answer = lambda arrival: Reply(410, "gone") if arrival.path == "/all" else Reply()
    hooks.file("account=Acme amount_pct=5")
    hooks.drain()
    assert len(hooks.receiver.of("/all")) == 1  # the second event of the batch is not sent
    (told,) = [d for d in hooks.slack.of("notify") if d.target == "U0FINLEAD"]  # the first kind's owner
    assert "webhook `everything` is disabled" in told.text and "410" in told.text
    dead = [r for r in hooks.rows() if r.idempotency_key.startswith("webhook:everything:")]
    assert [r.status for r in dead] == ["dead", "dead"]
    assert "HTTP 410: gone" in (dead[0].last_error or "") and "disabled" in (dead[1].last_error or "")

    hooks.file("account=Acme amount_pct=50")  # decided by a rule too: submitted, decided
    hooks.drain()
    assert len(hooks.receiver.of("/all")) == 1
    assert len(hooks.receiver.of("/decisions")) == 2  # the other subscriptions carry on
    states = {s.subscription.id: s for s in webhook_states(uow=hooks.runtime.uow)}
    # the events while it is disabled are kept (dead, "disabled"), to be redelivered
    assert states["everything"].disabled is not None and states["everything"].dead == 4
    assert states["decisions"].disabled is None
    exposition = hooks.runtime.observer.exposition()[0].decode()  # type: ignore[attr-defined]
    assert 'signoff_webhook_deliveries_total{outcome="disabled",subscription="everything"} 1.0' in exposition
    assert 'signoff_webhook_deliveries_total{outcome="sent",subscription="decisions"} 2.0' in exposition
    waiting = work_waiting(hooks.engine, now=hooks.clock.now())
    assert waiting.webhooks_disabled == {"everything": 1} and waiting.webhook_dead == {"everything": 4}
    with pytest.raises(WebhookDisabled, match="enable everything"):
        redeliver_webhook(uow=hooks.runtime.uow, name="everything", now=hooks.clock.now())
    hooks.clock.advance(timedelta(hours=2))
    hooks.drain()
    assert len([d for d in hooks.slack.of("notify") if d.target == "U0FINLEAD"]) == 1  # told once, not per row

    assert enable_webhook(uow=hooks.runtime.uow, name="everything", now=hooks.clock.now()) == Enabled(True, 4)
    hooks.receiver.answer = lambda arrival: Reply()
    hooks.file("account=Acme amount_pct=55")
    hooks.drain()
    assert [(a.request, a.type) for a in hooks.receiver.of("/all")][1:] == [
        ("REQ-3", "request.submitted"),
        ("REQ-3", "request.decided"),
    ]
    dead_ids = [r.payload["message_id"] for r in hooks.rows() if r.status == "dead"]
    assert redeliver_webhook(uow=hooks.runtime.uow, name="everything", now=hooks.clock.now()) == 4
    hooks.drain()
    again = hooks.receiver.of("/all")[3:]
    assert sorted(a.message_id for a in again) == sorted(dead_ids)  # their original webhook-id
    for request in ("REQ-1", "REQ-2"):  # in order per request
        assert [a.type for a in again if a.request == request] == ["request.submitted", "request.decided"]
    assert {r.status for r in hooks.rows()} == {"sent"}


def test_other_4xx_are_dead_after_three_attempts_with_their_last_error_and_the_owner_told(hooks: Hooks) -> None:
    hooks.receiver.answer = lambda arrival: Reply(400, "bad  \n payload") if arrival.path == "/brand" else Reply()
    hooks.file("asset=https://a.io/x.png until=2026-03-10", kind="brand")
    for _ in range(3):
        hooks.relay()
        hooks.clock.advance(timedelta(hours=1))
    hooks.drain()
    assert len(hooks.receiver.of("/brand")) == 3
    (row,) = [r for r in hooks.rows() if r.idempotency_key.startswith("webhook:brand:")]
    assert (row.status, row.attempts, row.last_error) == ("dead", 3, "HTTP 400: bad payload")
    (told,) = [d for d in hooks.slack.of("notify") if d.target == "U0OPS"]
    assert "gave up delivering request.submitted" in told.text and "HTTP 400: bad payload" in told.text


def test_a_429_waits_for_retry_after_without_spending_an_attempt(hooks: Hooks) -> None:
    hooks.receiver.script = [Reply(429, "slow down", {"Retry-After": "30"})]
    hooks.receiver.answer = lambda arrival: Reply()
    hooks.file("asset=https://a.io/x.png until=2026-03-10", kind="brand")
    hooks.drain()
    waiting = [r for r in hooks.rows() if r.status == "pending"]
    assert len(waiting) == 1 and waiting[0].attempts == 0
    assert waiting[0].next_attempt_at == hooks.clock.now() + timedelta(seconds=30)

    def copies() -> list[Arrival]:
        return [a for a in hooks.receiver.arrivals if a.message_id == waiting[0].payload["message_id"]]

    hooks.clock.advance(timedelta(seconds=29))
    hooks.drain()
    assert len(copies()) == 1
    hooks.clock.advance(timedelta(seconds=1))
    hooks.drain()
    first, again = copies()
    assert first.verified and again.verified
    assert {r.status for r in hooks.rows()} == {"sent"}


def test_a_receiver_slower_than_the_timeout_is_tried_again_later(hooks: Hooks) -> None:
    hooks.sender = WebhookSender({SECRET_ENV: SECRET}.get, timeout=0.3)
    hooks.receiver.hold = True  # answers only when released: after the sender gave up
    hooks.file("asset=https://a.io/x.png until=2026-03-10", kind="brand")
    report = hooks.relay()
    assert report.retried == 2  # everything and brand; the card fan-out went out
    assert all("no answer" in (r.last_error or "") for r in hooks.rows())
    hooks.receiver.hold = False
    hooks.receiver.release.set()
    hooks.clock.advance(timedelta(minutes=1))
    hooks.drain()
    assert {r.status for r in hooks.rows()} == {"sent"}
