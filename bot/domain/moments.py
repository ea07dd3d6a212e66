"""Dates and date-times as people type them, bounded so that nothing downstream can overflow.

The one place that reads a date (``YYYY-MM-DD``) or a date and time (``YYYY-MM-DD HH:MM``,
optionally with seconds and a UTC offset such as ``+01:00`` or ``Z``), for fields, for
``signoff explain --at`` and for the ``at`` of a file's tests. Only those forms, with the
digits 0-9, are read.

Range: dates from ``EARLIEST`` (1900-01-01) to ``LATEST`` (2999-12-31). A fixed range keeps
validation pure and deterministic, and leaves room for everything computed later from a
value that passed: a lapse at the end of the ``valid_until`` day, offsets in rules (``+7d``,
at most ``durations.MAX_DURATION``), SLA and expiry clocks. Python's calendar ends at 9999.

A wall time without an offset is read in the governance timezone. One that does not exist
there (the clocks jump forward over it) or exists twice (the clocks go back) is refused with
a message saying so; adding the UTC offset makes it exact. Nothing is shifted silently.
Where a bare date stands for a moment (``explain --at``, a file test's ``at``, ``audit export
--since``), it means the start of that day: its first instant, 01:00 on a day whose midnight
the clocks skip (America/Santiago, 2026-09-06). A ``datetime`` field still needs a time.
A UTC offset is at most 14 hours either way (the real range is -12:00 to +14:00); Python
alone would take up to ±23:59.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.domain.json_values import show_given

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
DATE_RANGE = f"from {EARLIEST.isoformat()} to {LATEST.isoformat()}"
#: The largest UTC offset a date-time may carry (UTC+14:00, Kiribati; UTC-12:00 is the lowest in use).
MAX_OFFSET = timedelta(hours=14)

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII | re.IGNORECASE,
)

_OFFSET_PART = re.compile(r"[+-]([0-9]{2}):([0-9]{2})$", re.ASCII)


def parse_date(raw: object) -> date:
    """A date from ``YYYY-MM-DD`` text or a ``date`` (YAML's), within the range; ``ValueError`` otherwise."""
    if isinstance(raw, datetime):
        raise ValueError("expected a date without a time, YYYY-MM-DD")
    value: date | None = raw if isinstance(raw, date) else None
    if isinstance(raw, str) and _DATE.fullmatch(raw.strip()):
        try:
            value = date.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError(f"{_show(raw)} is not a day of the calendar (expected YYYY-MM-DD)") from None
    if value is None:
        raise ValueError(f"expected a date, YYYY-MM-DD, got {_show(raw)}")
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"expected a date {DATE_RANGE}, got {_show(raw)}")
    return value


def parse_datetime(raw: object, tz: tzinfo, *, bare_date: bool = False) -> datetime:
    """An aware date-time from text or a ``datetime``; a wall time without an offset is read in ``tz``.

    With ``bare_date``, ``YYYY-MM-DD`` alone (or a ``date``) means the start of that day in
    ``tz`` (``start_of_day``). Raises ``ValueError`` for other forms, for dates outside the
    range, for an offset beyond ``MAX_OFFSET``, and for a wall time that ``tz`` skips or
    repeats (see the module docstring).
    """
    value: datetime | None = raw if isinstance(raw, datetime) else None
    bare = isinstance(raw, date) or (isinstance(raw, str) and _DATE.fullmatch(raw.strip()) is not None)
    if bare_date and value is None and bare:
        return start_of_day(parse_date(raw), tz)
    if isinstance(raw, str) and _DATETIME.fullmatch(raw.strip()):
        written = _OFFSET_PART.search(raw.strip())
        if written and (int(written.group(1)) > 14 or int(written.group(2)) > 59):  # +25:00, +01:60: said as such
            raise ValueError(f"expected a UTC offset from -14:00 to +14:00, got {_show(raw)}")
        try:
            value = datetime.fromisoformat(raw.strip().upper())
        except ValueError:
            said = "is not a time of the calendar (no such month, day, hour or minute)"
            raise ValueError(f"{_show(raw)} {said}") from None
    if value is None:
        raise ValueError(f"expected a date and time, YYYY-MM-DD HH:MM, got {_show(raw)}")
    if not EARLIEST <= value.date() <= LATEST:
        raise ValueError(f"expected a date and time {DATE_RANGE}, got {_show(raw)}")
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValueError(f"expected a UTC offset from -14:00 to +14:00, got {_show(raw)}")
    return value if value.tzinfo is not None else local_time(value, tz)


def start_of_day(day: date, tz: tzinfo) -> datetime:
    """The first instant of ``day`` in ``tz``: midnight, or when the clocks skip it, the end of the jump.

    A midnight that happens twice gives the first of the two. ``ValueError`` when ``tz`` skips
    the whole day (Pacific/Apia, 2011-12-30).
    """
    midnight = datetime.combine(day, datetime.min.time())
    first = midnight.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == midnight:
        return first  # midnight exists (the first of two, if it repeats)
    # Skipped: the day begins at the jump, which lies between midnight read with the offset after
    # it (earlier in UTC) and with the offset before it. Find that instant to the second.
    # Time zone transitions fall on whole seconds, so whole seconds find it exactly.
    low, high = sorted(int(midnight.replace(tzinfo=tz, fold=fold).timestamp()) for fold in (0, 1))
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).date() >= day:
            high = middle
        else:
            low = middle
    start = datetime.fromtimestamp(high, tz)
    if start.date() != day:
        zone = getattr(tz, "key", None) or str(tz)
        raise ValueError(f"{day.isoformat()} does not exist in {zone} (the clocks skip the whole day)")
    return start


def local_time(wall: datetime, tz: tzinfo) -> datetime:
    """``wall`` (naive) as an aware time in ``tz``; ``ValueError`` when ``tz`` skips or repeats it."""
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    shown = wall.isoformat(sep=" ", timespec="minutes")
    zone = getattr(tz, "key", None) or str(tz)
    offsets = " or ".join(f"{shown}{_offset(moment)}" for moment in (first, second))
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise ValueError(
            f"{shown} does not exist in {zone} (the clocks jump forward over it); "
            f"give a time outside the jump, or add a UTC offset: {offsets}"
        )
    raise ValueError(f"{shown} happens twice in {zone} (the clocks go back); add its UTC offset: {offsets}")


def _offset(moment: datetime) -> str:
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def _show(raw: object) -> str:
    return show_given(raw)
