"""The unit of work: one transaction per use case, committed once, rolled back by default.

It holds a Core connection, not an ORM session: the repositories speak Core, and a
connection costs less per use case than a session would.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from storage.audit_log import AuditHead, SqlAuditLog
from storage.outbox_store import SqlMessageRepository, SqlOutbox
from storage.repositories import (
    SqlDelegationRepository,
    SqlGovernanceVersionRepository,
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

    def __init__(self, engine: Engine, known_versions: set[str], audit_head: AuditHead):
        self._engine = engine
        self._connection: Connection | None = None
        self._known_versions = known_versions
        self._audit_head = audit_head

    def __enter__(self) -> Self:
        connection = self._engine.connect()
        connection.begin()
        self._connection = connection
        self.requests = SqlRequestRepository(connection)
        self.votes = SqlVoteRepository(connection)
        self.audit = SqlAuditLog(connection, self._audit_head)
        self.outbox = SqlOutbox(connection)
        self.messages = SqlMessageRepository(connection)
        self.delegations = SqlDelegationRepository(connection)
        self.governance_versions = SqlGovernanceVersionRepository(connection, self._known_versions)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.rollback()  # a no-op after commit; otherwise nothing of this use case is kept
            finally:
                connection.close()

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

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.known_versions, self.audit_head)
