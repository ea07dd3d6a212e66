"""An operator's digest run (``signoff digest --now``): this period's digests, delivered now.

The run queues what the scheduled pass has not queued yet, makes this period's digests that
wait for working hours due now, relays, and then reads back what actually happened to each
one: delivered by this run, delivered before it, or not delivered (yet).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.outbox import Lane, OutboxStatus
from bot.services.digests import TimezoneOf, queue_digests
from bot.services.relay import SlackGateway, relay_outbox
from bot.services.runtime import Runtime

#: Relay batches one run may take; each batch handles up to the relay's batch size of due rows.
MAX_BATCHES = 1000


@dataclass(frozen=True)
class DigestRunReport:
    """Counts of this period's digests (one per recipient) by what happened to them.

    ``failed``: a delivery failed and the outbox retries it later; ``dead``: failed for good;
    ``in_flight``: another relay holds it (a worker is sending it, or died while sending).
    """

    sent_now: int = 0
    sent_before: int = 0
    failed: int = 0
    dead: int = 0
    in_flight: int = 0

    @property
    def left(self) -> int:
        """Digests of this period not delivered when the run ended."""
        return self.failed + self.dead + self.in_flight


def send_digests_now(
    *, runtime: Runtime, gateway: SlackGateway, timezone_of: TimezoneOf, group: str | None = None
) -> DigestRunReport:
    """Deliver this period's digests now, outside working hours too; never one twice per period."""
    keys = list(queue_digests(runtime=runtime, timezone_of=timezone_of, group=group, operator_run=True).keys)
    with runtime.uow() as uow:
        before = uow.outbox.statuses(keys)
        uow.outbox.make_due(keys, now=runtime.clock.now())
        uow.commit()
    for _ in range(MAX_BATCHES):  # while batches deliver: rows that failed wait for their next try
        if not relay_outbox(runtime=runtime, gateway=gateway, lane=Lane.SLACK).sent:
            break
    with runtime.uow(read_only=True) as uow:
        after = uow.outbox.statuses(keys)
    counts = dict.fromkeys(("sent_now", "sent_before", "failed", "dead", "in_flight"), 0)
    for key in keys:
        counts[_outcome(before.get(key), after.get(key))] += 1
    return DigestRunReport(**counts)


def _outcome(before: OutboxStatus | None, after: OutboxStatus | None) -> str:
    if before is OutboxStatus.SENT:
        return "sent_before"
    if after is OutboxStatus.SENT:
        return "sent_now"
    if after is OutboxStatus.DEAD:
        return "dead"
    if after is OutboxStatus.SENDING:
        return "in_flight"
    return "failed"


def summary(report: DigestRunReport) -> str:
    """One line for the operator, e.g. ``digests: 3 sent now, 2 had been sent already, 1 failed (will retry)``."""
    parts = [f"{report.sent_now} sent now", f"{report.sent_before} had been sent already"]
    if report.failed:
        parts.append(f"{report.failed} failed (will retry)")
    if report.dead:
        parts.append(f"{report.dead} failed for good (see the worker's log)")
    if report.in_flight:
        parts.append(f"{report.in_flight} still being sent by a worker")
    return "digests: " + ", ".join(parts)
