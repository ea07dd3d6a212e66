"""Five-field cron expressions (``minute hour day month weekday``) for digest schedules.

Weekdays follow standard cron: 0 and 7 are Sunday, names ``MON``–``SUN`` work in any case.
Day-of-month and weekday combine as in Vixie cron: when both are restricted, either matches.
A field that starts with ``*`` (``*``, ``*/2``) counts as unrestricted for that rule, so
``0 9 */2 * MON`` fires on Mondays that fall on an odd day, not on every odd day and every Monday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.json_values import show_given

#: A number in a cron field: ASCII digits only (``str.isdigit`` and ``int`` also take "٣" as 3).
_DIGITS = re.compile(r"[0-9]{1,9}", re.ASCII)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("weekday", 0, 7, _DAYS),
)


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def matches(self, moment: datetime) -> bool:
        return (
            moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.month in self.months
            and self._day_matches(moment)
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after ``moment``, in ``moment``'s own (wall-clock) time."""
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = candidate + timedelta(days=366 * 5)
        while candidate < limit:
            if candidate.month not in self.months:
                candidate = (candidate.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_matches(candidate):
                candidate = candidate.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if candidate.hour not in self.hours:
                candidate = candidate.replace(minute=0) + timedelta(hours=1)
                continue
            if candidate.minute not in self.minutes:
                candidate += timedelta(minutes=1)
                continue
            return candidate
        raise ValueError(f"cron {show_given(self.expression)} never fires")

    def _day_matches(self, moment: datetime) -> bool:
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok


def parse_cron(expression: str) -> Cron:
    """Parse a cron expression; raise ``ValueError`` naming the part that is wrong."""
    if not isinstance(expression, str):
        raise ValueError('a schedule is a cron expression in quotes, such as "0 9 * * MON-FRI"')
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(
            f"a cron expression has 5 parts (minute hour day month weekday), got {len(parts)}: {show_given(expression)}"
        )
    sets = [_parse_part(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[4])  # 7 is Sunday too
    days_restricted = not parts[2].startswith("*")
    if days_restricted and parts[4].startswith("*"):
        _check_some_month_has_the_days(sets[2], sets[3])
    return Cron(
        expression=expression,
        minutes=sets[0],
        hours=sets[1],
        days=sets[2],
        months=sets[3],
        weekdays=weekdays,
        days_restricted=days_restricted,
        weekdays_restricted=not parts[4].startswith("*"),
    )


#: The most days each month can have (February: 29, in leap years).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _check_some_month_has_the_days(days: frozenset[int], months: frozenset[int]) -> None:
    """With only the day of month restricted, a day must exist in a chosen month or it never fires."""
    if any(day <= _MONTH_DAYS[month - 1] for day in days for month in months):
        return
    names = ", ".join(_MONTHS[m - 1].capitalize() for m in sorted(months))
    raise ValueError(
        f"day of month: there is no day {', '.join(str(d) for d in sorted(days))} in {names}, "
        "so this schedule never fires"
    )


def _parse_part(part: str, name: str, low: int, high: int, names: tuple[str, ...]) -> frozenset[int]:
    values: set[int] = set()
    for item in part.split(","):
        body, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not _DIGITS.fullmatch(step_text) or int(step_text) == 0:
                raise ValueError(f"{name}: step “{step_text}” must be a positive number")
            step = int(step_text)
        if body == "*":
            start, end = low, high
        else:
            first, dash, last = body.partition("-")
            start = _value(first, name, low, high, names)
            end = _value(last, name, low, high, names) if dash else (high if step_text else start)
            if start > end:
                raise ValueError(f"{name}: range “{body}” runs backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names.index(lowered) + (1 if names is _MONTHS else 0)
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        hint = f" or a name such as {names[1].upper()}" if names else ""
        raise ValueError(f"{name}: “{text}” is not a number from {low} to {high}{hint}")
    return int(text)
