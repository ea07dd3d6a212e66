"""The one reading of a request id (``parse_request_id``) and of a card button's value: ASCII digits only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.requests import parse_request_id
from bot.slack.blocks import parse_button_value


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("REQ-42", 42),
        ("req-42", 42),
        ("Req-42", 42),
        ("#42", 42),
        ("42", 42),
        ("  REQ-7 ", 7),
        (42, 42),
        (0, 0),
        ("99999999999", 99_999_999_999),
        ("REQ-٤٢", None),  # Arabic-Indic digits: int() reads 42, a person reads something else
        ("REQ-１２", None),  # fullwidth digits
        ("REQ-४२", None),  # Devanagari digits
        ("REQ-²", None),  # superscript: str.isdigit() says yes
        ("REQ-4 2", None),
        ("REQ--42", None),
        ("REQ-+42", None),
        ("-42", None),
        ("REQ-", None),
        ("", None),
        ("REQ-42.0", None),
        ("100000000000", None),  # 12 digits
        (10**11, None),
        (-1, None),
        (True, None),
        (4.0, None),
        (None, None),
        (["42"], None),
    ],
)
def test_request_ids_are_read_in_ascii_digits_only(value: object, read: int | None) -> None:
    assert parse_request_id(value) == read


@given(st.text(max_size=20) | st.integers() | st.none() | st.booleans() | st.floats())
def test_any_value_is_an_id_of_ascii_digits_or_none(value: object) -> None:
    read = parse_request_id(value)
    assert read is None or (0 <= read < 10**11 and str(read).isascii())


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ('{"r":42,"h":"abc"}', (42, "abc")),
        ('{"r":"42"}', (42, None)),
        ('{"r":42,"h":7}', (42, None)),
        ('{"r":"٤٢","h":"abc"}', None),
        ('{"h":"abc"}', None),
        ('{"r":true}', None),
        ("[42]", None),
        ("REQ-42", None),
        ("", None),
        (None, None),
        ('{"r":' + "1" * 5000 + "}", None),
    ],
)
def test_a_button_value_names_a_request_or_nothing(value: object, read: tuple[int, str | None] | None) -> None:
    assert parse_button_value(value) == read
