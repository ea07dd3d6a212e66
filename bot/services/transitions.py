"""Applying a lifecycle event to a stored request: state, audit event and outbox rows, together."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.domain.effects import Audience, intents_of
from bot.domain.errors import AlreadyDecided, NotAllowed, RequestNotFound
from bot.domain.events import DomainEvent
from bot.domain.governance import Governance
from bot.domain.lifecycle import Event
from bot.domain.requests import Request
from bot.domain.transitions import Terms, Transition, apply, terms_of
from bot.domain.webhooks import webhook_deliveries
from bot.services.ports import UnitOfWork


def record_transition(
    uow: UnitOfWork,
    governance: Governance,
    request: Request,
    event: Event,
    *,
    at: datetime,
    actor: str,
    rule: str | None = None,
    note: str | None = None,
    facts: Mapping[str, Any] | None = None,
    audience: Audience | None = None,
) -> tuple[DomainEvent, ...]:
    """Move ``request`` by ``event`` (``bot.domain.transitions.apply``), store it, and publish it.

    A request without an id is new: it is added (submission), else saved (``ConcurrencyConflict``
    if it moved on meanwhile). The clocks' terms come from its kind in ``governance`` (none when
    the kind is gone from the file). ``audience`` says who hears of it (default: the requester,
    at once). Everything lands in the caller's unit of work, so it commits or rolls back together;
    ``IllegalTransition`` leaves everything untouched. Returns the domain events published.
    """
    kind = governance.kinds.get(request.kind)
    terms = terms_of(governance, kind, request, at) if kind is not None else Terms()
    moved = apply(request, event, at=at, actor=actor, terms=terms, rule=rule, note=note, facts=facts)
    if request.id is None:
        uow.requests.add(request)
    else:
        uow.requests.save(request)
    return publish(uow, request, moved, audience or Audience(request.requester))


def publish(uow: UnitOfWork, request: Request, moved: Transition, audience: Audience) -> tuple[DomainEvent, ...]:
    """Write what follows from ``moved`` on the stored ``request``: its audit event and outbox rows.

    The one place where a transition's consequences are written, submission included: the
    audit action and actor come from the transition, the Slack intents from its events
    (``bot.domain.effects.intents_of``), and one webhook delivery per declared subscription that
    wants each event (DESIGN §9; a disabled one's die at once, to be redelivered), in the same
    transaction. Returns the domain events published.
    """
    request_id = request.require_id()
    events = moved.events(request_id)
    uow.audit.append(
        request_id=request_id, at=moved.at, actor=moved.audit_actor, action=moved.action, data=dict(moved.facts)
    )
    uow.outbox.add_many(intents_of(events, audience), now=moved.at)
    receipt = _receipt(uow, request, moved.facts)
    uow.outbox.add_many(webhook_deliveries(uow.webhooks.declared(), request, events, receipt=receipt), now=moved.at)
    return events


def _receipt(uow: UnitOfWork, request: Request, data: Mapping[str, Any]) -> Callable[[], dict[str, Any] | None]:
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
