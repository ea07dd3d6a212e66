"""Named transaction-scoped locks: writers that read something and write based on it serialize on its name.

PostgreSQL at READ COMMITTED lets two transactions read the same count and both act on it;
an advisory lock per name (``pg_advisory_xact_lock``, released at commit or rollback) makes
the second wait until the first has committed, and its next statement then sees that commit.
SQLite needs none: a writing unit of work holds the database's write lock from its
``BEGIN IMMEDIATE`` (``storage.engine``), before its first read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Connection, text

#: The key is mixed with the schema's name, so that two deployments sharing a database (each in
#: its own schema) never wait on each other. The wait is bounded by the unit of work's
#: ``lock_timeout`` (``storage.engine.WAIT_MS``): beyond it, SQLSTATE 55P03 → ``StorageBusy``.
_LOCK = text(
    "SELECT pg_advisory_xact_lock(CAST(:key AS bigint) # ('x' || left(md5(current_schema()), 16))::bit(64)::bigint)"
)


def lock_id(*parts: str) -> int:
    """A stable signed 64-bit id for a name made of ``parts`` (BLAKE2b; the same in every process)."""
    name = "\x00".join(("signoff", *parts))
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def hold(connection: Connection, ids: Iterable[int]) -> None:
    """Hold each lock of ``ids`` until the transaction ends, taken in ascending order so that two
    writers locking overlapping sets never wait on each other in a circle. No-op on SQLite."""
    if connection.dialect.name == "sqlite":
        return
    for key in sorted(set(ids)):
        connection.execute(_LOCK, {"key": key})
