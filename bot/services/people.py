"""The people directory: who Slack reports as deactivated, and everyone's timezone.

Eligibility is computed inside transactions, where no Slack call may happen, so the worker
asks Slack (``users.info``) outside them and keeps the answers in the database. Everyone the
governance names (group members, owners), active delegates and the requesters of pending
requests are checked when first seen, when a delivery to them failed as if they had left,
and otherwise every ``max_age``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.eligibility import is_person
from bot.domain.governance import Governance
from bot.domain.outbox import PersonInfo
from bot.services.ports import UnitOfWork
from bot.services.routing import PENDING_SCAN
from bot.services.runtime import Runtime
from bot.services.sweeps import TimezoneOf

log = logging.getLogger(__name__)

#: How old what Slack said of a person may get before they are checked again.
MAX_AGE = timedelta(hours=1)


class PeopleSource(Protocol):
    """Slack's users.info: None when Slack could not answer (the directory keeps what it knew)."""

    def person(self, user: str) -> PersonInfo | None: ...


@dataclass
class DirectoryReport:
    checked: int = 0
    #: People whose deactivated flag changed in this pass.
    deactivated: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.deactivated or self.reactivated)


def people_named(governance: Governance, uow: UnitOfWork, now: datetime) -> set[str]:
    """Everyone who may be asked to decide or be told something: members, owners, delegates, requesters."""
    named = {person for group in governance.groups for person in governance.members(group)}
    named |= {kind.owner for kind in governance.kinds.values()}
    for delegation in uow.delegations.active(today=governance.today(now)):
        named |= {delegation.delegator, delegation.delegate}
    named |= {request.requester for request in uow.requests.open_requests(limit=PENDING_SCAN)}
    return {person for person in named if is_person(person)}


def refresh_people(*, runtime: Runtime, source: PeopleSource, max_age: timedelta = MAX_AGE) -> DirectoryReport:
    """Ask Slack about everyone due a check (never inside a transaction) and store the answers.

    Returns how many were checked and whose deactivated flag changed; the caller makes the
    cards follow (``cards_follow_eligibility``) when anyone changed.
    """
    governance = runtime.governance()
    now = runtime.clock.now()
    with runtime.uow(read_only=True) as uow:
        named = people_named(governance, uow, now)
        due = set(uow.people.due_for_check(named, checked_before=now - max_age)) | set(uow.people.stale_or_unknown())
    answers = [info for info in map(source.person, sorted(due)) if info is not None]
    report = DirectoryReport(checked=len(answers))
    if not answers:
        return report
    with runtime.uow() as uow:
        for info in answers:
            if uow.people.record(info.user, deleted=info.deleted, tz=info.tz, now=now):
                (report.deactivated if info.deleted else report.reactivated).append(info.user)
        uow.commit()
    for person in report.deactivated:
        log.warning("%s is deactivated in Slack: no longer eligible to decide anything", person)
    for person in report.reactivated:
        log.info("%s is active in Slack again", person)
    return report


def directory_timezones(runtime: Runtime) -> TimezoneOf:
    """Everyone's timezone as the directory knows it now (one read); None for people it does not know."""
    with runtime.uow(read_only=True) as uow:
        zones = uow.people.timezones()
    return zones.get


class DirectoryTimezones:
    """A ``TimezoneOf`` for scheduled jobs: the directory's timezones, read again once ``max_age``
    (of the runtime's clock) has passed, so a sweep never asks Slack, inside a transaction or out."""

    def __init__(self, runtime: Runtime, max_age: timedelta = timedelta(seconds=30)):
        self.runtime = runtime
        self.max_age = max_age
        self._zones: dict[str, str] = {}
        self._read_at: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self, person: str) -> str | None:
        now = self.runtime.clock.now()
        with self._lock:
            if self._read_at is None or now - self._read_at >= self.max_age:
                with self.runtime.uow(read_only=True) as uow:
                    self._zones = uow.people.timezones()
                self._read_at = now
            return self._zones.get(person)
