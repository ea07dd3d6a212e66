"""Values are read strictly (issue 9, values findings 5, 6, 11, 13, 14): only ASCII digits where a value or
an id is read; numbers shown by ``render_value``; a bare date is its day's first instant; ``%`` only on a
percentage; a form's number input read as the machine decimal it is; UTC offsets within ±14:00."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.cards import CardField, card_fields
from bot.domain.conditions import RELATIVE_OFFSET
from bot.domain.contracts import Contract, ContractError
from bot.domain.cron import parse_cron
from bot.domain.durations import parse_duration
from bot.domain.fields import FieldSpec, FieldType, coerce, is_channel_id, is_user_id, render_value
from bot.domain.moments import parse_datetime, start_of_day
from bot.domain.numbers import MachineNumber, NumberRules, parse_number
from bot.domain.slash_text import SlashTextError, split_slash_text

BERLIN = ZoneInfo("Europe/Berlin")
SANTIAGO = ZoneInfo("America/Santiago")
DURATION = FieldSpec(type=FieldType.DURATION)
HINT = "expected a duration such as 90s, 15m, 8h, 14d or 2w, got"

# --- 5. ASCII digits only, in every parser of values and ids ---------------------------------------------------

DURATIONS: list[tuple[str, timedelta | str]] = [
    ("1h", timedelta(hours=1)),
    (" 8 h ", timedelta(hours=8)),
    ("90s", timedelta(seconds=90)),
    ("\u0661h", f"{HINT} “\u0661h”"),  # Arabic-Indic one
    ("\uff11h", f"{HINT} “\uff11h”"),  # full-width one
    ("\u0967d", f"{HINT} “\u0967d”"),  # Devanagari one
    ("1\u00a0h", f"{HINT} “1[U+00A0]h”"),  # a no-break space is not ASCII white space: shown as such
    ("\U0001d7cfh", f"{HINT} “\U0001d7cfh”"),  # mathematical bold one
]


@pytest.mark.parametrize(("raw", "expected"), DURATIONS)
def test_a_duration_has_ascii_digits(raw: str, expected: timedelta | str) -> None:
    if isinstance(expected, timedelta):
        assert parse_duration(raw) == expected
        return
    with pytest.raises(ValueError) as caught:  # noqa: PT011  (the exact message is asserted)
        parse_duration(raw)
    assert str(caught.value) == expected


@pytest.mark.parametrize(("raw", "expected"), [(r, e) for r, e in DURATIONS if r.strip() == r])
def test_a_duration_field_has_ascii_digits(raw: str, expected: timedelta | str) -> None:
    if isinstance(expected, timedelta):
        assert coerce(DURATION, raw, tz=BERLIN) == expected
        return
    with pytest.raises(ValueError) as caught:  # noqa: PT011
        coerce(DURATION, raw, tz=BERLIN)
    assert str(caught.value) == expected


@pytest.mark.parametrize(
    ("written", "relative"),
    [
        ("+7d", True),
        ("- 2w", True),
        ("+36500d", True),
        ("+\u0667d", False),
        ("+\uff17d", False),
        ("+7d\n", False),
        ("+\t7d", False),
        ("7d", False),
    ],
)
def test_a_relative_offset_in_a_rule_has_ascii_digits(written: str, relative: bool) -> None:
    assert (RELATIVE_OFFSET.match(written) is not None) is relative


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("\u0663 9 * * *", "minute: “\u0663” is not a number from 0 to 59"),
        ("0 \uff19 * * *", "hour: “\uff19” is not a number from 0 to 23"),
        ("*/\u0662 9 * * *", "minute: step “\u0662” must be a positive number"),
        ("0 9 * * \u0661-5", "weekday: “\u0661” is not a number from 0 to 7 or a name such as MON"),
    ],
)
def test_a_cron_field_has_ascii_digits(expression: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011
        parse_cron(expression)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "user", "channel"),
    [
        ("U0ANA", True, False),
        ("C0DEALS", False, True),
        ("U0ANA\n", False, False),  # ``$`` would let a trailing line break through
        ("C0DEALS\n", False, False),
        ("\uff350ANA", False, False),  # a full-width U
        ("U0\u0661NA", False, False),
    ],
)
def test_user_and_channel_ids_are_whole_and_ascii(text: str, user: bool, channel: bool) -> None:
    assert (is_user_id(text), is_channel_id(text)) == (user, channel)


def test_a_slash_key_is_whole_and_ascii() -> None:
    with pytest.raises(SlashTextError) as caught:
        split_slash_text("se\u0430ts=3")  # a Cyrillic a
    assert "se\u0430ts" in str(caught.value)


# --- 6. every field value a person reads is rendered by render_value ---------------------------------------------

SPECS = {
    "pct": FieldSpec(type=FieldType.NUMBER),
    "neg": FieldSpec(type=FieldType.NUMBER),
    "seats": FieldSpec(type=FieldType.NUMBER, integer=True),
    "big": FieldSpec(type=FieldType.NUMBER),
    "flag": FieldSpec(type=FieldType.BOOL),
    "tags": FieldSpec(type=FieldType.MULTI_CHOICE, options=("a", "b")),
    "note": FieldSpec(type=FieldType.TEXT, multiline=True),
    "who": FieldSpec(type=FieldType.USER),
}


def test_a_card_shows_numbers_as_they_read_back() -> None:
    stored = {
        "pct": 12.001,
        "neg": 1e-07,
        "seats": 7,
        "big": 1e15 - 1,
        "flag": False,
        "tags": ["a", "b"],
        "note": "line one\nline two",
        "who": "U0ANA",
    }
    assert card_fields(SPECS, stored) == (
        CardField("Pct", "12.0010"),
        CardField("Neg", "0.0000001"),
        CardField("Seats", "7"),
        CardField("Big", "999999999999999"),
        CardField("Flag", "no"),
        CardField("Tags", "a, b"),
        CardField("Note", "line one\nline two"),  # the card quotes the lines itself
        CardField("Who", "U0ANA", "user"),
    )


# --- 11. a bare date is the first instant of its day -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "tz", "expected"),
    [
        ("2026-09-06", SANTIAGO, "2026-09-06T01:00:00-03:00"),  # midnight is skipped: the day starts at 01:00
        (date(2026, 9, 6), SANTIAGO, "2026-09-06T01:00:00-03:00"),  # a date typed by YAML
        ("2026-09-07", SANTIAGO, "2026-09-07T00:00:00-03:00"),
        ("2026-04-05", SANTIAGO, "2026-04-05T00:00:00-04:00"),  # the clocks go back at midnight into the 4th
        ("2026-03-29", BERLIN, "2026-03-29T00:00:00+01:00"),
        ("2026-11-01", ZoneInfo("America/Havana"), "2026-11-01T00:00:00-04:00"),  # midnight twice: the first
        ("2018-11-04", ZoneInfo("America/Sao_Paulo"), "2018-11-04T01:00:00-02:00"),
        ("2026-09-06", UTC, "2026-09-06T00:00:00+00:00"),
    ],
)
def test_a_bare_date_is_the_start_of_that_day(raw: object, tz: ZoneInfo, expected: str) -> None:
    assert parse_datetime(raw, tz, bare_date=True).isoformat() == expected


@pytest.mark.parametrize(
    ("raw", "tz", "message"),
    [
        (
            "2011-12-30",
            ZoneInfo("Pacific/Apia"),
            "2011-12-30 does not exist in Pacific/Apia (the clocks skip the whole day)",
        ),
        (
            "2026-09-06 00:30",
            SANTIAGO,
            "2026-09-06 00:30 does not exist in America/Santiago (the clocks jump forward over it); "
            "give a time outside the jump, or add a UTC offset: 2026-09-06 00:30-04:00 or 2026-09-06 00:30-03:00",
        ),
    ],
)
def test_a_day_or_time_the_clocks_skip_is_refused(raw: str, tz: ZoneInfo, message: str) -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011
        parse_datetime(raw, tz, bare_date=True)
    assert str(caught.value) == message


def test_start_of_day_agrees_with_every_day_of_a_year_of_changes() -> None:
    for tz in (SANTIAGO, BERLIN, ZoneInfo("Asia/Tehran"), ZoneInfo("America/Havana"), ZoneInfo("Australia/Lord_Howe")):
        day = date(2026, 1, 1)
        while day.year == 2026:
            start = start_of_day(day, tz)
            assert start.date() == day
            assert (start.astimezone(UTC) - timedelta(seconds=1)).astimezone(tz).date() < day
            day += timedelta(days=1)


def test_a_datetime_field_still_needs_its_time() -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011
        coerce(FieldSpec(type=FieldType.DATETIME), "2026-09-06", tz=SANTIAGO)
    assert str(caught.value) == "expected a date and time, YYYY-MM-DD HH:MM, got “2026-09-06”"


# --- 14. UTC offsets within ±14:00 --------------------------------------------------------------------------------

OFFSET_RANGE = "expected a UTC offset from -14:00 to +14:00, got"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-10 09:30+14:00", "2026-03-10T09:30:00+14:00"),
        ("2026-03-10 09:30-12:00", "2026-03-10T09:30:00-12:00"),
        ("2026-03-10 09:30-14:00", "2026-03-10T09:30:00-14:00"),
        ("2026-03-10 09:30+14:01", f"{OFFSET_RANGE} “2026-03-10 09:30+14:01”"),
        ("2026-03-10 09:30+23:59", f"{OFFSET_RANGE} “2026-03-10 09:30+23:59”"),
        ("2026-03-10 09:30-15:00", f"{OFFSET_RANGE} “2026-03-10 09:30-15:00”"),
        (
            datetime(2026, 3, 10, 9, 30, tzinfo=timezone(timedelta(hours=20))),
            f"{OFFSET_RANGE} “2026-03-10T09:30:00+20:00”",
        ),
    ],
)
def test_a_utc_offset_is_within_the_real_range(raw: object, expected: str) -> None:
    spec = FieldSpec(type=FieldType.DATETIME)
    if not expected.startswith(OFFSET_RANGE):
        assert coerce(spec, raw, tz=BERLIN).isoformat() == expected  # type: ignore[union-attr]
        return
    with pytest.raises(ValueError) as caught:  # noqa: PT011
        coerce(spec, raw, tz=BERLIN)
    assert str(caught.value) == expected


# --- 13. ``%`` only on a field declared a percentage -------------------------------------------------------------

PERCENT_SPECS = {
    "seats": FieldSpec(type=FieldType.NUMBER, integer=True),
    "count": FieldSpec(type=FieldType.NUMBER, min=0, max=100),
    "amount_pct": FieldSpec(type=FieldType.NUMBER, percent=True, min=0, max=100),
    "deal_value": FieldSpec(type=FieldType.MONEY, currency="EUR"),
}
NOT_PERCENT = "this field takes a plain number, not a percentage; write it without “%”"
PERCENT_FORMS = "write digits 0-9 with “.” as the decimal mark and “,” only between groups of three, e.g. 12.5 or 12.5%"


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("seats", "7%", f"“7%”: {NOT_PERCENT}"),
        ("seats", "7 %", f"“7 %”: {NOT_PERCENT}"),
        ("count", "12.5%", f"“12.5%”: {NOT_PERCENT}"),
        ("deal_value", "5%", "“5%”: this field takes an amount, not a percentage; write it without “%”"),
        ("seats", "7", 7),
        ("amount_pct", "7%", 7),
        ("amount_pct", "12.5 %", 12.5),
        ("amount_pct", "12.5", 12.5),
        ("amount_pct", "%7", f"expected a percentage from 0 to 100, got “%7”; {PERCENT_FORMS}"),
        ("amount_pct", "101%", "must be at most 100 (got 101)"),
    ],
)
def test_percent_is_taken_only_by_a_percentage(field: str, raw: str, expected: object) -> None:
    if not isinstance(expected, str):
        assert coerce(PERCENT_SPECS[field], raw, tz=BERLIN) == expected
        return
    with pytest.raises(ValueError) as caught:  # noqa: PT011
        coerce(PERCENT_SPECS[field], raw, tz=BERLIN)
    assert str(caught.value) == expected


def test_a_slash_command_with_a_percent_on_a_count_is_refused_whole() -> None:
    contract = Contract("deal", PERCENT_SPECS, tz=BERLIN)
    with pytest.raises(ContractError) as caught:
        contract.parse_slash_text("seats=7% amount_pct=7% deal_value=500")
    assert [str(p) for p in caught.value.problems] == [f"seats: “7%”: {NOT_PERCENT}"]
    assert contract.parse_slash_text("seats=7 amount_pct=7% deal_value=500") == {
        "seats": 7,
        "amount_pct": 7,
        "deal_value": 500,
    }


@pytest.mark.parametrize(
    ("spec", "described"),
    [
        (FieldSpec(type=FieldType.NUMBER, percent=True, min=0, max=100), "a percentage from 0 to 100"),
        (FieldSpec(type=FieldType.NUMBER, percent=True, integer=True), "a whole percentage"),
        (FieldSpec(type=FieldType.NUMBER, min=0, max=100), "a number from 0 to 100"),
    ],
)
def test_a_percentage_says_so(spec: FieldSpec, described: str) -> None:
    assert spec.describe() == described


def test_percent_belongs_to_number_fields_only() -> None:
    with pytest.raises(ValueError, match="percent does not apply to a money field"):
        FieldSpec(type=FieldType.MONEY, percent=True)


# --- 14. a form's number input is a machine decimal --------------------------------------------------------------

EUR = NumberRules(expected="an amount in EUR", currency="EUR", money=True)
WHOLE = FieldSpec(type=FieldType.NUMBER, integer=True, min=0, max=500)
MACHINE = "a number input sends digits 0-9 and “.”"


@pytest.mark.parametrize(
    ("text", "rules", "expected"),
    [
        ("1.500", NumberRules(), 1.5),  # typed as text this is ambiguous; a number input means 1.5
        ("1.500", EUR, 1.5),
        ("2.125", NumberRules(), 2.125),
        ("1500", EUR, 1500),
        ("-0.25", NumberRules(), -0.25),
        ("007.50", EUR, 7.5),
        ("1,500", EUR, f"expected an amount in EUR, got “1,500”; {MACHINE}"),
        ("1.500,00", EUR, f"expected an amount in EUR, got “1.500,00”; {MACHINE}"),
        ("+5", NumberRules(), f"expected a number, got “+5”; {MACHINE}"),
        (" 5", NumberRules(), f"expected a number, got “ 5”; {MACHINE}"),
        ("1e5", NumberRules(), f"expected a number, got “1e5”; {MACHINE}"),
        ("\uff11", NumberRules(), f"expected a number, got “\uff11”; {MACHINE}"),
        ("\u0661.5", NumberRules(), f"expected a number, got “\u0661.5”; {MACHINE}"),
        ("EUR 5", EUR, f"expected an amount in EUR, got “EUR 5”; {MACHINE}"),
        ("5%", NumberRules(percent=True), f"expected a number, got “5%”; {MACHINE}"),
        ("10.005", EUR, "expected an amount in EUR, got “10.005”, which has more than 2 decimal places"),
        ("1234567890123456", NumberRules(), "expected a number, got “1234567890123456”, which has more than 15 digits"),
        (
            "0.0000000000000001",
            NumberRules(),
            "expected a number, got “0.0000000000000001”, which has more than 15 digits",
        ),
    ],
)
def test_a_number_input_is_read_as_a_machine_decimal(text: str, rules: NumberRules, expected: object) -> None:
    if not isinstance(expected, str):
        value = parse_number(MachineNumber(text), rules)
        assert value == expected and type(value) is type(expected)
        return
    with pytest.raises(ValueError) as caught:  # noqa: PT011
        parse_number(MachineNumber(text), rules)
    assert str(caught.value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.0", 2),
        ("2.5", "expected a whole number, got “2.5”"),
        ("600", "must be at most 500 (got 600)"),
        ("-1", "must be at least 0 (got -1)"),
    ],
)
def test_a_number_input_keeps_the_fields_bounds(text: str, expected: object) -> None:
    if not isinstance(expected, str):
        assert coerce(WHOLE, MachineNumber(text), tz=BERLIN) == expected
        return
    with pytest.raises(ValueError) as caught:  # noqa: PT011
        coerce(WHOLE, MachineNumber(text), tz=BERLIN)
    assert str(caught.value) == expected


def test_a_number_input_for_a_field_that_became_text_is_its_text() -> None:
    assert coerce(FieldSpec(type=FieldType.TEXT), MachineNumber("1.500"), tz=BERLIN) == "1.500"


@settings(max_examples=800, deadline=None)
@given(st.one_of(st.from_regex(r"\A-?[0-9]{1,17}(\.[0-9]{1,17})?\Z"), st.text(max_size=20)))
def test_a_number_input_is_the_written_decimal_or_refused(text: str) -> None:
    try:
        value = parse_number(MachineNumber(text), NumberRules())
    except ValueError:
        return
    assert Decimal(repr(value)) == Decimal(text)  # never misread
    assert parse_number(MachineNumber(render_value(value)), NumberRules()) == value  # the form shows it back
