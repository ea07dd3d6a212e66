"""The window of ``signoff report`` (DESIGN §8 "The window"): requests *submitted* in ``[start, end)``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.domain.durations import DURATION_HINT, parse_duration
from bot.domain.json_values import show_given
from bot.domain.moments import DATE_RANGE, EARLIEST, LATEST

DEFAULT_SINCE = "90d"
UTC = ZoneInfo("UTC")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
#: A duration's shape (any digits and a unit): one that has it but is refused (zero, too long) says why.
_DURATION_SHAPE = re.compile(r"[0-9]+\s*[smhdw]", re.ASCII)
_SINCE_HINT = f"{DURATION_HINT} back from now, or a date such as 2026-06-01"
_UNTIL_HINT = "a date such as 2026-06-01 (exclusive)"


@dataclass(frozen=True)
class Window:
    """Requests *submitted* in ``[start, end)``; both aware UTC."""

    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _day_start(text: str, option: str, hint: str, tz: ZoneInfo) -> datetime:
    if not _DATE.fullmatch(text):
        raise ValueError(f"{option} expects {hint}, got {show_given(text)}")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option}: {show_given(text)} is not a calendar date; expected {hint}") from None
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"{option}: {show_given(text)} is out of range; expected a date {DATE_RANGE}")
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def parse_window(since: str | None, until: str | None, *, now: datetime, timezone: ZoneInfo) -> Window:
    """The report window from ``--since`` / ``--until`` (DESIGN §8 "The window").

    ``since``: a duration back from ``now`` (``90d``, the default) or a date (midnight of that day
    in ``timezone``). ``until``: a date (exclusive: midnight of that day), default ``now``.
    Dates are bounded as every date in Signoff (``moments.DATE_RANGE``, 1900-01-01 to 2999-12-31)
    and durations by ``durations.MAX_DURATION``, so nothing computed from the window (its week
    starts included) can leave Python's calendar.
    Raises ``ValueError`` with a one-line message naming what is accepted for anything else,
    and when ``until`` is not after ``since``. ``now`` must be aware.
    """
    now = now.astimezone(UTC)
    since_text = DEFAULT_SINCE if since is None else since.strip()
    if _DATE.fullmatch(since_text):
        start = _day_start(since_text, "--since", _SINCE_HINT, timezone)
    else:
        try:
            start = now - parse_duration(since_text)
        except ValueError as exc:
            if _DURATION_SHAPE.fullmatch(since_text):  # a duration, refused for its size: say which limit
                raise ValueError(f"--since: {exc}") from None
            raise ValueError(f"--since expects {_SINCE_HINT}, got {show_given(since)}") from None
    end = now if until is None else _day_start(until.strip(), "--until", _UNTIL_HINT, timezone)
    if end <= start:
        given = "now" if until is None else show_given(until.strip())
        local = [moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M") for moment in (end, start)]
        raise ValueError(
            f"--until {given} ({local[0]}) must be after --since {show_given(since_text)} ({local[1]}, {timezone.key})"
        )
    return Window(start, end)
