"""When scheduled messages may go out: digest periods (cron, in the governance timezone) and working hours.

Wall-clock arithmetic is done in local time and converted back, so a schedule keeps its
local hour across daylight-saving changes ("09:00 Berlin" stays 09:00 in both seasons).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.domain.conditions import WEEKDAYS
from bot.domain.cron import Cron
from bot.domain.governance_spec import WorkingHours


def last_fire(cron: Cron, now: datetime, tz: tzinfo) -> datetime:
    """The latest time at or before ``now`` the schedule fired (aware UTC); its period's identity."""
    local_now = now.astimezone(tz).replace(tzinfo=None)
    candidate = cron.next_after(local_now - timedelta(days=8))
    previous = candidate
    while candidate <= local_now:
        previous = candidate
        candidate = cron.next_after(candidate)
    if previous > local_now:
        raise ValueError(f"{cron.expression!r} did not fire in the last 8 days")
    return _aware(previous, tz)


def previous_fire(cron: Cron, fire: datetime, tz: tzinfo) -> datetime:
    """The fire before ``fire`` (for "since the previous digest")."""
    return last_fire(cron, fire - timedelta(minutes=1), tz)


def next_allowed(moment: datetime, hours: WorkingHours, tz: tzinfo) -> datetime:
    """``moment`` if it falls within working hours in ``tz``, else the next start of working hours."""
    if hours.always:
        return moment
    local = moment.astimezone(tz)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if WEEKDAYS[day.weekday()] not in hours.days:
            continue
        start = _aware(datetime.combine(day, hours.start), tz)
        end = _aware(datetime.combine(day, hours.end), tz)
        if offset == 0 and start <= moment < end:
            return moment
        if moment < start:
            return start
    raise ValueError("working hours allow no day of the week")


def zone(name: str | None, default: tzinfo) -> tzinfo:
    """A person's timezone by IANA name, or ``default`` when Slack gave none we know."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return default


def _aware(local: datetime, tz: tzinfo) -> datetime:
    """A naive local wall time in ``tz`` as aware UTC (the earlier one when a DST change repeats it)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)
