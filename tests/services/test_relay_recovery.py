"""A relay that dies mid-delivery: its rows come back within a short lease, and nothing is posted twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from bot.domain.cards import Card
from bot.domain.clock import FixedClock
from bot.domain.notices import Notice, Notification
from bot.domain.outbox import DeliveryError, MessageRef, digest, notify
from bot.domain.routing import Verdict
from bot.services.decide import decide_request
from bot.services.relay import LEASE, relay_outbox
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.records import OutboxRecord
from tests.fakes import FakeGateway, drain


class Killed(BaseException):
    """The process died (kill -9): nothing after this point of the relay runs."""


class DiesAfterSlackTookIt(FakeGateway):
    """Slack takes the first post, then the relay dies before it hears back or records anything."""

    died = False

    def _die_once(self) -> None:
        if not self.died:
            self.died = True
            raise Killed

    def post_card(self, *, recipient: str, card: Card, key: str = "") -> MessageRef:
        super().post_card(recipient=recipient, card=card, key=key)
        self._die_once()
        return self.posted[key]

    def notify(self, *, notification: Notification, card: Card | None, key: str = "") -> None:
        super().notify(notification=notification, card=card, key=key)
        self._die_once()

    def send_digest(self, *, user: str, cards: list[Card], more: int, auto_resolved: int, key: str = "") -> None:
        super().send_digest(user=user, cards=cards, more=more, auto_resolved=auto_resolved, key=key)
        self._die_once()


def routed(runtime: Runtime) -> int:
    return submit_request(
        runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=25"
    ).request_id


def queue_card(runtime: Runtime, clock: FixedClock) -> int:
    request_id = routed(runtime)
    relay_outbox(runtime=runtime, gateway=FakeGateway())  # the fan-out: one card per finance member is due
    return request_id


def settle(runtime: Runtime, clock: FixedClock) -> None:
    """Mark what is due sent, so only the row a test queues next is left to deliver."""
    with runtime.uow() as uow:
        for item in uow.outbox.claim_due(now=clock.now(), limit=10, lease=LEASE):
            uow.outbox.mark_sent(item.id, now=clock.now())
        uow.commit()


def queue_notice(runtime: Runtime, clock: FixedClock) -> int:
    request_id = routed(runtime)
    settle(runtime, clock)
    with runtime.uow() as uow:
        uow.outbox.add(notify(request_id, "U0SAM", notice=Notice.EXPIRED, event="nudge", version=1), now=clock.now())
        uow.commit()
    return request_id


def queue_digest(runtime: Runtime, clock: FixedClock) -> int:
    request_id = routed(runtime)
    settle(runtime, clock)
    intent = digest(
        "U0FIN1", period=clock.now(), request_ids=[request_id], more=0, auto_resolved=0, not_before=clock.now()
    )
    with runtime.uow() as uow:
        uow.outbox.add(intent, now=clock.now())
        uow.commit()
    return request_id


@pytest.mark.parametrize("queue", [queue_card, queue_notice, queue_digest], ids=["card", "notice", "digest"])
def test_a_post_slack_took_before_its_relay_died_is_found_not_sent_again(
    runtime: Runtime, clock: FixedClock, engine: Engine, queue: Callable[[Runtime, FixedClock], int]
) -> None:
    queue(runtime, clock)
    slack = DiesAfterSlackTookIt()
    with pytest.raises(Killed):
        relay_outbox(runtime=runtime, gateway=slack)
    (first,) = slack.delivered

    clock.advance(LEASE)  # no heartbeat any more: the dead relay's claim lapses with its short lease
    drain(runtime, slack)
    assert slack.lookups >= 1
    assert slack.counts()[(first.action, first.target)] == 1  # nobody sees two copies
    with runtime.uow(read_only=True) as uow:
        assert uow.outbox.claim_due(now=clock.now() + LEASE, limit=10, lease=LEASE) == []
    with engine.connect() as connection:
        assert {row.status for row in connection.execute(select(OutboxRecord.status))} == {"sent"}


def test_the_card_found_after_a_crash_is_the_one_later_decisions_update(runtime: Runtime, clock: FixedClock) -> None:
    request_id = queue_card(runtime, clock)
    slack = DiesAfterSlackTookIt()
    with pytest.raises(Killed):
        relay_outbox(runtime=runtime, gateway=slack)
    (posted_before_the_crash,) = slack.posted.values()
    clock.advance(LEASE)
    drain(runtime, slack)
    with runtime.uow(read_only=True) as uow:
        refs = uow.messages.for_request(request_id)
    assert len(refs) == 2 and posted_before_the_crash in refs  # each approver: one card, and we know where

    decide_request(runtime=runtime, request_id=request_id, voter="U0FIN1", verdict=Verdict.APPROVE)
    drain(runtime, slack)
    updated = {d.target for d in slack.of("update") if d.card is not None and not d.card.is_open}
    assert f"{posted_before_the_crash.channel}/{posted_before_the_crash.ts}" in updated
    assert len(updated) == 2


def test_a_claim_is_short_and_a_live_relay_keeps_it_however_slow_slack_is(
    runtime: Runtime, clock: FixedClock, engine: Engine
) -> None:
    assert LEASE.total_seconds() <= 20  # DESIGN §10: a dead relay's rows go out within 30 s
    queue_card(runtime, clock)
    lease = timedelta(seconds=0.3)  # heartbeats every 0.1 s of real time
    entered, release = threading.Event(), threading.Event()

    class SlowSlack(FakeGateway):
        def post_card(self, *, recipient: str, card: Card, key: str = "") -> MessageRef:
            entered.set()
            assert release.wait(timeout=30)
            return super().post_card(recipient=recipient, card=card, key=key)

    slow, other = SlowSlack(), FakeGateway()
    worker = threading.Thread(target=relay_outbox, kwargs={"runtime": runtime, "gateway": slow, "lease": lease})
    worker.start()
    try:
        assert entered.wait(timeout=10)
        clock.advance(timedelta(hours=1))  # far past the first claim: only the heartbeat keeps it
        deadline = time.monotonic() + 10
        while next_attempt(engine) <= clock.now():  # wait for a beat (another process's view: poll the rows)
            assert time.monotonic() < deadline, "the relay's heartbeat never renewed its claim"
            time.sleep(0.02)
        assert relay_outbox(runtime=runtime, gateway=other, lease=lease).handled == 0
    finally:
        release.set()
        worker.join(timeout=30)
    assert other.delivered == [] and len(slow.of("post")) == 2


def next_attempt(engine: Engine) -> object:
    with engine.connect() as connection:
        rows = connection.execute(select(OutboxRecord.next_attempt_at).where(OutboxRecord.status == "sending")).all()
    return min(row.next_attempt_at for row in rows)


def test_a_post_that_failed_without_an_answer_is_looked_for_before_the_retry(
    runtime: Runtime, clock: FixedClock
) -> None:
    request_id = queue_card(runtime, clock)

    class TimesOutAfterPosting(FakeGateway):
        timed_out = False

        def post_card(self, *, recipient: str, card: Card, key: str = "") -> MessageRef:
            ref = super().post_card(recipient=recipient, card=card, key=key)
            if not self.timed_out:
                self.timed_out = True
                raise DeliveryError("chat.postMessage: ReadTimeout")  # Slack took it; the answer was lost
            return ref

    slack = TimesOutAfterPosting()
    drain(runtime, slack)
    clock.advance(timedelta(minutes=1))
    drain(runtime, slack)
    assert sorted(d.target for d in slack.of("post")) == ["U0FIN1", "U0FIN2"]  # one post each, no second
    with runtime.uow(read_only=True) as uow:
        assert len(uow.messages.for_request(request_id)) == 2  # the adopted copy is the one updates will edit


def test_a_rate_limited_check_does_not_forget_the_doubt(runtime: Runtime, clock: FixedClock) -> None:
    queue_card(runtime, clock)
    slack = DiesAfterSlackTookIt()
    with pytest.raises(Killed):
        relay_outbox(runtime=runtime, gateway=slack)

    class RateLimitedOnce(DiesAfterSlackTookIt):
        limited = False

        def find_posted(self, *, recipient: str, key: str, since: datetime) -> MessageRef | None:
            if not self.limited:
                self.limited = True
                raise DeliveryError("conversations.history: ratelimited", retry_after=1)
            return super().find_posted(recipient=recipient, key=key, since=since)

    after = RateLimitedOnce(posted=slack.posted)
    after.died = True
    clock.advance(LEASE)
    drain(runtime, after)
    clock.advance(timedelta(seconds=2))
    drain(runtime, after)
    assert len(slack.of("post") + after.of("post")) == 2  # the card Slack took is not posted again
