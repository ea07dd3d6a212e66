"""Digests: once per period of their schedule, each approver hears what waits on them.

One pass reads every pending request, works out who may decide each one (delegates
included) and who has not voted on its current fields, and queues one digest per person
for the current period of their schedule: their group's ``digest:`` cron, else the file's.
The outbox key is (person, period), so a period is sent at most once however often, and on
however many workers, the pass runs. A digest waits for the person's working hours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.cron import parse_cron
from bot.domain.governance import Governance
from bot.domain.outbox import digest
from bot.domain.schedule import last_fire, next_allowed, previous_fire, zone
from bot.services.routing import PENDING_SCAN, most_urgent_first, waiting_by_person
from bot.services.runtime import Runtime

#: Items listed in one digest message; the rest are counted ("and N more — see Home").
DIGEST_ITEMS = 20

TimezoneOf = Callable[[str], str | None]
"""A person's IANA timezone (from Slack's users.info), or None when unknown."""


@dataclass(frozen=True)
class DigestReport:
    queued: int
    recipients: int


def _schedule_of(governance: Governance, user: str, group: str | None) -> str:
    for name in governance.groups:
        spec = governance.groups[name]
        if user in spec.members and spec.digest and (group is None or name == group):
            return spec.digest
    return governance.spec.digest


def queue_digests(
    *,
    runtime: Runtime,
    timezone_of: TimezoneOf,
    group: str | None = None,
    operator_run: bool = False,
) -> DigestReport:
    """Queue this period's digest for everyone with pending items (none twice for one period).

    ``operator_run`` (``signoff digest --now``) sends at once, outside working hours too.
    ``group`` limits the run to that group's members.
    """
    governance = runtime.governance()
    now = runtime.clock.now()
    today = governance.today(now)
    with runtime.uow(read_only=True) as uow:
        pending = uow.requests.open_requests(limit=PENDING_SCAN)
        votes = uow.votes.for_requests([r.require_id() for r in pending])
        delegations = uow.delegations.active(today=today)
        inactive = uow.people.deactivated()
    waiting = waiting_by_person(governance, pending, votes, delegations, today, inactive=inactive)
    if group is not None:
        members = set(governance.members(group))
        waiting = {person: items for person, items in waiting.items() if person in members}

    intents = []
    periods: dict[str, tuple[datetime, datetime]] = {}
    for person, items in sorted(waiting.items()):
        schedule = _schedule_of(governance, person, group)
        if schedule not in periods:
            cron = parse_cron(schedule)
            fire = last_fire(cron, now, governance.tz)
            periods[schedule] = (fire, previous_fire(cron, fire, governance.tz))
        fire, before = periods[schedule]
        ordered = most_urgent_first(items, now)
        person_zone = zone(timezone_of(person), governance.tz)
        not_before = now if operator_run else next_allowed(now, governance.spec.working_hours, person_zone)
        intents.append(
            (
                person,
                fire,
                before,
                [r.require_id() for r in ordered[:DIGEST_ITEMS]],
                max(len(ordered) - DIGEST_ITEMS, 0),
                not_before,
            )
        )
    queued = 0
    resolved: dict[tuple[datetime, datetime], int] = {}  # one count per schedule's period, not per person
    with runtime.uow() as uow:
        for person, fire, before, ids, more, not_before in intents:
            if (before, fire) not in resolved:
                resolved[(before, fire)] = uow.requests.count_auto_decided(since=before, until=fire)
            auto = resolved[(before, fire)]
            intent = digest(person, period=fire, request_ids=ids, more=more, auto_resolved=auto, not_before=not_before)
            queued += int(uow.outbox.add(intent, now=now))
        uow.commit()
    return DigestReport(queued=queued, recipients=len(intents))
