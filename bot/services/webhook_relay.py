"""Delivering webhook rows of the outbox (DESIGN §9), for the relay (``bot.services.relay``).

The relay claims, leases, retries and buries webhook rows exactly as it does Slack's; this module
says what one delivery is and what its answer means. A row is signed at each attempt with its
own ``webhook-id`` (the same on every retry) and POSTed outside any transaction. 2xx: sent.
410: the subscription is disabled (stored, so no replica queues or sends more for it) and its
owner is told in Slack. 429: again after its ``Retry-After`` (bounded, no attempt counted). 5xx,
a timeout or no connection: again with the relay's backoff. Any other status: dead after
``REFUSED_ATTEMPTS`` tries. The owner is told of every dead delivery, with its last error.
"""

from __future__ import annotations

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
from bot.services.ports import UnitOfWork
from bot.services.runtime import Runtime

#: ``DeliveryError.code`` of each way a webhook delivery ends dead.
GONE, DISABLED, UNDECLARED = "gone", "disabled", "undeclared"


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
        #: Rows delivered in this batch, to be recorded as sent together (``relay_outbox``).
        self.delivered: list[OutboxItem] = []

    def _subscriptions(self) -> tuple[dict[str, Subscription], set[str]]:
        if self._known is None:
            with self.runtime.uow(read_only=True) as uow:
                declared = {s.id: s for s in uow.webhooks.declared()}
                self._known = declared, set(uow.webhooks.disabled()) if declared else set()
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
        body = encode_body(item.payload["body"])
        try:
            answer = self.sender.send(subscription=subscription, message_id=str(item.payload["message_id"]), body=body)
        except ReceiverUnreachable as error:
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
            raise DeliveryError(said, retry_after=answer.retry_after or 1.0)
        if verdict is Answer.REFUSED:
            raise DeliveryError(said, max_attempts=REFUSED_ATTEMPTS)
        raise DeliveryError(said)


def after_dead_webhook(runtime: Runtime, uow: UnitOfWork, item: OutboxItem, error: DeliveryError) -> list[Intent]:
    """What a dead webhook row leaves to do, in the transaction that buries it: disable its
    subscription on a 410 and tell the owner once; tell the owner of any other dead delivery."""
    if item.kind is not IntentKind.WEBHOOK or error.code in (DISABLED, UNDECLARED):
        return []
    name = str(item.payload["subscription"])
    subscription = next((s for s in uow.webhooks.declared() if s.id == name), None)
    if subscription is None or not subscription.owner:
        return []
    now = runtime.clock.now()
    if error.code == GONE:
        if not uow.webhooks.disable(name, now=now, reason=str(error)):
            return []  # another relay disabled it first and told the owner
        notice, facts = Notice.WEBHOOK_DISABLED, {"subscription": name, "url": subscription.url, "error": str(error)}
    else:
        body_type = str(item.payload.get("body", {}).get("type", ""))
        notice = Notice.WEBHOOK_DEAD
        facts = {"subscription": name, "url": subscription.url, "type": body_type, "error": str(error)}
    ref = format_request_id(item.request_id) if item.request_id is not None else name
    event = f"{notice}-{item.id}"
    message = Notification(subscription.owner, notice, ref, event, facts)
    return [Intent(IntentKind.NOTIFY, f"webhook-notice:{name}:{event}", message.payload(), None)]
