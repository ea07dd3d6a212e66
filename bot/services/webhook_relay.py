"""Delivering webhook rows of the outbox (DESIGN §9), for the relay (``bot.services.relay``).

The relay claims, leases, retries and buries webhook rows exactly as it does Slack's; this module
says what one delivery is and what its answer means. A row is signed at each attempt with its
own ``webhook-id`` (the same on every retry) and POSTed outside any transaction. 2xx: sent.
410: the subscription is disabled (stored, so no replica queues or sends more for it) and its
owner is told in Slack. 429: again after its ``Retry-After`` (either form, bounded; no attempt
counted for the first hour, ``bot.domain.outbox.rate_limit_counts_attempt``); a 429 without a
readable one backs off like a 5xx. 5xx, a timeout or no connection: again with the relay's
backoff. Any other status: dead after ``REFUSED_ATTEMPTS`` tries. A disabled subscription's rows
are still queued, and die at once with code ``disabled``: ``signoff webhooks redeliver ID`` sends
them later. The owner hears of dead deliveries at most once an hour per subscription, with how
many died and the last error (``bot.services.owner_notices``).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Protocol

from bot.domain.notices import Notice, Notification
from bot.domain.outbox import DeliveryError, Intent, IntentKind, OutboxItem
from bot.domain.requests import format_request_id
from bot.domain.webhook_subscriptions import Subscription
from bot.domain.webhooks import (
    REFUSED_ATTEMPTS,
    Answer,
    ReceiverAnswer,
    ReceiverUnreachable,
    SecretInvalid,
    classify,
    encode_body,
)
from bot.log_context import log_context
from bot.services.owner_notices import tell_owner_once
from bot.services.ports import UnitOfWork
from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

#: ``DeliveryError.code`` of each way a webhook delivery ends dead.
GONE, DISABLED, UNDECLARED = "gone", "disabled", "undeclared"
#: ``DeliveryError.code`` of a row not tried: its receiver did not answer another delivery of the batch.
DEFERRED = "deferred"


class WebhookSender(Protocol):
    """Outbound webhooks (``bot.webhooks.sender``). Raises ``ReceiverUnreachable`` or ``SecretInvalid``."""

    def send(
        self, *, subscription: Subscription, message_id: str, body: str, at: datetime | None = None
    ) -> ReceiverAnswer: ...


class WebhookDeliveries:
    """Delivers the webhook rows of one relay batch; reads the subscriptions once per batch."""

    def __init__(self, runtime: Runtime, sender: WebhookSender | None):
        self.runtime = runtime
        self.sender = sender
        self._known: tuple[dict[str, Subscription], set[str]] | None = None
        #: Rows delivered and not yet recorded as sent (``relay_outbox`` records them in groups).
        self.delivered: list[OutboxItem] = []
        #: When (``time.monotonic``) the first of ``delivered`` was accepted.
        self.delivered_since = 0.0
        #: Subscriptions whose receiver gave no answer in this batch: their other rows are not tried.
        self.unanswered: set[str] = set()

    def accepted(self, item: OutboxItem) -> None:
        """``item``'s receiver took it: to be recorded as sent with its group."""
        if not self.delivered:
            self.delivered_since = time.monotonic()
        self.delivered.append(item)

    def take_delivered(self) -> list[OutboxItem]:
        """The rows accepted since the last call, to record now."""
        taken, self.delivered = self.delivered, []
        return taken

    def prepare(self, uow: UnitOfWork) -> None:
        """Read the subscriptions in ``uow`` (the claim's, on the relay's thread, before POSTs start)."""
        self._known = self._read(uow)

    @staticmethod
    def _read(uow: UnitOfWork) -> tuple[dict[str, Subscription], set[str]]:
        declared = {s.id: s for s in uow.webhooks.declared()}
        return declared, set(uow.webhooks.disabled()) if declared else set()

    def attempt(self, item: OutboxItem) -> DeliveryError | None:
        """``deliver`` on a POST thread: None when delivered, else why not (never raises)."""
        with log_context(request_id=f"REQ-{item.request_id}" if item.request_id is not None else None):
            try:
                self.deliver(item)
            except DeliveryError as error:
                return error
            except Exception as exc:  # one row's unforeseen failure must not stop the others
                log.exception("outbox %s (%s): delivery failed unexpectedly", item.id, item.key)
                return DeliveryError(f"unexpected {type(exc).__name__}: {exc}")
        return None

    def _subscriptions(self) -> tuple[dict[str, Subscription], set[str]]:
        if self._known is None:
            with self.runtime.uow(read_only=True) as uow:
                self._known = self._read(uow)
        return self._known

    def deliver(self, item: OutboxItem) -> None:
        """POST one row's message; ``DeliveryError`` says why it was not delivered and what comes next."""
        declared, disabled = self._subscriptions()
        name = str(item.payload["subscription"])
        subscription = declared.get(name)
        if subscription is None:
            raise DeliveryError(f"webhook {name} is no longer in the governance file", permanent=True, code=UNDECLARED)
        if name in disabled:
            raise DeliveryError(f"webhook {name} is disabled", permanent=True, code=DISABLED)
        if self.sender is None:
            raise DeliveryError("this process has no webhook sender")
        if name in self.unanswered:
            raise DeliveryError(f"not tried: {name} did not answer another delivery just now", code=DEFERRED)
        body = encode_body(item.payload["body"])
        try:
            answer = self.sender.send(subscription=subscription, message_id=str(item.payload["message_id"]), body=body)
        except ReceiverUnreachable as error:
            self.unanswered.add(name)  # the rest of the batch for it waits for the next pass
            raise DeliveryError(f"{subscription.url}: no answer ({error})") from None
        except SecretInvalid as error:
            raise DeliveryError(str(error)) from None
        verdict = classify(answer.status)
        said = f"HTTP {answer.status}" + (f": {answer.excerpt()}" if answer.excerpt() else "")
        if verdict is Answer.DELIVERED:
            return
        if verdict is Answer.GONE:
            disabled.add(name)  # the rest of this batch is not sent either
            raise DeliveryError(said, permanent=True, code=GONE)
        if verdict is Answer.RATE_LIMITED:
            raise DeliveryError(said, retry_after=answer.retry_after)  # None (unreadable): backoff as for a 5xx
        if verdict is Answer.REFUSED:
            raise DeliveryError(said, max_attempts=REFUSED_ATTEMPTS)
        raise DeliveryError(said)


