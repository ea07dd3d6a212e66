"""Signed webhooks (DESIGN §9): subscriptions, the messages a domain event queues, what an answer means.

A subscription is declared under ``webhooks:`` in the governance file. Each domain event with a
``webhook_type`` (``bot.domain.events``) queues one outbox row per declared subscription that wants
it, in the transaction of the transition, carrying the message as it is then (a snapshot: a later
change of the request does not rewrite what an earlier event said). The message id (Standard
Webhooks ``webhook-id``) is derived from the row's idempotency key, so every retry of a delivery
carries the same id and a receiver can drop the copies an at-least-once delivery may bring.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.events import PING, DomainEvent
from bot.domain.outbox import Intent, IntentKind
from bot.domain.requests import Request, format_request_id
from bot.domain.webhook_subscriptions import Subscription

#: A receiver that keeps refusing a delivery (a 4xx other than 410 and 429) has it dead after this many tries.
REFUSED_ATTEMPTS = 3
#: The length of a subscription's key, in bytes, decoded from its ``whsec_`` secret (Standard Webhooks
#: spec, "Symmetric signatures": secret keys should be between 24 and 64 bytes).
SECRET_BYTES = (24, 64)
#: How much of a receiver's answer is kept (in a dead row's error, in ``signoff webhooks test``).
ANSWER_EXCERPT = 200


#: ``data.sequence`` of an event: ``version * SEQUENCE_STEP + its position in its transition``.
SEQUENCE_STEP = 100


def event_sequence(version: int, position: int) -> int:
    """A number that grows with every event of one request, in the order they happened.

    The events of one transition share the request's ``version`` (a rule deciding at submission
    emits ``submitted`` then ``decided``, both version 1), so the position of the event in its
    transition breaks the tie: a receiver orders a request's events by ``data.sequence``.
    """
    return version * SEQUENCE_STEP + position


def delivery_key(subscription: str, request_id: int, webhook_type: str, version: int) -> str:
    """The idempotency key of one delivery: one per (subscription, request, event type, version)."""
    return f"webhook:{subscription}:{request_id}:{webhook_type}:{version}"


def subscription_of(key: str) -> str:
    """The subscription id in a delivery's idempotency key (``delivery_key``)."""
    return key.split(":", 2)[1]


def message_id(key: str) -> str:
    """The Standard Webhooks ``webhook-id`` for ``key``: stable across retries (it is stored in the row).

    Deliveries pass their idempotency key plus when the request was created and when the event
    happened, so REQ-1's ``submitted`` of another deployment (or of this one after its database was
    rebuilt) never shares an id that a receiver drops repeats by."""
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def request_data(request: Request, receipt: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``data`` of a request's webhook message (DESIGN §9), as the request is now.

    ``rule`` is the deciding rule whatever it decided (``Request.deciding_rule``, as the API and
    Slack show it), null when people decide. ``reason`` is why it stands as it does: the rule's
    reason, or why it went to people; a reason a person typed (a rejection's, changes asked for)
    once given; null once a person (or Signoff) closed it without one (never the routing reason,
    which would read as theirs). ``lapses_at`` (ISO 8601
    or null) is when an exception lapses.
    """
    acted = request.decided_by is not None and request.deciding_rule is None
    return {
        "request": format_request_id(request.require_id()),
        "kind": request.kind,
        "state": str(request.state),
        "version": request.version,
        "fields": dict(request.fields),
        "requester": request.requester,
        "decided_by": request.decided_by,
        "rule": request.deciding_rule,
        "reason": request.decision_note or (None if acted else request.reason),
        "lapses_at": request.lapses_at.isoformat() if request.lapses_at is not None else None,
        "governance": request.governance,
        "receipt": dict(receipt) if receipt is not None else None,
    }


def webhook_deliveries(
    subscriptions: Iterable[Subscription],
    request: Request,
    events: Iterable[DomainEvent],
    *,
    receipt: Callable[[], Mapping[str, Any] | None],
) -> list[Intent]:
    """One ``webhook`` intent per (event with a webhook type, subscription that wants it).

    ``subscriptions`` are the declared ones (a disabled one's rows are kept, to be redelivered);
    ``receipt`` gives the request's latest evaluation
    and is called only when something is queued. Body: ``{"type", "timestamp" (ISO 8601 of the
    event), "data"}`` (DESIGN §9); ``data.sequence`` orders a request's events (``event_sequence``).
    """
    wanted = [
        (subscription, event, event.type.webhook_type, position)
        for position, event in enumerate(events)
        if event.type.webhook_type is not None
        for subscription in subscriptions
        if subscription.wants(event.type.webhook_type, request.kind)
    ]
    if not wanted:
        return []
    data = request_data(request, receipt())
    intents = []
    for subscription, event, webhook_type, position in wanted:
        assert webhook_type is not None
        key = delivery_key(subscription.id, request.require_id(), webhook_type, event.version)
        order = {"version": event.version, "sequence": event_sequence(event.version, position)}
        body = {"type": webhook_type, "timestamp": event.at.isoformat(), "data": {**data, **order}}
        unique = f"{key}:{request.created_at.isoformat()}:{event.at.isoformat()}"
        payload = {"subscription": subscription.id, "message_id": message_id(unique), "body": body}
        intents.append(Intent(IntentKind.WEBHOOK, key, payload, request.require_id()))
    return intents


def ping_body(subscription: str, at: datetime) -> dict[str, Any]:
    """The message ``signoff webhooks test ID`` sends."""
    return {"type": PING, "timestamp": at.isoformat(), "data": {"subscription": subscription}}


def encode_body(body: Mapping[str, Any]) -> str:
    """The exact text that is signed and sent: compact JSON, UTF-8, keys in a stable order."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class SecretInvalid(ValueError):
    """A subscription's ``secret_env`` variable is unset or not a ``whsec_…`` secret; the message names it."""


class ReceiverUnreachable(Exception):
    """No HTTP answer: the connection failed, or the receiver took longer than the timeout."""


@dataclass(frozen=True)
class ReceiverAnswer:
    """A receiver's HTTP answer: its status, the start of its body (text), and for a 429 the seconds
    its ``Retry-After`` asks for (``bot.domain.outbox.retry_after_seconds``)."""

    status: int
    body: str
    retry_after: float | None = None

    def excerpt(self) -> str:
        """The start of the body on one line, at most ``ANSWER_EXCERPT`` characters."""
        flat = " ".join(self.body.split())
        return flat if len(flat) <= ANSWER_EXCERPT else flat[: ANSWER_EXCERPT - 1] + "…"


class Answer(StrEnum):
    """What a receiver's HTTP status means for a delivery (DESIGN §9)."""

    DELIVERED = "delivered"  # 2xx
    GONE = "gone"  # 410: the subscription is disabled
    RATE_LIMITED = "rate_limited"  # 429: come back after Retry-After
    FAILED = "failed"  # 5xx (and timeouts, connection errors): retried with backoff
    REFUSED = "refused"  # any other status: dead after REFUSED_ATTEMPTS tries


def classify(status: int) -> Answer:
    if 200 <= status < 300:
        return Answer.DELIVERED
    if status == 410:
        return Answer.GONE
    if status == 429:
        return Answer.RATE_LIMITED
    if status >= 500:
        return Answer.FAILED
    return Answer.REFUSED
