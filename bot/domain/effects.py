"""The Slack intents that follow from a transition's domain events, one function per concern.

A service says what happened (``bot.domain.transitions``) and who is concerned (``Audience``);
these functions decide which cards are posted, routed or updated and who gets a direct message,
as outbox intents (``bot.domain.outbox``). They write no text: a notice is a ``Notice`` and facts,
rendered by the Slack adapter at delivery. The intents' idempotency keys are the ones queued
rows already carry, so a running system's outbox keeps deduplicating across this code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.events import DomainEvent, EventType
from bot.domain.lifecycle import State
from bot.domain.notices import Notice
from bot.domain.outbox import Intent, notify, post_card, route_cards, update_cards
from bot.domain.routing import EscalationStop


def at_once(person: str) -> datetime | None:
    """No working hours: a message may go out at once."""
    return None


@dataclass(frozen=True)
class Audience:
    """Who hears of a transition beyond its cards, and when each of them may be messaged.

    ``requester`` filed the request; ``owner`` owns its kind (told when an exception is about
    to lapse and when it has); ``title`` is the kind's title and ``tz`` the governance timezone
    (IANA name), facts of the notices. On an escalation, ``reminded`` are the approvers reminded
    and ``joining`` the recipients (channel or user ids) who now get the card, at ``stop``.
    ``not_before(person)`` is the earliest a message to them may go out (working hours).
    """

    requester: str
    owner: str = ""
    title: str = ""
    tz: str = ""
    reminded: tuple[str, ...] = ()
    joining: tuple[str, ...] = ()
    stop: EscalationStop | None = None
    not_before: Callable[[str], datetime | None] = at_once


#: Transitions whose first event is one of these evaluated the request against the governance.
_EVALUATED = frozenset({EventType.SUBMITTED, EventType.AMENDED})
#: Events after which posted cards look the same: none exist yet, or cards do not show it.
_CARDS_UNCHANGED = frozenset({EventType.SUBMITTED, EventType.LAPSING})
#: A person's decision as the requester hears it, and the name its key has always had.
_DECISION_NOTICES: dict[State, tuple[Notice, str]] = {
    State.APPROVED: (Notice.APPROVED, "approve"),
    State.REJECTED: (Notice.REJECTED, "reject"),
    State.CHANGES_REQUESTED: (Notice.CHANGES_REQUESTED, "request_changes"),
}


def intents_of(events: Sequence[DomainEvent], audience: Audience) -> list[Intent]:
    """Every intent of one transition's ``events``: escalation, then cards, then notices."""
    return [*escalation_intents(events, audience), *card_intents(events), *notices(events, audience)]


def card_intents(events: Sequence[DomainEvent]) -> list[Intent]:
    """Posted cards are updated after any change they show; a request (re-)evaluated into
    ``pending`` is routed to whoever may decide it when the fan-out is delivered."""
    if not events:
        return []
    first, last = events[0], events[-1]
    intents = [] if first.type in _CARDS_UNCHANGED else [update_cards(last.request_id, version=last.version)]
    if first.type in _EVALUATED and last.state is State.PENDING:
        intents.append(route_cards(last.request_id, round_=last.version))
    return intents


def escalation_intents(events: Sequence[DomainEvent], audience: Audience) -> list[Intent]:
    """Past its SLA: a reminder to each approver of ``audience.reminded``, and the card to ``joining``."""
    intents: list[Intent] = []
    for event in events:
        if event.type is not EventType.ESCALATED:
            continue
        stop = audience.stop
        facts = {
            "title": audience.title,
            "stop": None if stop is None or stop.is_owner else stop.name,
            "stop_is_owner": bool(stop and stop.is_owner),
        }
        name = f"reminder-{event.facts['level']}"
        intents += [
            _notify(event, person, audience, Notice.REMINDER, name=name, facts=facts) for person in audience.reminded
        ]
        intents += [
            post_card(event.request_id, r, round_=event.version, not_before=audience.not_before(r))
            for r in audience.joining
        ]
    return intents


def notices(events: Sequence[DomainEvent], audience: Audience) -> list[Intent]:
    """Direct messages to the requester (a person's decision, expiry) and, for an exception's end,
    to the kind's owner too. A rule's decision on submission or amend is answered, not messaged."""
    if not events or events[0].type in _EVALUATED:
        return []
    intents: list[Intent] = []
    for event in events:
        if event.type in (EventType.DECIDED, EventType.CHANGES_REQUESTED):
            notice, name = _DECISION_NOTICES[event.state]
            facts = {"actor": event.actor, "reason": event.facts.get("reason")}
            intents.append(_notify(event, audience.requester, audience, notice, name=name, facts=facts))
        elif event.type is EventType.EXPIRED:
            intents.append(_notify(event, audience.requester, audience, Notice.EXPIRED))
        elif event.type is EventType.LAPSING:
            ends = event.facts.get("lapses_at")
            facts = {"title": audience.title, "lapses_at": ends, "tz": audience.tz}
            intents += [
                _notify(event, person, audience, Notice.LAPSE_WARNING, name="lapse-warning", facts=facts)
                for person in lapse_warned(audience, datetime.fromisoformat(ends) if ends else None)
            ]
        elif event.type is EventType.LAPSED:
            intents += [
                _notify(event, person, audience, Notice.LAPSED, name="lapsed", facts={"title": audience.title})
                for person in _requester_and_owner(audience)
            ]
    return intents


def lapse_warned(audience: Audience, lapses_at: datetime | None) -> list[str]:
    """Who is warned that an exception ends at ``lapses_at``: the requester and the owner, except
    someone whose working hours would hold the warning until it is no use (at or after the end)."""
    warned = []
    for person in _requester_and_owner(audience):
        not_before = audience.not_before(person)
        if lapses_at is None or not_before is None or not_before < lapses_at:
            warned.append(person)
    return warned


def _requester_and_owner(audience: Audience) -> list[str]:
    return [p for p in dict.fromkeys([audience.requester, audience.owner]) if p]


def _notify(
    event: DomainEvent,
    person: str,
    audience: Audience,
    notice: Notice,
    *,
    name: str | None = None,
    facts: Mapping[str, object] | None = None,
) -> Intent:
    return notify(
        event.request_id,
        person,
        notice=notice,
        event=name,
        facts=facts,
        version=event.version,
        not_before=audience.not_before(person),
    )
