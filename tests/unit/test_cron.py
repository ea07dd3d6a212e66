"""Cron expressions fire when standard (Vixie) cron fires them."""

from __future__ import annotations

from datetime import datetime

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
