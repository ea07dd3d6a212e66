"""Applying a lifecycle event to a stored request: state, audit event and outbox rows, together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.domain.errors import AlreadyDecided, NotAllowed, RequestNotFound
from bot.domain.events import EVENTS_OF, DomainEvent
from bot.domain.lifecycle import Event, transition
from bot.domain.outbox import Intent
from bot.domain.requests import Request
from bot.domain.webhooks import webhook_deliveries
from bot.services.ports import UnitOfWork


def record_transition(
    uow: UnitOfWork,
    request: Request,
    event: Event,
    *,
    at: datetime,
    actor: str,
    action: str,
    data: dict[str, Any],
    intents: list[Intent] | None = None,
) -> tuple[DomainEvent, ...]:
    """Move ``request`` by ``event`` and write the change, its audit event and its messages.

    All three land in the caller's unit of work, so they commit (or roll back) together.
    ``IllegalTransition`` leaves everything untouched. Returns the domain events published.
    """
    request.state = transition(request.state, event)
    request.updated_at = at
    uow.requests.save(request)
    return publish(uow, request, event, at=at, actor=actor, action=action, data=data, intents=intents)


def publish(
    uow: UnitOfWork,
    request: Request,
    event: Event,
    *,
    at: datetime,
    actor: str,
    action: str,
    data: dict[str, Any],
    intents: list[Intent] | None = None,
) -> tuple[DomainEvent, ...]:
    """Write what follows from ``event`` on the stored ``request``: its audit event and outbox rows.

    The one place where a transition's consequences are written, submission included: the
    Slack intents given, and one webhook delivery per enabled subscription that wants each event
    (DESIGN §9), in the same transaction.
    """
    events = tuple(
        DomainEvent(kind, request.require_id(), at, actor, request.state, request.version, data)
        for kind in EVENTS_OF[event]
    )
    uow.audit.append(request_id=request.require_id(), at=at, actor=actor, action=action, data=data)
    uow.outbox.add_many(intents or [], now=at)
    uow.outbox.add_many(
        webhook_deliveries(uow.webhooks.enabled(), request, events, receipt=_receipt(uow, request, data)), now=at
    )
    return events


def _receipt(uow: UnitOfWork, request: Request, data: dict[str, Any]) -> Callable[[], dict[str, Any] | None]:
    """The request's latest evaluation: this transition's own receipt (submit, amend), else the stored one."""
    return lambda: data["receipt"] if "receipt" in data else uow.audit.latest_receipt(request.require_id())


def locked_request(uow: UnitOfWork, request_id: int) -> Request:
    """The request, locked for the rest of the unit of work; ``RequestNotFound`` if there is none."""
    request = uow.requests.get(request_id, for_update=True)
    if request is None:
        raise RequestNotFound(request_id)
    return request


def requesters_open_request(uow: UnitOfWork, request_id: int, requester: str, *, verb: str) -> Request:
    """The request, locked, if ``requester`` filed it and it is still open; only they may ``verb`` it."""
    request = locked_request(uow, request_id)
    if request.requester != requester:
        raise NotAllowed(f"only {{requester}}, who filed {request.ref}, can {verb} it", requester=request.requester)
    if not request.state.is_open:
        raise AlreadyDecided(request_id, str(request.state), request.decided_by)
    return request
