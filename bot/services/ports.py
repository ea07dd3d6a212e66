"""What the use cases need from persistence, as protocols; ``storage`` implements them.

A unit of work is one transaction: a use case opens it, reads and writes through its
repositories, and calls ``commit`` once. Leaving the ``with`` block without committing
rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from bot.domain.audit import AuditEntry, AuditEvent
from bot.domain.outbox import CardWork, Intent, Lane, MessageRef, OutboxItem, OutboxStatus
from bot.domain.outcome import LimitKey, LimitUsage
from bot.domain.requests import Request, Vote
from bot.domain.routing import Delegation
from bot.domain.surface import RequestFacts, Window
from bot.domain.webhook_subscriptions import DeliveryCounts, Subscription


class RequestRepository(Protocol):
    def add(self, request: Request) -> int:
        """Store a new request and return its id. ``DuplicateKey`` if its idempotency key is taken."""
        ...

    def get(self, request_id: int, *, for_update: bool = False) -> Request | None: ...

    def save(self, request: Request) -> None:
        """Write a changed request; ``ConcurrencyConflict`` unless its version is still the stored one."""
        ...

    def by_idempotency_key(self, key: str) -> Request | None: ...

    def add_imported(self, requests: Sequence[Request]) -> dict[str, int]:
        """Store requests brought in from another system, in as few statements as the database allows.

        Each has an ``imported_id``; one whose ``imported_id`` is already stored (by an earlier
        import, or a concurrent one that committed first) is skipped. Returns the new id of each
        request stored, by ``imported_id``; sets nothing on ``requests``.
        """
        ...

    def limit_usage(
        self, *, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None
    ) -> LimitUsage: ...

    def lock_limits(self, keys: Iterable[LimitKey]) -> None:
        """Hold each limit tally of ``keys`` until the unit of work ends, so that no other writer
        changes it meanwhile: a usage read afterwards stays true until commit. Locks are taken in
        one fixed order (no deadlock between writers). Waits at most as long as the unit of work
        may wait for any lock: ``StorageBusy`` / ``TooSlow`` beyond."""
        ...

    def open_ids(self, *, due_before: datetime, column: str) -> list[int]:
        """Ids of requests whose ``column`` is due: next_escalation_at and expires_at of open
        requests, lapse_warn_at and lapses_at of approved exceptions. Never an imported request
        (``imported_id`` set): its ``lapses_at`` is a figure for the report, not a clock."""
        ...

    def of_requester(self, requester: str, *, open_only: bool, limit: int) -> list[Request]: ...

    def open_requests(self, *, limit: int) -> list[Request]: ...

    def count_auto_decided(self, *, since: datetime, until: datetime) -> int: ...

    def page(
        self, *, kinds: list[str], state: str | None, since: datetime | None, before: int | None, limit: int
    ) -> list[Request]:
        """Up to ``limit`` requests of ``kinds``, newest (highest id) first, with ids below ``before``
        (keyset pagination: a page never shifts when requests are added), optionally of one state
        and created at or after ``since``."""
        ...


class VoteRepository(Protocol):
    def add(self, request_id: int, vote: Vote) -> None: ...

    def add_many(self, votes: Sequence[tuple[int, Vote]]) -> None:
        """Store several votes (request id, vote) at once."""
        ...

    def for_request(self, request_id: int) -> list[Vote]: ...

    def for_requests(self, request_ids: list[int]) -> dict[int, list[Vote]]: ...


class AuditLog(Protocol):
    def append(
        self, *, request_id: int | None, at: datetime, actor: str, action: str, data: dict[str, Any]
    ) -> AuditEvent: ...

    def append_many(self, entries: Sequence[AuditEntry]) -> None:
        """Append ``entries`` in order, chained like single appends, in a few statements."""
        ...

    def hold(self) -> None:
        """Lock the log's head until the unit of work ends: every other append waits until then.

        A use case that appends after other writes takes it first, so that writers never wait on
        each other in opposite orders."""
        ...

    def events(
        self, *, since: datetime | None = None, kind: str | None = None
    ) -> Generator[AuditEvent, None, None]: ...

    def head(self) -> tuple[int, str]: ...

    def kinds(self) -> list[str]:
        """The kinds of the stored requests, sorted (the kinds whose events ``events(kind=…)`` selects)."""
        ...

    def latest_receipt(self, request_id: int) -> dict[str, Any] | None:
        """The receipt of the request's latest evaluation (its submission or last amend)."""
        ...

    def submission(self, request_id: int) -> dict[str, Any] | None:
        """The data of the request's first event (its submission: fields, receipt, and where it came from)."""
        ...


