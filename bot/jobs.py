"""Scheduled work, registered explicitly with APScheduler: sweeps, digests, owners' weekly
summaries, the people directory, cards following eligibility, and retention.

Every job works from the database and the runtime's clock, never from in-process state, so
any number of workers may run them. Sweeps re-check each request under its row lock; a
digest run is claimed in the database per minute (``job_runs``), and each digest has an
outbox key per (person, period), so none is ever sent twice; the weekly summaries are claimed
the same way, with an outbox key per (owner, ISO week). The people directory job asks
Slack about people due a check (outside any transaction); the cards job queues what makes
every pending request's cards match who may decide it (fixed outbox keys: never twice).
Timezones come from the directory, read once per pass. Retention runs hourly, claimed
the same way. Each run's result is reported to the runtime's observer (job runs metric).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.services.digests import TimezoneOf, queue_digests
from bot.services.people import DirectoryTimezones, PeopleSource, refresh_people
from bot.services.reconcile import cards_follow_eligibility
from bot.services.retention import prune_history
from bot.services.runtime import Runtime
from bot.services.surface_summary import queue_surface_summaries
from bot.services.sweeps import escalate_due, expire_due, lapse_due

log = logging.getLogger("signoff.jobs")

SWEEP_SECONDS = 30
DIGEST_SECONDS = 60
PEOPLE_SECONDS = 30
CARDS_SECONDS = 60
RETENTION_SECONDS = 3600
SURFACE_SECONDS = 300
RETENTION_DAYS = 90
SWEEPS_JOB, DIGESTS_JOB, RETENTION_JOB = "signoff.sweeps", "signoff.digests", "signoff.retention"
PEOPLE_JOB, CARDS_JOB, RELOAD_JOB = "signoff.people", "signoff.cards", "signoff.after-reload"
SURFACE_JOB = "signoff.surface-summaries"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_sweeps(runtime: Runtime, timezone_of: TimezoneOf) -> None:
    result = "ok"
    for sweep in (escalate_due, expire_due, lapse_due):
        try:
            sweep(runtime=runtime, timezone_of=timezone_of)
        except Exception:  # one failing sweep must not stop the others, nor the next run
            log.exception("%s failed; it runs again in %ss", sweep.__name__, SWEEP_SECONDS)
            result = "error"
    runtime.observer.job_ran(job=SWEEPS_JOB, result=result)


def run_digests(runtime: Runtime, timezone_of: TimezoneOf) -> bool:
    """Queue due digests, if this worker claims this minute's run; True when it did."""
    with _observed(runtime, DIGESTS_JOB) as outcome:
        claimed = _run_digests(runtime, timezone_of)
        outcome["result"] = "ok" if claimed else "skipped"
    return claimed


def run_surface_summaries(runtime: Runtime, timezone_of: TimezoneOf) -> bool:
    """Queue owners' weekly summaries whose Monday window is open, if this worker claims this
    minute's run; True when it did. Each summary is one outbox row per (owner, ISO week)."""
    with _observed(runtime, SURFACE_JOB) as outcome:
        now = runtime.clock.now()
        with runtime.uow() as uow:
            claimed = uow.job_runs.claim(
                f"surface:{now.replace(second=0, microsecond=0).isoformat()}", owner=worker_name(), now=now
            )
            uow.commit()
        if claimed:
            report = queue_surface_summaries(runtime=runtime, timezone_of=timezone_of)
            if report.queued:
                log.info("queued %d weekly decision-surface summaries", report.queued)
        outcome["result"] = "ok" if claimed else "skipped"
    return claimed


def run_retention(runtime: Runtime, days: int) -> bool:
    """Delete sent outbox rows and run records older than ``days``, if this worker claims this hour's run."""
    with _observed(runtime, RETENTION_JOB) as outcome:
        pruned = prune_history(runtime=runtime, days=days, owner=worker_name())
        outcome["result"] = "skipped" if pruned is None else "ok"
    if pruned is not None and (pruned.outbox_rows or pruned.job_runs):
        log.info("retention: deleted %d sent outbox rows, %d run records", pruned.outbox_rows, pruned.job_runs)
    return pruned is not None


