"""Conditions (``when``): compiled once from the governance file, evaluated per request.

A condition is a tree of leaves (``field: {op: value}``) joined by ``all``, ``any`` and
``not``. Compilation checks every leaf against the field's type, so evaluation never meets
a value it cannot compare, and turns it into a small closure built from the ``operator``
module; nothing from the file is ever executed.

Evaluation is three-valued: a leaf on a field that is not set cannot be evaluated (unknown),
which makes ``not`` unknown too, and a rule only matches when its tree is plainly true.
Matching is the hot path and records nothing; ``trace`` re-evaluates the same pure tree
and records every leaf, which is how a receipt explains a decision.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta, tzinfo
from enum import StrEnum
from functools import partial
from typing import Any, Generic, TypeVar

from bot.domain.durations import parse_duration
from bot.domain.fields import FieldSpec, FieldType, coerce, is_user_id, render_value

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
_RELATIVE = re.compile(r"^[+-]\s*\d+\s*[smhdw]$")


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    IN = "in"
    NOT_IN = "not_in"
    BETWEEN = "between"
    CONTAINS = "contains"
    MATCHES = "matches"
    SET = "set"


_ORDERED = frozenset({Op.EQ, Op.NE, Op.LT, Op.LTE, Op.GT, Op.GTE, Op.IN, Op.NOT_IN, Op.BETWEEN, Op.SET})
_TEXTUAL = frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.CONTAINS, Op.MATCHES, Op.SET})
_DISCRETE = frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.SET})

#: The operators that fit each field type. One table, used by compilation and by the docs.
OPERATORS: dict[FieldType, frozenset[Op]] = {
    FieldType.TEXT: _TEXTUAL,
    FieldType.URL: _TEXTUAL,
    FieldType.EMAIL: _TEXTUAL,
    FieldType.NUMBER: _ORDERED,
    FieldType.MONEY: _ORDERED,
    FieldType.DATE: _ORDERED - {Op.IN, Op.NOT_IN},
    FieldType.DATETIME: _ORDERED - {Op.IN, Op.NOT_IN},
    FieldType.DURATION: _ORDERED - {Op.IN, Op.NOT_IN},
    FieldType.CHOICE: _DISCRETE,
    FieldType.MULTI_CHOICE: frozenset({Op.CONTAINS, Op.SET}),
    FieldType.BOOL: frozenset({Op.EQ, Op.NE, Op.SET}),
    FieldType.USER: _DISCRETE,
    FieldType.CHANNEL: _DISCRETE,
}
_SUBJECT_OPERATORS: dict[str, frozenset[Op]] = {
    REQUESTER: frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN}),
    REQUESTER_GROUP: frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN}),
    WEEKDAY: frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN}),
    HOUR: _ORDERED - {Op.SET},
}
_SYMBOLS = {Op.LT: "<", Op.LTE: "≤", Op.GT: ">", Op.GTE: "≥", Op.EQ: "=", Op.NE: "≠"}

Problem = tuple[tuple[str | int, ...], str]


class ConditionError(ValueError):
    """A ``when`` that does not fit its kind; ``problems`` are (sub-path, message) pairs."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


@dataclass(frozen=True)
class LeafTrace:
    """One leaf as evaluated: what it compared and whether it held (None: could not evaluate)."""

    field: str
    op: str
    expected: Any
    actual: Any
    result: Truth
    note: str | None = None

    def describe(self) -> str:
        shown = _render_expected(self.expected)
        if self.result is None:
            return f"{self.field} {self.op} {shown} → cannot evaluate: {self.note}"
        actual = "not set" if self.actual is None else render_value(self.actual)
        return f"{self.field} {actual} {self.op} {shown} → {'true' if self.result else 'false'}"

    def as_requirement(self) -> str:
        """The leaf as a person reads a rule: ``amount_pct ≤ 10``."""
        symbol = _SYMBOLS.get(Op(self.op))
        shown = _render_expected(self.expected)
        if symbol is not None:
            return f"{self.field} {symbol} {shown}"
        return f"{self.field} {self.op.replace('_', ' ')} {shown}"


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


class Condition:
    """A compiled node. ``matches`` is the hot path; ``trace`` records every leaf."""

    def truth(self, facts: Facts) -> Truth:
        raise NotImplementedError

    def trace(self, facts: Facts, sink: list[LeafTrace]) -> Truth:
        raise NotImplementedError

    def leaves(self) -> list[Leaf]:
        raise NotImplementedError


class Always(Condition):
    """A rule without ``when``: it always applies."""

    def truth(self, facts: Facts) -> Truth:
        return True

    def trace(self, facts: Facts, sink: list[LeafTrace]) -> Truth:
        return True

    def leaves(self) -> list[Leaf]:
        return []


