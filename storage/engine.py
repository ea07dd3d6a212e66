"""Engines for the two supported backends, configured for correctness under concurrency.

SQLite: WAL, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for every transaction,
so a unit of work takes the write lock up front and never fails half-way when it upgrades
from reading to writing. PostgreSQL: ``READ COMMITTED`` plus row locks where it matters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

#: How long a background unit of work (relay, sweeps, CLI) waits for SQLite's write lock.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: SQLite's primary result codes for "another connection holds the lock".
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
#: WAL pages between automatic checkpoints (SQLite's default is 1000). Each checkpoint syncs the
#: WAL and the database file (tens of ms on a disk); a governed transaction dirties ~15 pages
#: (request, indexes, audit event, head, outbox), so the default paid one every ~60 transactions.
#: At 4000 (≈16 MB of WAL at most) pages rewritten between checkpoints are copied back once.
#: Durability of each commit is unchanged: that is ``synchronous``, not the checkpoint interval.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 4000
#: Execution option marking a connection whose transaction only reads.
READ_ONLY = "signoff_read_only"
#: Execution option: the longest (ms) this transaction may wait for a lock before the database
#: gives up (SQLite: the busy timeout for its ``BEGIN``; PostgreSQL: ``lock_timeout`` and
#: ``statement_timeout`` for the transaction). Unset: SQLite waits ``SQLITE_BUSY_TIMEOUT_MS``,
#: PostgreSQL as long as it takes.
WAIT_MS = "signoff_wait_ms"


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
            options = connection.get_execution_options()
            _sqlite_busy_timeout(connection, int(options.get(WAIT_MS) or SQLITE_BUSY_TIMEOUT_MS))
            connection.exec_driver_sql("BEGIN" if options.get(READ_ONLY, False) else "BEGIN IMMEDIATE")

        return engine
    # No pre-ping: it costs a round trip per use case. Stale connections are recycled instead.
    engine = create_engine(url, pool_recycle=1800, pool_size=pool_size, max_overflow=pool_size)

    @event.listens_for(engine, "begin")
    def _bounded(connection: Any) -> None:
        wait = connection.get_execution_options().get(WAIT_MS)
        if wait:  # both only for this transaction (is_local); one round trip
            connection.exec_driver_sql(
                "SELECT set_config('lock_timeout', %(ms)s, true), set_config('statement_timeout', %(ms)s, true)",
                {"ms": f"{int(wait)}ms"},
            )

    return engine


def _sqlite_busy_timeout(connection: Any, milliseconds: int) -> None:
    """Set the connection's busy timeout when it differs from the one it has (pooled connections keep theirs)."""
    info = connection.connection.info
    if info.get("busy_timeout_ms", SQLITE_BUSY_TIMEOUT_MS) != milliseconds:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(milliseconds)}")
        info["busy_timeout_ms"] = milliseconds


def is_busy(error: BaseException) -> bool:
    """Whether a database error means "locked by someone else, gave up waiting" (not a fault of the statement).

    SQLite: ``SQLITE_BUSY`` / ``SQLITE_LOCKED``; PostgreSQL: ``lock_not_available`` (55P03) or
    ``query_canceled`` (57014, a ``statement_timeout``).
    """
    if not isinstance(error, DBAPIError):
        return False
    code = getattr(error.orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
    return getattr(error.orig, "sqlstate", None) in ("55P03", "57014")
