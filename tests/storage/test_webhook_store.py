"""Webhook subscriptions' state in the database (SQLite and PostgreSQL): disabled once, enabled
again, and their deliveries counted from the outbox; a migrated database has the table."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.outbox import Intent, IntentKind
from bot.domain.webhook_subscriptions import Subscription
from bot.domain.webhooks import delivery_key
from storage.health import ReadinessProbe, work_waiting
from storage.uow import SqlUnitOfWorkFactory

DECLARED = tuple(
    Subscription(name, f"https://{name}.example.com", "S", frozenset({"request.decided"}), None, "U0OWNER")
    for name in ("crm", "ads")
)


def test_a_subscription_is_disabled_once_enabled_again_and_its_deliveries_counted(
    engine: Engine, clock: FixedClock
) -> None:
    units = SqlUnitOfWorkFactory(engine, webhooks=lambda: DECLARED)
    now = clock.now()
    with units() as uow:
        assert [s.id for s in uow.webhooks.enabled()] == ["crm", "ads"]
        assert uow.webhooks.disable("crm", now=now, reason="HTTP 410: gone")
        assert not uow.webhooks.disable("crm", now=now, reason="again")  # the first one told the owner
        keys = [delivery_key(name, 1, "request.decided", v) for name in ("crm", "ads") for v in (1, 2)]
        uow.outbox.add_many(
            [Intent(IntentKind.WEBHOOK, k, {"subscription": k.split(":")[1]}, None) for k in keys], now=now
        )
        uow.commit()
    with units() as uow:
        (claimed, *_) = uow.outbox.claim_due(now=now, limit=1, lease=timedelta(seconds=15))
        uow.outbox.mark_dead(claimed.id, now=now, error="HTTP 410: gone")
        uow.commit()
    with units(read_only=True) as uow:
        assert [s.id for s in uow.webhooks.enabled()] == ["ads"]
        assert uow.webhooks.disabled() == {"crm": "HTTP 410: gone"}
        counts = uow.webhooks.deliveries()
        assert (counts["crm"].pending, counts["crm"].dead, counts["ads"].pending, counts["ads"].dead) == (1, 1, 2, 0)
    waiting = work_waiting(engine, now=now)
    assert waiting.webhooks_disabled == {"crm": 1} and waiting.webhook_dead == {"crm": 1}
    # Every declared subscription is reported, at 0 too: healthy and "not reported" differ on a dashboard.
    declared = work_waiting(engine, now=now, subscriptions=[s.id for s in DECLARED])
    assert declared.webhooks_disabled == {"crm": 1, "ads": 0} and declared.webhook_dead == {"crm": 1, "ads": 0}
    with units() as uow:
        assert uow.webhooks.enable("crm", now=now)
        assert not uow.webhooks.enable("crm", now=now)
        uow.commit()
    with units(read_only=True) as uow:
        assert uow.webhooks.disabled() == {} and len(uow.webhooks.enabled()) == 2


def test_the_migrated_database_is_current(engine: Engine) -> None:
    probe = ReadinessProbe(engine.url)
    try:
        assert probe() is None
        assert len(probe.expected) == 1, f"the migrations must form one chain; heads: {sorted(probe.expected)}"
    finally:
        probe.dispose()
