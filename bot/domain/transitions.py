"""The request owns its transitions (DESIGN §4; §6 "Transitions and events").

``apply`` is the one function that moves a request: it checks the move against the lifecycle's
table (``bot.domain.lifecycle.TRANSITIONS``), sets or clears the clocks the move implies, and
returns a ``Transition`` whose ``events`` are the ``DomainEvent``s it published. Everything that
follows is derived from the transition: its audit action (``AUDIT_ACTIONS``), its Slack intents
(``bot.domain.effects``), webhooks and metrics. Submission goes through it too: a request not
stored yet (no id) has no state, so only the submission events apply to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.domain.actors import rule_actor
from bot.domain.audit import Action
from bot.domain.events import EVENTS_OF, DomainEvent, EventType
from bot.domain.governance import Governance, Kind
from bot.domain.governance_spec import Outcome
from bot.domain.lapse import exception_lapse
from bot.domain.lifecycle import Clock, Event, State, transition
from bot.domain.requests import Request
from bot.domain.routing import EscalationStop, Verdict, escalation_chain
from bot.domain.shadow import shadow_json

#: The audit action each lifecycle event is recorded as (DESIGN §4 "Audit log").
AUDIT_ACTIONS: dict[Event, Action] = {
    Event.SUBMIT_APPROVED: Action.AUTO_APPROVED,
    Event.SUBMIT_REJECTED: Action.AUTO_REJECTED,
    Event.SUBMIT_ROUTED: Action.SUBMITTED,
    Event.VOTE: Action.VOTED,
    Event.APPROVE: Action.APPROVED,
    Event.REJECT: Action.REJECTED,
    Event.REQUEST_CHANGES: Action.CHANGES_REQUESTED,
    Event.AMEND_APPROVED: Action.AMENDED,
    Event.AMEND_REJECTED: Action.AMENDED,
    Event.AMEND_ROUTED: Action.AMENDED,
    Event.CANCEL: Action.CANCELLED,
    Event.EXPIRE: Action.EXPIRED,
    Event.ESCALATE: Action.ESCALATED,
    Event.WARN_LAPSE: Action.LAPSE_WARNED,
    Event.LAPSE: Action.LAPSED,
}

#: The events of an evaluation against the governance (submission or amend), and its outcome.
EVALUATION_OUTCOMES: dict[Event, Outcome] = {
    Event.SUBMIT_APPROVED: Outcome.APPROVE,
    Event.SUBMIT_REJECTED: Outcome.REJECT,
    Event.SUBMIT_ROUTED: Outcome.ROUTE,
    Event.AMEND_APPROVED: Outcome.APPROVE,
    Event.AMEND_REJECTED: Outcome.REJECT,
    Event.AMEND_ROUTED: Outcome.ROUTE,
}
_SUBMISSIONS = frozenset({Event.SUBMIT_APPROVED, Event.SUBMIT_REJECTED, Event.SUBMIT_ROUTED})
_APPROVALS = frozenset({Event.SUBMIT_APPROVED, Event.AMEND_APPROVED, Event.APPROVE})


def decision_event(verdict: Verdict, *, all_met: bool) -> Event:
    """The event of a person's ``verdict``: an approval approves once every step is met
    (``all_met``, counting it), and is a vote short of that; a rejection or an ask for changes
    acts at once (DESIGN §4)."""
    if verdict is Verdict.APPROVE:
        return Event.APPROVE if all_met else Event.VOTE
    return Event.REJECT if verdict is Verdict.REJECT else Event.REQUEST_CHANGES


@dataclass(frozen=True)
class Terms:
    """What governance says about a request's clocks, for the events that set them.

    ``sla`` and ``expire_after`` (the kind's) start when a request is routed to people;
    ``chain`` is the kind's escalation chain (``bot.domain.routing.escalation_chain``), after
    whose last stop the SLA clock stops; ``lapse`` is (lapses_at, lapse_warn_at) of an exception
    approved at the transition's time (``bot.domain.lapse.exception_lapse``), None otherwise.
    """

    sla: timedelta | None = None
    expire_after: timedelta | None = None
    chain: tuple[EscalationStop, ...] = ()
    lapse: tuple[datetime, datetime] | None = None


def terms_of(governance: Governance, kind: Kind, request: Request, at: datetime) -> Terms:
    """The clocks' terms for ``request`` of ``kind`` (its fields as they are now), moved at ``at``."""
    return Terms(
        sla=kind.spec.sla,
        expire_after=kind.spec.expire_after,
        chain=escalation_chain(governance, kind),
        lapse=exception_lapse(governance, kind, request, at),
    )


def escalation_step(request: Request, terms: Terms) -> tuple[int, EscalationStop | None]:
    """The level the next escalation takes ``request`` to (1 = the first stop), and that stop
    (None past the end of the chain)."""
    level = request.escalation_level + 1
    return level, terms.chain[level - 1] if level <= len(terms.chain) else None


@dataclass(frozen=True)
class Transition:
    """One move of a request: ``event`` from ``before`` (None: a new request) to ``after``.

    ``actor`` made the move (a user id, ``system``; the requester for a submission or amend);
    ``decided_by`` is the governed default (``rule:<id>``) that decided during an evaluation.
    ``version`` is the request's version once stored (storage bumps it on every write; a new
    request is stored at version 1). ``facts`` are JSON values: the audit event's data; an
    evaluation's carry the request's shadow verdicts as ``"shadow"`` (``bot.domain.shadow``).
    """

    event: Event
    before: State | None
    after: State
    at: datetime
    actor: str
    kind: str
    version: int
    facts: Mapping[str, Any] = field(default_factory=dict)
    decided_by: str | None = None

    @property
    def action(self) -> Action:
        """The audit action this transition is recorded as."""
        return AUDIT_ACTIONS[self.event]

    @property
    def audit_actor(self) -> str:
        """Who the audit event names: the deciding rule of a submission a rule decided, else ``actor``."""
        return self.decided_by if self.event in _SUBMISSIONS and self.decided_by else self.actor

    def events(self, request_id: int) -> tuple[DomainEvent, ...]:
        """The domain events published (``bot.domain.events.EVENTS_OF``), in order, for the stored request."""
        return tuple(
            DomainEvent(
                type_,
                request_id,
                self.at,
                self.decided_by if type_ is EventType.DECIDED and self.decided_by else self.actor,
                self.after,
                self.version,
                self.facts,
                self.kind,
            )
            for type_ in EVENTS_OF[self.event]
        )


def apply(
    request: Request,
    event: Event,
    *,
    at: datetime,
    actor: str,
    terms: Terms = Terms(),
    rule: str | None = None,
    note: str | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Transition:
    """Move ``request`` by ``event`` at ``at``: its state, clocks and ``updated_at`` change in place.

    ``rule`` is the deciding rule of an evaluation that approved or rejected; ``note`` the
    reason given with a rejection or a request for changes. Raises ``IllegalTransition`` (and
    changes nothing) when the lifecycle does not allow ``event`` from the request's state.
    """
    before = request.state if request.id is not None else None
    after = transition(before, event)
    version = request.version + 1
    _set_clocks(request, event, at=at, actor=actor, terms=terms, rule=rule, note=note)
    request.state, request.updated_at = after, at
    data = dict(facts or {})
    decided_by = None
    if event in EVALUATION_OUTCOMES:
        decided_by = request.decided_by
        data["shadow"] = shadow_json(request.shadow or ())  # recorded with every evaluation, never acted on
    return Transition(event, before, after, at, actor, request.kind, version, data, decided_by)


def clear_clock(request: Request, clock: Clock) -> None:
    """Stop a due ``clock`` that has nothing left to do, without a transition (no event, no audit):
    the SLA of a request sent back for changes, or a lapse warning nobody could get in time."""
    setattr(request, str(clock), None)


def _set_clocks(
    request: Request, event: Event, *, at: datetime, actor: str, terms: Terms, rule: str | None, note: str | None
) -> None:
    if event in EVALUATION_OUTCOMES:
        _evaluated(request, EVALUATION_OUTCOMES[event], at, terms, rule)
    elif event in (Event.APPROVE, Event.REJECT):
        _close(request, at, actor)
        request.decision_note = note if event is Event.REJECT else None  # an approval's reason is its vote's
    elif event is Event.REQUEST_CHANGES:
        request.decision_note = note
    elif event in (Event.CANCEL, Event.EXPIRE):
        _close(request, at, actor)
    elif event is Event.ESCALATE:
        level, _ = escalation_step(request, terms)
        due = request.next_escalation_at
        request.escalation_level = level
        request.next_escalation_at = due + terms.sla if terms.sla and level < len(terms.chain) and due else None
    elif event in (Event.WARN_LAPSE, Event.LAPSE):
        request.lapse_warn_at = None
    if event in _APPROVALS and terms.lapse is not None:
        request.lapses_at, request.lapse_warn_at = terms.lapse


def _close(request: Request, at: datetime, actor: str) -> None:
    """Decided (or ended) by ``actor``: the SLA and expiry clocks stop."""
    request.decided_at, request.decided_by = at, actor
    request.next_escalation_at = request.expires_at = None


def _evaluated(request: Request, outcome: Outcome, at: datetime, terms: Terms, rule: str | None) -> None:
    """Evaluated from scratch (submission or amend): every clock and earlier decision starts again."""
    request.escalation_level = 0
    request.next_escalation_at = request.expires_at = request.lapses_at = request.lapse_warn_at = None
    request.decided_at = request.decided_by = request.auto_rule = request.decision_note = None
    if outcome is Outcome.ROUTE:
        request.next_escalation_at = at + terms.sla if terms.sla else None
        request.expires_at = at + terms.expire_after if terms.expire_after else None
        return
    request.decided_at, request.decided_by = at, rule_actor(f"{rule}")
    if outcome is Outcome.APPROVE:
        request.auto_rule = rule
