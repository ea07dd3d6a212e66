"""What the use cases need from persistence, as protocols; ``storage`` implements them.

A unit of work is one transaction: a use case opens it, reads and writes through its
repositories, and calls ``commit`` once. Leaving the ``with`` block without committing
rolls everything back.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from bot.domain.audit import AuditEvent
from bot.domain.outbox import Intent, MessageRef, OutboxItem
from bot.domain.outcome import LimitUsage
from bot.domain.requests import Request, Vote
from bot.domain.routing import Delegation


class RequestRepository(Protocol):
    def add(self, request: Request) -> int:
        """Store a new request and return its id. ``DuplicateKey`` if its idempotency key is taken."""
        ...

    def get(self, request_id: int, *, for_update: bool = False) -> Request | None: ...

    def save(self, request: Request) -> None:
        """Write a changed request; ``ConcurrencyConflict`` unless its version is still the stored one."""
        ...

    def by_idempotency_key(self, key: str) -> Request | None: ...

    def limit_usage(
        self, *, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None
    ) -> LimitUsage: ...

    def open_ids(self, *, due_before: datetime, column: str) -> list[int]:
        """Ids of requests whose ``column`` is due: next_escalation_at and expires_at of open
        requests, lapse_warn_at and lapses_at of approved exceptions."""
        ...

    def of_requester(self, requester: str, *, open_only: bool, limit: int) -> list[Request]: ...

    def open_requests(self, *, limit: int) -> list[Request]: ...

    def count_auto_decided(self, *, since: datetime, until: datetime) -> int: ...


class VoteRepository(Protocol):
    def add(self, request_id: int, vote: Vote) -> None: ...

    def for_request(self, request_id: int) -> list[Vote]: ...

    def for_requests(self, request_ids: list[int]) -> dict[int, list[Vote]]: ...


class AuditLog(Protocol):
    def append(
        self, *, request_id: int | None, at: datetime, actor: str, action: str, data: dict[str, Any]
    ) -> AuditEvent: ...

    def events(
        self, *, since: datetime | None = None, kind: str | None = None
    ) -> Generator[AuditEvent, None, None]: ...

    def head(self) -> tuple[int, str]: ...

    def latest_receipt(self, request_id: int) -> dict[str, Any] | None:
        """The receipt of the request's latest evaluation (its submission or last amend)."""
        ...


class OutboxRepository(Protocol):
    def add(self, intent: Intent, *, now: datetime) -> bool:
        """Queue an intent; False when one with the same key is already queued (or sent)."""
        ...

    def add_many(self, intents: list[Intent], *, now: datetime) -> None:
        """Queue several intents at once, skipping keys already queued."""
        ...

    def claim_due(self, *, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]: ...

    def renew(self, item_ids: list[int], *, until: datetime) -> None: ...

    def mark_sent(self, item_id: int, *, now: datetime) -> None: ...

    def retry_later(self, item_id: int, *, at: datetime, error: str, count_attempt: bool = True) -> None: ...

    def mark_dead(self, item_id: int, *, now: datetime, error: str) -> None: ...


class MessageRepository(Protocol):
    def add(self, request_id: int, ref: MessageRef, *, now: datetime) -> None: ...

    def for_request(self, request_id: int) -> list[MessageRef]: ...


class DelegationRepository(Protocol):
    def active(self, *, today: date) -> list[Delegation]: ...

    def start(self, delegation: Delegation, *, now: datetime) -> None:
        """Replace the delegator's current delegation (a person delegates to one other at a time)."""
        ...

    def end(self, delegator: str, *, now: datetime) -> Delegation | None: ...


class GovernanceVersionRepository(Protocol):
    def ensure(self, version: str, content: str, *, now: datetime) -> None: ...


class JobRunRepository(Protocol):
    def claim(self, key: str, *, owner: str, now: datetime) -> bool:
        """True for the one caller that claims ``key`` first; every later caller gets False."""
        ...


class UnitOfWork(Protocol):
    @property
    def requests(self) -> RequestRepository: ...
    @property
    def votes(self) -> VoteRepository: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def messages(self) -> MessageRepository: ...
    @property
    def delegations(self) -> DelegationRepository: ...
    @property
    def governance_versions(self) -> GovernanceVersionRepository: ...
    @property
    def job_runs(self) -> JobRunRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A fresh unit of work. ``read_only`` ones write nothing, so they need not queue behind writers."""
        ...
