"""Digest periods and working hours, in local wall time across daylight-saving changes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.cron import Cron, parse_cron
from bot.domain.governance_spec import WorkingHours
from bot.domain.schedule import fires, last_fire, merged_into_next, next_allowed, previous_fire, summary_week

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


# Zones and their 2026 change days: northern and southern hemisphere, a change at midnight
# (Santiago), a 30-minute change (Lord Howe) and a zone without daylight saving (Kolkata).
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "America/Santiago", "Australia/Lord_Howe"]
NO_DST = "Asia/Kolkata"


def changes(tz: ZoneInfo, year: int = 2026) -> list[datetime]:
    """The instants (aware UTC) of ``year`` at which ``tz``'s UTC offset changes."""
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    while moment.year == year:
        later = moment + timedelta(minutes=30)
        if moment.astimezone(tz).utcoffset() != later.astimezone(tz).utcoffset():
            found.append(later)
        moment = later
    return found


def expected_fire(tz: ZoneInfo, day: date, wall: time) -> datetime:
    """The wall time's first occurrence, or, when the change skips it, the change itself."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return first.astimezone(UTC)
    moment = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    while moment.astimezone(tz).replace(tzinfo=None) < naive:
        moment += timedelta(minutes=1)
    return moment


def periods_seen(cron: Cron, tz: ZoneInfo, start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """The period a digest pass running every ``step`` from ``start`` to ``end`` works on, each pass."""
    seen, moment = [], start
    while moment < end:
        seen.append(last_fire(cron, moment, tz))
        moment += step
    return seen


@pytest.mark.parametrize("name", [*ZONES, NO_DST])
def test_every_hour_and_half_hour_fires_once_a_day_on_both_change_days(name: str) -> None:
    tz = ZoneInfo(name)
    instants = changes(tz)
    assert len(instants) == (0 if name == NO_DST else 2)
    for change in instants or [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)]:
        day = change.astimezone(tz).date()
        days = [day + timedelta(days=n) for n in (-2, -1, 0, 1, 2)]
        start = datetime.combine(days[1], time(0), tzinfo=tz).astimezone(UTC)
        for hour, minute in itertools.product(range(24), (0, 30)):
            where = f"{name} {day} {hour:02}:{minute:02}"
            cron = parse_cron(f"{minute} {hour} * * *")
            expected = [expected_fire(tz, d, time(hour, minute)) for d in days]
            fired = list(itertools.islice(fires(cron, start - timedelta(microseconds=1), tz), 4))
            assert fired == expected[1:], where  # one a day, strictly increasing, on the change day too
            # A pass every 10 minutes around the change (through the repeated hour too) moves
            # forward through exactly these periods: never back to yesterday's, none twice.
            seen = periods_seen(
                cron, tz, change - timedelta(hours=2), change + timedelta(hours=2), timedelta(minutes=10)
            )
            assert all(a <= b for a, b in itertools.pairwise(seen)), where
            assert set(seen) <= set(expected), where


def test_a_time_the_fall_back_repeats_fires_at_its_first_occurrence() -> None:
    # Berlin repeats 02:00–03:00 on Sunday 2026-10-25: 02:30 CEST is 00:30 UTC, 02:30 CET 01:30 UTC.
    daily = parse_cron("30 2 * * *")
    assert last_fire(daily, utc("2026-10-25T00:30+00:00"), BERLIN) == utc("2026-10-25T02:30+02:00")
    assert last_fire(daily, utc("2026-10-25T01:10+00:00"), BERLIN) == utc("2026-10-25T02:30+02:00")  # 02:10 CET
    assert last_fire(daily, utc("2026-10-25T01:45+00:00"), BERLIN) == utc("2026-10-25T02:30+02:00")  # 02:45 CET
    assert previous_fire(daily, utc("2026-10-26T02:30+01:00"), BERLIN) == utc("2026-10-25T02:30+02:00")


def test_a_time_the_spring_forward_skips_fires_at_the_change() -> None:
    # Berlin skips 02:00–03:00 on Sunday 2026-03-29: 02:30 fires at 03:00 CEST, the first instant after the gap.
    daily = parse_cron("30 2 * * *")
    assert last_fire(daily, utc("2026-03-29T03:00+02:00"), BERLIN) == utc("2026-03-29T03:00+02:00")
    assert last_fire(daily, utc("2026-03-29T01:59+01:00"), BERLIN) == utc("2026-03-28T02:30+01:00")
    # Lord Howe skips 02:00–02:30 on 2026-10-04: 02:15 fires at 02:30 (+11:00).
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    assert last_fire(parse_cron("15 2 * * *"), utc("2026-10-04T12:00+11:00"), lord_howe) == utc(
        "2026-10-04T02:30+11:00"
    )
    # Two wall times landing on the same instant are one period.
    both = parse_cron("0 2,3 * * *")
    assert list(itertools.islice(fires(both, utc("2026-03-29T00:00+01:00"), BERLIN), 2)) == [
        utc("2026-03-29T03:00+02:00"),
        utc("2026-03-30T02:00+02:00"),
    ]


def test_a_monthly_schedule_has_a_period_too() -> None:
    assert last_fire(parse_cron("0 9 1 * *"), utc("2026-03-27T12:00+01:00"), BERLIN) == utc("2026-03-01T09:00+01:00")


def test_a_held_back_digest_merges_into_the_next_period_within_an_hour_of_it() -> None:
    tuesday, wednesday = utc("2026-03-03T09:00+01:00"), utc("2026-03-04T09:00+01:00")
    assert merged_into_next(tuesday, utc("2026-03-04T08:00+01:00"), wednesday)  # an evening's, held to 08:00
    assert merged_into_next(tuesday, utc("2026-03-04T10:00+01:00"), wednesday)  # held back past the next
    assert not merged_into_next(tuesday, utc("2026-03-04T07:59+01:00"), wednesday)
    assert not merged_into_next(tuesday, utc("2026-03-03T17:00+01:00"), wednesday)
    # Within the first hour of its own period a digest is never merged: hourly schedules never defer.
    ten, eleven = utc("2026-03-04T10:00+01:00"), utc("2026-03-04T11:00+01:00")
    assert not merged_into_next(ten, utc("2026-03-04T10:59+01:00"), eleven)
    assert merged_into_next(ten, utc("2026-03-04T11:00+01:00"), eleven)


MON_TO_FRI = WorkingHours()
TUE_WED = WorkingHours.model_validate({"days": ["tue", "wed"], "from": "10:00", "to": "12:00"})


@pytest.mark.parametrize(
    ("moment", "hours", "week"),
    [
        ("2026-03-02T07:59+01:00", MON_TO_FRI, None),  # Monday, before working hours
        ("2026-03-02T08:00+01:00", MON_TO_FRI, "2026-W10"),
        ("2026-03-02T17:59+01:00", MON_TO_FRI, "2026-W10"),
        ("2026-03-02T18:00+01:00", MON_TO_FRI, None),  # Monday's hours are over: not later in the week
        ("2026-03-03T09:00+01:00", MON_TO_FRI, None),
        ("2026-03-01T12:00+01:00", MON_TO_FRI, None),  # Sunday
        ("2026-03-02T00:00+01:00", WorkingHours(always=True), "2026-W10"),  # all Monday
        ("2026-03-03T00:00+01:00", WorkingHours(always=True), None),
        ("2026-03-02T11:00+01:00", TUE_WED, None),  # no work on Mondays: the week's first working day
        ("2026-03-03T10:30+01:00", TUE_WED, "2026-W10"),
        ("2026-03-04T10:30+01:00", TUE_WED, None),
        ("2026-03-30T08:00+02:00", MON_TO_FRI, "2026-W14"),  # the Monday after summer time began
        ("2026-12-28T09:00+01:00", MON_TO_FRI, "2026-W53"),  # ISO weeks: 2026 has 53
        ("2027-01-04T09:00+01:00", MON_TO_FRI, "2027-W01"),
    ],
)
def test_a_weekly_summary_goes_out_in_the_first_working_hours_of_the_week(
    moment: str, hours: WorkingHours, week: str | None
) -> None:
    assert summary_week(utc(moment), hours, BERLIN) == week
