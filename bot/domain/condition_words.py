"""A ``when`` condition (DESIGN §3.2) in words, as an owner reads a suggested rule: ``amount_pct ≤ 12
and tier is partner or reseller``.

Pure. The result is a sequence of ``Token``: Signoff's own words and symbols, field names (from
the governance file), people (Slack user ids) and values (which may be text a person typed), so
that an adapter can show each part its own way (Slack escapes the names and values, mentions the
people); ``plain`` joins them into one line. Values are shown as cards, receipts and the report
show them (``bot.domain.fields.render_value``: numbers without exponent, booleans as yes/no, dates
ISO, durations as written), free text in quotes (``quote_value``). A value the field no longer
reads (the file changed) is shown as written. Nothing here evaluates anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from enum import StrEnum
from typing import Any

from bot.domain.conditions import HOUR, RELATIVE_OFFSET, REQUESTER, REQUESTER_GROUP, WEEKDAY
from bot.domain.fields import FIELD_TYPES, FieldSpec, FieldType, coerce, quote_value, render_value
from bot.domain.operators import Op

_SYMBOLS = {Op.LT: "<", Op.LTE: "≤", Op.GT: ">", Op.GTE: "≥", Op.EQ: "=", Op.NE: "≠"}
#: Subjects that are not fields, in words.
_SUBJECTS = {REQUESTER: "requester", WEEKDAY: "weekday of submission", HOUR: "hour of submission"}
#: Field types compared by order, whose ``eq`` / ``ne`` read as ``=`` / ``≠`` (the rest read ``is`` / ``is not``).
_ORDERED_TYPES = frozenset({FieldType.NUMBER, FieldType.MONEY, FieldType.DATE, FieldType.DATETIME, FieldType.DURATION})


class Part(StrEnum):
    """What a token is: Signoff's ``word``, a field ``name``, a ``user`` id, or a ``value``."""

    WORD = "word"
    NAME = "name"
    USER = "user"
    VALUE = "value"


@dataclass(frozen=True)
class Token:
    text: str
    part: Part = Part.WORD


Words = tuple[Token, ...]


def plain(words: Sequence[Token]) -> str:
    """The words as one line of plain text."""
    return "".join(token.text for token in words)


def describe_when(when: Mapping[str, Any], fields: Mapping[str, FieldSpec], *, tz: tzinfo) -> Words:
    """``when`` in words. ``fields``: the kind's contract (how each value is read and shown); ``tz``:
    the governance timezone (for date-times written without one). An empty ``when`` is ``always``.

    Entries of a mapping and ``all`` are joined by ``and``, ``any`` by ``or``; a group inside another
    of the other connective is put in parentheses; ``not`` reads ``not (…)``.
    """
    if not when:
        return (Token("always"),)
    return tuple(_Describer(fields, tz).node(when)[0])


# A phrase and the connective joining its parts at the top (None: one clause, nothing to bracket).
_Phrase = tuple[list[Token], str | None]


