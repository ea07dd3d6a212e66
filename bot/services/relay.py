"""The outbox relay: delivers queued Slack side effects, outside any transaction.

It claims due rows (a lease, with ``SKIP LOCKED`` on PostgreSQL, so relays on several
replicas never take the same row), commits the claim, calls Slack, then records the result
in a second short transaction. Slack's ``Retry-After`` is honoured; other failures back off
exponentially; permanent errors, or too many attempts, mark the row dead with its error.

A relay that dies (``kill -9``) mid-delivery stops renewing its claim: a claim is a 15-second
lease, renewed every 5 s by a heartbeat thread (``bot.services.lease``) while the relay lives,
so a dead relay's rows are due again within 15 s, for a restarted process or any other relay.
Such a row, and one whose last attempt failed without saying whether Slack took it, is
*in doubt*: the post may be in Slack already. Every post carries the row's idempotency key in
its message metadata, so before sending an in-doubt row again the relay looks for that key in
the conversation's history from shortly before the row was first claimed
(``SlackGateway.find_posted``). Found: the copy is recorded (a card's channel/ts, so later
updates edit it) and the row is sent; nobody sees two. This holds for cards, notifications and
digests alike (and weekly summaries, with their chart: ``bot.services.surface_summary``); card
updates edit in place and need no check.

A card for a group channel the bot cannot post to (not in it, archived, gone, …) goes to the
group's eligible people as DM cards instead, and the owner is told once per request and
channel (``bot.services.channel_fallback``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.cards import Card
from bot.domain.eligibility import build_card, card_recipients, is_person, live_copies
from bot.domain.lifecycle import State
from bot.domain.notices import Notification
from bot.domain.outbox import (
    PERSON_GONE_ERRORS,
    DeliveryError,
    Intent,
    IntentKind,
    Lane,
    MessageRef,
    OutboxItem,
    post_card,
    rate_limit_counts_attempt,
)
from bot.log_context import log_context
from bot.services.channel_fallback import unreachable_channel_intents
from bot.services.lease import LeaseKeeper
from bot.services.owner_notices import tell_card_owner
from bot.services.ports import UnitOfWork
from bot.services.routing import deciders, directory
from bot.services.runtime import Runtime
from bot.services.surface_summary import SurfaceGateway, deliver_surface_summary
from bot.services.webhook_relay import DEFERRED, GONE, WebhookDeliveries, WebhookSender, after_dead_webhook

log = logging.getLogger(__name__)

#: How long a claim holds without a heartbeat (renewed every third of it while the relay lives).
LEASE = timedelta(seconds=15)
#: How long before a row's first claim a copy of it is looked for (clock skew between us and Slack).
LOOKBACK = timedelta(minutes=5)
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=15)
#: Webhooks a receiver accepted are recorded as sent at most this many seconds after the first of them.
RECORD_WITHIN_S = 0.5
#: Rows claimed at once (one commit per claim). Webhook rows are cheap to send and POSTed one thread per
#: subscription, so a batch holds more of them: fewer claims per row (bench/bench_webhooks.py), and a
#: slow receiver still holds up only its own rows; the lease is renewed while the batch is worked.
BATCH, WEBHOOK_BATCH = 50, 250
#: How many subscriptions of one batch are POSTed to at once (each POST bounded by the sender's deadline).
WEBHOOK_PARALLEL = 8


class SlackGateway(SurfaceGateway, Protocol):
    """Outbound Slack, as the relay needs it. Raises ``DeliveryError`` when Slack does not take it."""

    def post_card(self, *, recipient: str, card: Card, key: str = "") -> MessageRef: ...

    def update_card(self, *, ref: MessageRef, card: Card, buttons: bool = True) -> None: ...

    def notify(self, *, notification: Notification, card: Card | None, key: str = "") -> None: ...

    def send_digest(self, *, user: str, cards: list[Card], more: int, auto_resolved: int, key: str = "") -> None: ...

    def find_posted(self, *, recipient: str, key: str, since: datetime) -> MessageRef | None:
        """The message posted to ``recipient`` (channel or user) with outbox ``key`` since ``since``, if any."""
        ...


@dataclass
class RelayReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.dead


def relay_outbox(
    *,
    runtime: Runtime,
    gateway: SlackGateway,
    batch_size: int | None = None,
    lease: timedelta = LEASE,
    first_backoff: timedelta = FIRST_BACKOFF,
    webhooks: WebhookSender | None = None,
    lane: Lane | None = None,
    unrecorded: list[OutboxItem] | None = None,
) -> RelayReport:
    """Deliver one batch (``batch_size``, default ``BATCH``, ``WEBHOOK_BATCH`` for the webhook lane) of due
    rows of ``lane`` (None: both); returns what happened to them.

    Cards that a fan-out queues are due at once and go out with the next batch. Webhook rows
    go through ``webhooks`` (``bot.services.webhook_relay``) with the same guarantees; a worker
    runs one loop per lane, so a slow receiver never holds up Slack. A row whose delivery fails
    in a way nobody foresaw (a bug, a library's odd exception) fails alone: it is retried with
    backoff like a 5xx, and the rest of the batch goes on.

    ``unrecorded`` (a loop's own list, kept across calls): webhook rows a receiver accepted at the
    end of a batch are left in it, and recorded as sent in the next call's claim transaction
    (one transaction per batch instead of two). A relay that dies first leaves them "sending"
    until their lease lapses: they are POSTed again with the same ``webhook-id`` (at least once,
    as after any crash between a POST and its record). ``record_unrecorded`` flushes the list.
    """
    report = RelayReport()
    carried = list(unrecorded or ())
    hooks = WebhookDeliveries(runtime, webhooks)
    now = runtime.clock.now()
    with runtime.uow() as uow:
        if carried:
            uow.outbox.mark_all_sent([item.id for item in carried], now=now)
        limit = batch_size or (WEBHOOK_BATCH if lane is Lane.WEBHOOKS else BATCH)
        items = uow.outbox.claim_due(now=now, limit=limit, lease=lease, lane=lane)
        if any(item.kind is IntentKind.WEBHOOK for item in items):
            hooks.prepare(uow)  # the subscriptions, read in the claim's transaction
        uow.commit()
    if unrecorded is not None:
        del unrecorded[: len(carried)]
        _observe_sent(runtime, carried, now)
    if not items:
        return report
    with LeaseKeeper(runtime, [item.id for item in items], lease) as keeper:
        for item in items:
            if item.kind is not IntentKind.WEBHOOK:
                with log_context(request_id=f"REQ-{item.request_id}" if item.request_id is not None else None):
                    _deliver_one(runtime, gateway, item, report, first_backoff)
                keeper.release(item.id)
        webhook_items = [i for i in items if i.kind is IntentKind.WEBHOOK]
        _relay_webhooks(runtime, hooks, webhook_items, keeper, report, first_backoff, unrecorded)
    return report


def record_unrecorded(runtime: Runtime, unrecorded: list[OutboxItem]) -> None:
    """Record as sent the rows ``relay_outbox`` left in ``unrecorded`` (a loop stopping), and empty it."""
    carried = list(unrecorded)
    _sent(runtime, carried)
    del unrecorded[: len(carried)]


def _relay_webhooks(
    runtime: Runtime,
    hooks: WebhookDeliveries,
    items: list[OutboxItem],
    keeper: LeaseKeeper,
    report: RelayReport,
    first_backoff: timedelta,
    unrecorded: list[OutboxItem] | None = None,
) -> None:
    """POST a batch's webhook rows: one thread per subscription (at most ``WEBHOOK_PARALLEL``), each
    posting its rows one after another, so a slow receiver holds up only its own rows and no
    receiver gets more than one POST at a time from a relay. The batch holds at most one row per
    (subscription, request) (``claim_due``), so nothing here reorders a request's events.

    Outcomes are recorded on this thread: accepted rows in groups, at most about
    ``RECORD_WITHIN_S`` after the first of a group, however long other POSTs take (one transaction
    per group keeps the relay fast). A relay dying before it records them costs a second POST
    with the same webhook-id, which a receiver drops; never a lost delivery. The last group goes
    to ``unrecorded`` when given (recorded with the next claim), else is recorded here.
    """
    if not items:
        return
    groups: dict[str, list[OutboxItem]] = {}
    for item in items:
        groups.setdefault(str(item.payload.get("subscription")), []).append(item)
    outcomes: queue.SimpleQueue[tuple[OutboxItem, DeliveryError | None]] = queue.SimpleQueue()
    finished, left = threading.Event(), [len(groups)]
    lock = threading.Lock()

    def post_all(group: list[OutboxItem]) -> None:
        try:
            for item in group:
                outcomes.put((item, hooks.attempt(item)))
        finally:
            with lock:
                left[0] -= 1
                if not left[0]:
                    finished.set()

    with ThreadPoolExecutor(min(WEBHOOK_PARALLEL, len(groups)), thread_name_prefix="signoff-webhook") as pool:
        for group in groups.values():
            pool.submit(post_all, group)
        try:
            while True:
                done = finished.wait(RECORD_WITHIN_S)
                while not outcomes.empty():
                    item, error = outcomes.get()
                    if error is None:
                        report.sent += 1
                        hooks.accepted(item)
                        continue
                    with log_context(request_id=f"REQ-{item.request_id}" if item.request_id is not None else None):
                        _failed(runtime, item, error, report, first_backoff)
                    keeper.release(item.id)
                if done:
                    break  # the last group: recorded below
                if hooks.delivered and time.monotonic() - hooks.delivered_since >= RECORD_WITHIN_S:
                    _record_accepted(runtime, hooks, keeper)
        finally:
            _record_accepted(runtime, hooks, keeper, unrecorded)


def _record_accepted(
    runtime: Runtime, hooks: WebhookDeliveries, keeper: LeaseKeeper, unrecorded: list[OutboxItem] | None = None
) -> None:
    accepted = hooks.take_delivered()
    if unrecorded is not None:
        unrecorded.extend(accepted)
    else:
        _sent(runtime, accepted)
    for item in accepted:
        keeper.release(item.id)


def _deliver_one(
    runtime: Runtime, gateway: SlackGateway, item: OutboxItem, report: RelayReport, first_backoff: timedelta
) -> None:
    """Deliver one Slack row and record its outcome; an unforeseen failure fails this row only."""
    try:
        _deliver(runtime, gateway, item)
    except DeliveryError as error:
        _failed(runtime, item, error, report, first_backoff)
        return
    except Exception as exc:  # one row's unforeseen failure must not stop the others
        log.exception("outbox %s (%s): delivery failed unexpectedly", item.id, item.key)
        _failed(runtime, item, DeliveryError(f"unexpected {type(exc).__name__}: {exc}"), report, first_backoff)
        return
    report.sent += 1
    _sent(runtime, [item])


def _sent(runtime: Runtime, items: list[OutboxItem]) -> None:
    if not items:
        return
    now = runtime.clock.now()
    with runtime.uow() as uow:
        uow.outbox.mark_all_sent([item.id for item in items], now=now)
        uow.commit()
    _observe_sent(runtime, items, now)


def _observe_sent(runtime: Runtime, items: list[OutboxItem], now: datetime) -> None:
    for item in items:
        if item.created_at is not None:
            waited = max((now - item.created_at).total_seconds(), 0.0)
            runtime.observer.delivered(effect=str(item.kind), waited_seconds=waited)
        _observe_webhook(runtime, item, "sent")


def _observe_webhook(runtime: Runtime, item: OutboxItem, outcome: str) -> None:
    if item.kind is IntentKind.WEBHOOK:
        runtime.observer.webhook_delivery(subscription=str(item.payload.get("subscription")), outcome=outcome)


def _posted_before(gateway: SlackGateway, item: OutboxItem, recipient: str) -> MessageRef | None:
    """For a row in doubt: its copy already in Slack, if a dead relay (or a lost answer) left one."""
    if not item.in_doubt or item.claimed_at is None:
        return None
    return gateway.find_posted(recipient=recipient, key=item.key, since=item.claimed_at - LOOKBACK)


def _deliver(runtime: Runtime, gateway: SlackGateway, item: OutboxItem) -> None:
    if item.kind is IntentKind.ROUTE_CARDS:
        _fan_out(runtime, item)
        return
    if item.kind is IntentKind.DIGEST:
        _send_digest(runtime, gateway, item)
        return
    if item.kind is IntentKind.SURFACE_SUMMARY:
        since = item.claimed_at - LOOKBACK if item.in_doubt and item.claimed_at is not None else None
        deliver_surface_summary(runtime, gateway, item, in_doubt_since=since)
        return
    card, refs, live = _current_card(runtime, item)
    if item.kind is IntentKind.NOTIFY:
        if _posted_before(gateway, item, item.payload["user"]) is not None:
            return
        about = card.ref if card is not None else f"REQ-{item.request_id}"
        gateway.notify(notification=Notification.from_payload(item.payload, ref=about), card=card, key=item.key)
    elif item.kind is IntentKind.POST_CARD:
        if card is None:
            return
        recipient = item.payload["recipient"]
        existing = [ref for ref in refs if ref.recipient == recipient]
        if existing:  # already posted (an earlier round): bring it up to date instead of posting twice
            _update_copies(runtime, gateway, card, existing, live)
            return
        if card.is_open and recipient not in live:
            return  # no longer eligible (deactivated, removed from the group) before their card went out
        found = _posted_before(gateway, item, recipient)
        if found is not None:  # posted by a relay that died before recording it: adopt that copy
            gateway.update_card(ref=found, card=card, buttons=card.is_open)
        ref = found or gateway.post_card(recipient=recipient, card=card, key=item.key)
        with runtime.uow() as uow:
            uow.messages.add(card.request_id, MessageRef(ref.channel, ref.ts, recipient), now=runtime.clock.now())
            uow.commit()
    elif item.kind is IntentKind.UPDATE_CARDS and card is not None:
        _update_copies(runtime, gateway, card, refs, live)


def _update_copies(
    runtime: Runtime, gateway: SlackGateway, card: Card, refs: list[MessageRef], live: frozenset[str]
) -> None:
    """Re-render each copy: buttons only for recipients who may decide now (DESIGN §3.4).

    A copy Slack refuses for good (its recipient left Slack, the channel is gone) does not
    hold up the others: the error is logged, and the people directory checks that person again.
    A passing failure (a 5xx, a rate limit) is raised after every other copy was tried, so the
    row is retried (editing a copy twice shows nothing new).
    """
    changed: list[tuple[MessageRef, bool]] = []
    passing: list[DeliveryError] = []
    for ref in refs:
        buttons = card.is_open and ref.recipient in live
        try:
            gateway.update_card(ref=ref, card=card, buttons=buttons)
        except DeliveryError as error:
            if not error.permanent:
                passing.append(error)
                continue
            log.warning("card %s of %s not updated for %s: %s", ref.ts, card.ref, ref.recipient, error)
            if error.code in PERSON_GONE_ERRORS and is_person(ref.recipient):
                with runtime.uow() as uow:
                    uow.people.mark_stale(ref.recipient)
                    uow.commit()
            continue
        if buttons != ref.live:
            changed.append((ref, buttons))
    if changed:
        with runtime.uow() as uow:
            for ref, buttons in changed:
                uow.messages.set_live(ref, buttons)
            uow.commit()
    if passing:
        raise passing[0]


def _fan_out(runtime: Runtime, item: OutboxItem) -> None:
    """Queue one card per person (or channel) who may decide the request now; no Slack call."""
    if item.request_id is None:
        return
    governance = runtime.governance()
    now = runtime.clock.now()
    today = governance.today(now)
    with runtime.uow() as uow:
        request = uow.requests.get(item.request_id)
        kind = governance.kinds.get(request.kind) if request is not None else None
        if request is None or kind is None or request.state is not State.PENDING:
            return  # decided (or gone) before its cards went out: nothing to ask anyone
        who = deciders(uow, governance, kind, request, today).who
        round_ = int(item.payload.get("round", request.version))
        cards = [post_card(item.request_id, r, round_=round_) for r in card_recipients(governance, request, who)]
        uow.outbox.add_many(cards, now=now)
        uow.commit()


def _send_digest(runtime: Runtime, gateway: SlackGateway, item: OutboxItem) -> None:
    """The digest as things stand now: items decided since it was queued are left out."""
    governance = runtime.governance()
    today = governance.today(runtime.clock.now())
    cards = []
    with runtime.uow(read_only=True) as uow:
        people = directory(uow, governance, today)
        for request_id in item.payload.get("request_ids", []):
            request = uow.requests.get(int(request_id))
            kind = governance.kinds.get(request.kind) if request is not None else None
            if request is None or kind is None or request.state is not State.PENDING:
                continue
            who = people.eligibility(kind, request, uow.votes.for_request(int(request_id)))
            cards.append(build_card(governance, request, who))
    if cards and _posted_before(gateway, item, item.payload["user"]) is None:
        more, auto = int(item.payload.get("more", 0)), int(item.payload.get("auto_resolved", 0))
        gateway.send_digest(user=item.payload["user"], cards=cards, more=more, auto_resolved=auto, key=item.key)


def _current_card(runtime: Runtime, item: OutboxItem) -> tuple[Card | None, list[MessageRef], frozenset[str]]:
    """The request's card as it is now (cards are rendered at delivery, never stale), its copies,
    and the recipients whose copies show buttons (``live_copies``)."""
    if item.request_id is None:
        return None, [], frozenset()
    governance = runtime.governance()
    today = governance.today(runtime.clock.now())
    with runtime.uow(read_only=True) as uow:
        request = uow.requests.get(item.request_id)
        if request is None:
            return None, [], frozenset()
        kind = governance.kinds.get(request.kind)
        who, live = None, frozenset[str]()
        if kind is not None and request.steps:
            who = deciders(uow, governance, kind, request, today).who
            live = live_copies(governance, kind, request, who)
        return build_card(governance, request, who), uow.messages.for_request(item.request_id), live


def _recheck_recipient(uow: UnitOfWork, item: OutboxItem, error: DeliveryError) -> None:
    """A delivery to a person failed as if they had left Slack: the directory checks them again."""
    person = str(item.payload.get("recipient") or item.payload.get("user") or "")
    if error.code in PERSON_GONE_ERRORS and is_person(person):
        uow.people.mark_stale(person)


def _after_dead(runtime: Runtime, uow: UnitOfWork, item: OutboxItem, error: DeliveryError) -> list[Intent]:
    """What a dead row leaves to do: DMs instead of an unreachable channel, or a word to the owner."""
    if item.kind is IntentKind.WEBHOOK:
        return after_dead_webhook(runtime, uow, item, error)
    recipient = str(item.payload.get("recipient", ""))
    if item.kind is IntentKind.POST_CARD and error.unreachable and not is_person(recipient):
        return unreachable_channel_intents(runtime, uow, item, error)
    tell_card_owner(runtime, uow, item, str(error))
    return []


def _failed(
    runtime: Runtime, item: OutboxItem, error: DeliveryError, report: RelayReport, first_backoff: timedelta
) -> None:
    now = runtime.clock.now()
    message = str(error)
    with runtime.uow() as uow:
        if error.code == DEFERRED:  # not tried: its receiver did not answer another delivery of this batch
            uow.outbox.retry_later(item.id, at=now + first_backoff, error=message, count_attempt=False)
            uow.commit()
            report.retried += 1
            return
        # Rate limited: the receiver said when to come back. Not the row's fault, so no attempt is
        # counted, until the row has been held back for RATE_LIMIT_GRACE: then each 429 counts.
        counts = error.retry_after is None or rate_limit_counts_attempt(first_claimed=item.claimed_at, now=now)
        if error.retry_after is not None and (not counts or item.attempts + 1 < MAX_ATTEMPTS):
            at = now + timedelta(seconds=error.retry_after)
            uow.outbox.retry_later(item.id, at=at, error=message, count_attempt=counts)
            report.retried += 1
            outcome = "rate_limited"
        elif error.permanent or item.attempts + 1 >= (error.max_attempts or MAX_ATTEMPTS):
            uow.outbox.mark_dead(item.id, now=now, error=message)
            log.error("outbox %s (%s) is dead after %d attempt(s): %s", item.id, item.key, item.attempts + 1, message)
            _recheck_recipient(uow, item, error)
            uow.outbox.add_many(_after_dead(runtime, uow, item, error), now=now)
            report.dead += 1
            outcome = "disabled" if error.code == GONE else "dead"
        else:
            backoff = min(first_backoff * 2**item.attempts, MAX_BACKOFF)
            uow.outbox.retry_later(item.id, at=now + backoff, error=message)
            log.warning("outbox %s (%s) failed, retrying in %s: %s", item.id, item.key, backoff, message)
            report.retried += 1
            outcome = "retried"
        uow.commit()
    _observe_webhook(runtime, item, outcome)
    report.errors.append(f"{item.key}: {message}")
