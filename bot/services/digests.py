"""Digests: once per period of their schedule, each approver hears what waits on them.

One pass reads every pending request, works out who may decide each one (delegates
included) and who has not voted on its current fields, and queues one digest per person
for the current period of their schedule: their group's ``digest:`` cron, else the file's.
The outbox key is (person, period), so a period is sent at most once however often, and on
however many workers, the pass runs. A digest waits for the person's working hours; one held
back until within an hour of the next period is merged into that period's digest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.domain.cron import parse_cron
from bot.domain.eligibility import most_urgent_first
from bot.domain.governance import Governance
from bot.domain.outbox import digest
from bot.domain.requests import Request
from bot.domain.schedule import last_fire, merged_into_next, next_allowed, next_fire, previous_fire, zone
from bot.services.routing import directory, pending_with_votes
from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

#: Items listed in one digest message; the rest are counted ("and N more — see Home").
DIGEST_ITEMS = 20

TimezoneOf = Callable[[str], str | None]
"""A person's IANA timezone (from Slack's users.info), or None when unknown."""


@dataclass(frozen=True)
class DigestReport:
    """``queued`` new digests of ``recipients`` people with pending items; ``keys``: this period's
    outbox key per recipient (queued now or before); ``merged``: digests left to the next period's."""

    queued: int
    recipients: int
    keys: tuple[str, ...] = ()
    merged: int = 0


@dataclass(frozen=True)
class _Period:
    fire: datetime  # this period's start (aware UTC): the digest's identity
    before: datetime  # the previous period's start, for "resolved by rule since the last digest"
    following: datetime  # the next period's start


def _schedule_of(governance: Governance, user: str, group: str | None) -> str:
    for name in governance.groups:
        spec = governance.groups[name]
        if user in spec.members and spec.digest and (group is None or name == group):
            return spec.digest
    return governance.spec.digest


def _period(schedule: str, now: datetime, tz: tzinfo) -> _Period | None:
    """The current period of ``schedule``; None (logged once) for a schedule that cannot be used,
    such as one that never fires: its people get no digest, everyone else's go out."""
    try:
        cron = parse_cron(schedule)
        fire = last_fire(cron, now, tz)
        return _Period(fire, previous_fire(cron, fire, tz), next_fire(cron, fire, tz))
    except ValueError as exc:
        log.error("digest schedule %r cannot be used, its digests are skipped: %s", schedule, exc)
        return None


def queue_digests(
    *,
    runtime: Runtime,
    timezone_of: TimezoneOf,
    group: str | None = None,
    operator_run: bool = False,
) -> DigestReport:
    """Queue this period's digest for everyone with pending items (none twice for one period).

    A digest waits for the recipient's working hours; one held back an hour or more past its
    period that would then go out within an hour of the next period's is left to that one
    (``merged_into_next``): one digest a morning.
    ``operator_run`` (``signoff digest --now``) sends at once, outside working hours too.
    ``group`` limits the run to that group's members.
    """
    governance = runtime.governance()
    now = runtime.clock.now()
    waiting = _waiting(runtime, governance, now, group)
    intents = []
    periods: dict[str, _Period | None] = {}
    keys, merged = [], 0
    for person, items in sorted(waiting.items()):
        schedule = _schedule_of(governance, person, group)
        if schedule not in periods:
            periods[schedule] = _period(schedule, now, governance.tz)
        period = periods[schedule]
        if period is None:
            continue
        person_zone = zone(timezone_of(person), governance.tz)
        not_before = now if operator_run else next_allowed(now, governance.spec.working_hours, person_zone)
        if not operator_run and merged_into_next(period.fire, not_before, period.following):
            merged += 1
            continue
        ordered = most_urgent_first(items, now)
        ids = [r.require_id() for r in ordered[:DIGEST_ITEMS]]
        intents.append((person, period, ids, max(len(ordered) - DIGEST_ITEMS, 0), not_before))
    queued = 0
    resolved: dict[_Period, int] = {}  # one count per schedule's period, not per person
    with runtime.uow() as uow:
        for person, period, ids, more, not_before in intents:
            if period not in resolved:
                resolved[period] = uow.requests.count_auto_decided(since=period.before, until=period.fire)
            auto = resolved[period]
            intent = digest(
                person, period=period.fire, request_ids=ids, more=more, auto_resolved=auto, not_before=not_before
            )
            queued += int(uow.outbox.add(intent, now=now))
            keys.append(intent.key)
        uow.commit()
    return DigestReport(queued=queued, recipients=len(intents), keys=tuple(keys), merged=merged)


def _waiting(runtime: Runtime, governance: Governance, now: datetime, group: str | None) -> dict[str, list[Request]]:
    """Who waits on what now (delegates included), limited to ``group``'s members when given."""
    today = governance.today(now)
    with runtime.uow(read_only=True) as uow:
        pending, votes = pending_with_votes(uow)
        people = directory(uow, governance, today)
    waiting = people.waiting(pending, votes)
    if group is not None:
        members = set(governance.members(group))
        waiting = {person: items for person, items in waiting.items() if person in members}
    return waiting