class OutboxRepository(Protocol):
    def add(self, intent: Intent, *, now: datetime) -> bool:
        """Queue an intent; False when one with the same key is already queued (or sent)."""
        ...

    def add_many(self, intents: list[Intent], *, now: datetime) -> None:
        """Queue several intents at once, skipping keys already queued."""
        ...

    def claim_due(self, *, now: datetime, limit: int, lease: timedelta, lane: Lane | None = None) -> list[OutboxItem]:
        """Claim due rows of ``lane`` (None: all); a webhook row waits behind earlier ones of its request."""
        ...

    def requeue_dead_webhooks(self, subscription: str, *, now: datetime, since: datetime | None = None) -> int:
        """Queue ``subscription``'s dead deliveries (queued since ``since``) again with their ids; how many."""
        ...

    def merge_pending(self, key: str, merge: Callable[[dict[str, Any]], dict[str, Any]]) -> bool:
        """Rewrite the payload of pending row ``key`` with ``merge``; False if no such row is pending."""
        ...

    def make_due(self, keys: list[str], *, now: datetime) -> int:
        """Make pending rows with these keys that wait for a later time due at ``now``; how many."""
        ...

    def statuses(self, keys: list[str]) -> dict[str, OutboxStatus]:
        """Each queued key's status; keys never queued are absent."""
        ...

    def renew(self, item_ids: list[int], *, until: datetime) -> None: ...

    def mark_sent(self, item_id: int, *, now: datetime) -> None: ...

    def mark_all_sent(self, item_ids: list[int], *, now: datetime) -> None:
        """Record several rows as sent at once."""
        ...

    def retry_later(self, item_id: int, *, at: datetime, error: str, count_attempt: bool = True) -> None: ...

    def mark_dead(self, item_id: int, *, now: datetime, error: str) -> None: ...

    def delete_sent_before(self, cutoff: datetime) -> int:
        """Delete rows sent before ``cutoff``; returns how many. Pending and dead rows stay."""
        ...


class MessageRepository(Protocol):
    def add(self, request_id: int, ref: MessageRef, *, now: datetime) -> None: ...

    def for_request(self, request_id: int) -> list[MessageRef]: ...

    def set_live(self, ref: MessageRef, live: bool) -> None: ...

    def for_requests(self, request_ids: list[int]) -> dict[int, list[MessageRef]]: ...

    def card_work(self, request_ids: list[int]) -> dict[int, CardWork]:
        """Per request with any card work in the outbox: recipients a card was ever queued for
        (any status), and whether an update or a fan-out still waits."""
        ...


class PeopleRepository(Protocol):
    """The people directory: what Slack's users.info last said of each person."""

    def deactivated(self) -> frozenset[str]: ...

    def timezones(self) -> dict[str, str]: ...

    def due_for_check(self, people: Iterable[str], *, checked_before: datetime) -> list[str]: ...

    def record(self, person: str, *, deleted: bool, tz: str | None, now: datetime) -> bool:
        """Store what Slack said; True when the person's deactivated flag changed."""
        ...

    def mark_stale(self, person: str) -> None: ...

    def stale_or_unknown(self) -> list[str]: ...


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

    def delete_before(self, cutoff: datetime) -> int:
        """Delete run records claimed before ``cutoff``; returns how many."""
        ...


class WebhookRepository(Protocol):
    """The webhook subscriptions in force (declared in the governance file) and their stored state."""

    def declared(self) -> Sequence[Subscription]: ...

    def enabled(self) -> list[Subscription]:
        """The declared subscriptions that are not disabled."""
        ...

    def disabled(self) -> dict[str, str]:
        """Each disabled subscription's id, and why."""
        ...

    def disable(self, subscription: str, *, now: datetime, reason: str) -> bool:
        """Disable it; True when it was enabled until now."""
        ...

    def enable(self, subscription: str, *, now: datetime) -> bool:
        """Enable it again; True when it was disabled."""
        ...

    def deliveries(self) -> dict[str, DeliveryCounts]:
        """Per subscription: deliveries waiting and dead in the outbox."""
        ...


class SurfaceRepository(Protocol):
    """Stored requests, live and imported, as the decision surface reads them (DESIGN §8)."""

    def facts(
        self, window: Window, kinds: Collection[str] | None = None, *, contents: bool = False
    ) -> Iterator[RequestFacts]:
        """Each request submitted in ``[window.start, window.end)`` (only ``kinds``, when given), with its
        votes, streamed in submission order (then id): memory holds a batch of rows, not the window.
        ``contents``: also each request's ``requester`` and stored ``fields`` (what suggest and
        simulate read; the report does not)."""
        ...

    def span(self, kinds: Collection[str] | None = None) -> tuple[datetime, datetime] | None:
        """The first and last submission time (aware UTC) of the stored requests, live and imported
        (of ``kinds``, when given); None when none is stored."""
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
    @property
    def people(self) -> PeopleRepository: ...
    @property
    def webhooks(self) -> WebhookRepository: ...
    @property
    def surface(self) -> SurfaceRepository: ...

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
