"""When scheduled messages may go out: digest periods (cron, in the governance timezone), working
hours, and the week of an owner's decision-surface summary (``summary_week``).

A schedule keeps its local hour across daylight-saving changes ("09:00 Berlin" stays 09:00 in
both seasons), but periods are instants (aware UTC), never naive wall times:

- a wall time the fall-back repeats fires once, at its first occurrence (as standard cron does);
- a wall time the spring-forward skips fires once, at the first valid instant after the gap
  (the moment of the change: 02:30 Berlin on the spring-forward Sunday fires at 03:00 CEST);
- fires are strictly increasing instants: wall times that land on the same instant are one fire.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.domain.conditions import WEEKDAYS
from bot.domain.cron import Cron
from bot.domain.governance_spec import WorkingHours
from bot.domain.json_values import show_given

#: How far back ``last_fire`` looks, widening until the schedule has fired (monthly and yearly crons).
_LOOKBACK = (timedelta(hours=2), timedelta(days=1), timedelta(days=8), timedelta(days=32), timedelta(days=366 * 5))

#: A digest held back this long past its period, and due within this long of the next one, merges into it.
MERGE_WINDOW = timedelta(hours=1)


def fires(cron: Cron, after: datetime, tz: tzinfo) -> Iterator[datetime]:
    """The schedule's fires (aware UTC), strictly increasing, from the first wall time after ``after``.

    ``after`` is aware; the iteration starts at its local wall time in ``tz`` and is unbounded
    (``Cron.next_after`` raises ``ValueError`` for a schedule that never fires).
    """
    wall = after.astimezone(tz).replace(tzinfo=None)
    previous: datetime | None = None
    while True:
        wall = cron.next_after(wall)
        instant = wall_instant(wall, tz)
        if previous is None or instant > previous:
            previous = instant
            yield instant


def last_fire(cron: Cron, now: datetime, tz: tzinfo) -> datetime:
    """The latest fire at or before ``now`` (aware UTC); its period's identity.

    Raises ``ValueError`` when the schedule did not fire in the last five years.
    """
    for lookback in _LOOKBACK:
        latest = None
        for instant in fires(cron, now - lookback, tz):
            if instant > now:
                break
            latest = instant
        if latest is not None:
            return latest
    raise ValueError(f"{show_given(cron.expression)} did not fire in the last five years")


def previous_fire(cron: Cron, fire: datetime, tz: tzinfo) -> datetime:
    """The fire strictly before ``fire`` (for "since the previous digest")."""
    return last_fire(cron, fire - timedelta(microseconds=1), tz)


def next_fire(cron: Cron, fire: datetime, tz: tzinfo) -> datetime:
    """The first fire strictly after ``fire`` (aware UTC)."""
    for instant in fires(cron, fire - timedelta(days=1), tz):
        if instant > fire:
            return instant
    raise AssertionError("unreachable: fires() is unbounded")  # pragma: no cover


def merged_into_next(period: datetime, due: datetime, following: datetime) -> bool:
    """Whether the digest of ``period``, able to go out at ``due``, is left to the next period's.

    A digest held back (by working hours, or because its items came in after the period began)
    until an hour or more after its period started, that would then go out within an hour of the
    next period's start ``following`` — or after it — is merged into the next period's digest:
    one digest a morning, not two an hour apart. A digest that goes out within the first hour of
    its own period is never merged, so schedules an hour apart or closer never defer. All aware.
    """
    return due - period >= MERGE_WINDOW and following - due <= MERGE_WINDOW


def next_allowed(moment: datetime, hours: WorkingHours, tz: tzinfo) -> datetime:
    """``moment`` if it falls within working hours in ``tz``, else the next start of working hours."""
    if hours.always:
        return moment
    local = moment.astimezone(tz)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if WEEKDAYS[day.weekday()] not in hours.days:
            continue
        start = wall_instant(datetime.combine(day, hours.start), tz)
        end = wall_instant(datetime.combine(day, hours.end), tz)
        if offset == 0 and start <= moment < end:
            return moment
        if moment < start:
            return start
    raise ValueError("working hours allow no day of the week")


def summary_week(now: datetime, hours: WorkingHours, tz: tzinfo) -> str | None:
    """The ISO week (``2026-W10``) whose weekly summary may go out at ``now``, or None.

    A week's summary goes out on its Monday (in ``tz``, the owner's timezone), within working
    hours: from the first moment of working hours on or after Monday 00:00 to the end of that
    working day (with ``always``: all Monday). With working hours that skip Monday, it is the
    week's first working day. Outside that window (say Monday 07:00, or Tuesday) None: a week
    whose window passed unused has no summary, so none arrives days late. ``now`` is aware.
    """
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    start = next_allowed(wall_instant(datetime.combine(monday, time.min), tz), hours, tz)
    day = start.astimezone(tz).date()
    if hours.always:
        end = wall_instant(datetime.combine(monday + timedelta(days=1), time.min), tz)
    else:
        end = wall_instant(datetime.combine(day, hours.end), tz)
    if not (start <= now < end) or day - monday >= timedelta(days=7):
        return None
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def zone(name: str | None, default: tzinfo) -> tzinfo:
    """A person's timezone by IANA name, or ``default`` when Slack gave none we know."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return default


def wall_instant(local: datetime, tz: tzinfo) -> datetime:
    """The instant (aware UTC) a naive wall time in ``tz`` names.

    A wall time the fall-back repeats is its first occurrence; one the spring-forward skips is
    the first valid instant after the gap (the change itself).
    """
    instant = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == local:
        return instant
    # Skipped: the earliest offset reading gives an instant inside (before) the change; walk to it.
    earliest = min(local.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
    latest = max(local.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
    while latest - earliest > timedelta(minutes=1):  # the change is in (earliest, latest]
        middle = earliest + (latest - earliest) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle.astimezone(tz).replace(tzinfo=None) < local:
            earliest = middle
        else:
            latest = middle
    return latest
