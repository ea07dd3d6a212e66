"""What operations ask of the database: is it ready, and how much work waits in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.domain.lifecycle import State
from bot.domain.outbox import OutboxStatus
from storage.migrate import MIGRATIONS
from storage.tables import OUTBOX, REQUESTS


def expected_revisions() -> frozenset[str]:
    """The newest migration(s) this code ships: what a current database is at."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def readiness_problem(engine: Engine, expected: frozenset[str]) -> str | None:
    """None when the database answers and is at ``expected``; else one line saying what is wrong."""
    try:
        with engine.connect() as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return f"database unreachable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    if current != expected:
        at = ", ".join(sorted(current)) or "no schema"
        return f"database migrations not current: at {at}, expected {', '.join(sorted(expected))}"
    return None


@dataclass(frozen=True)
class WorkWaiting:
    """Counts read at scrape time: pending requests by kind; due and dead outbox rows by effect."""

    pending_requests: dict[str, int] = field(default_factory=dict)
    outbox_due: dict[str, int] = field(default_factory=dict)
    outbox_dead: dict[str, int] = field(default_factory=dict)


def work_waiting(engine: Engine, *, now: datetime) -> WorkWaiting:
    """Three grouped counts in one read-only transaction (indexed: requests by state, outbox by status)."""
    waiting = (str(OutboxStatus.PENDING), str(OutboxStatus.SENDING))
    with engine.connect() as connection:
        pending = select(REQUESTS.c.kind, func.count()).where(REQUESTS.c.state == str(State.PENDING))
        due = select(OUTBOX.c.kind, func.count()).where(OUTBOX.c.status.in_(waiting), OUTBOX.c.next_attempt_at <= now)
        dead = select(OUTBOX.c.kind, func.count()).where(OUTBOX.c.status == str(OutboxStatus.DEAD))
        return WorkWaiting(
            pending_requests=_counts(connection.execute(pending.group_by(REQUESTS.c.kind))),
            outbox_due=_counts(connection.execute(due.group_by(OUTBOX.c.kind))),
            outbox_dead=_counts(connection.execute(dead.group_by(OUTBOX.c.kind))),
        )


def _counts(rows: object) -> dict[str, int]:
    return {str(key): int(count) for key, count in rows}  # type: ignore[attr-defined]
