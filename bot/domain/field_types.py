"""The field types of a kind's data contract: one descriptor per type, the one place a type is defined.

A ``FieldTypeSpec`` gathers everything the core knows about one ``FieldType``: the Python type of
its values (the contract model's annotation), the settings it takes besides ``type``, ``required``,
``label`` and ``help``, the condition operators that fit it, how raw input is read into a typed
value, how that value is described, shown and stored as JSON, and what a whole Slack link in slash
text means for it. The Slack form element and how a submitted form is read back are the Slack
facet, in ``bot.slack.field_inputs`` (keyed by the same enum: the domain imports no Slack code).
Adding a type is one entry here and one there; ``tests/unit/test_field_types.py`` fails while a
type lacks a facet in either registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bot.domain import field_values as v
from bot.domain.durations import DURATION_HINT
from bot.domain.field_values import FieldValue
from bot.domain.operators import DISCRETE, ORDERED, TEXTUAL, Op

if TYPE_CHECKING:
    from bot.domain.fields import FieldSpec


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    DURATION = "duration"
    URL = "url"
    EMAIL = "email"
    USER = "user"
    CHANNEL = "channel"


Reader = Callable[["FieldSpec", object, tzinfo], FieldValue]


@dataclass(frozen=True)
class FieldTypeSpec:
    """Every facet of one field type (the core's; the Slack facet is ``bot.slack.field_inputs``)."""

    #: The Python type of a value: the annotation of the field in the kind's contract model.
    python_type: Any
    #: The operators a ``when`` leaf on such a field may use (DESIGN §4, conditions).
    operators: frozenset[Op]
    #: Raw input (normal-form text, or a value typed by YAML/JSON/a form) → the typed value, or ValueError.
    read: Reader
    #: What a valid value looks like, in a requester's words (usage, errors, form hints).
    describe: Callable[[FieldSpec], str]
    #: A typed value as a person reads it (``one_line``: joined on one line, for traces).
    show: Callable[[Any, bool], str]
    #: A typed value in the JSON form it is stored, hashed and exported in.
    to_json: Callable[[Any], Any]
    #: The settings it takes besides ``type``, ``required``, ``label`` and ``help``.
    settings: frozenset[str] = frozenset()
    #: Its reader takes ASCII as typed: NFKC would turn ``１５０`` into ``150``, a value nobody typed
    #: in the accepted form, so such text is only checked (``bot.domain.text.normalize_text``), not changed.
    literal: bool = False
    #: Compared as text: case-insensitively (``comparison_key``), and in doubt on a look-alike.
    textual: bool = False
    #: A value names a Slack user or channel (a card shows it as a mention).
    mention: bool = False
    #: A whole Slack link ``<target|label>`` in slash text → the value it stands for, or None (its text).
    from_link: Callable[[str], str | None] = v.no_link


_MOMENT_OPERATORS = ORDERED - {Op.IN, Op.NOT_IN}

#: The registry: one descriptor per ``FieldType``, read only.
FIELD_TYPES: Mapping[FieldType, FieldTypeSpec] = MappingProxyType(
    {
        FieldType.TEXT: FieldTypeSpec(
            python_type=str,
            operators=TEXTUAL,
            read=v.read_text,
            describe=v.describe_text,
            show=v.show_text,
            to_json=v.json_as_is,
            settings=frozenset({"max_length", "multiline", "pattern"}),
            textual=True,
        ),
        FieldType.NUMBER: FieldTypeSpec(
            python_type=int | float,
            operators=ORDERED,
            read=v.read_number,
            describe=v.describe_number,
            show=v.show_number,
            to_json=v.json_as_is,
            settings=frozenset({"min", "max", "integer", "percent"}),
            literal=True,
        ),
        FieldType.MONEY: FieldTypeSpec(
            python_type=int | float,
            operators=ORDERED,
            read=v.read_number,
            describe=v.describe_money,
            show=v.show_number,
            to_json=v.json_as_is,
            settings=frozenset({"min", "max", "currency"}),
            literal=True,
        ),
        FieldType.CHOICE: FieldTypeSpec(
            python_type=str,
            operators=DISCRETE,
            read=v.read_choice,
            describe=v.describe_choice,
            show=v.show_text,
            to_json=v.json_as_is,
            settings=frozenset({"options"}),
        ),
        FieldType.MULTI_CHOICE: FieldTypeSpec(
            python_type=tuple[str, ...],
            operators=frozenset({Op.CONTAINS, Op.SET}),
            read=v.read_choices,
            describe=v.describe_choices,
            show=v.show_list,
            to_json=v.json_list,
            settings=frozenset({"options"}),
        ),
        FieldType.BOOL: FieldTypeSpec(
            python_type=bool,
            operators=frozenset({Op.EQ, Op.NE, Op.SET}),
            read=v.read_bool,
            describe=v.fixed("yes or no"),
            show=v.show_bool,
            to_json=v.json_as_is,
        ),
        FieldType.DATE: FieldTypeSpec(
            python_type=date,
            operators=_MOMENT_OPERATORS,
            read=v.read_date,
            describe=v.fixed("a date, YYYY-MM-DD"),
            show=v.show_date,
            to_json=v.json_iso,
            literal=True,
        ),
        FieldType.DATETIME: FieldTypeSpec(
            python_type=datetime,
            operators=_MOMENT_OPERATORS,
            read=v.read_datetime,
            describe=v.fixed("a date and time, YYYY-MM-DD HH:MM"),
            show=v.show_datetime,
            to_json=v.json_iso,
            literal=True,
        ),
        FieldType.DURATION: FieldTypeSpec(
            python_type=timedelta,
            operators=_MOMENT_OPERATORS,
            read=v.read_duration,
            describe=v.fixed(DURATION_HINT),
            show=v.show_duration,
            to_json=v.json_duration,
            literal=True,
        ),
        FieldType.URL: FieldTypeSpec(
            python_type=str,
            operators=TEXTUAL,
            read=v.read_url,
            describe=v.fixed("a link starting with http:// or https://"),
            show=v.show_text,
            to_json=v.json_as_is,
            literal=True,  # a link is refused, never rewritten, when it holds invisible characters (bot.domain.links)
            textual=True,
            from_link=v.url_link,
        ),
        FieldType.EMAIL: FieldTypeSpec(
            python_type=str,
            operators=TEXTUAL,
            read=v.read_email,
            describe=v.fixed("an email address"),
            show=v.show_text,
            to_json=v.json_as_is,
            textual=True,
            from_link=v.email_link,
        ),
        FieldType.USER: FieldTypeSpec(
            python_type=str,
            operators=DISCRETE,
            read=v.read_user,
            describe=v.fixed("a person, as an @mention"),
            show=v.show_text,
            to_json=v.json_as_is,
            mention=True,
            from_link=v.user_link,
        ),
        FieldType.CHANNEL: FieldTypeSpec(
            python_type=str,
            operators=DISCRETE,
            read=v.read_channel,
            describe=v.fixed("a channel, as a #channel link"),
            show=v.show_text,
            to_json=v.json_as_is,
            mention=True,
            from_link=v.channel_link,
        ),
    }
)
