"""Time-driven transitions: SLA escalation, expiry, and the lapse of approved exceptions.

Each due request is handled in its own unit of work and re-checked under its row lock, so
running a sweep twice, or on two workers at once, changes each request once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.audit import Action
from bot.domain.governance import Governance
from bot.domain.lifecycle import Event, State
from bot.domain.notices import Notice
from bot.domain.outbox import Intent, notify, post_card, update_cards
from bot.domain.requests import Request
from bot.domain.routing import escalation_chain
from bot.domain.schedule import next_allowed, zone
from bot.services.ports import UnitOfWork
from bot.services.routing import eligibility, escalation_recipients, is_person
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


def _sweep(runtime: Runtime, column: str, handle: Handler, timezone_of: TimezoneOf) -> int:
    now = runtime.clock.now()
    governance = runtime.governance()
    moment = Moment(now, governance, timezone_of)
    with runtime.uow(read_only=True) as uow:
        due = uow.requests.open_ids(due_before=now, column=column)
    changed = 0
    for request_id in due:
        with runtime.uow() as uow:
            request = uow.requests.get(request_id, for_update=True)
            when = getattr(request, column) if request is not None else None
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
    return _sweep(runtime, "next_escalation_at", _escalate, timezone_of)


def _escalate(uow: UnitOfWork, governance: Governance, request: Request, moment: Moment) -> bool:
    now = moment.now
    if request.state is not State.PENDING:
        request.next_escalation_at = None
        uow.requests.save(request)
        return True
    kind = governance.kind(request.kind)
    chain = escalation_chain(governance, kind)
    today = governance.today(now)
    inactive = uow.people.deactivated()
    before = eligibility(
        governance,
        kind,
        request,
        uow.votes.for_request(request.require_id()),
        uow.delegations.active(today=today),
        today,
        inactive=inactive,
    )
    request.escalation_level += 1
    level = request.escalation_level
    sla = kind.spec.sla
    request.next_escalation_at = (
        request.next_escalation_at + sla if sla and level < len(chain) and request.next_escalation_at else None
    )
    version = request.version + 1
    request_id = request.require_id()
    stop = chain[level - 1] if level <= len(chain) else None
    facts = {
        "title": kind.title,
        "stop": None if stop is None or stop.is_owner else stop.name,
        "stop_is_owner": bool(stop and stop.is_owner),
    }
    intents: list[Intent] = [
        notify(
            request_id,
            person,
            notice=Notice.REMINDER,
            event=f"reminder-{level}",
            facts=facts,
            version=version,
            not_before=moment.for_person(person),
        )
        for person in sorted(before.everyone())
    ]
    intents += [
        post_card(request_id, r, round_=version, not_before=moment.for_person(r))
        for r in escalation_recipients(governance, kind, level, request.requester, inactive=inactive)
    ]
    intents.append(update_cards(request_id, version=version))
    data = {"level": level, "stop": stop.name if stop else None, "reminded": sorted(before.everyone())}
    record_transition(
        uow, request, Event.ESCALATE, at=now, actor="system", action=Action.ESCALATED, data=data, intents=intents
    )
    return True


def expire_due(*, runtime: Runtime, timezone_of: TimezoneOf = _nobody_abroad) -> int:
    """Open longer than ``expire_after``: expired; the requester is told and the cards updated."""
    return _sweep(runtime, "expires_at", _expire, timezone_of)


def _expire(uow: UnitOfWork, governance: Governance, request: Request, moment: Moment) -> bool:
    now = moment.now
    request.decided_at, request.decided_by = now, "system"
    request.next_escalation_at = request.expires_at = None
    version = request.version + 1
    intents = [
        update_cards(request.require_id(), version=version),
        notify(
            request.require_id(),
            request.requester,
            notice=Notice.EXPIRED,
            version=version,
            not_before=moment.for_person(request.requester),
        ),
    ]
    record_transition(
        uow, request, Event.EXPIRE, at=now, actor="system", action=Action.EXPIRED, data={}, intents=intents
    )
    return True


def lapse_due(*, runtime: Runtime, timezone_of: TimezoneOf = _nobody_abroad) -> int:
    """Approved exceptions: warn the requester and owner ahead of the end, then lapse them.

    Lapses run first: an exception whose end has come is lapsed without a warning that
    would arrive after it ended (a short exception, or a worker that was down).
    """
    lapsed = _sweep(runtime, "lapses_at", _lapse, timezone_of)
    return lapsed + _sweep(runtime, "lapse_warn_at", _warn, timezone_of)


def _warn(uow: UnitOfWork, governance: Governance, request: Request, moment: Moment) -> bool:
    now = moment.now
    kind = governance.kind(request.kind)
    request.lapse_warn_at = None
    version = request.version + 1
    ends = request.lapses_at
    lapses_at = ends.isoformat() if ends else None
    facts = {"title": kind.title, "lapses_at": lapses_at, "tz": str(governance.tz)}
    intents = _tell_requester_and_owner(
        request,
        kind.owner,
        moment,
        notice=Notice.LAPSE_WARNING,
        event="lapse-warning",
        facts=facts,
        version=version,
        before=ends,
    )
    if not intents:  # nobody's working hours begin before the end: the lapse notice says it all
        uow.requests.save(request)
        return True
    data = {"lapses_at": lapses_at}
    record_transition(
        uow, request, Event.WARN_LAPSE, at=now, actor="system", action=Action.LAPSE_WARNED, data=data, intents=intents
    )
    return True


def _lapse(uow: UnitOfWork, governance: Governance, request: Request, moment: Moment) -> bool:
    now = moment.now
    kind = governance.kind(request.kind)
    request.lapse_warn_at = None
    version = request.version + 1
    intents: list[Intent] = [update_cards(request.require_id(), version=version)]
    intents += _tell_requester_and_owner(
        request, kind.owner, moment, notice=Notice.LAPSED, event="lapsed", facts={"title": kind.title}, version=version
    )
    record_transition(uow, request, Event.LAPSE, at=now, actor="system", action=Action.LAPSED, data={}, intents=intents)
    return True


def _tell_requester_and_owner(
    request: Request,
    owner: str,
    moment: Moment,
    *,
    notice: Notice,
    event: str,
    facts: Mapping[str, object],
    version: int,
    before: datetime | None = None,
) -> list[Intent]:
    """A DM to the requester and to the kind's owner (once if they are the same), in their working hours.

    With ``before``, someone whose working hours would hold the DM until then is left out
    (a warning that an exception ends is no use once it has ended).
    """
    intents = []
    for person in dict.fromkeys([request.requester, owner]):
        not_before = moment.for_person(person)
        if before is None or not_before < before:
            intents.append(
                notify(
                    request.require_id(),
                    person,
                    notice=notice,
                    event=event,
                    facts=facts,
                    version=version,
                    not_before=not_before,
                )
            )
    return intents
