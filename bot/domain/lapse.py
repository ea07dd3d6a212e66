"""When an approved exception ends, and when its requester and owner are warned (DESIGN §3.5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.domain.governance import Governance, Kind
from bot.domain.governance_spec import Category
from bot.domain.moments import LATEST
from bot.domain.requests import Request


def exception_lapse(
    governance: Governance, kind: Kind, request: Request, approved_at: datetime
) -> tuple[datetime, datetime] | None:
    """When an approved exception lapses, and when to warn before (never before approval).

    It holds until the end of its ``valid_until`` day in the governance timezone, or until
    ``max_duration`` after approval, whichever comes first (DESIGN §3.5). Any positive
    duration works: hours for an emergency exception, seconds in a test.
    """
    if kind.category is not Category.EXCEPTION:
        return None
    candidates: list[datetime] = []
    field = kind.spec.valid_until
    if field is not None and isinstance(request.fields.get(field), str):
        # Fields are bounded when they are validated; a date stored before that bound existed
        # (9999-12-31) is held at the bound instead of overflowing the calendar.
        last_day = min(date.fromisoformat(request.fields[field]), LATEST)
        end_of_day = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=governance.tz)
        candidates.append(end_of_day.astimezone(approved_at.tzinfo))
    if kind.spec.max_duration is not None:
        candidates.append(approved_at + kind.spec.max_duration)
    if not candidates:
        return None
    lapses_at = min(candidates)
    return lapses_at, approved_at + warning_delay(approved_at, lapses_at, kind.spec.warn_before)


def warning_delay(approved_at: datetime, lapses_at: datetime, warn_before: timedelta) -> timedelta:
    """How long after approval the "ends soon" warning is due: ``warn_before`` ahead of the end,
    but never in the first half of the validity, so a 4-hour exception with the default 3-day
    ``warn_before`` is warned 2 hours in, not at the moment it is approved."""
    validity = max(lapses_at - approved_at, timedelta(0))
    return validity - min(warn_before, validity / 2)
