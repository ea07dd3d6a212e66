"""Time-driven transitions: SLA escalation, expiry, and the lapse of approved exceptions.

Each due request is handled in its own unit of work and re-checked under its row lock, so
running a sweep twice, or on two workers at once, changes each request once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.actors import SYSTEM
from bot.domain.effects import Audience, lapse_warned
from bot.domain.eligibility import escalation_recipients, is_person
from bot.domain.governance import Governance
from bot.domain.lifecycle import Clock, Event, State
from bot.domain.requests import Request
from bot.domain.schedule import next_allowed, zone
from bot.domain.transitions import clear_clock, escalation_step, terms_of
from bot.services.ports import UnitOfWork
from bot.services.routing import deciders
from bot.services.runtime import Runtime
from bot.services.transitions import record_transition

TimezoneOf = Callable[[str], str | None]


@dataclass(frozen=True)
class Moment:
    """The sweep's now, and when a message to someone may go out (their working hours)."""

    now: datetime
    governance: Governance
    timezone_of: TimezoneOf

    def for_person(self, person: str) -> datetime:
        tz = zone(self.timezone_of(person), self.governance.tz) if is_person(person) else self.governance.tz
        return next_allowed(self.now, self.governance.spec.working_hours, tz)


Handler = Callable[[UnitOfWork, Governance, Request, Moment], bool]


def _nobody_abroad(person: str) -> str | None:
    return None


def _sweep(runtime: Runtime, clock: Clock, handle: Handler, timezone_of: TimezoneOf) -> int:
    now = runtime.clock.now()
    governance = runtime.governance()
    moment = Moment(now, governance, timezone_of)
    with runtime.uow(read_only=True) as uow:
        due = uow.requests.open_ids(due_before=now, column=str(clock))
    changed = 0
    for request_id in due:
        with runtime.uow() as uow:
            request = uow.requests.get(request_id, for_update=True)
            when = getattr(request, str(clock)) if request is not None else None
            if request is None or when is None or when > now or request.kind not in governance.kinds:
                continue  # someone else got there first, or the kind is gone from the file
            if handle(uow, governance, request, moment):
                uow.commit()
                changed += 1
    return changed


def escalate_due(*, runtime: Runtime, timezone_of: TimezoneOf = _nobody_abroad) -> int:
    """Past its SLA: remind the current approvers once and make the next escalation stop eligible.

    Eligibility changes at once; the reminders and new cards wait for each person's working hours.
    """
    return _sweep(runtime, Clock.NEXT_ESCALATION, _escalate, timezone_of)


def _escalate(uow: UnitOfWork, governance: Governance, request: Request, moment: Moment) -> bool:
    if request.state is not State.PENDING:
        clear_clock(request, Clock.NEXT_ESCALATION)  # sent back for changes: nobody to remind
        uow.requests.save(request)
        return True
    kind = governance.kind(request.kind)
    before = deciders(uow, governance, kind, request, governance.today(moment.now))
    level, stop = escalation_step(request, terms_of(governance, kind, request, moment.now))
    reminded = tuple(sorted(before.who.everyone()))
    joining = escalation_recipients(governance, kind, level, request.requester, inactive=before.directory.inactive)
    audience = Audience(
        request.requester,
        title=kind.title,
        reminded=reminded,
        joining=tuple(joining),
        stop=stop,
        not_before=moment.for_person,
    )
    facts = {"level": level, "stop": stop.name if stop else None, "reminded": list(reminded)}
    record_transition(
        uow, governance, request, Event.ESCALATE, at=moment.now, actor=SYSTEM, facts=facts, audience=audience
    )
    return True


def expire_due(*, runtime: Runtime, timezone_of: TimezoneOf = _nobody_abroad) -> int:
    """Open longer than ``expire_after``: expired; the requester is told and the cards updated."""
    return _sweep(runtime, Clock.EXPIRES, _expire, timezone_of)


def _expire(uow: UnitOfWork, governance: Governance, request: Request, moment: Moment) -> bool:
    audience = Audience(request.requester, not_before=moment.for_person)
    record_transition(uow, governance, request, Event.EXPIRE, at=moment.now, actor=SYSTEM, audience=audience)
    return True


def lapse_due(*, runtime: Runtime, timezone_of: TimezoneOf = _nobody_abroad) -> int:
    """Approved exceptions: warn the requester and owner ahead of the end, then lapse them.

    Lapses run first: an exception whose end has come is lapsed without a warning that
    would arrive after it ended (a short exception, or a worker that was down).
    """
    lapsed = _sweep(runtime, Clock.LAPSES, _lapse, timezone_of)
    return lapsed + _sweep(runtime, Clock.LAPSE_WARNING, _warn, timezone_of)


def _warn(uow: UnitOfWork, governance: Governance, request: Request, moment: Moment) -> bool:
    audience = _requester_and_owner(governance, request, moment)
    ends = request.lapses_at
    if not lapse_warned(audience, ends):  # nobody's hours begin before the end: the lapse notice says it all
        clear_clock(request, Clock.LAPSE_WARNING)
        uow.requests.save(request)
        return True
    facts = {"lapses_at": ends.isoformat() if ends else None}
    record_transition(
        uow, governance, request, Event.WARN_LAPSE, at=moment.now, actor=SYSTEM, facts=facts, audience=audience
    )
    return True


def _lapse(uow: UnitOfWork, governance: Governance, request: Request, moment: Moment) -> bool:
    audience = _requester_and_owner(governance, request, moment)
    record_transition(uow, governance, request, Event.LAPSE, at=moment.now, actor=SYSTEM, audience=audience)
    return True


def _requester_and_owner(governance: Governance, request: Request, moment: Moment) -> Audience:
    """The requester and the kind's owner hear of an exception's end, in their working hours."""
    kind = governance.kind(request.kind)
    return Audience(
        request.requester, owner=kind.owner, title=kind.title, tz=str(governance.tz), not_before=moment.for_person
    )
