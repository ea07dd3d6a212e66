"""Dates, date-times and durations are bounded and never a time that does not exist (issue 9, item 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.durations import MAX_DURATION, parse_duration
from bot.domain.fields import FieldSpec, FieldType, coerce, render_value
from bot.domain.moments import EARLIEST, LATEST, parse_date, parse_datetime

BERLIN = ZoneInfo("Europe/Berlin")
DATE = FieldSpec(type=FieldType.DATE)
DATETIME = FieldSpec(type=FieldType.DATETIME)
DURATION = FieldSpec(type=FieldType.DURATION)
CET, CEST = ZoneInfo("Etc/GMT-1"), ZoneInfo("Etc/GMT-2")

ACCEPTED: list[tuple[FieldSpec, object, object]] = [
    (DATE, "2026-03-10", date(2026, 3, 10)),
    (DATE, "1900-01-01", EARLIEST),
    (DATE, "2999-12-31", LATEST),
    (DATE, date(2026, 3, 10), date(2026, 3, 10)),
    (DATETIME, "2026-03-10 09:30", datetime(2026, 3, 10, 9, 30, tzinfo=BERLIN)),
    (DATETIME, "2026-03-10T09:30:15", datetime(2026, 3, 10, 9, 30, 15, tzinfo=BERLIN)),
    (DATETIME, "2026-03-10T09:30Z", datetime(2026, 3, 10, 9, 30, tzinfo=UTC)),
    (DATETIME, "2026-10-25 02:30+02:00", datetime(2026, 10, 25, 2, 30, tzinfo=CEST)),
    (DATETIME, "2026-10-25 02:30+01:00", datetime(2026, 10, 25, 2, 30, tzinfo=CET)),
    (DATETIME, "2026-03-29 02:30+01:00", datetime(2026, 3, 29, 2, 30, tzinfo=CET)),  # the offset makes it exact
    (DATETIME, "2026-03-29 03:00", datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN)),
    (DATETIME, datetime(2026, 3, 10, 9, 30), datetime(2026, 3, 10, 9, 30, tzinfo=BERLIN)),
    (DURATION, "36500d", MAX_DURATION),
]


@pytest.mark.parametrize(("spec", "raw", "value"), ACCEPTED)
def test_dates_and_times_within_the_range_are_read(spec: FieldSpec, raw: object, value: object) -> None:
    got = coerce(spec, raw, tz=BERLIN)
    assert got == value
    if isinstance(got, datetime):
        assert got.utcoffset() == value.utcoffset()  # type: ignore[attr-defined]


REFUSED: list[tuple[FieldSpec, object, str]] = [
    (DATE, "9999-12-31", "expected a date from 1900-01-01 to 2999-12-31, got “9999-12-31”"),
    (DATE, "0001-01-01", "expected a date from 1900-01-01 to 2999-12-31, got “0001-01-01”"),
    (DATE, "1899-12-31", "expected a date from 1900-01-01 to 2999-12-31, got “1899-12-31”"),
    (DATE, "3000-01-01", "expected a date from 1900-01-01 to 2999-12-31, got “3000-01-01”"),
    (DATE, date(9999, 12, 31), "expected a date from 1900-01-01 to 2999-12-31, got “9999-12-31”"),
    (DATE, "2026-02-30", "“2026-02-30” is not a day of the calendar (expected YYYY-MM-DD)"),
    (DATE, "20260301", "expected a date, YYYY-MM-DD, got “20260301”"),
    (DATE, "2026-W10-1", "expected a date, YYYY-MM-DD, got “2026-W10-1”"),
    (DATE, "２０２６-03-01", "expected a date, YYYY-MM-DD, got “２０２６-03-01”"),
    (DATE, "tomorrow", "expected a date, YYYY-MM-DD, got “tomorrow”"),
    (DATE, datetime(2026, 1, 1), "expected a date without a time, YYYY-MM-DD"),
    (
        DATETIME,
        "9999-12-31 23:59",
        "expected a date and time from 1900-01-01 to 2999-12-31, got “9999-12-31 23:59”",
    ),
    (
        DATETIME,
        "2026-03-29 02:30",
        "2026-03-29 02:30 does not exist in Europe/Berlin (the clocks jump forward over it); "
        "give a time outside the jump, or add a UTC offset: 2026-03-29 02:30+01:00 or 2026-03-29 02:30+02:00",
    ),
    (
        DATETIME,
        datetime(2026, 3, 29, 2, 30),
        "2026-03-29 02:30 does not exist in Europe/Berlin (the clocks jump forward over it); "
        "give a time outside the jump, or add a UTC offset: 2026-03-29 02:30+01:00 or 2026-03-29 02:30+02:00",
    ),
    (
        DATETIME,
        "2026-10-25 02:30",
        "2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back); "
        "add its UTC offset: 2026-10-25 02:30+02:00 or 2026-10-25 02:30+01:00",
    ),
    (DATETIME, "2026-03-10", "expected a date and time, YYYY-MM-DD HH:MM, got “2026-03-10”"),
    (DATETIME, "2026-03-10 9:30", "expected a date and time, YYYY-MM-DD HH:MM, got “2026-03-10 9:30”"),
    (
        DATETIME,
        "2026-13-10 10:00",
        "“2026-13-10 10:00” is not a time of the calendar (no such month, day, hour or minute)",
    ),
    (DURATION, "999999w", "a duration is at most 36500d (about 100 years), got “999999w”"),
    (DURATION, "36501d", "a duration is at most 36500d (about 100 years), got “36501d”"),
    (DURATION, timedelta(days=40000), "expected a duration such as 90s, 15m, 8h, 14d or 2w"),
]


@pytest.mark.parametrize(("spec", "raw", "message"), REFUSED)
def test_dates_at_the_calendars_edge_and_times_that_do_not_exist_are_refused(
    spec: FieldSpec, raw: object, message: str
) -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011  (the exact message is asserted)
        coerce(spec, raw, tz=BERLIN)
    assert str(caught.value) == message


def test_whatever_passes_leaves_room_for_every_clock_computed_from_it() -> None:
    # The latest end of a valid_until day, pushed by the longest duration, and the earliest
    # moment pulled back by it, stay inside Python's calendar.
    assert datetime.combine(LATEST + timedelta(days=1), datetime.min.time(), tzinfo=BERLIN) + MAX_DURATION
    assert datetime.combine(EARLIEST, datetime.min.time(), tzinfo=BERLIN) - MAX_DURATION
    assert parse_duration("36500d") == MAX_DURATION


_iso_like = st.from_regex(
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?(Z|[+-][0-9]{2}:[0-9]{2})?\Z"
)
_any = st.one_of(
    st.text(max_size=40),
    _iso_like,
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, UTC, BERLIN])),
    st.integers(),
    st.none(),
)


@settings(max_examples=1500, deadline=None)
@given(_any)
def test_no_input_makes_the_date_parsers_raise_anything_but_value_error(raw: object) -> None:
    for parse in (parse_date, lambda r: parse_datetime(r, BERLIN), lambda r: parse_datetime(r, BERLIN, bare_date=True)):
        try:
            value = parse(raw)
        except ValueError:
            continue
        day = value.date() if isinstance(value, datetime) else value
        assert EARLIEST <= day <= LATEST
        if isinstance(value, datetime):
            assert value.tzinfo is not None


@settings(max_examples=500, deadline=None)
@given(st.dates(min_value=EARLIEST, max_value=LATEST))
def test_an_accepted_date_renders_back_to_itself(day: date) -> None:
    assert coerce(DATE, render_value(day), tz=BERLIN) == day


@settings(max_examples=500, deadline=None)
@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30), timezones=st.just(UTC)))
def test_an_accepted_time_renders_back_to_the_same_instant(moment: datetime) -> None:
    value = coerce(DATETIME, moment.replace(second=0, microsecond=0), tz=BERLIN)
    assert coerce(DATETIME, render_value(value), tz=BERLIN) == value
