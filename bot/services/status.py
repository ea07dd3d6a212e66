"""What a person may see of requests: one request's status, and their own summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.domain.cards import Card
from bot.domain.eligibility import build_card, most_urgent_first
from bot.domain.errors import RequestNotFound
from bot.domain.lifecycle import State
from bot.domain.preview import receipt_seen_by
from bot.domain.requests import format_request_id
from bot.domain.shadow import ShadowVerdict, shadow_shown_to
from bot.services.routing import deciders, directory, pending_with_votes
from bot.services.runtime import Runtime


@dataclass(frozen=True)
class StatusView:
    """A request as ``viewer`` may see it: everything (``card``), or only its id and state."""

    request_id: int
    ref: str
    state: State
    card: Card | None
    receipt: dict[str, Any] = field(default_factory=dict)
    lapses_at: datetime | None = None
    #: The fields as stored (for an Amend form to start from); empty for outsiders.
    fields: dict[str, Any] = field(default_factory=dict)
    #: What its shadow rules would have decided (DESIGN §3.7); empty for outsiders, and for all
    #: but the kind's owner while the request is open (``shadow_shown_to``).
    shadow: tuple[ShadowVerdict, ...] = ()

    @property
    def visible(self) -> bool:
        return self.card is not None


def request_status(*, runtime: Runtime, request_id: int, viewer: str) -> StatusView:
    """The requester, the eligible approvers and the kind's owner see fields, receipt and trace."""
    governance = runtime.governance()
    today = governance.today(runtime.clock.now())
    with runtime.uow(read_only=True) as uow:
        request = uow.requests.get(request_id)
        if request is None:
            raise RequestNotFound(request_id)
        kind = governance.kinds.get(request.kind)
        who = deciders(uow, governance, kind, request, today).who if kind is not None and request.steps else None
        receipt = uow.audit.latest_receipt(request_id) or {}
    insiders = {request.requester} | (who.everyone() if who else frozenset()) | ({kind.owner} if kind else set())
    if viewer not in insiders:
        return StatusView(request_id, format_request_id(request_id), request.state, None)
    shown = shadow_shown_to(viewer, owner=kind.owner if kind else None, still_open=request.state.is_open)
    full = kind is None or viewer == kind.owner or (who is not None and viewer in who.everyone())
    receipt = receipt if kind is None else receipt_seen_by(kind, receipt, full=full)
    return StatusView(
        request_id,
        request.ref,
        request.state,
        build_card(governance, request, who),
        receipt,
        request.lapses_at,
        dict(request.fields),
        (request.shadow or ()) if shown else (),
    )


@dataclass(frozen=True)
class Summary:
    waiting_on_me: tuple[Card, ...]
    my_requests: tuple[Card, ...]
    #: Whom ``user`` delegated to, and the last day it holds; None when they have not.
    delegated_to: tuple[str, date] | None = None
    #: The people ``user`` approves for (their delegate), by user id.
    approving_for: tuple[str, ...] = ()


def summary_for(*, runtime: Runtime, user: str, limit: int = 20) -> Summary:
    """What waits on ``user`` (pending, eligible, not yet voted on these fields) and their open requests."""
    governance = runtime.governance()
    today = governance.today(runtime.clock.now())
    with runtime.uow(read_only=True) as uow:
        people = directory(uow, governance, today)
        pending, votes = pending_with_votes(uow)
        # The same "who waits on what" as digests, so Home and the digest always agree.
        mine_to_decide = people.waiting(pending, votes).get(user, [])
        waiting = []
        for request in most_urgent_first(mine_to_decide, runtime.clock.now())[:limit]:
            who = people.eligibility(governance.kind(request.kind), request, votes[request.require_id()])
            waiting.append(build_card(governance, request, who))
        mine = [build_card(governance, r, None) for r in uow.requests.of_requester(user, open_only=True, limit=limit)]
    mine_out = next((d for d in people.delegations if d.delegator == user), None)
    mine_in = [d.delegator for d in people.delegations if d.delegate == user]
    delegated_to = (mine_out.delegate, mine_out.until) if mine_out is not None else None
    return Summary(tuple(waiting), tuple(mine), delegated_to, tuple(mine_in))
