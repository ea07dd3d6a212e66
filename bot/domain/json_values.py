"""JSON documents read without losing what the sender wrote: number literals kept as text, no repeated keys.

``json.loads`` turns ``1.500`` into the float 1.5 and ``2000.0000000000000001`` into 2000.0
before anyone can look at the characters, and keeps the last of two equal keys. Signoff never
guesses at a value (README "Values are never guessed", DESIGN §4), so a JSON body is read with
``read_json_document``: every number literal becomes a ``JsonNumber`` holding its text, which
``bot.domain.numbers.parse_number`` reads with the same strict reader as typed text (``1.500``
is ambiguous, ``1E3`` is an exponent, more than 15 digits is refused, never rounded), and an
object naming a key twice is ``RepeatedKey``. ``NaN`` and ``Infinity`` are not JSON (RFC 8259 §6).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class JsonNumber:
    """A JSON number literal exactly as written (RFC 8259 §6 grammar), e.g. ``1.500`` or ``1E3``."""

    text: str

    def __str__(self) -> str:
        return self.text

    def plain(self) -> int | float:
        """The literal as ``json.loads`` would read it (for hashing a body as it always was hashed)."""
        value: int | float = json.loads(self.text)
        return value


class RepeatedKey(ValueError):
    """An object names ``key`` twice; which value was meant cannot be known.

    ``path`` locates it from the document's root: ``fields.account`` for a key inside the
    ``fields`` object, ``items[2].id`` inside an array (just ``key`` at the top level).
    """

    def __init__(self, key: str, path: str | None = None):
        self.key = key
        self.path = key if path is None else path
        super().__init__(f"the key “{key[:60]}” is given twice in one object; give each key once")


class NotJsonNumber(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: JavaScript, not JSON (RFC 8259 §6)."""


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise RepeatedKey(key)
        out[key] = value
    return out


class _Repeats(dict[str, object]):
    """An object as read by ``_repeated_path``: ``repeated`` is its first key given twice, if any."""

    repeated: str | None = None


def _recording(pairs: list[tuple[str, object]]) -> _Repeats:
    out = _Repeats()
    for key, value in pairs:
        if key in out and out.repeated is None:
            out.repeated = key
        out[key] = value
    return out


def _repeated_path(value: object, at: str = "") -> tuple[str, str] | None:
    """The first key given twice in ``value`` (read with ``_recording``) and its path, outermost first."""
    if isinstance(value, _Repeats):
        if value.repeated is not None:
            return value.repeated, f"{at}.{value.repeated}" if at else value.repeated
        children = ((f"{at}.{k}" if at else k, v) for k, v in value.items())
    elif isinstance(value, list):
        children = ((f"{at}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for path, child in children:
        found = _repeated_path(child, path)
        if found is not None:
            return found
    return None


def _constant(name: str) -> object:
    raise NotJsonNumber(f"{name} is not a JSON number")


def read_json_document(text: str) -> object:
    """``text`` as JSON with numbers as ``JsonNumber``; ``RepeatedKey``, ``NotJsonNumber`` or ``ValueError``
    (not JSON; ``RecursionError`` for absurd nesting is the caller's to catch)."""
    try:
        return json.loads(
            text, parse_float=JsonNumber, parse_int=JsonNumber, parse_constant=_constant, object_pairs_hook=_pairs
        )
    except RepeatedKey as exc:  # read once more, keeping every object, to say where the key is
        whole = json.loads(text, parse_float=JsonNumber, parse_int=JsonNumber, object_pairs_hook=_recording)
        key, path = _repeated_path(whole) or (exc.key, exc.key)
        raise RepeatedKey(key, path) from None


def plain_json(value: object) -> object:
    """``value`` with every ``JsonNumber`` read as ``json.loads`` would (int or float)."""
    return _numbers(value, JsonNumber.plain)


def literal_json(value: object) -> object:
    """``value`` with every ``JsonNumber`` kept as the text it was written as (``5.000`` stays ``"5.000"``).

    What a body is compared by when the same body must mean the same thing: ``5.0`` and ``5.000``
    read alike as floats, but the second is refused as ambiguous, so they are not one body.
    """
    return _numbers(value, str)


def _numbers(value: object, number: Callable[[JsonNumber], object]) -> object:
    """``value`` with ``number`` applied to every ``JsonNumber`` in it, objects and arrays walked."""
    if isinstance(value, JsonNumber):
        return number(value)
    if isinstance(value, dict):
        return {k: _numbers(v, number) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v, number) for v in value]
    return value


def json_type(value: object) -> str:
    """The JSON type of a value read from JSON (or YAML): object, array, string, number, boolean or null."""
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return "number" if isinstance(value, JsonNumber | int | float) else type(value).__name__


def visible(text: str) -> str:
    """``text`` with each character a reader cannot see (a no-break space, a zero-width or control
    character: ``str.isprintable`` is false) written as its code point, e.g. ``1[U+00A0]h``."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"[U+{ord(c):04X}]" for c in text)


def show_given(raw: object) -> str:
    """A value someone sent, for a message: text in quotes, a number as written, other JSON types named
    (``true``, ``null``, ``an object``, ``an array``), never a Python repr; clipped to 60 characters."""
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif raw is None:
        text = "null"
    elif isinstance(raw, date):  # typed by YAML: shown as it was written
        text = f"“{raw.isoformat()}”"
    elif isinstance(raw, str):
        text = f"“{visible(raw)}”"
    elif isinstance(raw, dict):
        text = "an object"
    elif isinstance(raw, list | tuple):
        text = "an array"
    else:
        text = str(raw) if isinstance(raw, JsonNumber) else repr(raw)
    return text if len(text) <= 60 else text[:57] + "…" + ("”" if text.startswith("“") else "")
