"""What an operator does with webhook subscriptions: see their state, enable one again, ping one.

``signoff webhooks list | enable ID | redeliver ID | test ID`` (DESIGN §9) call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.webhook_subscriptions import Subscription
from bot.domain.webhooks import ReceiverAnswer, encode_body, message_id, ping_body
from bot.services.ports import UnitOfWorkFactory
from bot.services.webhook_relay import WebhookSender


@dataclass(frozen=True)
class WebhookState:
    """One declared subscription as it stands: enabled or not (and why), deliveries waiting and dead."""

    subscription: Subscription
    disabled: str | None
    pending: int
    dead: int


class UnknownWebhook(LookupError):
    """The governance file declares no webhook of that id; the message lists those it does."""

    def __init__(self, name: str, known: list[str]):
        listed = ", ".join(known) if known else "none are declared in the governance file"
        super().__init__(f"there is no webhook “{name}” (webhooks: {listed})")


def webhook_states(*, uow: UnitOfWorkFactory) -> list[WebhookState]:
    """Every subscription of the governance file, in file order, with its state and deliveries."""
    with uow(read_only=True) as unit:
        disabled, counts = unit.webhooks.disabled(), unit.webhooks.deliveries()
        states = []
        for subscription in unit.webhooks.declared():
            found = counts.get(subscription.id)
            pending, dead = (found.pending, found.dead) if found is not None else (0, 0)
            states.append(WebhookState(subscription, disabled.get(subscription.id), pending, dead))
        return states


class WebhookDisabled(Exception):
    """Deliveries cannot be sent again to a disabled subscription; the message says how to enable it."""

    def __init__(self, name: str):
        super().__init__(f"webhook “{name}” is disabled; run `signoff webhooks enable {name}` first")


@dataclass(frozen=True)
class Enabled:
    """What ``enable_webhook`` did: whether the subscription was disabled, and its dead deliveries."""

    changed: bool
    dead: int


def enable_webhook(*, uow: UnitOfWorkFactory, name: str, now: datetime) -> Enabled:
    """Enable subscription ``name`` again: events from now on are sent to it.

    Deliveries that died meanwhile (queued while it was disabled, or refused) stay dead until
    ``redeliver_webhook``; ``Enabled.dead`` says how many there are. ``UnknownWebhook`` when the
    governance file declares no such subscription.
    """
    with uow() as unit:
        declared = [s.id for s in unit.webhooks.declared()]
        if name not in declared:
            raise UnknownWebhook(name, declared)
        changed = unit.webhooks.enable(name, now=now)
        counts = unit.webhooks.deliveries().get(name)
        unit.commit()
        return Enabled(changed, counts.dead if counts is not None else 0)


def redeliver_webhook(*, uow: UnitOfWorkFactory, name: str, now: datetime, since: datetime | None = None) -> int:
    """Queue the dead deliveries of ``name`` again (those queued at or after ``since``); how many.

    Each is sent with its original ``webhook-id`` (a receiver that had it drops the copy), in
    order per request. Raises ``UnknownWebhook``, or ``WebhookDisabled`` (they would die again).
    """
    with uow() as unit:
        declared = [s.id for s in unit.webhooks.declared()]
        if name not in declared:
            raise UnknownWebhook(name, declared)
        if name in unit.webhooks.disabled():
            raise WebhookDisabled(name)
        count = unit.outbox.requeue_dead_webhooks(name, now=now, since=since)
        unit.commit()
        return count


def ping_webhook(
    *, subscriptions: tuple[Subscription, ...], sender: WebhookSender, name: str, at: datetime
) -> ReceiverAnswer:
    """Send a signed ``ping`` to subscription ``name`` now, outside the outbox, and return the answer.

    Raises ``UnknownWebhook``, ``SecretInvalid`` or ``ReceiverUnreachable``.
    """
    subscription = next((s for s in subscriptions if s.id == name), None)
    if subscription is None:
        raise UnknownWebhook(name, [s.id for s in subscriptions])
    body = encode_body(ping_body(name, at))
    return sender.send(subscription=subscription, message_id=message_id(f"ping:{name}:{at.isoformat()}"), body=body)
