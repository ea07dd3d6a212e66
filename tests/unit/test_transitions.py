"""The request owns its transitions: every legal (state, event) pair, what it sets, and what it says.

One table: for each lifecycle event, the states it moves from, the state it moves to, the clocks
it sets or clears, the domain events it publishes, the audit action it is recorded as, and the
Slack intents that follow. Every other pair is refused and leaves the request as it was.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.audit import Action
from bot.domain.effects import Audience, intents_of
from bot.domain.events import EventType
from bot.domain.governance_spec import Category, StepSpec
from bot.domain.lifecycle import TRANSITIONS, Event, IllegalTransition, State
from bot.domain.requests import Request
from bot.domain.routing import EscalationStop, Verdict
from bot.domain.transitions import AUDIT_ACTIONS, Terms, apply, decision_event
from tests.conftest import AT

SLA, EXPIRE_AFTER = timedelta(hours=8), timedelta(days=14)
LAPSES, WARNS = AT + timedelta(days=30), AT + timedelta(days=27)
NEXT, EXPIRES = AT - timedelta(minutes=1), AT + timedelta(days=3)
OLD_LAPSES, OLD_WARNS = AT + timedelta(days=5), AT + timedelta(days=2)
TERMS = Terms(
    sla=SLA,
    expire_after=EXPIRE_AFTER,
    chain=(EscalationStop("cmo-office", frozenset({"U0CMO"})), EscalationStop("owner", frozenset({"U0OWN"}), True)),
    lapse=(LAPSES, WARNS),
)
#: Every clock and decision column, as a request carries them before the move.
BEFORE: dict[str, Any] = {
    "escalation_level": 0,
    "next_escalation_at": NEXT,
    "expires_at": EXPIRES,
    "lapses_at": OLD_LAPSES,
    "lapse_warn_at": OLD_WARNS,
    "decided_at": None,
    "decided_by": None,
    "decision_note": "an earlier note",
    "auto_rule": None,
}
EVALUATED_ROUTE = {
    "escalation_level": 0,
    "next_escalation_at": AT + SLA,
    "expires_at": AT + EXPIRE_AFTER,
    "lapses_at": None,
    "lapse_warn_at": None,
    "decision_note": None,
}
EVALUATED_APPROVE = {
    "next_escalation_at": None,
    "expires_at": None,
    "lapses_at": LAPSES,
    "lapse_warn_at": WARNS,
    "decided_at": AT,
    "decided_by": "rule:small",
    "auto_rule": "small",
    "decision_note": None,
}
EVALUATED_REJECT = {
    **EVALUATED_APPROVE,
    "lapses_at": None,
    "lapse_warn_at": None,
    "auto_rule": None,
}
CLOSED = {"decided_at": AT, "decided_by": "U0ACT", "next_escalation_at": None, "expires_at": None}


@dataclass(frozen=True)
class Row:
    event: Event
    to: State
    clocks: dict[str, Any]
    published: tuple[EventType, ...]
    action: Action
    intents: tuple[str, ...]  # outbox keys, with {r} for the request id and {v} for the version after
    froms: tuple[State | None, ...] = field(default=(State.PENDING,))


OPEN = (State.PENDING, State.CHANGES_REQUESTED)
S, D, A = EventType.SUBMITTED, EventType.DECIDED, EventType.AMENDED
TABLE = [
    Row(Event.SUBMIT_ROUTED, State.PENDING, EVALUATED_ROUTE, (S,), Action.SUBMITTED, ("req:{r}:route:{v}",), (None,)),
    Row(Event.SUBMIT_APPROVED, State.APPROVED, EVALUATED_APPROVE, (S, D), Action.AUTO_APPROVED, (), (None,)),
    Row(Event.SUBMIT_REJECTED, State.REJECTED, EVALUATED_REJECT, (S, D), Action.AUTO_REJECTED, (), (None,)),
    Row(Event.VOTE, State.PENDING, {}, (EventType.VOTED,), Action.VOTED, ("req:{r}:update:{v}",)),
    Row(
        Event.APPROVE,
        State.APPROVED,
        {**CLOSED, "decision_note": None, "lapses_at": LAPSES, "lapse_warn_at": WARNS},
        (D,),
        Action.APPROVED,
        ("req:{r}:update:{v}", "req:{r}:approve:U0SAM:{v}"),
    ),
    Row(
        Event.REJECT,
        State.REJECTED,
        {**CLOSED, "decision_note": "why"},
        (D,),
        Action.REJECTED,
        ("req:{r}:update:{v}", "req:{r}:reject:U0SAM:{v}"),
    ),
    Row(
        Event.REQUEST_CHANGES,
        State.CHANGES_REQUESTED,
        {"decision_note": "why"},
        (EventType.CHANGES_REQUESTED,),
        Action.CHANGES_REQUESTED,
        ("req:{r}:update:{v}", "req:{r}:request_changes:U0SAM:{v}"),
    ),
    Row(
        Event.AMEND_ROUTED,
        State.PENDING,
        EVALUATED_ROUTE,
        (A,),
        Action.AMENDED,
        ("req:{r}:update:{v}", "req:{r}:route:{v}"),
        OPEN,
    ),
    Row(Event.AMEND_APPROVED, State.APPROVED, EVALUATED_APPROVE, (A, D), Action.AMENDED, ("req:{r}:update:{v}",), OPEN),
    Row(Event.AMEND_REJECTED, State.REJECTED, EVALUATED_REJECT, (A, D), Action.AMENDED, ("req:{r}:update:{v}",), OPEN),
    Row(Event.CANCEL, State.CANCELLED, CLOSED, (EventType.CANCELLED,), Action.CANCELLED, ("req:{r}:update:{v}",), OPEN),
    Row(
        Event.EXPIRE,
        State.EXPIRED,
        CLOSED,
        (EventType.EXPIRED,),
        Action.EXPIRED,
        ("req:{r}:update:{v}", "req:{r}:expired:U0SAM:{v}"),
        OPEN,
    ),
    Row(
        Event.ESCALATE,
        State.PENDING,
        {"escalation_level": 1, "next_escalation_at": NEXT + SLA},
        (EventType.ESCALATED,),
        Action.ESCALATED,
        ("req:{r}:reminder-1:U0FIN1:{v}", "req:{r}:card:U0CMO:{v}", "req:{r}:update:{v}"),
    ),
    Row(
        Event.WARN_LAPSE,
        State.APPROVED,
        {"lapse_warn_at": None},
        (EventType.LAPSING,),
        Action.LAPSE_WARNED,
        ("req:{r}:lapse-warning:U0SAM:{v}", "req:{r}:lapse-warning:U0OWN:{v}"),
        (State.APPROVED,),
    ),
    Row(
        Event.LAPSE,
        State.LAPSED,
        {"lapse_warn_at": None},
        (EventType.LAPSED,),
        Action.LAPSED,
        ("req:{r}:update:{v}", "req:{r}:lapsed:U0SAM:{v}", "req:{r}:lapsed:U0OWN:{v}"),
        (State.APPROVED,),
    ),
]
ROWS = {row.event: row for row in TABLE}
LEGAL = [(state, row) for row in TABLE for state in row.froms]
ILLEGAL = [(state, event) for state in (None, *State) for event in Event if (state, event) not in TRANSITIONS]


def request_in(state: State | None) -> Request:
    """A request in ``state`` (None: not stored yet), every clock set to something a move would change."""
    return Request(
        kind="discount",
        category=Category.EXCEPTION,
        fields={"account": "Acme"},
        requester="U0SAM",
        state=state or State.PENDING,
        governance="g1",
        created_at=AT - timedelta(days=1),
        steps=(StepSpec(group="finance", approvals=1),),
        id=None if state is None else 42,
        version=0 if state is None else 3,
        updated_at=AT - timedelta(hours=1),
        **BEFORE,
    )


def columns(request: Request) -> dict[str, Any]:
    return {name: getattr(request, name) for name in BEFORE}


def move(request: Request, event: Event) -> Any:
    facts = {"reason": "why", "level": 1, "lapses_at": LAPSES.isoformat()}
    return apply(request, event, at=AT, actor="U0ACT", terms=TERMS, rule="small", note="why", facts=facts)


def test_the_table_covers_the_lifecycle_exactly() -> None:
    assert {(state, row.event): row.to for state, row in LEGAL} == TRANSITIONS
    assert set(AUDIT_ACTIONS) == set(Event) == set(ROWS)


@pytest.mark.parametrize(("state", "row"), LEGAL, ids=[f"{s or 'new'}-{r.event}" for s, r in LEGAL])
def test_a_legal_move_sets_the_state_and_clocks_and_says_what_happened(state: State | None, row: Row) -> None:
    request = request_in(state)
    moved = move(request, row.event)
    assert request.state is row.to and moved.after is row.to and moved.before == state
    assert columns(request) == {**BEFORE, **row.clocks}, "only the clocks of this move change"
    assert request.updated_at == AT
    assert moved.action is row.action
    stored_as = 1 if state is None else 4  # a new request is stored at version 1; a save bumps it
    assert moved.version == stored_as
    events = moved.events(42)
    assert tuple(e.type for e in events) == row.published
    assert all(
        (e.request_id, e.at, e.state, e.version, e.kind) == (42, AT, row.to, stored_as, "discount") for e in events
    )
    audience = Audience(
        "U0SAM",
        owner="U0OWN",
        reminded=("U0FIN1",),
        joining=("U0CMO",),
        stop=TERMS.chain[0],
        not_before=lambda person: None,
    )
    keys = [intent.key for intent in intents_of(events, audience)]
    assert keys == [k.format(r=42, v=stored_as) for k in row.intents]


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=[f"{s or 'new'}-{e}" for s, e in ILLEGAL])
def test_an_illegal_move_is_refused_and_changes_nothing(state: State | None, event: Event) -> None:
    request = request_in(state)
    untouched = copy.deepcopy(request)
    with pytest.raises(IllegalTransition):
        move(request, event)
    assert request == untouched and request.updated_at == untouched.updated_at


def test_a_rule_decides_on_submission_but_the_requester_submitted() -> None:
    """The audit event of a rule's decision names the rule; the ``submitted`` event names the requester."""
    moved = apply(request_in(None), Event.SUBMIT_APPROVED, at=AT, actor="U0SAM", terms=TERMS, rule="small")
    assert moved.audit_actor == "rule:small"
    assert [(e.type, e.actor) for e in moved.events(42)] == [(S, "U0SAM"), (D, "rule:small")]
    amended = apply(request_in(State.PENDING), Event.AMEND_REJECTED, at=AT, actor="U0SAM", terms=TERMS, rule="big")
    assert amended.audit_actor == "U0SAM"
    assert [(e.type, e.actor) for e in amended.events(42)] == [(A, "U0SAM"), (D, "rule:big")]