@contextmanager
def _observed(runtime: Runtime, job: str) -> Iterator[dict[str, str]]:
    """Report the run's ``result`` (``error`` when it raised) to the runtime's observer."""
    outcome = {"result": "error"}
    try:
        yield outcome
    finally:
        runtime.observer.job_ran(job=job, result=outcome["result"])


def _run_digests(runtime: Runtime, timezone_of: TimezoneOf) -> bool:
    now = runtime.clock.now()
    key = f"digests:{now.replace(second=0, microsecond=0).isoformat()}"
    with runtime.uow() as uow:
        claimed = uow.job_runs.claim(key, owner=worker_name(), now=now)
        uow.commit()
    if claimed:
        report = queue_digests(runtime=runtime, timezone_of=timezone_of)
        if report.queued:
            log.info("queued %d digests", report.queued)
    return claimed


def run_people(runtime: Runtime, source: PeopleSource) -> None:
    """Refresh the people directory; when someone was deactivated (or came back), cards follow at once."""
    with _observed(runtime, PEOPLE_JOB) as outcome:
        report = refresh_people(runtime=runtime, source=source)
        outcome["result"] = "ok"
    if report.changed:
        run_cards(runtime)


def run_cards(runtime: Runtime) -> None:
    """Make pending requests' cards follow eligibility (after a reload, a directory change, or periodically)."""
    with _observed(runtime, CARDS_JOB) as outcome:
        report = cards_follow_eligibility(runtime=runtime)
        outcome["result"] = "ok"
    if report.posted or report.updated:
        log.info("cards follow eligibility: %d cards and %d updates queued", report.posted, report.updated)


def run_after_reload(runtime: Runtime, source: PeopleSource) -> None:
    """After a governance reload: ask Slack about everyone it names now, then make the cards follow."""
    refresh_people(runtime=runtime, source=source, max_age=timedelta(0))
    run_cards(runtime)


def wake(scheduler: BackgroundScheduler, runtime: Runtime, source: PeopleSource) -> None:
    """Schedule ``run_after_reload`` at once (one pending run: reloads in a burst coalesce)."""
    try:
        scheduler.add_job(run_after_reload, "date", id=RELOAD_JOB, args=[runtime, source], replace_existing=True)
    except Exception:  # the scheduler is shutting down: the next start follows anyway
        log.warning("could not follow the reload now; the %s job does it within %ss", CARDS_JOB, CARDS_SECONDS)


def start_scheduler(
    runtime: Runtime,
    people: PeopleSource,
    *,
    digest_seconds: float = DIGEST_SECONDS,
    retention_days: int = RETENTION_DAYS,
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": SWEEP_SECONDS}
    )
    now = runtime.clock.now()
    timezone_of = DirectoryTimezones(runtime)
    scheduler.add_job(
        run_sweeps, "interval", seconds=SWEEP_SECONDS, id=SWEEPS_JOB, args=[runtime, timezone_of], next_run_time=now
    )
    scheduler.add_job(
        run_digests, "interval", seconds=digest_seconds, id=DIGESTS_JOB, args=[runtime, timezone_of], next_run_time=now
    )
    scheduler.add_job(
        run_surface_summaries,
        "interval",
        seconds=SURFACE_SECONDS,
        id=SURFACE_JOB,
        args=[runtime, timezone_of],
        next_run_time=now,
    )
    scheduler.add_job(
        run_people, "interval", seconds=PEOPLE_SECONDS, id=PEOPLE_JOB, args=[runtime, people], next_run_time=now
    )
    scheduler.add_job(run_cards, "interval", seconds=CARDS_SECONDS, id=CARDS_JOB, args=[runtime], next_run_time=now)
    scheduler.add_job(
        run_retention,
        "interval",
        seconds=RETENTION_SECONDS,
        id=RETENTION_JOB,
        args=[runtime, retention_days],
        next_run_time=now,
    )
    scheduler.start()
    return scheduler
