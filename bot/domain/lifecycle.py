"""The request lifecycle (DESIGN §4): states, events, and the one table of legal transitions."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.governance_spec import Outcome


class State(StrEnum):
    PENDING = "pending"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    LAPSED = "lapsed"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATES


OPEN_STATES = frozenset({State.PENDING, State.CHANGES_REQUESTED})


class Event(StrEnum):
    SUBMIT_APPROVED = "submit_approved"  # a rule approved it on submission
    SUBMIT_REJECTED = "submit_rejected"
    SUBMIT_ROUTED = "submit_routed"
    VOTE = "vote"  # an approval that does not yet complete every step
    APPROVE = "approve"  # the approval that completes every step
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    AMEND_APPROVED = "amend_approved"
    AMEND_REJECTED = "amend_rejected"
    AMEND_ROUTED = "amend_routed"
    CANCEL = "cancel"
    EXPIRE = "expire"
    ESCALATE = "escalate"
    WARN_LAPSE = "warn_lapse"
    LAPSE = "lapse"


class IllegalTransition(Exception):
    def __init__(self, state: State | None, event: Event):
        self.state = state
        self.event = event
        super().__init__(f"{event} is not possible from {state or 'new'}")


_OPEN = (State.PENDING, State.CHANGES_REQUESTED)

#: (from, event) → to. ``None`` is a request that does not exist yet.
TRANSITIONS: dict[tuple[State | None, Event], State] = {
    (None, Event.SUBMIT_APPROVED): State.APPROVED,
    (None, Event.SUBMIT_REJECTED): State.REJECTED,
    (None, Event.SUBMIT_ROUTED): State.PENDING,
    (State.PENDING, Event.VOTE): State.PENDING,
    (State.PENDING, Event.APPROVE): State.APPROVED,
    (State.PENDING, Event.REJECT): State.REJECTED,
    (State.PENDING, Event.REQUEST_CHANGES): State.CHANGES_REQUESTED,
    (State.PENDING, Event.ESCALATE): State.PENDING,
    (State.APPROVED, Event.WARN_LAPSE): State.APPROVED,
    (State.APPROVED, Event.LAPSE): State.LAPSED,
    **{(s, Event.AMEND_APPROVED): State.APPROVED for s in _OPEN},
    **{(s, Event.AMEND_REJECTED): State.REJECTED for s in _OPEN},
    **{(s, Event.AMEND_ROUTED): State.PENDING for s in _OPEN},
    **{(s, Event.CANCEL): State.CANCELLED for s in _OPEN},
    **{(s, Event.EXPIRE): State.EXPIRED for s in _OPEN},
}


def transition(state: State | None, event: Event) -> State:
    """The state after ``event``, or ``IllegalTransition``."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state, event) from None


class Clock(StrEnum):
    """A request's time-driven column, and the states in which a sweep acts when it is due."""

    NEXT_ESCALATION = "next_escalation_at"  # the SLA of an open request
    EXPIRES = "expires_at"  # ``expire_after`` of an open request
    LAPSE_WARNING = "lapse_warn_at"  # the "ends soon" warning of an approved exception
    LAPSES = "lapses_at"  # the end of an approved exception

    @property
    def due_in(self) -> frozenset[State]:
        """The states in which this clock being due means work for a sweep."""
        return _APPROVED if self in (Clock.LAPSE_WARNING, Clock.LAPSES) else OPEN_STATES


_APPROVED = frozenset({State.APPROVED})


def submission_event(outcome: Outcome, *, amend: bool = False) -> Event:
    """The event for a resolution's outcome, on submission or on amend."""
    if amend:
        return {
            Outcome.APPROVE: Event.AMEND_APPROVED,
            Outcome.REJECT: Event.AMEND_REJECTED,
            Outcome.ROUTE: Event.AMEND_ROUTED,
        }[outcome]
    return {
        Outcome.APPROVE: Event.SUBMIT_APPROVED,
        Outcome.REJECT: Event.SUBMIT_REJECTED,
        Outcome.ROUTE: Event.SUBMIT_ROUTED,
    }[outcome]
