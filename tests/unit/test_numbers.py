"""Numbers and money are never misread (issue 9, items 1-3): each input → its value or its exact message."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.domain.fields import FieldSpec, FieldType, coerce, render_value
from bot.domain.numbers import MAX_DIGITS, NumberRules, parse_number, render_number

TZ = ZoneInfo("Europe/Berlin")
SPECS = {
    "eur": FieldSpec(type=FieldType.MONEY, currency="EUR"),
    "eur_below_zero": FieldSpec(type=FieldType.MONEY, currency="EUR", min=-1000),
    "eur_max": FieldSpec(type=FieldType.MONEY, currency="EUR", max=50000),
    "money": FieldSpec(type=FieldType.MONEY),
    "jpy": FieldSpec(type=FieldType.MONEY, currency="JPY"),
    "pct": FieldSpec(type=FieldType.NUMBER, percent=True, min=0, max=100),
    "number": FieldSpec(type=FieldType.NUMBER),
    "whole": FieldSpec(type=FieldType.NUMBER, integer=True),
}

FORMS = "write digits 0-9 with “.” as the decimal mark and “,” only between groups of three, e.g."
EUR_FORMS = f"{FORMS} 1234.50, 1,234.50 or EUR 1,234.50"
NUMBER_FORMS = f"{FORMS} 1234.5 or 1,234.5"
FOUR_HUNDRED = "1" + "0" * 399
SHOWN_400 = "“" + "1" + "0" * 55 + "…”"

ACCEPTED: list[tuple[str, object, int | float]] = [
    ("eur", "150000", 150000),
    ("eur", "150000.5", 150000.5),
    ("eur", "150,000.00", 150000),
    ("eur", "EUR 150,000.00", 150000),
    ("eur", "eur 1,234,567.89", 1234567.89),
    ("eur", "150000 EUR", 150000),
    ("eur", "EUR150", 150),
    ("eur", "€150", 150),
    ("eur", "0", 0),
    ("eur", "0.500", 0.5),  # no grouping starts with 0: not ambiguous
    ("eur", "1234.500", 1234.5),  # a group of four: not a thousands separator
    ("eur", "1,500.00", 1500),
    ("eur", "1,500,000", 1500000),
    ("eur", 150000, 150000),
    ("eur", 150000.5, 150000.5),
    ("eur_below_zero", "-500", -500),
    ("eur_below_zero", "EUR -500", -500),
    ("money", "12.34", 12.34),
    ("jpy", "1,500,000", 1500000),
    ("pct", "5%", 5),
    ("pct", "12.5 %", 12.5),
    ("pct", "100%", 100),
    ("number", "+5", 5),
    ("number", "-0", 0),
    ("number", "007", 7),
    ("number", "0.1", 0.1),
    ("number", "123456789012345", 123456789012345),  # 15 digits: the most
    ("number", "999,999,999,999,999", 999999999999999),
    ("number", "0.000000000000001", 1e-15),
    ("number", "1.00000000000000000000", 1),  # trailing zeros are not digits of the value
    ("number", "2.1250", 2.125),  # four decimals: no thousands separator, so not ambiguous
    ("number", 1e-15, 1e-15),
    ("whole", "5.0", 5),
    ("pct", "100", 100),
]


@pytest.mark.parametrize(("field", "raw", "value"), ACCEPTED)
def test_unambiguous_forms_are_read_exactly(field: str, raw: object, value: int | float) -> None:
    got = coerce(SPECS[field], raw, tz=TZ)
    assert got == value and type(got) is type(value)


REFUSED: list[tuple[str, object, str]] = [
    # issue 9's examples
    ("eur", "EUR 150.000,00", f"expected an amount in EUR, got “EUR 150.000,00”; {EUR_FORMS}"),
    ("eur", "-1000000", "must be at least 0 (got -1000000)"),
    ("eur", FOUR_HUNDRED, f"expected an amount in EUR, got {SHOWN_400}, which has more than 15 digits"),
    ("pct", FOUR_HUNDRED, f"expected a percentage from 0 to 100, got {SHOWN_400}, which has more than 15 digits"),
    ("number", "１０００", f"expected a number, got “１０００”; {NUMBER_FORMS}"),
    ("number", "١٠٠٠", f"expected a number, got “١٠٠٠”; {NUMBER_FORMS}"),
    ("eur", "１５０", f"expected an amount in EUR, got “１５０”; {EUR_FORMS}"),
    ("number", "1_000", f"expected a number, got “1_000”; {NUMBER_FORMS}"),
    (
        "number",
        "10.0000000000000000001",
        "expected a number, got “10.0000000000000000001”, which has more than 15 digits",
    ),
    # the same classes, other members
    ("eur", "150.000", "“150.000” is ambiguous: write 150 or 150000"),
    ("eur", "1,500", "“1,500” is ambiguous: write 1.5 or 1500"),
    ("eur", "EUR 1.500", "“EUR 1.500” is ambiguous: write 1.5 or 1500"),
    ("number", "-12.500", "“-12.500” is ambiguous: write -12.5 or -12500"),
    ("eur", "150.000.000", f"expected an amount in EUR, got “150.000.000”; {EUR_FORMS}"),
    ("eur", "1,50", f"expected an amount in EUR, got “1,50”; {EUR_FORMS}"),
    ("number", "0,500", f"expected a number, got “0,500”; {NUMBER_FORMS}"),
    ("number", "12,34,567", f"expected a number, got “12,34,567”; {NUMBER_FORMS}"),
    ("number", "1 000", f"expected a number, got “1 000”; {NUMBER_FORMS}"),
    ("number", "1\u00a0000", f"expected a number, got “1[U+00A0]000”; {NUMBER_FORMS}"),
    ("number", "1e5", f"expected a number, got “1e5”; {NUMBER_FORMS}"),
    ("number", "inf", f"expected a number, got “inf”; {NUMBER_FORMS}"),
    ("number", "nan", f"expected a number, got “nan”; {NUMBER_FORMS}"),
    ("number", ".5", f"expected a number, got “.5”; {NUMBER_FORMS}"),
    ("number", "5.", f"expected a number, got “5.”; {NUMBER_FORMS}"),
    ("number", "−5", f"expected a number, got “−5”; {NUMBER_FORMS}"),
    ("number", "EUR 5", f"expected a number, got “EUR 5”; {NUMBER_FORMS}"),
    ("number", "1234567890123456", "expected a number, got “1234567890123456”, which has more than 15 digits"),
    ("number", "0.0000000000000001", "expected a number, got “0.0000000000000001”, which has more than 15 digits"),
    ("eur", "USD 100", "“USD 100” is not in EUR: this field takes amounts in EUR only"),
    ("eur", "$100", "“$100” is not in EUR: this field takes amounts in EUR only"),
    ("eur", "EUR 100 EUR", f"expected an amount in EUR, got “EUR 100 EUR”; {EUR_FORMS}"),
    ("jpy", "¥100", "“¥100” is not in JPY: this field takes amounts in JPY only"),
    ("money", "EUR 5", "“EUR 5”: this field takes a plain amount, without a currency"),
    ("eur", "5%", "“5%”: this field takes an amount, not a percentage; write it without “%”"),
    ("eur", "10.005", "“10.005” is ambiguous: write 10005"),  # 10.005 is no amount in EUR
    ("number", "2.125", "“2.125” is ambiguous: write 2.1250 or 2125"),
    ("eur", "10.0051", "expected an amount in EUR, got “10.0051”, which has more than 2 decimal places"),
    ("jpy", "100.5", "expected an amount in JPY, got “100.5”, which is not a whole amount"),
    ("whole", "5.5", "expected a whole number, got “5.5”"),
    ("eur_below_zero", "-5000", "must be at least -1000 (got -5000)"),
    ("eur_max", "60000", "must be at most 50000 (got 60000)"),
    ("eur_max", "-1", "must be at least 0 (got -1)"),
    # values already typed by YAML or JSON go through the same bounds
    ("number", 10**400, "expected a number, got a number with more than 15 digits"),
    ("number", -(10**15), "expected a number, got a number with more than 15 digits"),
    ("number", 1e300, "expected a number, got 1e+300, which has more than 15 digits"),
    ("number", 1e-300, "expected a number, got 1e-300, which has more than 15 digits"),
    ("number", float("nan"), f"expected a number, got nan; {NUMBER_FORMS}"),
    ("number", float("inf"), f"expected a number, got inf; {NUMBER_FORMS}"),
    ("number", True, f"expected a number, got true; {NUMBER_FORMS}"),  # JSON's words, never Python's repr
    ("number", [1], f"expected a number, got an array; {NUMBER_FORMS}"),
    ("number", {"a": 1}, f"expected a number, got an object; {NUMBER_FORMS}"),
    ("number", None, f"expected a number, got null; {NUMBER_FORMS}"),
    ("eur", 0.1 + 0.2, "expected an amount in EUR, got 0.30000000000000004, which has more than 15 digits"),
    ("eur", 10.005, "expected an amount in EUR, got 10.005, which has more than 2 decimal places"),
    ("eur", -1000000, "must be at least 0 (got -1000000)"),
]


@pytest.mark.parametrize(("field", "raw", "message"), REFUSED)
def test_what_could_be_misread_is_refused_with_the_accepted_forms(field: str, raw: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011  (the exact message is asserted)
        coerce(SPECS[field], raw, tz=TZ)
    assert str(caught.value) == message


def test_a_value_that_would_read_ambiguously_renders_with_a_trailing_zero() -> None:
    assert [render_value(v) for v in (2.125, -1.001, 1234.5, 0.125, 1e-15)] == [
        "2.1250",
        "-1.0010",
        "1234.5",
        "0.125",
        "0.000000000000001",
    ]


def test_money_describes_its_floor_only_next_to_a_ceiling() -> None:
    assert SPECS["eur"].describe() == "an amount in EUR"
    assert SPECS["eur_max"].describe() == "an amount in EUR from 0 to 50000"
    assert FieldSpec(type=FieldType.NUMBER, max=1e6).describe() == "a number, at most 1000000"


RULES = [
    NumberRules(),
    NumberRules(percent=True),
    NumberRules(expected="an amount in EUR", currency="EUR", money=True),
    NumberRules(expected="an amount in JPY", currency="JPY", money=True),
]
_written = st.from_regex(r"\A[+-]?(0|[1-9][0-9]{0,16})(\.[0-9]{1,17})?\Z")
_grouped = st.from_regex(r"\A[+-]?[1-9][0-9]{0,2}(,[0-9]{3}){1,5}(\.[0-9]{1,6})?\Z")
_near_miss = st.text(alphabet="0123456789.,_ -+%eE€$£¥EURUSD１٠\u00a0", max_size=30)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(RULES), st.one_of(_written, _grouped, _near_miss))
def test_an_accepted_number_is_the_written_decimal_and_renders_back_to_itself(rules: NumberRules, text: str) -> None:
    try:
        value = parse_number(text, rules)
    except ValueError:
        return
    digits = text.strip().removesuffix("%").strip().replace(",", "")
    for unit in ("EUR", "eur", "JPY", "€"):
        digits = digits.replace(unit, "").strip()
    assert Decimal(repr(value)) == Decimal(digits)  # never misread: the exact decimal that was written
    shown = render_value(value)
    assert shown == render_number(value)
    assert "e" not in shown and "," not in shown
    again = parse_number(shown, rules)
    assert again == value and type(again) is type(value)


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(RULES), st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True)))
def test_a_typed_number_is_bounded_and_renders_back_to_itself(rules: NumberRules, raw: int | float) -> None:
    try:
        value = parse_number(raw, rules)
    except ValueError:
        return
    assert value == raw and abs(value) < 10**MAX_DIGITS
    assert parse_number(render_value(value), rules) == value


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(list(SPECS.values())),
    st.one_of(
        st.text(max_size=60),
        _near_miss,
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
        st.dates(),
    ),
)
def test_no_input_makes_the_number_parser_raise_anything_but_value_error(spec: FieldSpec, raw: object) -> None:
    try:
        value = coerce(spec, raw, tz=TZ)
    except ValueError:
        return
    assert isinstance(value, int | float) and not isinstance(value, bool)


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ({"max": 1e300}, "max: expected a number, got 1e+300, which has more than 15 digits"),
        ({"min": -1e16}, "min: expected a number, got -1e+16, which has more than 15 digits"),
    ],
)
def test_a_fields_own_bounds_hold_at_most_15_digits(bounds: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FieldSpec(type=FieldType.NUMBER, **bounds)  # type: ignore[arg-type]
    assert caught.value.errors()[0]["msg"] == f"Value error, {message}"
