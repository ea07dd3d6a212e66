"""Digest periods and working hours, in local wall time across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.domain.cron import parse_cron
from bot.domain.governance_spec import WorkingHours
from bot.domain.schedule import last_fire, next_allowed, previous_fire

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_9 = parse_cron("0 9 * * MON-FRI")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_the_period_is_the_last_fire_in_local_time() -> None:
    assert last_fire(WEEKDAYS_9, utc("2026-03-04T10:00+01:00"), BERLIN) == utc("2026-03-04T09:00+01:00")
    assert last_fire(WEEKDAYS_9, utc("2026-03-04T08:59+01:00"), BERLIN) == utc("2026-03-03T09:00+01:00")
    assert last_fire(WEEKDAYS_9, utc("2026-03-08T12:00+01:00"), BERLIN) == utc(
        "2026-03-06T09:00+01:00"
    )  # Sunday → Friday
    assert previous_fire(WEEKDAYS_9, utc("2026-03-09T09:00+01:00"), BERLIN) == utc("2026-03-06T09:00+01:00")


def test_nine_oclock_stays_nine_oclock_across_the_dst_change() -> None:
    # Berlin moves to summer time on Sunday 2026-03-29.
    assert last_fire(WEEKDAYS_9, utc("2026-03-27T12:00+01:00"), BERLIN) == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert last_fire(WEEKDAYS_9, utc("2026-03-30T12:00+02:00"), BERLIN) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    # and back on Sunday 2026-10-25
    assert last_fire(WEEKDAYS_9, utc("2026-10-26T12:00+01:00"), BERLIN) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_messages_wait_for_working_hours_in_the_recipients_zone() -> None:
    hours = WorkingHours()
    new_york = ZoneInfo("America/New_York")
    inside = utc("2026-03-04T10:00-05:00")
    assert next_allowed(inside, hours, new_york) == inside
    assert next_allowed(utc("2026-03-04T03:00-05:00"), hours, new_york) == utc("2026-03-04T08:00-05:00")
    assert next_allowed(utc("2026-03-04T18:00-05:00"), hours, new_york) == utc("2026-03-05T08:00-05:00")
    assert next_allowed(utc("2026-03-06T19:00-05:00"), hours, new_york) == utc(
        "2026-03-09T08:00-04:00"
    )  # Fri night → Mon, after DST
    assert next_allowed(utc("2026-03-07T12:00+00:00"), WorkingHours(always=True), new_york) == utc(
        "2026-03-07T12:00+00:00"
    )
