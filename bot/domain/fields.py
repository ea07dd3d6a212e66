"""The fields of a kind's data contract and how raw input becomes a typed value.

A ``FieldSpec`` is one entry under ``kinds.<kind>.fields`` in the governance file; what its
``type`` means (Python type, settings, operators, reading, rendering, JSON) is that type's
descriptor in ``bot.domain.field_types``. The ``coerce`` function is the single entry point for
how a person's input (a string from a slash command or a modal, or a value already typed by YAML
or JSON) becomes the value the engine compares; it raises ``ValueError`` with a message meant for
that person. The names of ``field_types`` and ``field_values`` used across the code are
re-exported here.
"""

from __future__ import annotations

from datetime import tzinfo
from functools import cached_property
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.domain.field_types import FIELD_TYPES as FIELD_TYPES
from bot.domain.field_types import FieldType as FieldType
from bot.domain.field_values import CHANNEL_ID as CHANNEL_ID
from bot.domain.field_values import TEXT_LIMIT as TEXT_LIMIT
from bot.domain.field_values import USER_ID as USER_ID
from bot.domain.field_values import FieldValue as FieldValue
from bot.domain.field_values import is_channel_id as is_channel_id
from bot.domain.field_values import is_user_id as is_user_id
from bot.domain.field_values import quote_value as quote_value
from bot.domain.field_values import render_value as render_value
from bot.domain.field_values import show_raw
from bot.domain.numbers import MachineNumber, NumberRules, parse_number, render_number
from bot.domain.regex import PatternError, compile_pattern
from bot.domain.text import look_alike_keys, normalize_text, odd_character

#: The settings every field takes; the others are its type's ``settings`` facet.
_COMMON = frozenset({"type", "required", "label", "help"})

#: The longest reason a person gives for a decision (the reason form's limit, enforced by ``decide_request``).
REASON_LIMIT = 1000
#: Slack's limits for a select menu: how many options, and how long each one's text.
MAX_OPTIONS, MAX_OPTION_LENGTH = 100, 75

#: How a number setting of the governance file is written (a bound, a budget).
SETTING_FORM = "write it in digits 0-9 without quotes, with “.” as the decimal mark, e.g. 1234.5"


def setting_number(value: object) -> object:
    """A number setting of the governance file (a bound, a budget): a YAML number within
    ``parse_number``'s bounds. Text is refused, never read: the loader leaves YAML 1.1 forms
    (``010``, ``1:30``, ``0x1F``, ``5_0``) as text, and "5_0", "1e2" or ``true`` are no numbers.
    ``null`` is refused too: a setting that is not wanted is left out."""
    if isinstance(value, str):
        raise ValueError(f"expected a number, got “{value[:40]}”, which is text; {SETTING_FORM}")
    if value is None:  # a YAML ``null`` (``max:`` with nothing after it): a mistake, not "no bound"
        raise ValueError("expected a number, got null; write a number, or leave the setting out")
    return parse_number(value, NumberRules())


