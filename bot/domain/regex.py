"""Regular expressions from the governance file, matched in linear time (RE2).

A ``matches`` condition and a text field's ``pattern`` are written by a file's author and
run on every request. Python's ``re`` backtracks: ``^(a+)+$`` on 29 characters held the whole
process for half a minute. RE2 (``google-re2``) matches in time linear in the input and
refuses, at ``signoff check``, the constructs that need backtracking.

Accepted syntax is RE2's (https://github.com/google/re2/wiki/Syntax): Python's syntax without
backreferences (``\\1``, ``(?P=name)``), lookaround (``(?=``, ``(?!``, ``(?<=``, ``(?<!``),
atomic groups and possessive quantifiers. ``\\d``, ``\\w`` and ``\\s`` are ASCII-only.

Input length: what is matched is a field value, which the data contract bounds — text at
most ``TEXT_LIMIT`` (3000) characters, links and emails too; ``MATCH_INPUT_LIMIT`` states that
bound.

Cost: linear is not cheap. RE2 compiles ``(?s).{1000}Q`` to a program of 7,006 instructions and
300 such rules took 9.5 s and 690 MB on one 3000-character value. So each pattern's program (RE2's
``programsize``, about the number of characters and repetitions it spells out) is at most
``MAX_PATTERN_COST``, and a kind's patterns together at most ``MAX_KIND_PATTERN_COST``: measured, a
kind at that total (patterns of any size) matches a 3000-character value in under 25 ms.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

#: The longest value a pattern is matched against: the contract's limit for text (Slack's 3000).
MATCH_INPUT_LIMIT = 3000
#: RE2's memory budget for one compiled pattern; a larger pattern is refused at check.
_MAX_MEMORY = 8 << 20
#: The largest RE2 program one pattern may compile to (``^[A-Z]{2}-[0-9]{4,8}$`` is 21; ``.{100}`` ~700).
MAX_PATTERN_COST = 1_000
#: The largest total of the programs of one kind's patterns (its ``matches`` and fields' ``pattern``).
MAX_KIND_PATTERN_COST = 10_000

_UNSUPPORTED = (
    ("invalid perl operator: (?=", "lookahead (?=…)"),
    ("invalid perl operator: (?!", "negative lookahead (?!…)"),
    ("invalid perl operator: (?<=", "lookbehind (?<=…)"),
    ("invalid perl operator: (?<!", "negative lookbehind (?<!…)"),
    ("invalid perl operator: (?>", "an atomic group (?>…)"),
    ("bad repetition operator: ++", "a possessive quantifier ++"),
    ("bad repetition operator: *+", "a possessive quantifier *+"),
    ("bad repetition operator: ?+", "a possessive quantifier ?+"),
)


class PatternError(ValueError):
    """A pattern RE2 cannot use; the message says what is wrong and that RE2 syntax is required."""


class Pattern:
    """A compiled pattern: ``search`` finds it anywhere, ``fullmatch`` needs the whole text."""

    __slots__ = ("_compiled", "cost", "source")

    def __init__(self, source: str, compiled: Any):
        self.source = source
        self._compiled = compiled
        #: The size of RE2's program for the pattern: what one match costs, roughly, per character.
        self.cost: int = compiled.programsize

    def search(self, text: str) -> bool:
        return self._compiled.search(text) is not None

    def fullmatch(self, text: str) -> bool:
        return self._compiled.fullmatch(text) is not None


@lru_cache(maxsize=1024)
def compile_pattern(source: str) -> Pattern:
    """Compile ``source`` with RE2; raise ``PatternError`` naming what RE2 does not support."""
    options = re2.Options()
    options.log_errors = False  # RE2 would print each refused pattern on stderr
    options.max_mem = _MAX_MEMORY
    try:
        compiled = re2.compile(source, options)
    except re2.error as exc:
        raise PatternError(_explain(source, exc)) from None
    except (TypeError, ValueError) as exc:  # e.g. a NUL or a lone surrogate that cannot be UTF-8
        raise PatternError(f"is not a valid regular expression: {exc}") from None
    pattern = Pattern(source, compiled)
    if pattern.cost > MAX_PATTERN_COST:
        raise PatternError(
            f"is too costly to match: it compiles to {pattern.cost:,} RE2 instructions, at most "
            f"{MAX_PATTERN_COST:,} are allowed (large counted repetitions such as .{{1000}} cost the most): "
            "simplify it"
        )
    return pattern


_RE2_ONLY = "RE2 syntax is required (no lookaround, backreferences or possessive quantifiers)"


def _explain(source: str, exc: Exception) -> str:
    raw = exc.args[0] if exc.args else str(exc)
    detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if detail == "invalid perl operator: (?P" and "(?P=" in source:
        return f"uses a backreference (?P=name), which RE2 does not support: {_RE2_ONLY}"
    for prefix, what in _UNSUPPORTED:
        if detail.startswith(prefix):
            return f"uses {what}, which RE2 does not support: {_RE2_ONLY}"
    if detail.startswith("invalid escape sequence: \\") and detail[-1:].isdigit():
        return f"uses a backreference {detail.rsplit(' ', 1)[-1]}, which RE2 does not support: {_RE2_ONLY}"
    if "pattern too large" in detail:
        return "is too large for RE2 (it would compile to more than 8 MiB): simplify it or split the rule"
    return f"is not a valid regular expression (RE2 syntax): {detail}"