class _Describer:
    def __init__(self, fields: Mapping[str, FieldSpec], tz: tzinfo):
        self.fields = fields
        self.tz = tz

    def node(self, when: object) -> _Phrase:
        if not isinstance(when, Mapping):
            return [Token(render_value(when), Part.VALUE)], None
        phrases: list[_Phrase] = []
        for key, spec in when.items():
            name = str(key)
            if name in ("all", "any") and isinstance(spec, list):
                phrases.append(_join([self.node(item) for item in spec], "and" if name == "all" else "or"))
            elif name == "not":
                inner, _ = self.node(spec)
                phrases.append(([Token("not ("), *inner, Token(")")], None))
            else:
                phrases.append(_join(self.subject(name, spec), "and"))
        return _join(phrases, "and")

    def subject(self, name: str, spec: object) -> list[_Phrase]:
        ops = spec.items() if isinstance(spec, Mapping) else [("eq", spec)]  # `region: emea` is `eq`
        return [(self.leaf(name, str(op), expected), None) for op, expected in ops]

    def leaf(self, name: str, op: str, expected: object) -> list[Token]:
        field = self.fields.get(name)
        if name == REQUESTER_GROUP:
            return [Token("requester"), *_group_words(op, [self.value(name, v) for v in _listed(expected)])]
        subject = Token(name, Part.NAME) if name not in _SUBJECTS else Token(_SUBJECTS[name])
        ordered = name == HOUR or (field is not None and field.type in _ORDERED_TYPES)
        if op == Op.SET:
            return [subject, Token(" is set" if expected is True else " is not set")]
        if op in (Op.IN, Op.NOT_IN):
            values = [self.value(name, v) for v in _listed(expected)]
            return [subject, *(_one_of(values) if op == Op.IN else _none_of(values))]
        if op == Op.BETWEEN and isinstance(expected, list) and len(expected) == 2:
            low, high = (self.value(name, v) for v in expected)
            return [subject, Token(" is from "), low, Token(" to "), high]
        if op == Op.CONTAINS:
            multi = field is not None and field.type is FieldType.MULTI_CHOICE
            return [subject, Token(" includes " if multi else " contains "), self.value(name, expected)]
        if op == Op.MATCHES:
            return [subject, Token(" matches the pattern "), Token(quote_value(str(expected)), Part.VALUE)]
        try:
            known = Op(op)
        except ValueError:  # not an operator Signoff knows: shown as written
            return [subject, Token(f" {op} "), self.value(name, expected)]
        if known in (Op.EQ, Op.NE) and not ordered:
            return [subject, Token(" is " if known is Op.EQ else " is not "), self.value(name, expected)]
        return [subject, Token(f" {_SYMBOLS.get(known, op)} "), self.value(name, expected)]

    def value(self, name: str, raw: object) -> Token:
        """One expected value as a person reads it (see the module's docstring)."""
        field = self.fields.get(name)
        if name == REQUESTER or (field is not None and field.type is FieldType.USER):
            return Token(str(raw), Part.USER)
        if field is None:
            return Token(render_value(raw), Part.VALUE)
        if field.type in (FieldType.DATE, FieldType.DATETIME) and isinstance(raw, str) and RELATIVE_OFFSET.match(raw):
            anchor = "the day" if field.type is FieldType.DATE else "the time"
            return Token(f"{raw.replace(' ', '')} from {anchor} of submission", Part.VALUE)
        typed: object = raw
        if field.type not in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
            try:
                typed = coerce(field, raw, tz=self.tz)
            except ValueError:
                typed = raw
        textual = FIELD_TYPES[field.type].textual
        return Token(quote_value(typed) if textual else render_value(typed), Part.VALUE)


def _listed(expected: object) -> list[object]:
    return list(expected) if isinstance(expected, list | tuple) else [expected]


def _join(phrases: list[_Phrase], connective: str) -> _Phrase:
    """``phrases`` joined by ``connective``; a part joined by the other connective is bracketed."""
    if len(phrases) == 1:
        return phrases[0]
    tokens: list[Token] = []
    for index, (words, inner) in enumerate(phrases):
        if index:
            tokens.append(Token(f" {connective} "))
        tokens += [Token("("), *words, Token(")")] if inner not in (None, connective) else words
    return tokens, connective


def _series(values: list[Token], last: str) -> list[Token]:
    """``a``, ``a or b``, ``a, b or c`` (``last``: the word before the last value)."""
    tokens: list[Token] = []
    for index, value in enumerate(values):
        if index:
            tokens.append(Token(f" {last} " if index == len(values) - 1 else ", "))
        tokens.append(value)
    return tokens


def _one_of(values: list[Token]) -> list[Token]:
    return [Token(" is "), *_series(values, "or")]


def _none_of(values: list[Token]) -> list[Token]:
    if len(values) == 1:
        return [Token(" is not "), values[0]]
    if len(values) == 2:
        return [Token(" is neither "), values[0], Token(" nor "), values[1]]
    return [Token(" is none of "), *_series(values, "or")]


def _group_words(op: str, groups: list[Token]) -> list[Token]:
    if op in (Op.NE, Op.NOT_IN):
        if len(groups) == 1:
            return [Token(" is not in group "), groups[0]]
        if len(groups) == 2:
            return [Token(" is in neither group "), groups[0], Token(" nor "), groups[1]]
        return [Token(" is in none of the groups "), *_series(groups, "or")]
    return [Token(" is in group "), *_series(groups, "or")]