class FieldSpec(BaseModel):
    """One typed field of a kind's data contract."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: FieldType
    required: bool = False
    label: str | None = Field(default=None, min_length=1, max_length=48)
    help: str | None = Field(default=None, max_length=150)
    max_length: int | None = Field(default=None, ge=1, le=TEXT_LIMIT)
    multiline: bool | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    integer: bool | None = None
    #: A number field whose value is a percentage: it alone takes ``12.5%`` (as 12.5).
    percent: bool | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    options: tuple[str, ...] | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _bound_is_a_number(cls, value: object) -> object:
        if isinstance(value, float):
            return value  # its digits are checked with the other bound, in ``_fits_type``
        return setting_number(value)

    @field_validator("options", mode="before")
    @classmethod
    def _options_are_text(cls, value: object) -> object:
        if isinstance(value, list) and any(isinstance(v, bool) for v in value):
            raise ValueError('YAML reads unquoted yes/no/on/off as true/false: quote such options, e.g. "yes"')
        return value

    @model_validator(mode="after")
    def _fits_type(self) -> Self:
        allowed = FIELD_TYPES[self.type].settings | _COMMON
        extra = sorted(name for name in self.model_fields_set if name not in allowed)
        if extra:
            hint = ", ".join(sorted(allowed - {"type"}))
            raise ValueError(f"{', '.join(extra)} does not apply to a {self.type} field (it takes: {hint})")
        if self.type in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
            if not self.options:
                raise ValueError(f"a {self.type} field needs a non-empty list of options")
            _check_options(self.type, self.options)
            if len(self.options) > MAX_OPTIONS:
                raise ValueError(
                    f"a Slack menu shows at most {MAX_OPTIONS} options; this field has {len(self.options)}"
                )
            if any(len(o) > MAX_OPTION_LENGTH for o in self.options):
                raise ValueError(f"options are at most {MAX_OPTION_LENGTH} characters (Slack's limit for menu text)")
        for bound, value in (("min", self.min), ("max", self.max)):
            if value is not None:
                try:  # a bound is a number like any value: at most 15 digits
                    parse_number(value, NumberRules())
                except ValueError as exc:
                    raise ValueError(f"{bound}: {exc}") from None
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({_num(self.min)}) is larger than max ({_num(self.max)})")
        if self.pattern is not None:
            try:
                compile_pattern(self.pattern)
            except PatternError as exc:
                raise ValueError(f"pattern {exc}") from None
        return self

    @property
    def is_numeric(self) -> bool:
        return self.type in (FieldType.NUMBER, FieldType.MONEY)

    @property
    def lowest(self) -> float | None:
        """The smallest value a number field takes: ``min``; for money without ``min``, 0 (no negative amounts)."""
        if self.min is None and self.type is FieldType.MONEY:
            return 0
        return self.min

    @cached_property
    def number_rules(self) -> NumberRules:
        """How a number or money field reads text (``bot.domain.numbers``), built once per field."""
        money = self.type is FieldType.MONEY
        return NumberRules(expected=self.describe(), currency=self.currency, money=money, percent=bool(self.percent))

    def display_name(self, name: str) -> str:
        return self.label or name.replace("_", " ").capitalize()

    def describe(self) -> str:
        """What a valid value looks like, in words a requester understands (the type's ``describe`` facet)."""
        return FIELD_TYPES[self.type].describe(self)


def _check_options(kind: FieldType, options: tuple[str, ...]) -> None:
    """Options are chosen by what people type and see, so each must be in text normal form, a
    multi_choice option may not hold the "," that separates choices, and no two may look alike
    (sharing a case-insensitive confusable skeleton, ``text.look_alike_keys``)."""
    for option in options:
        odd = odd_character(option)
        if odd is not None:
            try:
                fix = f"write it as {show_raw(normalize_text(option))}"
            except ValueError:
                fix = "remove it"
            raise ValueError(
                f"option {show_raw(option)} holds {odd}, which Signoff removes or changes in what people type, "
                f"so the option could never be chosen; {fix}"
            )
        if option != normalize_text(option):
            raise ValueError(
                f"option {show_raw(option)} has extra spaces; write it as {show_raw(normalize_text(option))}"
            )
        if kind is FieldType.MULTI_CHOICE and "," in option:
            raise ValueError(
                f"option {show_raw(option)} holds a comma, which separates the choices of a multi_choice field; "
                "write it without"
            )
    seen: list[tuple[str, frozenset[str]]] = []
    for option in options:
        if any(option.casefold() == other.casefold() for other, _ in seen):
            raise ValueError("options must be unique")
        keys = look_alike_keys(option)  # case-insensitive confusable skeletons (TS #39 §4)
        twin = next((other for other, other_keys in seen if keys & other_keys), None)
        if twin is not None:
            raise ValueError(
                f"options {show_raw(twin)} and {show_raw(option)} look alike; people could not tell which they chose"
            )
        seen.append((option, keys))


def _num(value: float) -> str:
    return render_number(value)


def coerce(spec: FieldSpec, raw: object, *, tz: tzinfo) -> FieldValue:
    """Turn one raw value into the field's typed value, or raise ``ValueError`` saying why.

    Strings are plain text here: Slack's markup and escaping are undone before this is called.
    Every string is first put in Signoff's normal form (``bot.domain.text.normalize_text``:
    control characters refused, line breaks only in a multiline text field, invisible format
    characters removed, NFKC, whitespace collapsed); a type read ``literal`` keeps its characters.
    A ``MachineNumber`` (a form's number input) is read by ``numbers.parse_number``'s machine
    grammar, ``.`` always the decimal mark.
    ``tz`` is the governance timezone, used for date-times given without one.
    The type's ``read`` facet (``bot.domain.field_types``) does the rest.
    """
    if isinstance(raw, MachineNumber) and not spec.is_numeric:
        raw = raw.text  # a number input's value for a field that is no longer a number (the file changed)
    described = FIELD_TYPES[spec.type]
    if isinstance(raw, str):
        if described.literal:
            normalize_text(raw)  # the same refusals of control characters and line breaks, with their messages
            raw = raw.strip()
        else:
            raw = normalize_text(raw, multiline=bool(spec.multiline))
    return described.read(spec, raw, tz)
