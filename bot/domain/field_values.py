"""How a value of each field type is read, described, shown and stored: the facets that
``bot.domain.field_types`` binds to each type, one function per type and facet.

A reader takes the field's settings (``FieldSpec``), one raw value (plain text in Signoff's
normal form, or a value already typed by YAML, JSON or a form) and the governance timezone,
and returns the typed value or raises ``ValueError`` with a message meant for the person who
gave it. ``bot.domain.fields.coerce`` puts text in normal form first and then calls the reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from bot.domain.durations import DURATION_HINT, MAX_DURATION, format_duration, parse_duration
from bot.domain.json_values import JsonNumber, show_given
from bot.domain.links import canonical_url
from bot.domain.moments import parse_date, parse_datetime
from bot.domain.numbers import MachineNumber, parse_number, render_number
from bot.domain.regex import compile_pattern
from bot.domain.text import mixed_script_problem

if TYPE_CHECKING:
    from bot.domain.fields import FieldSpec

FieldValue = str | int | float | bool | date | datetime | timedelta | tuple[str, ...]
"""A typed field value. ``datetime`` is checked before ``date`` wherever both matter."""

#: Slack limits a plain_text_input to 3000 characters; longer text could never be entered.
TEXT_LIMIT = 3000

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


def show_raw(raw: object) -> str:
    """A value a person gave, quoted and clipped to 60 characters, for a message about it."""
    if isinstance(raw, MachineNumber):
        raw = raw.text
    return show_given(raw)


def one_script(text: str) -> str:
    """``text`` unless a word of it mixes scripts like a look-alike spoof (``bot.domain.text``)."""
    problem = mixed_script_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


# Readers: (settings, raw, timezone) → typed value, or ValueError.


def read_text(spec: FieldSpec, raw: object, tz: tzinfo) -> str:
    if isinstance(raw, JsonNumber):  # a JSON number is not text: a client sending 123 may mean either
        raise ValueError(f'expected text, got the number {raw.text}; send text as a JSON string ("{raw.text}")')
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"expected text, got {show_raw(raw)}")
    text = str(raw)
    limit = spec.max_length or TEXT_LIMIT
    if len(text) > limit:
        raise ValueError(f"must be at most {limit} characters (got {len(text)})")
    if spec.pattern is not None and not compile_pattern(spec.pattern).fullmatch(text):
        raise ValueError(f"{show_raw(text)} does not match the required pattern {spec.pattern}")
    return one_script(text)


def read_number(spec: FieldSpec, raw: object, tz: tzinfo) -> int | float:
    """A number or an amount (``numbers.parse_number`` with the field's rules), within its bounds."""
    value = parse_number(raw, spec.number_rules)
    if spec.integer and not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {show_raw(raw)}")
    low = spec.lowest
    if low is not None and value < low:
        raise ValueError(f"must be at least {render_number(low)} (got {render_number(value)})")
    if spec.max is not None and value > spec.max:
        raise ValueError(f"must be at most {render_number(spec.max)} (got {render_number(value)})")
    return value


def read_choice(spec: FieldSpec, raw: object, tz: tzinfo) -> str:
    """One option, matched case-insensitively and returned as the file spells it."""
    options = spec.options or ()
    typed = isinstance(raw, str | int | float | JsonNumber) and not isinstance(raw, bool)
    text = str(raw).strip() if typed else None
    if text is not None:
        for option in options:
            if option.casefold() == text.casefold():
                return option
    raise ValueError(f"expected one of {', '.join(options)}; got {show_raw(raw)}")


def read_choices(spec: FieldSpec, raw: object, tz: tzinfo) -> tuple[str, ...]:
    """One or more options: comma-separated text or a list; duplicates dropped, order kept."""
    items: Sequence[object] = raw.split(",") if isinstance(raw, str) else _sequence(raw)
    chosen = tuple(dict.fromkeys(read_choice(spec, item, tz) for item in items if str(item).strip()))
    if not chosen:
        raise ValueError(f"expected {spec.describe()}")
    return chosen


def _sequence(raw: object) -> Sequence[object]:
    if isinstance(raw, list | tuple):
        return raw
    raise ValueError("expected a list of options")


def read_bool(spec: FieldSpec, raw: object, tz: tzinfo) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.casefold() in _TRUE | _FALSE:
        return raw.casefold() in _TRUE
    raise ValueError(f"expected yes or no, got {show_raw(raw)}")


def read_date(spec: FieldSpec, raw: object, tz: tzinfo) -> date:
    return parse_date(raw)


def read_datetime(spec: FieldSpec, raw: object, tz: tzinfo) -> datetime:
    """A date and time; one given without an offset is in ``tz`` (``moments.parse_datetime``)."""
    return parse_datetime(raw, tz)


def read_duration(spec: FieldSpec, raw: object, tz: tzinfo) -> timedelta:
    if isinstance(raw, timedelta) and timedelta(0) < raw <= MAX_DURATION:
        return raw
    if not isinstance(raw, str):
        raise ValueError(f"expected {DURATION_HINT}")
    return parse_duration(raw)


def read_url(spec: FieldSpec, raw: object, tz: tzinfo) -> str:
    """A link, canonical and checked by ``bot.domain.links.canonical_url`` (which names what it refuses)."""
    if not isinstance(raw, str) or len(raw) > TEXT_LIMIT or "://" not in raw:
        raise ValueError(f"expected a link starting with http:// or https://, got {show_raw(raw)}")
    canonical = canonical_url(raw)
    if not _URL.fullmatch(raw):
        raise ValueError(f"expected a link starting with http:// or https://, without <, > or |, got {show_raw(raw)}")
    return one_script(canonical)


def read_email(spec: FieldSpec, raw: object, tz: tzinfo) -> str:
    if not isinstance(raw, str) or len(raw) > TEXT_LIMIT or not _EMAIL.fullmatch(raw):
        raise ValueError(f"expected an email address, got {show_raw(raw)}")
    return one_script(raw)


#: What a user field accepts, wherever the value comes from. The value read here is already an id:
#: `/request` turns a typed @mention into one (``slash_text.decode_slack_value``) and the form's
#: picker sends one, so a message must not ask for "an @mention" of a value that may be one.
USER_ACCEPTED = (
    "a person: their Slack user id, such as U0123ABCD (an @mention in /request, the person picker in the form)"
)
#: What a channel field accepts (the same way).
CHANNEL_ACCEPTED = (
    "a channel: its Slack id, such as C0123ABCD (a #channel link in /request, the channel picker in the form)"
)


def read_user(spec: FieldSpec, raw: object, tz: tzinfo) -> str:
    if not isinstance(raw, str) or not is_user_id(raw):
        raise ValueError(f"expected {USER_ACCEPTED}, got {show_raw(raw)}")
    return raw


def read_channel(spec: FieldSpec, raw: object, tz: tzinfo) -> str:
    if not isinstance(raw, str) or not is_channel_id(raw):
        raise ValueError(f"expected {CHANNEL_ACCEPTED}, got {show_raw(raw)}")
    return raw


# Descriptions: what a valid value looks like, in words a requester understands.


def describe_text(spec: FieldSpec) -> str:
    return f"text, up to {spec.max_length or TEXT_LIMIT} characters"


def describe_number(spec: FieldSpec) -> str:
    noun = "a whole number" if spec.integer else "a number"
    if spec.percent:
        noun = "a whole percentage" if spec.integer else "a percentage"
    return _bounded(spec, noun)


def describe_money(spec: FieldSpec) -> str:
    return _bounded(spec, f"an amount in {spec.currency}" if spec.currency else "an amount")


def _bounded(spec: FieldSpec, noun: str) -> str:
    low = spec.lowest
    if low is not None and spec.max is not None:
        return f"{noun} from {render_number(low)} to {render_number(spec.max)}"
    if spec.min is not None:
        return f"{noun}, at least {render_number(spec.min)}"
    if spec.max is not None:
        return f"{noun}, at most {render_number(spec.max)}"
    return noun


def describe_choice(spec: FieldSpec) -> str:
    return "one of " + ", ".join(spec.options or ())


def describe_choices(spec: FieldSpec) -> str:
    return "one or more of " + ", ".join(spec.options or ()) + " (comma-separated)"


def fixed(words: str) -> Callable[[FieldSpec], str]:
    """A description that does not depend on the field's settings."""

    def describe(spec: FieldSpec) -> str:
        return words

    return describe


# Display: a value as a person reads it (``one_line``: multiline text joined with ``⏎``).


def show_text(value: Any, one_line: bool = True) -> str:
    if one_line and isinstance(value, str) and "\n" in value:
        return " ⏎ ".join(value.split("\n"))  # multiline text on one line: a trace line stays one line
    return str(value)


def show_number(value: Any, one_line: bool = True) -> str:
    return render_number(value) if isinstance(value, float) else str(value)


def show_bool(value: Any, one_line: bool = True) -> str:
    return "yes" if value else "no"


def show_datetime(value: Any, one_line: bool = True) -> str:
    return str(value.isoformat(timespec="minutes"))


def show_date(value: Any, one_line: bool = True) -> str:
    return str(value.isoformat())


def show_duration(value: Any, one_line: bool = True) -> str:
    return format_duration(value)


def show_list(value: Any, one_line: bool = True) -> str:
    return ", ".join(render_value(v, one_line=one_line) for v in value)


def render_value(value: Any, *, one_line: bool = True) -> str:
    """A field value as a person reads it: the one rendering for cards, status, Home, digests,
    DMs, explain and traces, for typed values and for stored JSON alike. Numbers by
    ``numbers.render_number`` (never ``1e-07``; ``12.0010``, not ``12.001``), booleans as yes/no,
    dates ISO, durations as written (``14d``), lists comma-separated. With ``one_line`` (a trace
    line), multiline text is joined with ``⏎``; a card keeps the line breaks and quotes them itself."""
    if isinstance(value, bool):
        return show_bool(value)
    if isinstance(value, float):
        return show_number(value)
    if isinstance(value, datetime):
        return show_datetime(value)
    if isinstance(value, date):
        return show_date(value)
    if isinstance(value, timedelta):
        return show_duration(value)
    if isinstance(value, tuple | list | frozenset | set):
        return show_list(value, one_line)
    return show_text(value, one_line)


def quote_value(value: Any) -> str:
    """A value as it appears inside Signoff's own sentences (a reason, a trace line): text in
    “ ” (its own curly quotes made straight) and clipped to 60 characters, so what a person typed
    cannot read as Signoff's words; other values as ``render_value`` shows them."""
    if isinstance(value, str):
        return show_raw(render_value(value).replace("“", '"').replace("”", '"'))
    return render_value(value)


# JSON: the form a typed value is stored, hashed and exported in (``requests.to_json_value``).


def json_as_is(value: Any) -> Any:
    return value


def json_iso(value: Any) -> Any:
    return value.isoformat()


def json_duration(value: Any) -> Any:
    return format_duration(value)


def json_list(value: Any) -> Any:
    return list(value)


# Slack links: what one whole ``<target|label>`` of slash text means as a value of the type.


def unescape_entities(text: str) -> str:
    """Undo Slack's escaping of what a person typed (only ``&amp;``, ``&lt;``, ``&gt;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def no_link(target: str) -> str | None:
    return None


def user_link(target: str) -> str | None:
    return target[1:] if target.startswith("@") else None


def channel_link(target: str) -> str | None:
    return target[1:] if target.startswith("#") else None


def url_link(target: str) -> str | None:
    return None if target.startswith(("@", "#", "!")) else unescape_entities(target)


def email_link(target: str) -> str | None:
    return unescape_entities(target.removeprefix("mailto:")) if target.startswith("mailto:") else None
