"""The people directory in the database: who Slack reports as deactivated, and their timezone.

Eligibility is computed inside transactions, where no Slack call may happen, so the worker
refreshes this table from ``users.info`` outside them and every use case reads it here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update

from storage.prepared import Prepared
from storage.tables import PEOPLE, insert_ignoring_conflicts

_SELECT_DEACTIVATED = Prepared(select(PEOPLE.c.user_id).where(PEOPLE.c.deleted.is_(True)))
#: The person's row, locked: two workers recording the same answer at once report one change.
_SELECT_DELETED_FOR_UPDATE = select(PEOPLE.c.deleted).where(PEOPLE.c.user_id == bindparam("person")).with_for_update()
_UPDATE_PERSON = (
    update(PEOPLE)
    .where(PEOPLE.c.user_id == bindparam("person"))
    .values(deleted=bindparam("deleted"), tz=bindparam("tz"), checked_at=bindparam("checked_at"))
)


class SqlPeople:
    def __init__(self, connection: Connection):
        self.connection = connection

    def deactivated(self) -> frozenset[str]:
        """User ids Slack last reported as deactivated."""
        return frozenset(row.user_id for row in _SELECT_DEACTIVATED.rows(self.connection, {}))

    def timezones(self) -> dict[str, str]:
        """User id → IANA timezone name, for everyone whose timezone is known."""
        rows = self.connection.execute(select(PEOPLE.c.user_id, PEOPLE.c.tz).where(PEOPLE.c.tz.is_not(None)))
        return {r.user_id: r.tz for r in rows}

    def due_for_check(self, people: Iterable[str], *, checked_before: datetime) -> list[str]:
        """Those of ``people`` never checked, marked stale, or last checked at or before ``checked_before``."""
        wanted = sorted(set(people))
        fresh: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = select(PEOPLE.c.user_id).where(
                PEOPLE.c.user_id.in_(chunk),
                PEOPLE.c.checked_at.is_not(None),
                PEOPLE.c.checked_at > checked_before,
            )
            fresh.update(self.connection.execute(query).scalars())
        return [person for person in wanted if person not in fresh]

    def record(self, person: str, *, deleted: bool, tz: str | None, now: datetime) -> bool:
        """Store what Slack said of ``person``; True when their deactivated flag changed."""
        before = self.connection.execute(_SELECT_DELETED_FOR_UPDATE, {"person": person}).scalar()
        if before is None:  # unknown so far: an active person, until this answer (a racing insert waits, then wins)
            statement = insert_ignoring_conflicts(self.connection, PEOPLE, "user_id")
            self.connection.execute(statement, {"user_id": person, "deleted": False, "tz": None, "checked_at": None})
            before = self.connection.execute(_SELECT_DELETED_FOR_UPDATE, {"person": person}).scalar()
        self.connection.execute(_UPDATE_PERSON, {"person": person, "deleted": deleted, "tz": tz, "checked_at": now})
        return bool(before) != deleted

    def mark_stale(self, person: str) -> None:
        """Check ``person`` again on the next pass (a delivery to them failed as if they had left)."""
        statement = insert_ignoring_conflicts(self.connection, PEOPLE, "user_id")
        self.connection.execute(statement, {"user_id": person, "deleted": False, "tz": None, "checked_at": None})
        self.connection.execute(update(PEOPLE).where(PEOPLE.c.user_id == person).values(checked_at=None))

    def stale_or_unknown(self) -> list[str]:
        """Rows waiting for a check (``mark_stale``)."""
        query = select(PEOPLE.c.user_id).where(PEOPLE.c.checked_at.is_(None))
        return list(self.connection.execute(query).scalars())
