"""Conditions (``when``): compiled once from the governance file, evaluated per request.

A condition is a tree of leaves (``field: {op: value}``) joined by ``all``, ``any`` and
``not``. Compilation checks every leaf against the field's type, so evaluation never meets
a value it cannot compare, and turns it into a small closure built from the ``operator``
module; nothing from the file is ever executed.

Evaluation is three-valued: a leaf on a field that is not set cannot be evaluated (unknown),
which makes ``not`` unknown too, and a rule only matches when its tree is plainly true.
Matching is the hot path and records nothing; ``trace`` re-evaluates the same pure tree
and records every leaf, which is how a receipt explains a decision.

A text leaf can also be in doubt: its value is not the constant (or does not contain or
match it) but looks like it (``bot.domain.text.look_alike_keys``). ``outcomes`` says what a
rule could be if each leaf in doubt were read either way; ``DoubtPlan`` finds, cheaply, the
rules a request's values could put in doubt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from bot.domain.field_types import FIELD_TYPES
from bot.domain.fields import FieldType, quote_value, render_value
from bot.domain.operators import ORDERED
from bot.domain.operators import Op as Op
from bot.domain.text import look_alike_keys

T = TypeVar("T")
Facts = Mapping[str, Any]
Truth = bool | None
"""True, False, or None when the condition could not be evaluated (a field is not set)."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REQUESTER, REQUESTER_GROUP, WEEKDAY, HOUR = "requester", "requester_group", "weekday", "hour"
COMBINATORS = ("all", "any", "not")
RESERVED_NAMES = frozenset({REQUESTER, REQUESTER_GROUP, WEEKDAY, HOUR, *COMBINATORS})
TODAY, NOW = "@today", "@now"
_MISSING: Any = object()
#: ``+7d``, ``- 2w``: ASCII digits and spaces only, the whole text (``\Z``: no trailing line break).
RELATIVE_OFFSET = re.compile(r"^[+-] *[0-9]+ *[smhdw]\Z", re.ASCII)


#: The operators that fit each field type: the ``operators`` facet of ``bot.domain.field_types``.
OPERATORS: dict[FieldType, frozenset[Op]] = {t: described.operators for t, described in FIELD_TYPES.items()}
SUBJECT_OPERATORS: dict[str, frozenset[Op]] = {
    REQUESTER: frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN}),
    REQUESTER_GROUP: frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN}),
    WEEKDAY: frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN}),
    HOUR: ORDERED - {Op.SET},
}
_SYMBOLS = {Op.LT: "<", Op.LTE: "≤", Op.GT: ">", Op.GTE: "≥", Op.EQ: "=", Op.NE: "≠"}

Problem = tuple[tuple[str | int, ...], str]


