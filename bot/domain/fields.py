"""Field types of a kind's data contract and how raw input becomes a typed value.

A ``FieldSpec`` is one entry under ``kinds.<kind>.fields`` in the governance file. The
``coerce`` function is the single place that knows how a person's input (a string from a
slash command or a modal, or a value already typed by YAML or JSON) becomes the value the
engine compares; it raises ``ValueError`` with a message meant for that person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import cached_property
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.domain.durations import DURATION_HINT, MAX_DURATION, format_duration, parse_duration
from bot.domain.links import canonical_url
from bot.domain.moments import parse_date, parse_datetime
from bot.domain.numbers import MachineNumber, NumberRules, parse_number, render_number
from bot.domain.regex import PatternError, compile_pattern
from bot.domain.text import look_alike_keys, mixed_script_problem, normalize_text, odd_character


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


FieldValue = str | int | float | bool | date | datetime | timedelta | tuple[str, ...]
"""A typed field value. ``datetime`` is checked before ``date`` wherever both matter."""

#: Which optional attributes each type accepts besides ``type``, ``required``, ``label`` and ``help``.
_ATTRIBUTES: dict[FieldType, frozenset[str]] = {
    FieldType.TEXT: frozenset({"max_length", "multiline", "pattern"}),
    FieldType.NUMBER: frozenset({"min", "max", "integer", "percent"}),
    FieldType.MONEY: frozenset({"min", "max", "currency"}),
    FieldType.CHOICE: frozenset({"options"}),
    FieldType.MULTI_CHOICE: frozenset({"options"}),
}
_COMMON = frozenset({"type", "required", "label", "help"})

#: Slack limits a plain_text_input to 3000 characters; longer text could never be entered.
TEXT_LIMIT = 3000
#: The longest reason a person gives for a decision (the reason form's limit, enforced by ``decide_request``).
REASON_LIMIT = 1000
#: Slack's limits for a select menu: how many options, and how long each one's text.
MAX_OPTIONS, MAX_OPTION_LENGTH = 100, 75

#: A Slack user id (whole-text match): the one rule for every id a person or a payload gives. At most
#: 21 characters, so it fits storage's VARCHAR(32) person columns (``storage.records``); ASCII only.
USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}", re.ASCII)
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}", re.ASCII)
# Whole-text matches (``fullmatch``: ``$`` would let a trailing line break through); the classes
# of letters and digits are spelled out ASCII, and ``\s`` in a negated class is Unicode on purpose.
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_URL = re.compile(r"(?i:https?)://[^\s<>|]+", re.ASCII)
_TRUE = frozenset({"true", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "no", "n", "off", "0"})


def is_user_id(value: object) -> bool:
    return isinstance(value, str) and USER_ID.fullmatch(value) is not None


def is_channel_id(value: object) -> bool:
    return isinstance(value, str) and CHANNEL_ID.fullmatch(value) is not None


#: How a number setting of the governance file is written (a bound, a budget).
SETTING_FORM = "write it in digits 0-9 without quotes, with “.” as the decimal mark, e.g. 1234.5"


def setting_number(value: object) -> object:
    """A number setting of the governance file (a bound, a budget): a YAML number within
    ``parse_number``'s bounds. Text is refused, never read: the loader leaves YAML 1.1 forms
    (``010``, ``1:30``, ``0x1F``, ``5_0``) as text, and "5_0", "1e2" or ``true`` are no numbers."""
    if isinstance(value, str):
        raise ValueError(f"expected a number, got “{value[:40]}”, which is text; {SETTING_FORM}")
    return None if value is None else parse_number(value, NumberRules())


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
        allowed = _ATTRIBUTES.get(self.type, frozenset()) | _COMMON
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
        """What a valid value looks like, in words a requester understands."""
        match self.type:
            case FieldType.TEXT:
                limit = self.max_length or TEXT_LIMIT
                return f"text, up to {limit} characters"
            case FieldType.NUMBER | FieldType.MONEY:
                noun = "a whole number" if self.integer else "a number"
                if self.percent:
                    noun = "a whole percentage" if self.integer else "a percentage"
                if self.type is FieldType.MONEY:
                    noun = f"an amount in {self.currency}" if self.currency else "an amount"
                low = self.lowest
                if low is not None and self.max is not None:
                    return f"{noun} from {_num(low)} to {_num(self.max)}"
                if self.min is not None:
                    return f"{noun}, at least {_num(self.min)}"
                if self.max is not None:
                    return f"{noun}, at most {_num(self.max)}"
                return noun
            case FieldType.CHOICE:
                return "one of " + ", ".join(self.options or ())
            case FieldType.MULTI_CHOICE:
                return "one or more of " + ", ".join(self.options or ()) + " (comma-separated)"
            case FieldType.BOOL:
                return "yes or no"
            case FieldType.DATE:
                return "a date, YYYY-MM-DD"
            case FieldType.DATETIME:
                return "a date and time, YYYY-MM-DD HH:MM"
            case FieldType.DURATION:
                return DURATION_HINT
            case FieldType.URL:
                return "a link starting with http:// or https://"
            case FieldType.EMAIL:
                return "an email address"
            case FieldType.USER:
                return "a person, as an @mention"
            case FieldType.CHANNEL:
                return "a channel, as a #channel link"


def _check_options(kind: FieldType, options: tuple[str, ...]) -> None:
    """Options are chosen by what people type and see, so each must be in text normal form, a
    multi_choice option may not hold the "," that separates choices, and no two may look alike
    (sharing a case-insensitive confusable skeleton, ``text.look_alike_keys``)."""
    for option in options:
        odd = odd_character(option)
        if odd is not None:
            try:
                fix = f"write it as {_show(normalize_text(option))}"
            except ValueError:
                fix = "remove it"
            raise ValueError(
                f"option {_show(option)} holds {odd}, which Signoff removes or changes in what people type, "
                f"so the option could never be chosen; {fix}"
            )
        if option != normalize_text(option):
            raise ValueError(f"option {_show(option)} has extra spaces; write it as {_show(normalize_text(option))}")
        if kind is FieldType.MULTI_CHOICE and "," in option:
            raise ValueError(
                f"option {_show(option)} holds a comma, which separates the choices of a multi_choice field; "
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
                f"options {_show(twin)} and {_show(option)} look alike; people could not tell which they chose"
            )
        seen.append((option, keys))


def _num(value: float) -> str:
    return render_number(value)


def coerce(spec: FieldSpec, raw: object, *, tz: tzinfo) -> FieldValue:
    """Turn one raw value into the field's typed value, or raise ``ValueError`` saying why.

    Strings are plain text here: Slack's markup and escaping are undone before this is called.
    Every string is first put in Signoff's normal form (``bot.domain.text.normalize_text``:
    control characters refused, line breaks only in a multiline text field, invisible format
    characters removed, NFKC, whitespace collapsed).
    A ``MachineNumber`` (a form's number input) is read by ``numbers.parse_number``'s machine
    grammar, ``.`` always the decimal mark.
    ``tz`` is the governance timezone, used for date-times given without one.
    """
    if isinstance(raw, MachineNumber) and not spec.is_numeric:
        raw = raw.text  # a number input's value for a field that is no longer a number (the file changed)
    if isinstance(raw, str):
        raw = _normal_form(spec, raw)
    match spec.type:
        case FieldType.TEXT:
            return _text(spec, raw)
        case FieldType.NUMBER | FieldType.MONEY:
            return _number(spec, raw)
        case FieldType.CHOICE:
            return _choice(spec, raw)
        case FieldType.MULTI_CHOICE:
            items: Sequence[object] = raw.split(",") if isinstance(raw, str) else _sequence(raw)
            chosen = tuple(dict.fromkeys(_choice(spec, item) for item in items if str(item).strip()))
            if not chosen:
                raise ValueError(f"expected {spec.describe()}")
            return chosen
        case FieldType.BOOL:
            return _bool(raw)
        case FieldType.DATE:
            return parse_date(raw)
        case FieldType.DATETIME:
            return parse_datetime(raw, tz)
        case FieldType.DURATION:
            if isinstance(raw, timedelta) and timedelta(0) < raw <= MAX_DURATION:
                return raw
            if not isinstance(raw, str):
                raise ValueError(f"expected {DURATION_HINT}")
            return parse_duration(raw)
        case FieldType.URL:
            if not isinstance(raw, str) or len(raw) > TEXT_LIMIT or not _URL.fullmatch(raw):
                raise ValueError(f"expected a link starting with http:// or https://, got {_show(raw)}")
            return _one_script(canonical_url(raw))
        case FieldType.EMAIL:
            if not isinstance(raw, str) or len(raw) > TEXT_LIMIT or not _EMAIL.fullmatch(raw):
                raise ValueError(f"expected an email address, got {_show(raw)}")
            return _one_script(raw)
        case FieldType.USER:
            if not is_user_id(raw):
                raise ValueError(f"expected a person as an @mention, got {_show(raw)}")
            assert isinstance(raw, str)
            return raw
        case FieldType.CHANNEL:
            if not is_channel_id(raw):
                raise ValueError(f"expected a channel as a #channel link, got {_show(raw)}")
            assert isinstance(raw, str)
            return raw


#: Types whose parsers read ASCII only. NFKC would turn ``１５０`` into ``150``, a value nobody typed in
#: the accepted form, so these keep the characters as typed and their parser refuses what is not ASCII.
_LITERAL_FORMS = frozenset({FieldType.NUMBER, FieldType.MONEY, FieldType.DATE, FieldType.DATETIME, FieldType.DURATION})


def _normal_form(spec: FieldSpec, raw: str) -> str:
    """``raw`` in normal form; for numbers, dates and durations only checked (no control character, one line)."""
    if spec.type in _LITERAL_FORMS:
        normalize_text(raw)  # the same refusals of control characters and line breaks, with their messages
        return raw.strip()
    return normalize_text(raw, multiline=spec.type is FieldType.TEXT and bool(spec.multiline))


def _show(raw: object) -> str:
    if isinstance(raw, MachineNumber):
        raw = raw.text
    text = repr(raw) if not isinstance(raw, str) else f"“{raw}”"
    return text if len(text) <= 60 else text[:57] + "…”"


def _sequence(raw: object) -> Sequence[object]:
    if isinstance(raw, list | tuple):
        return raw
    raise ValueError("expected a list of options")


def _text(spec: FieldSpec, raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"expected text, got {_show(raw)}")
    text = str(raw)
    limit = spec.max_length or TEXT_LIMIT
    if len(text) > limit:
        raise ValueError(f"must be at most {limit} characters (got {len(text)})")
    if spec.pattern is not None and not compile_pattern(spec.pattern).fullmatch(text):
        raise ValueError(f"{_show(text)} does not match the required pattern {spec.pattern}")
    return _one_script(text)


def _one_script(text: str) -> str:
    """``text`` unless a word of it mixes scripts like a look-alike spoof (``bot.domain.text``)."""
    problem = mixed_script_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def _number(spec: FieldSpec, raw: object) -> int | float:
    value = parse_number(raw, spec.number_rules)
    if spec.integer and not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {_show(raw)}")
    low = spec.lowest
    if low is not None and value < low:
        raise ValueError(f"must be at least {_num(low)} (got {_num(value)})")
    if spec.max is not None and value > spec.max:
        raise ValueError(f"must be at most {_num(spec.max)} (got {_num(value)})")
    return value


def _choice(spec: FieldSpec, raw: object) -> str:
    options = spec.options or ()
    text = str(raw).strip() if isinstance(raw, str | int | float) and not isinstance(raw, bool) else None
    if text is not None:
        for option in options:
            if option.casefold() == text.casefold():
                return option
    raise ValueError(f"expected one of {', '.join(options)}; got {_show(raw)}")


def _bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.casefold() in _TRUE | _FALSE:
        return raw.casefold() in _TRUE
    raise ValueError(f"expected yes or no, got {_show(raw)}")


def quote_value(value: Any) -> str:
    """A value as it appears inside Signoff's own sentences (a reason, a trace line): text in
    “ ” (its own curly quotes made straight) and clipped to 60 characters, so what a person typed
    cannot read as Signoff's words; other values as ``render_value`` shows them."""
    if isinstance(value, str):
        return _show(render_value(value).replace("“", '"').replace("”", '"'))
    return render_value(value)


def render_value(value: Any, *, one_line: bool = True) -> str:
    """A field value as a person reads it: the one rendering for cards, status, Home, digests,
    DMs, explain and traces. Numbers by ``numbers.render_number`` (never ``1e-07``; ``12.0010``,
    not ``12.001``), booleans as yes/no, dates ISO, durations as written (``14d``), lists
    comma-separated. With ``one_line`` (a trace line), multiline text is joined with ``⏎``;
    a card keeps the line breaks and quotes them itself."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return render_number(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, tuple | list | frozenset | set):
        return ", ".join(render_value(v, one_line=one_line) for v in value)
    if one_line and isinstance(value, str) and "\n" in value:
        return " ⏎ ".join(value.split("\n"))  # multiline text on one line: a trace line stays one line
    return str(value)
