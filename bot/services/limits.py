"""Limits under concurrency: a resolution that read a limit's usage is made final under its lock.

``resolve`` reads how much of each consulted limit is used (DESIGN §3.3) and decides on it: a
read, then a write based on it. Two writers reading "4 of 5" at once would both approve. So the
one place that writes a resolved request — submit and amend alike — calls ``settle``: in the
writing unit of work it locks every tally the resolution could depend on
(``Resolution.limit_keys``), asks the consulted usages again, and resolves again only when one
moved. A resolution that consulted no limit takes no lock and reads nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.domain.fields import FieldValue
from bot.domain.governance import Governance, Kind
from bot.domain.outcome import LimitUsage, Resolution, UsageLookup, resolve
from bot.services.ports import UnitOfWork


class RecordedUsage:
    """A ``UsageLookup`` that remembers each question it was asked and the answer it gave."""

    def __init__(self, lookup: UsageLookup):
        self._lookup = lookup
        self._answers: list[tuple[dict[str, Any], LimitUsage]] = []

    def __call__(
        self, *, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None
    ) -> LimitUsage:
        query: dict[str, Any] = {"kind": kind, "rule": rule, "requester": requester, "since": since}
        used = self._lookup(**query, sum_field=sum_field)
        self._answers.append(({**query, "sum_field": sum_field}, used))
        return used

    def still_true(self, usage: UsageLookup) -> bool:
        """Whether ``usage`` gives every recorded answer again (then a resolution made with them stands)."""
        return all(usage(**query) == used for query, used in self._answers)


def read_apart(open_read: Callable[[], UnitOfWork]) -> RecordedUsage:
    """A recorded lookup reading each usage in its own read-only unit of work (``open_read()``).

    Resolving with it before the write transaction keeps a slow evaluation from holding up
    other writers; ``settle`` then checks it in the writing one.
    """

    def lookup(*, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None) -> LimitUsage:
        with open_read() as uow:
            return uow.requests.limit_usage(kind=kind, rule=rule, requester=requester, since=since, sum_field=sum_field)

    return RecordedUsage(lookup)


def settle(
    uow: UnitOfWork,
    governance: Governance,
    kind: Kind,
    values: Mapping[str, FieldValue],
    *,
    requester: str,
    at: datetime,
    resolution: Resolution,
    usage: RecordedUsage,
) -> Resolution:
    """The resolution to store in ``uow``: ``resolution`` (made with ``usage``) if it still holds.

    Locks the tallies in ``resolution.limit_keys`` for the rest of ``uow`` (``lock_limits``:
    ``StorageBusy`` / ``TooSlow`` when that takes longer than ``uow`` may wait), then asks the
    recorded usages again; when one moved, resolves again inside ``uow``. Either way, no other
    writer can change what the answer rests on before ``uow`` commits, so a limit of k
    approvals per window gives at most k, whatever the concurrency. The same facts ask about the
    same tallies, so the second resolution needs no other lock.
    """
    if not resolution.limit_keys:
        return resolution  # no limit consulted: nothing another writer could invalidate
    uow.requests.lock_limits(resolution.limit_keys)
    if usage.still_true(uow.requests.limit_usage):
        return resolution
    return resolve(governance, kind, values, requester=requester, at=at, usage=uow.requests.limit_usage)
