"""A JSON number literal is read from the characters the sender wrote, by the same strict reader as text.

``json.loads`` would turn ``1.500`` into 1.5 and ``2000.0000000000000001`` into 2000.0 before any
rule could look (QA findings A1–A3): a misread amount a rule then auto-approves is the worst bug.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.fields import FieldSpec, FieldType, coerce
from bot.domain.json_values import JsonNumber, NotJsonNumber, RepeatedKey, plain_json, read_json_document, show_given

TZ = ZoneInfo("Europe/Berlin")
EUR = FieldSpec(type=FieldType.MONEY, currency="EUR", max=10_000_000)
PERCENT = FieldSpec(type=FieldType.NUMBER, percent=True)
WHOLE = FieldSpec(type=FieldType.NUMBER, integer=True)
TEXT = FieldSpec(type=FieldType.TEXT)


def error(spec: FieldSpec, raw: object) -> str:
    with pytest.raises(ValueError) as caught:  # noqa: PT011  (the message is what is asserted)
        coerce(spec, raw, tz=TZ)
    return str(caught.value)


@pytest.mark.parametrize("literal", ["1.500", "100.000", "10.000", "-1.500", "999.000"])
def test_an_ambiguous_number_literal_is_refused_exactly_as_the_same_text_is(literal: str) -> None:
    as_number = error(EUR, JsonNumber(literal))
    assert as_number == error(EUR, literal)  # one reader, one message: both readings named
    assert "is ambiguous: write" in as_number


@pytest.mark.parametrize(
    ("literal", "says"),
    [
        ("1E3", "1E3, which has an exponent"),
        ("1e3", "1e3, which has an exponent"),
        ("1.0e-400", "1.0e-400, which has an exponent"),
        ("1e400", "1e400, which has an exponent"),
        ("2000.0000000000000001", "which has more than 15 digits"),  # json.loads: exactly 2000.0
        ("10000000.000000000001", "which has more than 15 digits"),
        ("1234567890123456", "which has more than 15 digits"),
        ("1000.0000000000001", "which has more than 15 digits"),
        ("0.125", "which has more than 2 decimal places"),
        ("10000001", "must be at most 10000000"),
    ],
)
def test_exponents_long_and_over_precise_literals_are_refused_never_rounded(literal: str, says: str) -> None:
    assert says in error(EUR, JsonNumber(literal))


@pytest.mark.parametrize(
    ("spec", "literal", "value"),
    [
        (EUR, "1.5", 1.5),
        (EUR, "1500", 1500),
        (EUR, "25", 25),
        (EUR, "0.5", 0.5),
        (EUR, "2000.00", 2000),
        (PERCENT, "12.5", 12.5),
        (PERCENT, "-3", -3),
        (WHOLE, "7", 7),
        (EUR, "1000.10", 1000.1),
    ],
)
def test_plain_literals_read_as_written(spec: FieldSpec, literal: str, value: float) -> None:
    assert coerce(spec, JsonNumber(literal), tz=TZ) == value


def test_a_number_is_not_text_and_a_message_never_shows_a_python_repr() -> None:
    assert error(TEXT, JsonNumber("123")) == 'expected text, got the number 123; send text as a JSON string ("123")'
    assert error(TEXT, {"a": JsonNumber("1")}) == "expected text, got an object"
    assert error(TEXT, ["emea"]) == "expected text, got an array"
    assert "got true; write digits 0-9" in error(EUR, True)
    assert [show_given(v) for v in (None, False, JsonNumber("1.50"), "x", [1], {})] == [
        "null",
        "false",
        "1.50",
        "“x”",
        "an array",
        "an object",
    ]


def test_a_document_keeps_every_literal_and_refuses_a_key_given_twice_anywhere() -> None:
    body = read_json_document('{"fields": {"amount": 1.500, "n": [1E3, -0]}, "x": 2000.0000000000000001}')
    assert body == {
        "fields": {"amount": JsonNumber("1.500"), "n": [JsonNumber("1E3"), JsonNumber("-0")]},
        "x": JsonNumber("2000.0000000000000001"),
    }
    assert plain_json(body) == {"fields": {"amount": 1.5, "n": [1000.0, 0]}, "x": 2000.0}
    for text, key in [
        ('{"a": 1, "a": 2}', "a"),
        ('{"fields": {"amount": 5000000, "amount": 100}}', "amount"),
        ('{"x": [{"k": 1, "k": 1}]}', "k"),
    ]:
        with pytest.raises(RepeatedKey) as caught:
            read_json_document(text)
        assert caught.value.key == key and f"“{key}” is given twice" in str(caught.value)
    for constant in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(NotJsonNumber):
            read_json_document(f'{{"a": {constant}}}')


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12))
def test_any_literal_reads_as_its_text_does(amount: object) -> None:
    literal = str(amount)
    try:
        as_text: object = coerce(FieldSpec(type=FieldType.MONEY), literal, tz=TZ)
    except ValueError as exc:
        as_text = str(exc)
    try:
        as_number: object = coerce(FieldSpec(type=FieldType.MONEY), JsonNumber(literal), tz=TZ)
    except ValueError as exc:
        as_number = str(exc)
    assert as_number == as_text
