"""Webhook subscriptions' state (enabled or disabled) and their deliveries waiting in the outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update

from bot.domain.outbox import IntentKind, OutboxStatus
from bot.domain.webhook_subscriptions import DeliveryCounts, Subscription
from bot.domain.webhooks import subscription_of
from storage.tables import OUTBOX, WEBHOOK_SUBSCRIPTIONS, insert_ignoring_conflicts

_DISABLED = select(WEBHOOK_SUBSCRIPTIONS.c.id, WEBHOOK_SUBSCRIPTIONS.c.disabled_reason).where(
    WEBHOOK_SUBSCRIPTIONS.c.disabled_at.is_not(None)
)


class SqlWebhooks:
    """The subscriptions in force (``declared``: those of the governance file) and what the database says of them."""

    def __init__(self, connection: Connection, declared: Callable[[], Sequence[Subscription]]):
        self.connection = connection
        self._declared = declared

    def declared(self) -> Sequence[Subscription]:
        return self._declared()

    def enabled(self) -> list[Subscription]:
        """The declared subscriptions that are not disabled; no query when none is declared."""
        declared = self._declared()
        if not declared:
            return []
        disabled = self.disabled()
        return [s for s in declared if s.id not in disabled]

    def disabled(self) -> dict[str, str]:
        """Each disabled subscription's id and why it was disabled."""
        return {row.id: row.disabled_reason or "" for row in self.connection.execute(_DISABLED)}

    def disable(self, subscription: str, *, now: datetime, reason: str) -> bool:
        """Disable ``subscription``; True when it was enabled until now (whoever disables it first)."""
        row = {"id": subscription, "disabled_at": None, "disabled_reason": None, "changed_at": now}
        self.connection.execute(insert_ignoring_conflicts(self.connection, WEBHOOK_SUBSCRIPTIONS, "id"), row)
        enabled = (WEBHOOK_SUBSCRIPTIONS.c.id == subscription, WEBHOOK_SUBSCRIPTIONS.c.disabled_at.is_(None))
        values = {"disabled_at": now, "disabled_reason": reason, "changed_at": now}
        return bool(self.connection.execute(update(WEBHOOK_SUBSCRIPTIONS).where(*enabled).values(**values)).rowcount)

    def enable(self, subscription: str, *, now: datetime) -> bool:
        """Enable ``subscription`` again; True when it was disabled."""
        disabled = (WEBHOOK_SUBSCRIPTIONS.c.id == subscription, WEBHOOK_SUBSCRIPTIONS.c.disabled_at.is_not(None))
        values = {"disabled_at": None, "disabled_reason": None, "changed_at": now}
        return bool(self.connection.execute(update(WEBHOOK_SUBSCRIPTIONS).where(*disabled).values(**values)).rowcount)

    def deliveries(self) -> dict[str, DeliveryCounts]:
        """Per subscription with any: deliveries waiting (pending or being sent) and dead ones."""
        waiting = (str(OutboxStatus.PENDING), str(OutboxStatus.SENDING))
        query = select(OUTBOX.c.idempotency_key, OUTBOX.c.status).where(
            OUTBOX.c.kind == str(IntentKind.WEBHOOK), OUTBOX.c.status.in_([*waiting, str(OutboxStatus.DEAD)])
        )
        counts: dict[str, DeliveryCounts] = {}
        for key, status in self.connection.execute(query):
            found = counts.setdefault(subscription_of(key), DeliveryCounts())
            if status in waiting:
                found.pending += 1
            else:
                found.dead += 1
        return counts