def after_dead_webhook(runtime: Runtime, uow: UnitOfWork, item: OutboxItem, error: DeliveryError) -> list[Intent]:
    """What a dead webhook row leaves to do, in the transaction that buries it: disable its
    subscription on a 410 and tell the owner once; tell the owner of other dead deliveries, at most
    once an hour per subscription (``tell_owner_once``). Rows that died because the subscription
    is disabled or no longer declared tell nobody (the owner already knows, or the file changed)."""
    if item.kind is not IntentKind.WEBHOOK or error.code in (DISABLED, UNDECLARED):
        return []
    name = str(item.payload["subscription"])
    subscription = next((s for s in uow.webhooks.declared() if s.id == name), None)
    if subscription is None or not subscription.owner:
        return []
    now = runtime.clock.now()
    ref = format_request_id(item.request_id) if item.request_id is not None else name
    if error.code == GONE:
        if not uow.webhooks.disable(name, now=now, reason=str(error)):
            return []  # another relay disabled it first and told the owner
        facts = {"subscription": name, "url": subscription.url, "error": str(error)}
        event = f"{Notice.WEBHOOK_DISABLED}-{item.id}"
        message = Notification(subscription.owner, Notice.WEBHOOK_DISABLED, ref, event, facts)
        return [Intent(IntentKind.NOTIFY, f"webhook-notice:{name}:{event}", message.payload(), None)]
    body_type = str(item.payload.get("body", {}).get("type", ""))
    tell_owner_once(
        uow,
        now=now,
        owner=subscription.owner,
        notice=Notice.WEBHOOK_DEAD,
        subject=f"webhook:{name}",
        ref=ref,
        facts={"subscription": name, "url": subscription.url, "type": body_type, "error": str(error)},
    )
    return []
