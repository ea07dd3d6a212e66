"""The unit of work: one transaction per use case, committed once, rolled back by default.

It holds a Core connection, not an ORM session: the repositories speak Core, and a
connection costs less per use case than a session would.

A unit of work run while an answer to Slack is pending (``bot.answer_deadline``) keeps to that
answer's deadline: it waits for locks at most until then, and one that is past the deadline at
its start or at its commit is rolled back and raises ``TooSlow`` — so the person is never told
"failed" (or nothing) about something stored anyway.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from bot.answer_deadline import seconds_left
from bot.domain.errors import StorageBusy, TooSlow
from bot.domain.webhook_subscriptions import Subscription
from storage.audit_log import AuditHead, SqlAuditLog
from storage.engine import READ_ONLY, WAIT_MS, is_busy
from storage.outbox_store import SqlMessageRepository, SqlOutbox
from storage.people import SqlPeople
from storage.repositories import (
    SqlDelegationRepository,
    SqlGovernanceVersionRepository,
    SqlJobRuns,
    SqlRequestRepository,
    SqlVoteRepository,
)
from storage.surface_store import SqlSurface
from storage.webhook_store import SqlWebhooks


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
    webhooks: SqlWebhooks
    surface: SqlSurface

    def __init__(
        self,
        engine: Engine,
        known_versions: set[str],
        audit_head: AuditHead,
        writer_lock: threading.Lock | None = None,
        *,
        read_only: bool = False,
        wait: float | None = None,
        webhooks: Callable[[], Sequence[Subscription]] = tuple,
    ):
        self._engine = engine
        self._webhooks = webhooks
        self._connection: Connection | None = None
        self._known_versions = known_versions
        self._audit_head = audit_head
        self._writer_lock = None if read_only else writer_lock
        self._read_only = read_only
        self._wait = wait
        self._started = 0.0

    def __enter__(self) -> Self:
        self._started = time.monotonic()
        wait = _within_deadline(self._wait)
        if self._writer_lock is not None and not self._writer_lock.acquire(timeout=_lock_timeout(wait)):
            _raise_if_overdue()
            raise StorageBusy(wait or 0.0)  # this process's writers queue on the lock (see the factory)
        try:
            connection = self._engine.connect()
            options: dict[str, object] = {READ_ONLY: True} if self._read_only else {}
            if wait is not None:
                options[WAIT_MS] = max(1, round(1000 * (wait - (time.monotonic() - self._started))))
            if options:
                connection = connection.execution_options(**options)
            connection.begin()
        except BaseException as exc:
            if self._writer_lock is not None:
                self._writer_lock.release()
            if is_busy(exc):
                raise StorageBusy(time.monotonic() - self._started) from exc
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
        self.webhooks = SqlWebhooks(connection, self._webhooks)
        self.surface = SqlSurface(connection)
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
        if exc is not None and is_busy(exc):
            raise StorageBusy(time.monotonic() - self._started) from exc  # rolled back: nothing was stored

    def rollback(self) -> None:
        if self._connection is not None:
            self._connection.rollback()

    def commit(self) -> None:
        """Commit, unless the pending answer's deadline has passed: then roll back and raise ``TooSlow``."""
        if self._connection is None:
            raise RuntimeError("commit outside of `with unit_of_work:`")
        if not self._read_only:
            _raise_if_overdue()  # __exit__ rolls back
        self._connection.commit()
        self._known_versions.update(self.governance_versions.pending)
        self.governance_versions.pending.clear()
        if self.audit.pending_head is not None:
            self._audit_head.committed(self.audit.pending_head)
            self.audit.pending_head = None


class SqlUnitOfWorkFactory:
    """Makes a fresh unit of work per use case; one per process, shared by every thread.

    ``wait`` bounds how long each unit waits for the database's locks, in seconds (None: the
    engine's own wait, 30 s on SQLite). A unit that would wait longer raises ``StorageBusy``
    and stores nothing. ``bounded`` makes a factory sharing this one's state with a bound.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        wait: float | None = None,
        webhooks: Callable[[], Sequence[Subscription]] = tuple,
    ):
        self.engine = engine
        self.wait = wait
        #: The webhook subscriptions in force (the governance file's), read at each unit of work.
        self.webhooks = webhooks
        self.known_versions: set[str] = set()
        self.audit_head = AuditHead()
        # SQLite has one writer at a time, and every unit of work writes (BEGIN IMMEDIATE). Queueing
        # this process's units on a lock wakes the next one the moment the database is free, where
        # SQLite's own busy handler would sleep in steps of up to 100 ms: that is most of the tail
        # latency under concurrent clicks. Other processes still meet the busy timeout.
        self.writer_lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    def bounded(self, wait: float) -> SqlUnitOfWorkFactory:
        """A factory whose units wait at most ``wait`` s for locks (an answer Slack waits 3 s for).

        It shares this factory's writer queue, audit head and known governance versions.
        """
        bounded = copy.copy(self)
        bounded.wait = wait
        return bounded

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine,
            self.known_versions,
            self.audit_head,
            self.writer_lock,
            read_only=read_only,
            wait=self.wait,
            webhooks=self.webhooks,
        )


def _within_deadline(wait: float | None) -> float | None:
    """``wait``, shortened to the pending answer's deadline; ``TooSlow`` when that deadline has passed."""
    left = _raise_if_overdue()
    if left is None:
        return wait
    return left if wait is None else min(wait, left)


def _raise_if_overdue() -> float | None:
    left = seconds_left()
    if left is not None and left <= 0:
        raise TooSlow(-left)
    return left


def _lock_timeout(wait: float | None) -> float:
    return -1 if wait is None else max(0.0, wait)  # threading.Lock: -1 waits for ever
