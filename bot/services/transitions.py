"""Applying a lifecycle event to a stored request: state, audit event and outbox rows, together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.lifecycle import Event, transition
from bot.domain.outbox import Intent
from bot.domain.requests import Request
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
) -> None:
    """Move ``request`` by ``event`` and write the change, its audit event and its messages.

    All three land in the caller's unit of work, so they commit (or roll back) together.
    ``IllegalTransition`` leaves everything untouched.
    """
    request.state = transition(request.state, event)
    request.updated_at = at
    uow.requests.save(request)
    uow.audit.append(request_id=request.require_id(), at=at, actor=actor, action=action, data=data)
    uow.outbox.add_many(intents or [], now=at)
