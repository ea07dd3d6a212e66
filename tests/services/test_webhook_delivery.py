"""The webhook delivery engine under a hostile receiver: its own lane beside Slack's, prompt
records, order per request with relays racing, Retry-After in both forms, and one message to the
owner however many deliveries die (real local receivers, real databases)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import Engine

from bot.domain.cards import Card
from bot.domain.clock import FixedClock
from bot.domain.outbox import MAX_RETRY_AFTER_S, DeliveryError, Lane, MessageRef, OutboxItem
from bot.metrics import SignoffMetrics
from bot.services.relay import FIRST_BACKOFF, MAX_ATTEMPTS, record_unrecorded, relay_outbox
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.webhooks.sender import WebhookSender
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import governance_from
from tests.fakes import FakeGateway, drain
from tests.services import test_webhooks
from tests.services.conftest import LIFECYCLE
from tests.services.test_webhooks import SECRET_ENV, Hooks
from tests.webhook_receiver import SECRET, Arrival, Receiver, Reply, receiving

hooks = test_webhooks.hooks  # the fixture: one receiver, three subscriptions


@pytest.fixture
def two(engine: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Hooks, Receiver]]:
    """``fast`` (decisions) on one receiver, ``slow`` (everything) on another that holds its answers."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with receiving() as fast, receiving() as slow:
        governance = governance_from(
            LIFECYCLE
            + f"""
webhooks:
  - {{id: fast, url: "{fast.url("/fast")}", secret_env: {SECRET_ENV}, events: [request.decided]}}
  - {{id: slow, url: "{slow.url("/slow")}", secret_env: {SECRET_ENV}}}
"""
        )
        units = SqlUnitOfWorkFactory(engine, webhooks=lambda: governance.webhooks)
        runtime = Runtime(uow=units, governance=lambda: governance, clock=clock, observer=SignoffMetrics())
        sender = WebhookSender({SECRET_ENV: SECRET}.get, timeout=30)
        slow.hold = True
        try:
            yield Hooks(fast, runtime, clock, engine, sender, FakeGateway()), slow
        finally:
            slow.release.set()


def statuses(hooks: Hooks, subscription: str) -> list[str]:
    return [r.status for r in hooks.rows() if r.payload["subscription"] == subscription]


def until(predicate: object, timeout: float = 10.0) -> bool:
    """A bounded wait for something another thread does (checked every 20 ms)."""
    done, waited = threading.Event(), 0.0
    while not predicate():  # type: ignore[operator]
        if waited >= timeout:
            return False
        done.wait(0.02)
        waited += 0.02
    return True


def test_a_receiver_that_hangs_holds_up_neither_slack_cards_nor_the_record_of_other_deliveries(
    two: tuple[Hooks, Receiver],
) -> None:
    hooks, slow = two
    routed = hooks.file("account=A amount_pct=25")
    ruled = hooks.file("account=B amount_pct=5")
    posting = threading.Thread(
        target=relay_outbox,
        kwargs={"runtime": hooks.runtime, "gateway": hooks.slack, "webhooks": hooks.sender, "lane": Lane.WEBHOOKS},
    )
    posting.start()
    try:
        assert slow.arrived.wait(10)  # the slow receiver holds its answer
        # Slack's lane goes on meanwhile: the routed request's cards reach its approvers
        drain(hooks.runtime, hooks.slack, lane=Lane.SLACK)
        assert {d.target for d in hooks.slack.of("post")} == {"U0FIN1", "U0FIN2"}
        assert all(d.card is not None and d.card.request_id == routed for d in hooks.slack.of("post"))
        # and the fast receiver's answer is recorded now, not when the slow one answers
        assert until(lambda: statuses(hooks, "fast") == ["sent"])
        assert [a.request for a in hooks.receiver.of("/fast")] == [f"REQ-{ruled}"]
        assert posting.is_alive()
    finally:
        slow.release.set()
        posting.join(30)
    assert not posting.is_alive()


