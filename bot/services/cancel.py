"""The requester withdraws an open request."""

from __future__ import annotations

from bot.domain.audit import Action
from bot.domain.errors import AlreadyDecided, NotAllowed, RequestNotFound
from bot.domain.lifecycle import Event, State
from bot.domain.outbox import update_cards
from bot.services.runtime import Runtime
from bot.services.transitions import record_transition


def cancel_request(*, runtime: Runtime, request_id: int, requester: str) -> State:
    """Cancel an open request; only its requester may. Its cards lose their buttons."""
    now = runtime.clock.now()
    with runtime.uow() as uow:
        request = uow.requests.get(request_id, for_update=True)
        if request is None:
            raise RequestNotFound(request_id)
        if request.requester != requester:
            raise NotAllowed(f"only <@{request.requester}>, who filed {request.ref}, can cancel it")
        if not request.state.is_open:
            raise AlreadyDecided(request_id, str(request.state), request.decided_by)
        request.decided_at, request.decided_by = now, requester
        request.next_escalation_at = request.expires_at = None
        intents = [update_cards(request_id, version=request.version + 1)]
        record_transition(
            uow, request, Event.CANCEL, at=now, actor=requester, action=Action.CANCELLED, data={}, intents=intents
        )
        uow.commit()
        return request.state
