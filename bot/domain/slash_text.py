"""Slash-command text: words and ``key=value`` pairs, with Slack's markup undone.

Slack sends the text of a command with ``&``, ``<`` and ``>`` escaped as entities and with
mentions, channels and links as ``<@U…|name>``, ``<#C…|name>``, ``<https://…|label>``
(``should_escape: true``). A raw ``<`` therefore always opens Slack markup, which this
module keeps whole while splitting; values are decoded per field type afterwards, so that a
user field gets the id and a text field gets the text the person saw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain.field_types import FIELD_TYPES, FieldType
from bot.domain.field_values import unescape_entities as unescape_entities

_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "„": "“", "«": "»"}
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)
_MARKUP = re.compile(r"<([^<>]*)>")


class SlashTextError(ValueError):
    """The text could not be split into words and ``key=value`` pairs; the message says where."""


@dataclass(frozen=True)
class SlashText:
    """Leading words (a kind, a subcommand, an id) followed by ``key=value`` pairs."""

    words: tuple[str, ...]
    pairs: dict[str, str] = field(default_factory=dict)


def split_slash_text(text: str) -> SlashText:
    """Split command text. Bare words after a pair continue its value (``account=Acme Corp``).

    Raises ``SlashTextError`` for an unterminated quote or markup, an empty or malformed key,
    or a key given twice. Values keep Slack markup; see ``decode_slack_value``.
    """
    words: list[str] = []
    pairs: dict[str, str] = {}
    last_key: str | None = None
    for token, quoted in _tokens(text):
        key, sep, value = token.partition("=") if not quoted else ("", "", "")
        if sep and not key.startswith("<"):
            key = key.strip()
            if not _KEY.fullmatch(key):
                raise SlashTextError(f"“{_clip(key)}” is not a field name (in “{_clip(token)}”)")
            key = key.lower()
            if key in pairs:
                raise SlashTextError(f"{key} is given twice")
            pairs[key] = value.strip()
            last_key = key
        elif last_key is None:
            words.append(token)
        else:
            joined = pairs[last_key]
            pairs[last_key] = f"{joined} {token}" if joined else token
    return SlashText(words=tuple(words), pairs=pairs)


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Whitespace-separated tokens; quotes and Slack markup may contain whitespace."""
    tokens: list[tuple[str, bool]] = []
    current: list[str] = []
    quoted = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            if current:
                tokens.append(("".join(current), quoted))
                current, quoted = [], False
            i += 1
        elif ch in _QUOTES and (not current or current[-1] == "="):
            # A quote opens a value only at its start, so "customer's" stays one word.
            close = _QUOTES[ch]
            end = text.find(close, i + 1)
            if end < 0:
                raise SlashTextError(f"a quote opened at “{_clip(text[i:])}” is never closed")
            chunk = text[i + 1 : end]
            quoted = quoted or not current
            current.append(chunk)
            i = end + 1
        elif ch == "<":
            end = text.find(">", i + 1)
            if end < 0:
                raise SlashTextError(f"“{_clip(text[i:])}” is missing its closing >")
            current.append(text[i : end + 1])
            i = end + 1
        else:
            current.append(ch)
            i += 1
    if current:
        tokens.append(("".join(current), quoted))
    return tokens


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_slack_value(raw: str, field_type: FieldType | None) -> str:
    """Turn a value as Slack sent it into plain text for a field of ``field_type``.

    A user or channel field that is one mention gets the id, a url field the link's real
    target and an email field the address (the type's ``from_link`` facet). Anything else
    becomes the text the person saw,
    with no markup left that could ping or hide a link: ``<@U1|sam>`` → ``@sam``,
    ``<!here>`` → ``@here``, ``<!subteam^S1|@legal>`` → ``@legal``, ``<http://a.io|a.io>`` →
    ``a.io``, and a link whose label is not its address keeps both:
    ``<https://evil.example|bank.com>`` → ``bank.com (https://evil.example)``.
    """
    stripped = raw.strip()
    whole = _MARKUP.fullmatch(stripped)
    if whole is not None:
        target = whole.group(1).partition("|")[0]
        value = FIELD_TYPES[field_type].from_link(target) if field_type is not None else None
        if value is not None:
            return value
    return unescape_entities(_MARKUP.sub(_visible_text, raw))


def _visible_text(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    if target.startswith(("@", "#")):
        return target[0] + (label.removeprefix(target[0]) or target[1:])
    if target.startswith("!"):
        command, _, argument = target[1:].partition("^")
        if label:
            return label if command == "date" or label.startswith("@") else "@" + label
        return "@" + (argument if command == "subteam" and argument else command)
    address = target.removeprefix("mailto:")
    if not label or _same_address(label, address):
        return label or address
    return f"{label} ({address})"


def _same_address(label: str, address: str) -> bool:
    """Whether a link's label is its own address, as Slack writes a typed ``acme.io`` (``<http://acme.io|acme.io>``)."""

    def bare(text: str) -> str:
        text = unescape_entities(text).strip().lower()
        for prefix in ("https://", "http://", "mailto:"):
            text = text.removeprefix(prefix)
        return text.removeprefix("www.").rstrip("/")

    return bare(label) == bare(address)
