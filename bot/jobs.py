"""Scheduled work, registered explicitly with APScheduler: sweeps, digests, the people
directory and cards following eligibility.

Every job works from the database and the runtime's clock, never from in-process state, so
any number of workers may run them. Sweeps re-check each request under its row lock; a
digest run is claimed in the database per minute (``job_runs``), and each digest has an
outbox key per (person, period), so none is ever sent twice. The people directory job asks
Slack about people due a check (outside any transaction); the cards job queues what makes
every pending request's cards match who may decide it (fixed outbox keys: never twice).
Timezones come from the directory, read once per pass.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.services.digests import TimezoneOf, queue_digests
from bot.services.people import DirectoryTimezones, PeopleSource, refresh_people
from bot.services.reconcile import cards_follow_eligibility
from bot.services.runtime import Runtime
from bot.services.sweeps import escalate_due, expire_due, lapse_due

log = logging.getLogger("signoff.jobs")

SWEEP_SECONDS = 30
DIGEST_SECONDS = 60
PEOPLE_SECONDS = 30
CARDS_SECONDS = 60
SWEEPS_JOB, DIGESTS_JOB = "signoff.sweeps", "signoff.digests"
PEOPLE_JOB, CARDS_JOB, RELOAD_JOB = "signoff.people", "signoff.cards", "signoff.after-reload"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_sweeps(runtime: Runtime, timezone_of: TimezoneOf) -> None:
    for sweep in (escalate_due, expire_due, lapse_due):
        try:
            sweep(runtime=runtime, timezone_of=timezone_of)
        except Exception:  # one failing sweep must not stop the others, nor the next run
            log.exception("%s failed; it runs again in %ss", sweep.__name__, SWEEP_SECONDS)


def run_digests(runtime: Runtime, timezone_of: TimezoneOf) -> bool:
    """Queue due digests, if this worker claims this minute's run; True when it did."""
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
    report = refresh_people(runtime=runtime, source=source)
    if report.changed:
        run_cards(runtime)


def run_cards(runtime: Runtime) -> None:
    """Make pending requests' cards follow eligibility (after a reload, a directory change, or periodically)."""
    report = cards_follow_eligibility(runtime=runtime)
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
    runtime: Runtime, people: PeopleSource, *, digest_seconds: float = DIGEST_SECONDS
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
        run_people, "interval", seconds=PEOPLE_SECONDS, id=PEOPLE_JOB, args=[runtime, people], next_run_time=now
    )
    scheduler.add_job(run_cards, "interval", seconds=CARDS_SECONDS, id=CARDS_JOB, args=[runtime], next_run_time=now)
    scheduler.start()
    return scheduler