class Leaf(Condition):
    def __init__(self, subject: str, op: Op, expected: Any, test: Callable[..., bool], relative: RelativeValue | None):
        self.subject = subject
        self.op = op
        self.expected = expected
        self.relative = relative
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
                return None if value is missing else test(value, facts[anchor] + delta)

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
            expected = replace(self.relative, resolved=facts[self.relative.anchor] + self.relative.delta)
        note = f"{self.subject} is not set" if result is None else None
        sink.append(
            LeafTrace(self.subject, str(self.op), expected, None if actual is _MISSING else actual, result, note)
        )
        return result

    def leaves(self) -> list[Leaf]:
        return [self]


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
        results = [child.trace(facts, sink) for child in self.children]
        if True in results:
            return True
        return None if None in results else False

    def leaves(self) -> list[Leaf]:
        return [leaf for child in self.children for leaf in child.leaves()]


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


def _all(results: list[Truth]) -> Truth:
    if False in results:
        return False
    return None if None in results else True


def compile_condition(
    when: object,
    *,
    fields: Mapping[str, FieldSpec],
    groups: Collection[str],
    tz: tzinfo,
) -> Condition:
    """Compile a ``when`` mapping against a kind's fields; raise ``ConditionError`` listing every problem."""
    problems: list[Problem] = []
    if when is None or when == {}:
        return Always()
    node = _Compiler(fields, groups, tz, problems).node(when, ())
    if problems:
        raise ConditionError(problems)
    assert node is not None
    return node


