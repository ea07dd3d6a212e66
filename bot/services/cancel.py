"""The requester withdraws an open request."""

from __future__ import annotations

from bot.domain.lifecycle import Event, State
from bot.services.runtime import Runtime
from bot.services.transitions import record_transition, requesters_open_request


def cancel_request(*, runtime: Runtime, request_id: int, requester: str) -> State:
    """Cancel an open request; only its requester may. Its cards lose their buttons."""
    now = runtime.clock.now()
    governance = runtime.governance()
    with runtime.uow() as uow:
        request = requesters_open_request(uow, request_id, requester, verb="cancel")
        record_transition(uow, governance, request, Event.CANCEL, at=now, actor=requester)
        uow.commit()
        return request.state
