"""Engines for the two supported backends, configured for correctness under concurrency.

SQLite: WAL, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for every transaction,
so a unit of work takes the write lock up front and never fails half-way when it upgrades
from reading to writing. PostgreSQL: ``READ COMMITTED`` plus row locks where it matters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: WAL pages between automatic checkpoints (SQLite's default is 1000). Each checkpoint syncs the
#: WAL and the database file (tens of ms on a disk); a governed transaction dirties ~15 pages
#: (request, indexes, audit event, head, outbox), so the default paid one every ~60 transactions.
#: At 4000 (≈16 MB of WAL at most) pages rewritten between checkpoints are copied back once.
#: Durability of each commit is unchanged: that is ``synchronous``, not the checkpoint interval.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 4000
#: Execution option marking a connection whose transaction only reads.
READ_ONLY = "signoff_read_only"


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        in_memory = parsed.database in (None, "", ":memory:")

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cursor = dbapi_connection.cursor()
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # Writers take the lock up front; readers see a snapshot and never block anyone (WAL).
            read_only = connection.get_execution_options().get(READ_ONLY, False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    # No pre-ping: it costs a round trip per use case. Stale connections are recycled instead.
    return create_engine(url, pool_recycle=1800, pool_size=pool_size, max_overflow=pool_size)
