"""The requester withdraws an open request."""

from __future__ import annotations

from bot.domain.audit import Action
from bot.domain.lifecycle import Event, State
from bot.domain.outbox import update_cards
from bot.services.runtime import Runtime
from bot.services.transitions import record_transition, requesters_open_request


def cancel_request(*, runtime: Runtime, request_id: int, requester: str) -> State:
    """Cancel an open request; only its requester may. Its cards lose their buttons."""
    now = runtime.clock.now()
    with runtime.uow() as uow:
        request = requesters_open_request(uow, request_id, requester, verb="cancel")
        request.decided_at, request.decided_by = now, requester
        request.next_escalation_at = request.expires_at = None
        intents = [update_cards(request_id, version=request.version + 1)]
        record_transition(
            uow, request, Event.CANCEL, at=now, actor=requester, action=Action.CANCELLED, data={}, intents=intents
        )
        uow.commit()
        return request.state
