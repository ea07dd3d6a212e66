"""Retention: delete what is only kept for operations once it is older than the retention period.

Sent outbox rows and scheduler run records older than ``days`` go. Requests, votes, the audit
log, posted card references and dead (undelivered) outbox rows are never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.services.runtime import Runtime


@dataclass(frozen=True)
class Pruned:
    outbox_rows: int
    job_runs: int


def prune_history(*, runtime: Runtime, days: int, owner: str) -> Pruned | None:
    """Delete sent outbox rows and run records older than ``days`` days (≥ 1).

    The run is claimed per hour in ``job_runs``, so several workers prune once; returns None
    when another worker had already claimed this hour.
    """
    if days < 1:
        raise ValueError("retention keeps at least one day")
    now = runtime.clock.now()
    cutoff = now - timedelta(days=days)
    key = f"retention:{now.replace(minute=0, second=0, microsecond=0).isoformat()}"
    with runtime.uow() as uow:
        if not uow.job_runs.claim(key, owner=owner, now=now):
            return None
        pruned = Pruned(uow.outbox.delete_sent_before(cutoff), uow.job_runs.delete_before(cutoff))
        uow.commit()
    return pruned
