"""The unit of work: one transaction per use case, committed once, rolled back by default.

It holds a Core connection, not an ORM session: the repositories speak Core, and a
connection costs less per use case than a session would.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from storage.audit_log import AuditHead, SqlAuditLog
from storage.engine import READ_ONLY
from storage.outbox_store import SqlMessageRepository, SqlOutbox
from storage.people import SqlPeople
from storage.repositories import (
    SqlDelegationRepository,
    SqlGovernanceVersionRepository,
    SqlJobRuns,
    SqlRequestRepository,
    SqlVoteRepository,
)


class SqlUnitOfWork:
    requests: SqlRequestRepository
    votes: SqlVoteRepository
    audit: SqlAuditLog
    outbox: SqlOutbox
    messages: SqlMessageRepository
    delegations: SqlDelegationRepository
    governance_versions: SqlGovernanceVersionRepository
    job_runs: SqlJobRuns
    people: SqlPeople

    def __init__(
        self,
        engine: Engine,
        known_versions: set[str],
        audit_head: AuditHead,
        writer_lock: threading.Lock | None = None,
        *,
        read_only: bool = False,
    ):
        self._engine = engine
        self._connection: Connection | None = None
        self._known_versions = known_versions
        self._audit_head = audit_head
        self._writer_lock = None if read_only else writer_lock
        self._read_only = read_only

    def __enter__(self) -> Self:
        if self._writer_lock is not None:
            self._writer_lock.acquire()
        try:
            connection = self._engine.connect()
            if self._read_only:
                connection = connection.execution_options(**{READ_ONLY: True})
            connection.begin()
        except BaseException:
            if self._writer_lock is not None:
                self._writer_lock.release()
            raise
        self._connection = connection
        self.requests = SqlRequestRepository(connection)
        self.votes = SqlVoteRepository(connection)
        self.audit = SqlAuditLog(connection, self._audit_head)
        self.outbox = SqlOutbox(connection)
        self.messages = SqlMessageRepository(connection)
        self.delegations = SqlDelegationRepository(connection)
        self.governance_versions = SqlGovernanceVersionRepository(connection, self._known_versions)
        self.job_runs = SqlJobRuns(connection)
        self.people = SqlPeople(connection)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                try:
                    connection.rollback()  # a no-op after commit; otherwise nothing of this use case is kept
                finally:
                    connection.close()
        finally:
            if self._writer_lock is not None and connection is not None:
                self._writer_lock.release()

    def rollback(self) -> None:
        if self._connection is not None:
            self._connection.rollback()

    def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit outside of `with unit_of_work:`")
        self._connection.commit()
        self._known_versions.update(self.governance_versions.pending)
        self.governance_versions.pending.clear()
        if self.audit.pending_head is not None:
            self._audit_head.committed(self.audit.pending_head)
            self.audit.pending_head = None


class SqlUnitOfWorkFactory:
    """Makes a fresh unit of work per use case; one per process, shared by every thread."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.known_versions: set[str] = set()
        self.audit_head = AuditHead()
        # SQLite has one writer at a time, and every unit of work writes (BEGIN IMMEDIATE). Queueing
        # this process's units on a lock wakes the next one the moment the database is free, where
        # SQLite's own busy handler would sleep in steps of up to 100 ms: that is most of the tail
        # latency under concurrent clicks. Other processes still meet the busy timeout.
        self.writer_lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.known_versions, self.audit_head, self.writer_lock, read_only=read_only)
