"""Every field type has every facet, in both registries, and the facets agree with each other.

A type is defined by its descriptor in ``bot.domain.field_types`` (Python type, settings,
operators, reader, description, display, JSON form, Slack-link meaning) and its Slack facet in
``bot.slack.field_inputs`` (form element, reader of a submitted form). These tests iterate the
``FieldType`` enum, so a new member fails here until both registries, and an example below, have it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.conditions import OPERATORS, Op
from bot.domain.field_types import FIELD_TYPES, FieldTypeSpec
from bot.domain.fields import FieldSpec, FieldType, coerce, render_value
from bot.domain.requests import to_json_value
from bot.domain.slash_text import decode_slack_value
from bot.slack.field_inputs import SLACK_INPUTS, SlackInput, input_element, read_element

TZ = ZoneInfo("Europe/Berlin")


@dataclasses.dataclass(frozen=True)
class Example:
    settings: dict[str, Any]
    typed: str  # what a person types in a command
    value: object  # the typed value
    shown: str  # on a card
    stored: object  # in the stored JSON


EXAMPLES: dict[FieldType, Example] = {
    FieldType.TEXT: Example({"multiline": True}, "two\nlines", "two\nlines", "two ⏎ lines", "two\nlines"),
    FieldType.NUMBER: Example({"min": 0}, "12.5", 12.5, "12.5", 12.5),
    FieldType.MONEY: Example({"currency": "EUR"}, "1500", 1500, "1500", 1500),
    FieldType.CHOICE: Example({"options": ("low", "high")}, "HIGH", "high", "high", "high"),
    FieldType.MULTI_CHOICE: Example(
        {"options": ("red", "green", "blue")}, "red, blue", ("red", "blue"), "red, blue", ["red", "blue"]
    ),
    FieldType.BOOL: Example({}, "yes", True, "yes", True),
    FieldType.DATE: Example({}, "2026-03-04", date(2026, 3, 4), "2026-03-04", "2026-03-04"),
    FieldType.DATETIME: Example(
        {},
        "2026-03-04 10:00",
        datetime(2026, 3, 4, 10, 0, tzinfo=TZ),
        "2026-03-04T10:00+01:00",
        "2026-03-04T10:00:00+01:00",
    ),
    FieldType.DURATION: Example({}, "3d", timedelta(days=3), "3d", "3d"),
    FieldType.URL: Example({}, "https://example.com/a", "https://example.com/a", "https://example.com/a", None),
    FieldType.EMAIL: Example({}, "ops@example.com", "ops@example.com", "ops@example.com", None),
    FieldType.USER: Example({}, "U012AB3CD", "U012AB3CD", "U012AB3CD", None),
    FieldType.CHANNEL: Example({}, "C012AB3CD", "C012AB3CD", "C012AB3CD", None),
}


def _spec(field_type: FieldType) -> FieldSpec:
    return FieldSpec(type=field_type, **EXAMPLES[field_type].settings)


#: What Slack puts in ``view.state.values`` for an element submitted as it was prefilled.
_SUBMITTED = {
    "plain_text_input": ("initial_value", "value"),
    "url_text_input": ("initial_value", "value"),
    "email_text_input": ("initial_value", "value"),
    "number_input": ("initial_value", "value"),
    "static_select": ("initial_option", "selected_option"),
    "radio_buttons": ("initial_option", "selected_option"),
    "multi_static_select": ("initial_options", "selected_options"),
    "datepicker": ("initial_date", "selected_date"),
    "users_select": ("initial_user", "selected_user"),
    "conversations_select": ("initial_conversation", "selected_conversation"),
}


def _submit(element: dict[str, Any]) -> dict[str, Any]:
    initial_key, state_key = _SUBMITTED[element["type"]]
    return {"type": element["type"], state_key: element[initial_key]}


def test_the_registries_cover_exactly_the_types() -> None:
    assert set(FIELD_TYPES) == set(FieldType)
    assert set(SLACK_INPUTS) == set(FieldType)
    assert set(EXAMPLES) == set(FieldType), "give each new type an example here"


@pytest.mark.parametrize("field_type", list(FieldType))
def test_every_type_has_every_core_facet(field_type: FieldType) -> None:
    descriptor = FIELD_TYPES.get(field_type)
    assert isinstance(descriptor, FieldTypeSpec), f"{field_type} has no descriptor in bot.domain.field_types"
    for facet in dataclasses.fields(FieldTypeSpec):
        assert getattr(descriptor, facet.name) is not None, f"{field_type} lacks {facet.name}"
    for facet in ("read", "describe", "show", "to_json", "from_link"):
        assert callable(getattr(descriptor, facet)), f"{field_type}.{facet} is not callable"
    assert descriptor.operators and descriptor.operators <= set(Op)
    assert OPERATORS[field_type] == descriptor.operators  # conditions read the facet
    assert _spec(field_type).describe() == descriptor.describe(_spec(field_type)) != ""


@pytest.mark.parametrize("field_type", list(FieldType))
def test_every_type_has_a_slack_facet(field_type: FieldType) -> None:
    facet = SLACK_INPUTS.get(field_type)
    assert isinstance(facet, SlackInput), f"{field_type} has no Slack facet in bot.slack.field_inputs"
    assert facet.element in _SUBMITTED, f"say here what Slack submits for a {facet.element}"
    assert callable(facet.build) and callable(facet.read)
    element = input_element(_spec(field_type), None)
    assert element["type"] == facet.element and element["action_id"] == "value"


@pytest.mark.parametrize("field_type", list(FieldType))
def test_a_typed_value_reads_shows_and_stores_by_its_type(field_type: FieldType) -> None:
    example, descriptor = EXAMPLES[field_type], FIELD_TYPES[field_type]
    value = coerce(_spec(field_type), example.typed, tz=TZ)
    assert value == example.value
    origin = typing.get_origin(descriptor.python_type)  # tuple[str, ...] → tuple; int | float stays
    assert isinstance(value, descriptor.python_type if origin in (None, types.UnionType) else origin)
    assert descriptor.show(value, True) == render_value(value) == example.shown
    stored = example.value if example.stored is None else example.stored
    assert descriptor.to_json(value) == to_json_value(value) == stored


@pytest.mark.parametrize("field_type", list(FieldType))
def test_a_stored_value_prefills_the_form_and_reads_back_the_same(field_type: FieldType) -> None:
    """Amend opens the form prefilled with the stored JSON; submitting it unchanged keeps the value."""
    spec, example = _spec(field_type), EXAMPLES[field_type]
    stored = FIELD_TYPES[field_type].to_json(example.value)
    submitted = _submit(input_element(spec, stored))
    assert coerce(spec, read_element(submitted), tz=TZ) == example.value


@pytest.mark.parametrize(
    ("field_type", "link", "value"),
    [
        (FieldType.USER, "<@U012AB3CD|sam>", "U012AB3CD"),
        (FieldType.CHANNEL, "<#C012AB3CD|ops>", "C012AB3CD"),
        (FieldType.URL, "<https://example.com/a?x=1&amp;y=2|example.com>", "https://example.com/a?x=1&y=2"),
        (FieldType.EMAIL, "<mailto:ops@example.com|ops@example.com>", "ops@example.com"),
        (FieldType.TEXT, "<@U012AB3CD|sam>", "@sam"),
    ],
)
def test_a_slack_link_in_a_command_means_what_its_type_says(field_type: FieldType, link: str, value: str) -> None:
    assert decode_slack_value(link, field_type) == value
