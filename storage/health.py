"""What operations ask of the database: is it ready, and how much work waits in it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import URL, Connection, Engine, create_engine, func, inspect, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.domain.lifecycle import State
from bot.domain.outbox import WAITING, IntentKind, OutboxStatus
from bot.domain.webhooks import subscription_of
from storage.migrate import expected_revisions
from storage.tables import OUTBOX, REQUESTS, WEBHOOK_SUBSCRIPTIONS


class ReadinessProbe:
    """Answers "is the database ready?" on a connection of its own each time (no pool).

    A pooled connection could outlive the database behind it (a deleted SQLite file) or
    wait on a busy pool; a fresh one checks that the database still answers at all.
    """

    def __init__(self, url: str | URL, expected: frozenset[str] | None = None):
        self._engine = create_engine(url, poolclass=NullPool)
        self.expected = expected if expected is not None else expected_revisions()

    def __call__(self) -> str | None:
        """None when the database answers and is at ``expected``; else one line saying what is wrong."""
        try:
            with self._engine.connect() as connection:
                current = _revisions(connection)
        except SQLAlchemyError as exc:
            return f"database unreachable: {exc.__class__.__name__}: {_first_line(exc)}"
        if current != self.expected:
            at = ", ".join(sorted(current)) or "no schema"
            return f"database migrations not current: at {at}, expected {', '.join(sorted(self.expected))}"
        return None

    def dispose(self) -> None:
        self._engine.dispose()


@dataclass(frozen=True)
class WorkWaiting:
    """Counts read at scrape time: pending requests by kind; due and dead outbox rows by effect."""

    pending_requests: dict[str, int] = field(default_factory=dict)
    outbox_due: dict[str, int] = field(default_factory=dict)
    outbox_dead: dict[str, int] = field(default_factory=dict)
    #: Dead webhook deliveries by subscription id, and 1 for each disabled subscription (DESIGN §9).
    webhook_dead: dict[str, int] = field(default_factory=dict)
    webhooks_disabled: dict[str, int] = field(default_factory=dict)


def work_waiting(engine: Engine, *, now: datetime, subscriptions: Iterable[str] = ()) -> WorkWaiting:
    """Grouped counts in one read-only transaction (indexed: requests by state, outbox by status).

    Each declared webhook subscription in ``subscriptions`` is reported even at 0 dead deliveries
    and not disabled, so "healthy" and "not reported" never look the same on a dashboard.
    """
    waiting = sorted(str(s) for s in WAITING)
    with engine.connect() as connection:
        pending = select(REQUESTS.c.kind, func.count()).where(REQUESTS.c.state == str(State.PENDING))
        due = select(OUTBOX.c.kind, func.count()).where(OUTBOX.c.status.in_(waiting), OUTBOX.c.next_attempt_at <= now)
        dead = select(OUTBOX.c.kind, func.count()).where(OUTBOX.c.status == str(OutboxStatus.DEAD))
        outbox_dead = _counts(connection.execute(dead.group_by(OUTBOX.c.kind)))
        webhook_healthy = dict.fromkeys(subscriptions, 0)
        webhook_dead: dict[str, int] = dict(webhook_healthy)
        if outbox_dead.get(str(IntentKind.WEBHOOK)):
            dead_keys = select(OUTBOX.c.idempotency_key).where(
                OUTBOX.c.status == str(OutboxStatus.DEAD), OUTBOX.c.kind == str(IntentKind.WEBHOOK)
            )
            for key in connection.execute(dead_keys).scalars():
                webhook_dead[subscription_of(key)] = webhook_dead.get(subscription_of(key), 0) + 1
        disabled = select(WEBHOOK_SUBSCRIPTIONS.c.id).where(WEBHOOK_SUBSCRIPTIONS.c.disabled_at.is_not(None))
        return WorkWaiting(
            pending_requests=_counts(connection.execute(pending.group_by(REQUESTS.c.kind))),
            outbox_due=_counts(connection.execute(due.group_by(OUTBOX.c.kind))),
            outbox_dead=outbox_dead,
            webhook_dead=webhook_dead,
            webhooks_disabled={
                **dict.fromkeys(subscriptions, 0),
                **dict.fromkeys(connection.execute(disabled).scalars(), 1),
            },
        )


def _revisions(connection: Connection) -> frozenset[str]:
    """The revisions the database is at (Alembic's table, read without Alembic's per-call logging)."""
    if not inspect(connection).has_table("alembic_version"):
        return frozenset()
    return frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _first_line(exc: SQLAlchemyError) -> str:
    """The driver's message without the SQL and the link SQLAlchemy appends."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return (str(cause).strip().splitlines() or [""])[0]


def _counts(rows: object) -> dict[str, int]:
    return {str(key): int(count) for key, count in rows}  # type: ignore[attr-defined]