class ConditionError(ValueError):
    """A ``when`` that does not fit its kind; ``problems`` are (sub-path, message) pairs."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


@dataclass(slots=True)
class LeafTrace:
    """One leaf as evaluated: what it compared and whether it held (None: could not evaluate)."""

    field: str
    op: str
    expected: Any
    actual: Any
    result: Truth
    note: str | None = None
    #: The constant the value looks like without being it (then ``result`` is what the exact
    #: comparison said, and the leaf counts as neither true nor false).
    looks_like: str | None = None

    def describe(self, *, shadow: bool = False) -> str:
        """The leaf as a trace line; ``shadow``: of a shadow rule, whose doubt only withholds its verdict."""
        shown = _render_expected(self.expected)
        if self.looks_like is not None:
            actual = quote_value(self.actual)
            then = "in doubt, so no shadow verdict" if shadow else "a person decides"
            return f"{self.field} {actual} {self.op} {shown} → looks like “{self.looks_like}”: {then}"
        if self.result is None:
            return f"{self.field} {self.op} {shown} → cannot evaluate: {self.note}"
        actual = "not set" if self.actual is None else quote_value(self.actual)
        return f"{self.field} {actual} {self.op} {shown} → {'true' if self.result else 'false'}"

    def as_requirement(self) -> str:
        """The leaf as a person reads a rule: ``amount_pct ≤ 10``."""
        symbol = _SYMBOLS.get(Op(self.op))
        shown = _render_expected(self.expected)
        if symbol is not None:
            return f"{self.field} {symbol} {shown}"
        return f"{self.field} {self.op.replace('_', ' ')} {shown}"


def plainly(leaf: LeafTrace) -> LeafTrace:
    """``leaf`` without its look-alike: how a rule that is not in doubt shows it (its exact result)."""
    return leaf if leaf.looks_like is None else replace(leaf, looks_like=None)


def _render_expected(expected: Any) -> str:
    if isinstance(expected, RelativeValue):
        return expected.describe()
    if isinstance(expected, list | tuple) and not isinstance(expected, str):
        return "[" + ", ".join(render_value(v) for v in expected) + "]"
    return render_value(expected)


@dataclass(frozen=True)
class RelativeValue:
    """An expected date or time relative to the submission (``+14d``), resolved per evaluation."""

    written: str
    delta: timedelta
    anchor: str
    resolved: Any = None

    def describe(self) -> str:
        return self.written if self.resolved is None else f"{self.written} ({render_value(self.resolved)})"


def shift(anchor: Any, delta: timedelta) -> Any:
    """``anchor + delta`` for a date or date-time, held at the calendar's edge instead of overflowing
    (compilation bounds offsets to 100 years; this keeps ``explain --at 9999-12-31`` answering)."""
    try:
        return anchor + delta
    except OverflowError:
        edge = type(anchor).max if delta > timedelta(0) else type(anchor).min
        return edge.replace(tzinfo=anchor.tzinfo) if isinstance(anchor, datetime) else edge


class Condition:
    """A compiled node. ``matches`` is the hot path; ``trace`` records every leaf."""

    def truth(self, facts: Facts) -> Truth:
        raise NotImplementedError

    def trace(self, facts: Facts, sink: list[LeafTrace]) -> Truth:
        raise NotImplementedError

    def leaves(self) -> list[Leaf]:
        raise NotImplementedError

    def outcomes(self, facts: Facts) -> frozenset[Truth]:
        """Every truth the condition could have if each leaf in doubt were read either way
        (a superset when one leaf is met twice); ``{truth(facts)}`` when no leaf is in doubt."""
        raise NotImplementedError


class Always(Condition):
    """A rule without ``when``: it always applies."""

    def truth(self, facts: Facts) -> Truth:
        return True

    def trace(self, facts: Facts, sink: list[LeafTrace]) -> Truth:
        return True

    def leaves(self) -> list[Leaf]:
        return []

    def outcomes(self, facts: Facts) -> frozenset[Truth]:
        return _TRUE


class Leaf(Condition):
    """One comparison. ``looks_like(actual)``, for text, names the constant ``actual`` looks like
    without exactly being it (or containing or matching it), else None; ``look_alike_index`` are
    the constants' look-alike keys (None: every value must be asked, as for ``contains``)."""

    def __init__(
        self,
        subject: str,
        op: Op,
        expected: Any,
        test: Callable[..., bool],
        relative: RelativeValue | None,
        *,
        looks_like: Callable[[Any], str | None] | None = None,
        look_alike_index: frozenset[str] | None = None,
    ):
        self.subject = subject
        self.op = op
        self.expected = expected
        self.relative = relative
        self.looks_like = looks_like
        self.look_alike_index = look_alike_index
        #: ``test(actual)`` when the leaf needs nothing but the subject's value (see ``MatchPlan``).
        self.direct_test: Callable[[Any], bool] | None = test if op is not Op.SET and relative is None else None
        subject_ = subject
        missing = _MISSING
        if op is Op.SET:
            want = bool(expected)

            def truth(facts: Facts) -> Truth:
                return (facts.get(subject_, missing) is not missing) is want

        elif relative is not None:
            anchor, delta = relative.anchor, relative.delta

            def truth(facts: Facts) -> Truth:
                value = facts.get(subject_, missing)
                return None if value is missing else test(value, shift(facts[anchor], delta))

        else:

            def truth(facts: Facts) -> Truth:
                value = facts.get(subject_, missing)
                return None if value is missing else test(value)

        self.truth = truth  # type: ignore[method-assign]

    def trace(self, facts: Facts, sink: list[LeafTrace]) -> Truth:
        result = self.truth(facts)
        actual = facts.get(self.subject, _MISSING)
        expected = self.expected
        if self.relative is not None and self.relative.anchor in facts:
            expected = replace(self.relative, resolved=shift(facts[self.relative.anchor], self.relative.delta))
        note = f"{self.subject} is not set" if result is None else None
        looks_like = self.looks_like(actual) if self.looks_like is not None and result is not None else None
        sink.append(
            LeafTrace(
                self.subject, self.op.value, expected, None if actual is _MISSING else actual, result, note, looks_like
            )
        )
        return result

    def leaves(self) -> list[Leaf]:
        return [self]

    def outcomes(self, facts: Facts) -> frozenset[Truth]:
        result = self.truth(facts)
        if self.looks_like is not None and result is not None and self.looks_like(facts[self.subject]) is not None:
            return _EITHER
        return _ONLY[result]


class All(Condition):
    def __init__(self, children: list[Condition]):
        self.children = tuple(children)

    def truth(self, facts: Facts) -> Truth:
        unknown = False
        for child in self.children:
            result = child.truth(facts)
            if result is False:
                return False
            unknown = unknown or result is None
        return None if unknown else True

    def trace(self, facts: Facts, sink: list[LeafTrace]) -> Truth:
        return _all([child.trace(facts, sink) for child in self.children])

    def leaves(self) -> list[Leaf]:
        return [leaf for child in self.children for leaf in child.leaves()]

    def outcomes(self, facts: Facts) -> frozenset[Truth]:
        return _combine(self.children, facts, _all)


class AnyOf(Condition):
    def __init__(self, children: list[Condition]):
        self.children = tuple(children)

    def truth(self, facts: Facts) -> Truth:
        unknown = False
        for child in self.children:
            result = child.truth(facts)
            if result is True:
                return True
            unknown = unknown or result is None
        return None if unknown else False

    def trace(self, facts: Facts, sink: list[LeafTrace]) -> Truth:
        return _any([child.trace(facts, sink) for child in self.children])

    def leaves(self) -> list[Leaf]:
        return [leaf for child in self.children for leaf in child.leaves()]

    def outcomes(self, facts: Facts) -> frozenset[Truth]:
        return _combine(self.children, facts, _any)


