"""The unit of work: one transaction per use case, committed once, rolled back by default."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from storage.repositories import (
    SqlAuditLog,
    SqlDelegationRepository,
    SqlGovernanceVersionRepository,
    SqlMessageRepository,
    SqlOutbox,
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

    def __init__(self, sessions: sessionmaker[Session], known_versions: set[str] | None = None):
        self._sessions = sessions
        self._session: Session | None = None
        self._known_versions = known_versions if known_versions is not None else set()

    def __enter__(self) -> Self:
        session = self._sessions()
        session.begin()
        self._session = session
        self.requests = SqlRequestRepository(session)
        self.votes = SqlVoteRepository(session)
        self.audit = SqlAuditLog(session)
        self.outbox = SqlOutbox(session)
        self.messages = SqlMessageRepository(session)
        self.delegations = SqlDelegationRepository(session)
        self.governance_versions = SqlGovernanceVersionRepository(session, self._known_versions)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.rollback()  # a no-op after commit; otherwise nothing of this use case is kept
            finally:
                session.close()

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()

    def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit outside of `with unit_of_work:`")
        self._session.commit()
        self._known_versions.update(self._session.info.pop("governance_versions", ()))


class SqlUnitOfWorkFactory:
    """Makes a fresh unit of work per use case; one per process, shared by every thread."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions
        self.known_versions: set[str] = set()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, self.known_versions)
