"""Stored requests read as the decision surface reads them (DESIGN §8): one streamed query.

Requests of the window are joined with their votes in one statement, ordered by request, and
read in batches (``yield_per``: a server-side cursor on PostgreSQL, ``fetchmany`` on SQLite),
so memory holds one batch, never the whole window.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select

from bot.domain.actors import rule_of
from bot.domain.surface import RequestFacts, Window
from storage.tables import REQUESTS, VOTES

#: Rows fetched per round trip: big enough that round trips do not dominate, small enough to stay flat.
BATCH = 2000

_COLUMNS = (
    REQUESTS.c.id,
    REQUESTS.c.kind,
    REQUESTS.c.imported_id,
    REQUESTS.c.state,
    REQUESTS.c.created_at,
    REQUESTS.c.decided_at,
    REQUESTS.c.decided_by,
    REQUESTS.c.auto_rule,
    REQUESTS.c.escalation_level,
    REQUESTS.c.shadow,
    REQUESTS.c.lapses_at,
    VOTES.c.voter,
    VOTES.c.verdict,
    VOTES.c.created_at.label("voted_at"),
)
_JOINED = REQUESTS.outerjoin(VOTES, VOTES.c.request_id == REQUESTS.c.id)
#: The report's one statement: requests joined with their votes, by request (filtered by window and kinds per call).
FACTS = select(*_COLUMNS).select_from(_JOINED).order_by(REQUESTS.c.id, VOTES.c.id)
#: The same with each request's requester and fields, in submission order (what suggest and simulate replay).
CONTENTS = (
    select(*_COLUMNS, REQUESTS.c.requester, REQUESTS.c.fields, REQUESTS.c.governance)
    .select_from(_JOINED)
    .order_by(REQUESTS.c.created_at, REQUESTS.c.id, VOTES.c.id)
)


class SqlSurface:
    """Read-only: the requests submitted in a window, with their votes and shadow verdicts."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def facts(
        self, window: Window, kinds: Collection[str] | None = None, *, contents: bool = False
    ) -> Iterator[RequestFacts]:
        """Each request submitted in ``[window.start, window.end)`` (of ``kinds``, when given), in id
        order; with ``contents``, in submission order (then id) and with its requester and fields."""
        query = (CONTENTS if contents else FACTS).where(
            REQUESTS.c.created_at >= window.start, REQUESTS.c.created_at < window.end
        )
        if kinds is not None:
            query = query.where(REQUESTS.c.kind.in_(sorted(kinds)))
        rows = self.connection.execute(query.execution_options(yield_per=BATCH))
        current: Any = None
        votes: list[tuple[str, str, datetime]] = []
        for row in rows:
            if current is not None and row[0] != current[0]:
                yield _facts(current, votes)
                votes = []
            current = row
            if row[11] is not None:  # voter, verdict, voted_at
                votes.append((row[11], row[12], row[13]))
        if current is not None:
            yield _facts(current, votes)

    def span(self, kinds: Collection[str] | None = None) -> tuple[datetime, datetime] | None:
        """The first and last submission time of the stored requests (of ``kinds``); None when there are none."""
        return _span(self.connection, kinds)


def _span(connection: Connection, kinds: Collection[str] | None) -> tuple[datetime, datetime] | None:
    query = select(func.min(REQUESTS.c.created_at), func.max(REQUESTS.c.created_at))
    if kinds is not None:
        query = query.where(REQUESTS.c.kind.in_(sorted(kinds)))
    first, last = connection.execute(query).one()
    if first is None or last is None:
        return None
    return _aware(first), _aware(last)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back the aggregate as naive UTC (no column type on ``min``): make it aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _facts(row: Row[Any], votes: list[tuple[str, str, datetime]]) -> RequestFacts:
    """The request's columns, in ``_COLUMNS`` order, and its votes."""
    values: tuple[Any, ...] = tuple(row)
    requester, fields, governance = values[14:17] if len(values) > 14 else (None, None, None)
    id_, kind, imported_id, state, created_at, decided_at, decided_by, auto_rule, level, shadow, lapses_at = values[:11]
    return RequestFacts(
        id_,
        kind,
        imported_id is not None,
        state,
        created_at,
        decided_at,
        decided_by,
        rule_of(decided_by) or auto_rule,
        level or 0,
        tuple(votes),
        _shadow(shadow) if shadow else (),
        lapses_at,
        requester,
        dict(fields) if fields is not None else None,
        governance,
        imported_id,
    )


def _shadow(value: object) -> tuple[tuple[str, str], ...]:
    """``[{"rule": id, "decide": "approve"|"reject"}, …]`` as pairs; anything else in the column is skipped."""
    if not isinstance(value, list):
        return ()
    return tuple(
        (item["rule"], item["decide"])
        for item in value
        if isinstance(item, dict) and isinstance(item.get("rule"), str) and item.get("decide") in ("approve", "reject")
    )