def test_the_sla_clock_stops_after_the_last_stop_of_the_chain() -> None:
    request = request_in(State.PENDING)
    request.escalation_level = 1
    move(request, Event.ESCALATE)
    assert (request.escalation_level, request.next_escalation_at) == (2, None)


def test_an_exception_that_no_rule_bounds_keeps_no_lapse_clock() -> None:
    request = request_in(State.PENDING)
    apply(request, Event.APPROVE, at=AT, actor="U0ACT", terms=Terms())
    assert (request.lapses_at, request.lapse_warn_at) == (OLD_LAPSES, OLD_WARNS)


def test_a_lapse_warning_skips_who_would_only_get_it_after_the_end() -> None:
    request = request_in(State.APPROVED)
    events = move(request, Event.WARN_LAPSE).events(42)
    late = {"U0OWN": LAPSES, "U0SAM": LAPSES - timedelta(hours=1)}
    audience = Audience("U0SAM", owner="U0OWN", not_before=late.get)
    assert [i.payload["user"] for i in intents_of(events, audience)] == ["U0SAM"]


@pytest.mark.parametrize(
    ("verdict", "all_met", "event"),
    [
        (Verdict.APPROVE, False, Event.VOTE),
        (Verdict.APPROVE, True, Event.APPROVE),
        (Verdict.REJECT, False, Event.REJECT),
        (Verdict.CHANGES, False, Event.REQUEST_CHANGES),
    ],
)
def test_a_persons_verdict_is_a_vote_until_every_step_is_met(verdict: Verdict, all_met: bool, event: Event) -> None:
    assert decision_event(verdict, all_met=all_met) is event