class _Compiler:
    def __init__(self, fields: Mapping[str, FieldSpec], groups: Collection[str], tz: tzinfo, problems: list[Problem]):
        self.fields = fields
        self.tz = tz
        self.groups = groups
        self.problems = problems

    def fail(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append((path, message))

    def node(self, when: object, path: tuple[str | int, ...]) -> Condition | None:
        if not isinstance(when, Mapping) or not when:
            self.fail(path, "a condition is a non-empty mapping of field: {operator: value}")
            return None
        parts: list[Condition] = []
        for key, spec in when.items():
            key = str(key)
            sub = (*path, key)
            part: Condition | None
            if key in ("all", "any"):
                if not isinstance(spec, list) or not spec:
                    self.fail(sub, f"{key} takes a non-empty list of conditions")
                    continue
                children = [self.node(item, (*sub, i)) for i, item in enumerate(spec)]
                kept = [c for c in children if c is not None]
                part = (All(kept) if key == "all" else AnyOf(kept)) if len(kept) == len(children) else None
            elif key == "not":
                child = self.node(spec, sub)
                part = Not(child) if child is not None else None
            else:
                part = self.subject(key, spec, sub)
            if part is not None:
                parts.append(part)
        return parts[0] if len(parts) == 1 else All(parts)

    def subject(self, name: str, spec: object, path: tuple[str | int, ...]) -> Condition | None:
        field = self.fields.get(name)
        if field is not None:
            allowed = OPERATORS[field.type]
        elif name in _SUBJECT_OPERATORS:
            allowed = _SUBJECT_OPERATORS[name]
        else:
            known = ", ".join([*self.fields, REQUESTER, REQUESTER_GROUP, WEEKDAY, HOUR])
            self.fail(path, f"unknown field “{name}” (this kind has: {known})")
            return None
        if not isinstance(spec, Mapping):
            spec = {"eq": spec}  # `region: emea` is shorthand for `region: {eq: emea}`
        if not spec:
            self.fail(path, "needs at least one operator")
            return None
        leaves: list[Condition] = []
        for op_name, expected in spec.items():
            sub = (*path, str(op_name))
            try:
                op = Op(str(op_name))
            except ValueError:
                self.fail(sub, f"unknown operator “{op_name}” (operators: {', '.join(o.value for o in Op)})")
                continue
            if op not in allowed:
                what = f"{field.type} fields" if field is not None else name
                ops = ", ".join(o.value for o in Op if o in allowed)
                self.fail(sub, f"operator {op} does not apply to {what} (use one of: {ops})")
                continue
            try:
                leaves.append(self.leaf(name, field, op, expected))
            except ValueError as exc:
                self.fail(sub, str(exc))
        if len(leaves) != len(spec):
            return None
        return leaves[0] if len(leaves) == 1 else All(leaves)

    def leaf(self, name: str, field: FieldSpec | None, op: Op, expected: object) -> Leaf:
        if op is Op.SET:
            if not isinstance(expected, bool):
                raise ValueError("set takes true or false")
            return Leaf(name, op, expected, _never, None)
        if op in (Op.IN, Op.NOT_IN):
            if not isinstance(expected, list) or not expected:
                raise ValueError(f"{op} takes a non-empty list")
            values = [self.value(name, field, v) for v in expected]
            members = frozenset(values)
            if name == REQUESTER_GROUP:
                test: Callable[..., bool] = members.isdisjoint if op is Op.NOT_IN else _intersects(members)
            else:
                test = members.__contains__ if op is Op.IN else _not_in(members)
            return Leaf(name, op, values, test, None)
        if op is Op.BETWEEN:
            if not isinstance(expected, list) or len(expected) != 2:
                raise ValueError("between takes a list of two values, [low, high]")
            low, high = (self.value(name, field, v) for v in expected)
            if low > high:
                raise ValueError(f"between: {render_value(low)} is larger than {render_value(high)}")
            return Leaf(name, op, [low, high], partial(_between, low, high), None)
        if op is Op.MATCHES:
            if not isinstance(expected, str):
                raise ValueError("matches takes a regular expression in quotes")
            try:
                pattern = re.compile(expected)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
            return Leaf(name, op, expected, _searches(pattern), None)
        if op is Op.CONTAINS:
            if field is not None and field.type is FieldType.MULTI_CHOICE:
                option = self.value(name, field, expected)
                return Leaf(name, op, option, _has(option), None)
            if not isinstance(expected, str) or not expected:
                raise ValueError("contains takes a non-empty text")
            return Leaf(name, op, expected, _has(expected), None)
        if name == REQUESTER_GROUP:
            group = self.value(name, field, expected)
            return Leaf(name, op, group, _has(group) if op is Op.EQ else _lacks(group), None)
        relative = self.relative(field, expected)
        if relative is not None:
            compare = _COMPARE[op]
            return Leaf(name, op, relative, lambda actual, resolved: compare(actual, resolved), relative)
        value = self.value(name, field, expected)
        return Leaf(name, op, value, partial(_COMPARE_REVERSED[op], value), None)

    def relative(self, field: FieldSpec | None, expected: object) -> RelativeValue | None:
        if field is None or field.type not in (FieldType.DATE, FieldType.DATETIME):
            return None
        if not isinstance(expected, str) or not _RELATIVE.match(expected):
            return None
        written = expected.replace(" ", "")
        delta = parse_duration(written[1:])
        delta = -delta if written.startswith("-") else delta
        if field.type is FieldType.DATE:
            if delta % timedelta(days=1):
                raise ValueError(f"a date compares with whole days or weeks, not {written}")
            return RelativeValue(written, delta, TODAY)
        return RelativeValue(written, delta, NOW)

    def value(self, name: str, field: FieldSpec | None, expected: object) -> Any:
        """One expected value, checked and typed like the field (or the special subject)."""
        if field is not None:
            if field.is_numeric and not (isinstance(expected, int | float) and not isinstance(expected, bool)):
                raise ValueError(f"expected a number for {name}, got {expected!r}")
            if field.type is FieldType.BOOL and not isinstance(expected, bool):
                raise ValueError(f"expected true or false for {name}, got {expected!r}")
            if field.type in (FieldType.TEXT, FieldType.URL, FieldType.EMAIL) and not isinstance(expected, str):
                raise ValueError(f"expected text in quotes for {name}, got {expected!r}")
            if field.type is FieldType.CHOICE or field.type is FieldType.MULTI_CHOICE:
                if not isinstance(expected, str) or expected not in (field.options or ()):
                    raise ValueError(
                        f"{expected!r} is not an option of {name} (options: {', '.join(field.options or ())})"
                    )
                return expected
            try:
                return coerce(field, expected, tz=self.tz)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        if name == REQUESTER:
            if not is_user_id(expected):
                raise ValueError(f"expected a Slack user id such as U012AB3CD, got {expected!r}")
            return expected
        if name == REQUESTER_GROUP:
            if expected not in self.groups:
                raise ValueError(f"unknown group {expected!r} (groups: {', '.join(self.groups)})")
            return expected
        if name == WEEKDAY:
            day = str(expected).lower()[:3]
            if not isinstance(expected, str) or day not in WEEKDAYS:
                raise ValueError(f"expected a weekday ({', '.join(WEEKDAYS)}), got {expected!r}")
            return day
        if not isinstance(expected, int) or isinstance(expected, bool) or not 0 <= expected <= 23:
            raise ValueError(f"expected an hour from 0 to 23, got {expected!r}")
        return expected


def _never(_: object) -> bool:
    return False


def _between(low: Any, high: Any, actual: Any) -> bool:
    return bool(low <= actual <= high)


def _searches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    def test(actual: str) -> bool:
        return pattern.search(actual) is not None

    return test


def _has(item: object) -> Callable[[Any], bool]:
    def test(actual: Any) -> bool:
        return item in actual

    return test


def _lacks(item: object) -> Callable[[Any], bool]:
    def test(actual: Any) -> bool:
        return item not in actual

    return test


def _not_in(members: frozenset[Any]) -> Callable[[Any], bool]:
    def test(actual: Any) -> bool:
        return actual not in members

    return test


def _intersects(members: frozenset[Any]) -> Callable[[frozenset[str]], bool]:
    def test(actual: frozenset[str]) -> bool:
        return not members.isdisjoint(actual)

    return test


_COMPARE: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
}
#: ``partial(f, expected)(actual)`` must mean ``actual <op> expected``; the operands swap.
_COMPARE_REVERSED: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.gt,
    Op.LTE: operator.ge,
    Op.GT: operator.lt,
    Op.GTE: operator.le,
}
