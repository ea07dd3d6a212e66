"""Every (state, event) pair: the transition table allows exactly the lifecycle of DESIGN §4."""

from __future__ import annotations

import pytest

from bot.domain.audit import GENESIS, AuditEvent, event_hash, verify_chain
from bot.domain.lifecycle import Event, IllegalTransition, State, transition
from tests.conftest import AT

EXPECTED: dict[tuple[State | None, Event], State] = {
    (None, Event.SUBMIT_APPROVED): State.APPROVED,
    (None, Event.SUBMIT_REJECTED): State.REJECTED,
    (None, Event.SUBMIT_ROUTED): State.PENDING,
    (State.PENDING, Event.VOTE): State.PENDING,
    (State.PENDING, Event.APPROVE): State.APPROVED,
    (State.PENDING, Event.REJECT): State.REJECTED,
    (State.PENDING, Event.REQUEST_CHANGES): State.CHANGES_REQUESTED,
    (State.PENDING, Event.ESCALATE): State.PENDING,
    (State.PENDING, Event.AMEND_APPROVED): State.APPROVED,
    (State.PENDING, Event.AMEND_REJECTED): State.REJECTED,
    (State.PENDING, Event.AMEND_ROUTED): State.PENDING,
    (State.PENDING, Event.CANCEL): State.CANCELLED,
    (State.PENDING, Event.EXPIRE): State.EXPIRED,
    (State.CHANGES_REQUESTED, Event.AMEND_APPROVED): State.APPROVED,
    (State.CHANGES_REQUESTED, Event.AMEND_REJECTED): State.REJECTED,
    (State.CHANGES_REQUESTED, Event.AMEND_ROUTED): State.PENDING,
    (State.CHANGES_REQUESTED, Event.CANCEL): State.CANCELLED,
    (State.CHANGES_REQUESTED, Event.EXPIRE): State.EXPIRED,
    (State.APPROVED, Event.WARN_LAPSE): State.APPROVED,
    (State.APPROVED, Event.LAPSE): State.LAPSED,
}


@pytest.mark.parametrize("state", [None, *State])
@pytest.mark.parametrize("event", list(Event))
def test_every_state_and_event(state: State | None, event: Event) -> None:
    expected = EXPECTED.get((state, event))
    if expected is None:
        with pytest.raises(IllegalTransition):
            transition(state, event)
    else:
        assert transition(state, event) is expected


def test_closed_states_accept_nothing_but_an_exception_lapsing() -> None:
    for state in (State.REJECTED, State.CANCELLED, State.EXPIRED, State.LAPSED):
        assert not any(transition_from == state for transition_from, _ in EXPECTED)


def chain(n: int) -> list[AuditEvent]:
    events, prev = [], GENESIS
    for seq in range(1, n + 1):
        data = {"n": seq}
        digest = event_hash(prev_hash=prev, seq=seq, request_id=seq, at=AT, actor="U1", action="voted", data=data)
        events.append(AuditEvent(seq, seq, AT, "U1", "voted", data, prev, digest))
        prev = digest
    return events


def test_an_intact_chain_verifies() -> None:
    events = chain(5)
    assert verify_chain(events, head=(5, events[-1].hash)) is None
    assert verify_chain([], head=(0, GENESIS)) is None


def test_modified_deleted_inserted_and_truncated_events_are_named() -> None:
    events = chain(5)
    head = (5, events[-1].hash)
    modified = [*events[:2], AuditEvent(**{**events[2].__dict__, "data": {"n": 99}}), *events[3:]]
    assert str(verify_chain(modified, head=head)) == "audit event 3: its content does not match its hash (modified)"
    deleted = events[:2] + events[3:]
    assert verify_chain(deleted, head=head).seq == 3  # type: ignore[union-attr]
    assert verify_chain(events[:4], head=head).seq == 5  # type: ignore[union-attr]
