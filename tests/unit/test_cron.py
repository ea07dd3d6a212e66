"""Cron expressions fire when standard (Vixie) cron fires them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.domain.cron import parse_cron

#: Tuesday 1 December 2026, midnight (wall time).
START = datetime(2026, 12, 1, 0, 0)


def fires(expression: str, count: int) -> list[str]:
    cron = parse_cron(expression)
    moments, moment = [], START
    for _ in range(count):
        moment = cron.next_after(moment)
        moments.append(moment.strftime("%Y-%m-%d %H:%M %a"))
    return moments


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # Day of month starts with `*`: unrestricted for the OR rule, so both must hold (odd Mondays).
        ("0 9 */2 * MON", ["2026-12-07 09:00 Mon", "2026-12-21 09:00 Mon", "2027-01-11 09:00 Mon"]),
        # Weekday starts with `*`: both must hold (the 1st, when it is a Sun, Tue, Thu or Sat).
        ("0 9 1 * */2", ["2026-12-01 09:00 Tue", "2027-04-01 09:00 Thu", "2027-05-01 09:00 Sat"]),
        # Both start with `*`: both must hold.
        ("0 9 */10 * */3", ["2027-01-31 09:00 Sun", "2027-02-21 09:00 Sun", "2027-03-21 09:00 Sun"]),
        ("0 9 * * */2", ["2026-12-01 09:00 Tue", "2026-12-03 09:00 Thu", "2026-12-05 09:00 Sat"]),
        # Both restricted (no leading `*`): either matches.
        ("0 9 1-31 * MON", ["2026-12-01 09:00 Tue", "2026-12-02 09:00 Wed", "2026-12-03 09:00 Thu"]),
        ("0 9 1,15 * MON", ["2026-12-01 09:00 Tue", "2026-12-07 09:00 Mon", "2026-12-14 09:00 Mon"]),
        ("0 9 2-30/14 * FRI", ["2026-12-02 09:00 Wed", "2026-12-04 09:00 Fri", "2026-12-11 09:00 Fri"]),
        # Only one restricted: that one decides.
        ("0 9 * * MON-FRI", ["2026-12-01 09:00 Tue", "2026-12-02 09:00 Wed", "2026-12-03 09:00 Thu"]),
        ("30 8 15 * *", ["2026-12-15 08:30 Tue", "2027-01-15 08:30 Fri", "2027-02-15 08:30 Mon"]),
        ("0 */12 * * 0", ["2026-12-06 00:00 Sun", "2026-12-06 12:00 Sun", "2026-12-13 00:00 Sun"]),
    ],
)
def test_next_fire_times_follow_standard_cron(expression: str, expected: list[str]) -> None:
    assert fires(expression, len(expected)) == expected


@pytest.mark.parametrize("expression", ["0 9 31 2 *", "0 9 30,31 2 *", "0 9 31 4,6,9,11 *", "0 9 30-31 feb *"])
def test_a_schedule_that_never_fires_is_refused(expression: str) -> None:
    with pytest.raises(ValueError, match="so this schedule never fires"):
        parse_cron(expression)


@pytest.mark.parametrize("month", range(1, 13))
def test_a_schedule_is_refused_exactly_when_it_would_never_fire(month: int) -> None:
    for day in range(1, 32):
        try:
            cron = parse_cron(f"0 9 {day} {month} *")
        except ValueError:
            with pytest.raises(ValueError, match="day is out of range"):
                date(2028, month, day)  # a leap year: the day exists in no year at all
            continue
        fire = cron.next_after(START)  # it fires (29 February within five years)
        assert (fire.month, fire.day) == (month, day)


def test_a_weekday_keeps_an_impossible_day_of_month_firing() -> None:
    # Both restricted: either matches (Vixie cron), so Mondays in February still fire.
    assert fires("0 9 31 2 MON", 1) == ["2027-02-01 09:00 Mon"]