def test_a_delivery_that_fails_unexpectedly_fails_alone(hooks: Hooks, engine: Engine) -> None:
    class Broken(FakeGateway):
        def post_card(self, *, recipient: str, card: Card, key: str = "") -> MessageRef:
            if recipient == "U0FIN1":
                raise RuntimeError("a library's odd failure")
            return super().post_card(recipient=recipient, card=card, key=key)

    hooks.slack = Broken()
    submit_request(runtime=hooks.runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25")
    hooks.drain()  # one card fails oddly; the other card and the webhooks go out all the same
    assert [d.target for d in hooks.slack.of("post")] == ["U0FIN2"]
    assert {r.status for r in hooks.rows()} == {"sent"}
    (card,) = [r for r in hooks.rows("post_card") if r.payload["recipient"] == "U0FIN1"]
    assert (card.status, card.attempts) == ("pending", 1)
    assert "RuntimeError: a library's odd failure" in (card.last_error or "")


@pytest.mark.parametrize("loop", ["worker", "single calls"])
def test_two_relays_racing_deliver_each_requests_events_in_order(hooks: Hooks, loop: str) -> None:
    failed: set[tuple[str | None, str]] = set()
    accepted: list[tuple[str | None, str]] = []

    def answer(arrival: Arrival) -> Reply:
        # the first attempt of every `submitted` fails: its `decided` must wait for the retry
        event = (arrival.request, arrival.type)
        if arrival.type == "request.submitted" and event not in failed:
            failed.add(event)
            return Reply(500, "try again")
        if arrival.path == "/all":
            accepted.append(event)
        return Reply()

    hooks.receiver.answer = answer
    requests = [
        submit_request(runtime=hooks.runtime, kind="discount", requester=f"U0REQ{n:02d}", text="account=D amount_pct=5")
        for n in range(30)
    ]

    def relay_until_idle() -> None:
        # "worker": as a worker's loop does, the last deliveries of a batch are recorded with the next claim
        unrecorded: list[OutboxItem] | None = [] if loop == "worker" else None
        for _ in range(200):
            relay = {"runtime": hooks.runtime, "gateway": hooks.slack, "webhooks": hooks.sender, "batch_size": 7}
            if not relay_outbox(**relay, unrecorded=unrecorded).handled and unrecorded is not None:  # type: ignore[arg-type]
                record_unrecorded(hooks.runtime, unrecorded)
            if all(r.status in ("sent", "dead") for r in hooks.rows()):
                return

    for _ in range(3):
        racers = [threading.Thread(target=relay_until_idle) for _ in range(2)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(60)
        hooks.clock.advance(timedelta(minutes=5))  # the retries fall due
    assert {r.status for r in hooks.rows()} == {"sent"}
    sequence = {(a.request, a.type): a.body["data"]["sequence"] for a in hooks.receiver.of("/all")}
    for request in requests:
        ref = f"REQ-{request.request_id}"
        assert [t for r, t in accepted if r == ref] == ["request.submitted", "request.decided"]
        assert sequence[(ref, "request.submitted")] < sequence[(ref, "request.decided")]


def test_retry_after_as_a_date_is_honoured_and_an_unreadable_one_backs_off(hooks: Hooks) -> None:
    at = datetime.now(UTC) + timedelta(minutes=2)  # an HTTP date is wall time, whatever clock the relay runs on
    hooks.receiver.script = [
        Reply(429, "later", {"Retry-After": format_datetime(at, usegmt=True)}),
        Reply(429, "later", {"Retry-After": "soon"}),
    ]
    hooks.file("asset=https://a.io/x.png until=2026-03-10", kind="brand")
    hooks.relay()  # `everything` gets the date, `brand` the garbage (in either order)
    (garbage, dated) = sorted(hooks.rows(), key=lambda r: r.next_attempt_at)
    # garbage: the ordinary backoff, counted as an attempt (never "again in one second")
    assert (garbage.next_attempt_at - hooks.clock.now(), garbage.attempts) == (FIRST_BACKOFF, 1)
    waited = dated.next_attempt_at - hooks.clock.now()
    assert timedelta(seconds=110) < waited <= timedelta(minutes=2) and dated.attempts == 0


def test_a_receiver_that_never_stops_answering_429_ends_dead_with_its_last_error(hooks: Hooks) -> None:
    hooks.receiver.answer = lambda arrival: Reply(429, "busy", {"Retry-After": str(int(MAX_RETRY_AFTER_S))})
    hooks.file("asset=https://a.io/x.png until=2026-03-10", kind="brand")
    for _ in range(40):
        hooks.relay()
        hooks.clock.advance(timedelta(seconds=MAX_RETRY_AFTER_S))
    rows = [r for r in hooks.rows() if r.payload["subscription"] == "brand"]
    assert [(r.status, r.attempts, r.last_error) for r in rows] == [("dead", MAX_ATTEMPTS, "HTTP 429: busy")]
    assert len(hooks.receiver.of("/brand")) <= 6 + MAX_ATTEMPTS  # an hour of patience, then counted


def test_many_dead_deliveries_make_one_message_to_their_owner_with_how_many(hooks: Hooks) -> None:
    hooks.receiver.answer = lambda arrival: Reply(400, "no") if arrival.path == "/brand" else Reply()
    for n in range(12):
        hooks.file(f"asset=https://a.io/{n}.png until=2026-03-10", kind="brand")
    for _ in range(4):
        hooks.drain()
        hooks.clock.advance(timedelta(minutes=2))
    assert [r.status for r in hooks.rows() if r.payload["subscription"] == "brand"] == ["dead"] * 12
    (told,) = [d for d in hooks.slack.of("notify") if d.target == "U0OPS"]
    assert "gave up 12 deliveries" in told.text and "HTTP 400: no" in told.text
    assert "signoff webhooks redeliver brand" in told.text


def test_a_channel_refusing_every_card_makes_one_message_to_the_owner(runtime: Runtime, clock: FixedClock) -> None:
    refusing = [DeliveryError("chat.postMessage: invalid_blocks", permanent=True) for _ in range(5)]
    slack = FakeGateway(fail_next=refusing)
    for n in range(5):
        submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": f"Co{n}"})
    drain(runtime, slack)
    clock.advance(timedelta(minutes=2))
    drain(runtime, slack)
    (told,) = [d for d in slack.of("notify") if d.target == "U0LAWLEAD"]
    assert "could not deliver 5 cards" in told.text and "invalid_blocks" in told.text


def test_a_workers_loop_records_a_batchs_last_deliveries_with_its_next_claim(hooks: Hooks) -> None:
    hooks.file("account=Acme amount_pct=5")  # submitted, then decided by a rule: two events per subscription
    unrecorded: list[OutboxItem] = []

    def relay() -> int:
        return relay_outbox(
            runtime=hooks.runtime, gateway=hooks.slack, webhooks=hooks.sender, lane=Lane.WEBHOOKS, unrecorded=unrecorded
        ).sent

    first = relay()  # the `submitted` rows; each `decided` waits behind its own
    assert first > 0 and len(unrecorded) == first
    assert statuses(hooks, "everything") == ["sending", "pending"]  # delivered, recorded with the next claim
    second = relay()  # records the first batch as sent in its claim, so the `decided` rows are due in it
    assert second > 0 and statuses(hooks, "everything") == ["sent", "sending"]
    assert relay() == 0 and not unrecorded  # nothing left to send: the last pass only records
    assert {r.status for r in hooks.rows()} == {"sent"}
    assert [a.type for a in hooks.receiver.of("/all")] == ["request.submitted", "request.decided"]  # once each


def test_a_workers_loop_that_stops_records_what_it_delivered(hooks: Hooks) -> None:
    hooks.file("account=Acme amount_pct=5")
    unrecorded: list[OutboxItem] = []
    relay_outbox(runtime=hooks.runtime, gateway=hooks.slack, webhooks=hooks.sender, unrecorded=unrecorded)
    assert unrecorded
    record_unrecorded(hooks.runtime, unrecorded)  # what `stop` does at the end of the webhook loop
    assert not unrecorded
    assert "sending" not in {r.status for r in hooks.rows()}
