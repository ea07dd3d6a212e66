"""What an operator does with webhook subscriptions: see their state, enable one again, ping one;
and what Signoff says when a reload drops a subscription that had deliveries queued.

``signoff webhooks list | enable ID | redeliver ID | test ID`` (DESIGN §9) call these.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.links import redact_url
from bot.domain.notices import Notice, Notification
from bot.domain.outbox import Intent, IntentKind
from bot.domain.webhook_subscriptions import Subscription
from bot.domain.webhooks import ReceiverAnswer, encode_body, message_id, ping_body
from bot.services.ports import UnitOfWorkFactory
from bot.services.webhook_relay import WebhookSender

log = logging.getLogger("signoff")


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


def tell_of_removed_webhooks(
    *, uow: UnitOfWorkFactory, removed: Sequence[Subscription], governance: str, now: datetime
) -> dict[str, int]:
    """After a reload that dropped ``removed``: how many deliveries each had queued (those with any).

    Each is logged (a WARNING naming the subscription and the count), and its owner is told once
    in Slack (``Notice.WEBHOOK_REMOVED``; one outbox key per subscription and governance
    ``version``, so every replica that reloads the same file queues one message). The relay ends
    such deliveries dead, kept with their error ("no longer in the governance file"), DESIGN §9.
    """
    with uow() as unit:
        counts = unit.webhooks.deliveries()
        waiting = {s.id: counts[s.id].pending for s in removed if s.id in counts and counts[s.id].pending}
        intents = []
        for subscription in removed:
            pending = waiting.get(subscription.id)
            if pending and subscription.owner:
                event = f"removed-{governance[:12]}"
                facts = {
                    "subscription": subscription.id,
                    "url": subscription.url,
                    "pending": pending,
                    "governance": governance,
                }
                message = Notification(subscription.owner, Notice.WEBHOOK_REMOVED, subscription.id, event, facts)
                key = f"webhook-notice:{subscription.id}:{event}"
                intents.append(Intent(IntentKind.NOTIFY, key, message.payload(), None))
        unit.outbox.add_many(intents, now=now)
        unit.commit()
    for subscription in removed:
        if subscription.id in waiting:
            log.warning(
                "webhook %s (%s) is no longer in the governance file: its %d queued deliveries will not be sent",
                subscription.id,
                redact_url(subscription.url),
                waiting[subscription.id],
            )
    return waiting
