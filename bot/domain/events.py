"""Domain events: what happened to a request, as data (DESIGN §6 "Transitions and events").

A transition of a request says what happened as one or more ``DomainEvent``s. Everything that
follows from it is derived from these events: the audit action, the Slack cards and direct
messages, the webhook deliveries (DESIGN §9) and the metrics. An event carries the request's
state and version *after* the transition, so a consumer can order what it receives.

Event names are DESIGN §6's; ``webhook_type`` is the name a webhook subscriber sees (DESIGN §9).
``voted`` (an approval short of the quorum) and ``escalated`` (a reminder went up the chain) are
events of the request's life that no webhook publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.lifecycle import Event, State


class EventType(StrEnum):
    SUBMITTED = "submitted"
    VOTED = "voted"
    DECIDED = "decided"  # approved or rejected, by a rule or by people
    CHANGES_REQUESTED = "changes_requested"
    AMENDED = "amended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ESCALATED = "escalated"
    LAPSING = "lapsing"  # an approved exception will end soon
    LAPSED = "lapsed"
    REASSIGNED = "reassigned"
    COMMENTED = "commented"

    @property
    def webhook_type(self) -> str | None:
        """The ``type`` of the webhook message for this event (DESIGN §9), or None: not published."""
        return _WEBHOOK_TYPES.get(self)


_WEBHOOK_TYPES: dict[EventType, str] = {
    EventType.SUBMITTED: "request.submitted",
    EventType.DECIDED: "request.decided",
    EventType.CHANGES_REQUESTED: "request.changes_requested",
    EventType.AMENDED: "request.amended",
    EventType.CANCELLED: "request.cancelled",
    EventType.EXPIRED: "request.expired",
    EventType.REASSIGNED: "request.reassigned",
    EventType.COMMENTED: "request.commented",
    EventType.LAPSING: "exception.lapsing",
    EventType.LAPSED: "exception.lapsed",
}

#: The webhook message sent by ``signoff webhooks test ID``; no request is involved.
PING = "ping"

#: Every webhook ``type`` a subscription may name in ``events:`` (DESIGN §9), in the design's order.
WEBHOOK_TYPES: tuple[str, ...] = (*_WEBHOOK_TYPES.values(), PING)


@dataclass(frozen=True)
class DomainEvent:
    """One thing that happened to request ``request_id`` at ``at``, done by ``actor``.

    ``actor`` is a Slack user id (``U…``), ``rule:<id>`` or ``system``. ``state`` and
    ``version`` are the request's after the event. ``facts`` are JSON values particular to the
    event (a reason, the receipt of an evaluation, a vote's progress, the level of an escalation):
    the data of the transition's audit event. ``kind`` is the request's kind (a governance name).
    """

    type: EventType
    request_id: int
    at: datetime
    actor: str
    state: State
    version: int
    facts: Mapping[str, Any] = field(default_factory=dict)
    kind: str = ""


#: What each lifecycle transition publishes, in order. A rule that decides on submission or
#: after an amend publishes ``decided`` too: a subscriber to decisions sees governed defaults.
EVENTS_OF: dict[Event, tuple[EventType, ...]] = {
    Event.SUBMIT_APPROVED: (EventType.SUBMITTED, EventType.DECIDED),
    Event.SUBMIT_REJECTED: (EventType.SUBMITTED, EventType.DECIDED),
    Event.SUBMIT_ROUTED: (EventType.SUBMITTED,),
    Event.VOTE: (EventType.VOTED,),
    Event.APPROVE: (EventType.DECIDED,),
    Event.REJECT: (EventType.DECIDED,),
    Event.REQUEST_CHANGES: (EventType.CHANGES_REQUESTED,),
    Event.AMEND_APPROVED: (EventType.AMENDED, EventType.DECIDED),
    Event.AMEND_REJECTED: (EventType.AMENDED, EventType.DECIDED),
    Event.AMEND_ROUTED: (EventType.AMENDED,),
    Event.CANCEL: (EventType.CANCELLED,),
    Event.EXPIRE: (EventType.EXPIRED,),
    Event.ESCALATE: (EventType.ESCALATED,),
    Event.WARN_LAPSE: (EventType.LAPSING,),
    Event.LAPSE: (EventType.LAPSED,),
}