class Not(Condition):
    def __init__(self, child: Condition):
        self.child = child

    def truth(self, facts: Facts) -> Truth:
        result = self.child.truth(facts)
        return None if result is None else not result

    def trace(self, facts: Facts, sink: list[LeafTrace]) -> Truth:
        result = self.child.trace(facts, sink)
        return None if result is None else not result

    def leaves(self) -> list[Leaf]:
        return self.child.leaves()

    def outcomes(self, facts: Facts) -> frozenset[Truth]:
        return frozenset(None if result is None else not result for result in self.child.outcomes(facts))


class MatchPlan(Generic[T]):
    """Finds which of many conditions hold, fast: the hot path of resolving a request.

    Most rules are one comparison on one field. Those are grouped by field, so each field's
    value is looked up once and compared by C-level callables without a Python frame per
    rule; other conditions are evaluated as trees. ``matching`` returns the payloads of the
    conditions that are plainly true, in the order they were given.
    """

    def __init__(self, entries: Sequence[tuple[Condition, T]]):
        groups: dict[str, tuple[list[Callable[[Any], bool]], list[int]]] = {}
        trees: list[tuple[Callable[[Facts], Truth], int]] = []
        for position, (condition, _) in enumerate(entries):
            test = condition.direct_test if isinstance(condition, Leaf) else None
            if test is not None and isinstance(condition, Leaf):
                tests, positions = groups.setdefault(condition.subject, ([], []))
                tests.append(test)
                positions.append(position)
            else:
                trees.append((condition.truth, position))
        self._groups = tuple(
            (subject, tuple(zip(tests, positions, strict=True))) for subject, (tests, positions) in groups.items()
        )
        self._trees = tuple(trees)
        self._payloads = tuple(payload for _, payload in entries)
        # Hits come out grouped by field; they need sorting back into file order only when
        # there is more than one group or tree.
        self._ordered = len(groups) + bool(trees) <= 1

    def matching(self, facts: Facts) -> list[T]:
        hits: list[int] = []
        for subject, tests in self._groups:
            value = facts.get(subject, _MISSING)
            if value is not _MISSING:
                for test, position in tests:
                    if test(value):
                        hits.append(position)
        if self._trees:
            hits.extend([position for truth, position in self._trees if truth(facts) is True])
        if not self._ordered:
            hits.sort()
        payloads = self._payloads
        return [payloads[position] for position in hits]


class DoubtPlan(Generic[T]):
    """Finds the conditions a request's text values could put in doubt, without evaluating the others.

    A value can only look like a constant it shares a look-alike key with, so the constants'
    keys (computed when the file compiles) index the conditions; leaves without an index
    (``contains``, ``matches``) are asked whenever their field is set. ``candidates`` returns the
    payloads of the conditions to ask ``outcomes`` of, in the order given.
    """

    def __init__(self, entries: Sequence[tuple[Condition, T]]):
        self._by_key: dict[tuple[str, str], list[int]] = {}
        self._always: dict[str, list[int]] = {}
        for position, (condition, _) in enumerate(entries):
            for leaf in condition.leaves():
                if leaf.looks_like is None:
                    continue
                if leaf.look_alike_index is None:
                    self._always.setdefault(leaf.subject, []).append(position)
                for key in leaf.look_alike_index or ():
                    self._by_key.setdefault((leaf.subject, key), []).append(position)
        self._subjects = tuple({subject for subject, _ in self._by_key} | set(self._always))
        self._payloads = tuple(payload for _, payload in entries)

    def candidates(self, facts: Facts) -> list[T]:
        if not self._subjects:
            return []
        found: set[int] = set()
        for subject in self._subjects:
            value = facts.get(subject)
            if not isinstance(value, str):
                continue
            found.update(self._always.get(subject, ()))
            for key in look_alike_keys(value):
                found.update(self._by_key.get((subject, key), ()))
        return [self._payloads[position] for position in sorted(found)]


_TRUE: frozenset[Truth] = frozenset({True})
_EITHER: frozenset[Truth] = frozenset({True, False})
_ONLY: dict[Truth, frozenset[Truth]] = {value: frozenset({value}) for value in (True, False, None)}


def _combine(children: Sequence[Condition], facts: Facts, join: Callable[[list[Truth]], Truth]) -> frozenset[Truth]:
    """``join`` over every choice of one outcome per child (at most three each, so the set stays small)."""
    possible: frozenset[Truth] = frozenset()
    for index, child in enumerate(children):
        mine = child.outcomes(facts)
        possible = mine if index == 0 else frozenset(join([a, b]) for a in possible for b in mine)
    return possible


def _all(results: list[Truth]) -> Truth:
    if False in results:
        return False
    return None if None in results else True


def _any(results: list[Truth]) -> Truth:
    if True in results:
        return True
    return None if None in results else False
