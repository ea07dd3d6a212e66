"""Compiling ``when`` conditions: every leaf checked against its field's type, once.

Compilation turns each leaf into a closure built from the ``operator`` module (or a small
named helper), so evaluating it never meets a value it cannot compare and never runs
anything written in the governance file.

Text (``text``, ``url`` and ``email`` fields): ``eq``, ``ne``, ``in``, ``not_in`` and ``contains``
decide on the normalized, case-folded text (``bot.domain.text.comparison_key``), so
``in: [Evil Corp]`` holds for ``EVIL corp`` and not for ``Acrne Corp``; ``matches`` sees the
normalized value, case-sensitively as the pattern says. The file's text constants are
normalized like input (``bot.domain.text.normalize_text``) when the file compiles. A text leaf
also knows its constants' look-alike keys (``bot.domain.text.look_alike_keys``, computed here,
once): a value that is not a constant but looks like one (``EviI Corp``, ``Acrne Corp``), or
does not contain or match it but looks like it would (``Evıl Corp`` for ``(?i)evil``), puts
the leaf in doubt, and a person decides (``bot.domain.outcome``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta, tzinfo
from functools import partial
from typing import Any

from bot.domain.conditions import (
    HOUR,
    NOW,
    OPERATORS,
    RELATIVE_OFFSET,
    REQUESTER,
    REQUESTER_GROUP,
    SUBJECT_OPERATORS,
    TODAY,
    WEEKDAY,
    WEEKDAYS,
    All,
    Always,
    AnyOf,
    Condition,
    ConditionError,
    Leaf,
    Not,
    Op,
    Problem,
    RelativeValue,
)
from bot.domain.durations import parse_duration
from bot.domain.fields import FIELD_TYPES, FieldSpec, FieldType, coerce, is_user_id, render_value
from bot.domain.json_values import show_given
from bot.domain.regex import Pattern, PatternError, compile_pattern
from bot.domain.text import comparison_key, look_alike_keys, normalize_text

#: How deeply ``all``/``any``/``not`` may nest. Real rules nest two or three levels; the bound keeps
#: compiling, evaluating and tracing a rule far from Python's recursion limit.
MAX_CONDITION_DEPTH = 32


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

    def node(self, when: object, path: tuple[str | int, ...], depth: int = 1) -> Condition | None:
        if depth > MAX_CONDITION_DEPTH:
            self.fail(path, f"conditions nest deeper than {MAX_CONDITION_DEPTH} levels of all/any/not")
            return None
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
                children = [self.node(item, (*sub, i), depth + 1) for i, item in enumerate(spec)]
                kept = [c for c in children if c is not None]
                part = (All(kept) if key == "all" else AnyOf(kept)) if len(kept) == len(children) else None
            elif key == "not":
                child = self.node(spec, sub, depth + 1)
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
        elif name in SUBJECT_OPERATORS:
            allowed = SUBJECT_OPERATORS[name]
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
            if _is_textual(field):
                return _text_leaf(name, op, values)
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
                pattern = compile_pattern(expected)
            except PatternError as exc:
                raise ValueError(f"the pattern {exc}") from None
            if _is_textual(field):
                return Leaf(name, op, expected, _searches(pattern), None, looks_like=_looks_matched(pattern))
            return Leaf(name, op, expected, _searches(pattern), None)
        if op is Op.CONTAINS:
            if field is not None and field.type is FieldType.MULTI_CHOICE:
                option = self.value(name, field, expected)
                return Leaf(name, op, option, _has(option), None)
            text = normalize_text(expected) if isinstance(expected, str) else ""
            if not text:
                raise ValueError("contains takes a non-empty text")
            return Leaf(name, op, text, _contains_text(comparison_key(text)), None, looks_like=_looks_contained(text))
        if name == REQUESTER_GROUP:
            group = self.value(name, field, expected)
            return Leaf(name, op, group, _has(group) if op is Op.EQ else _lacks(group), None)
        relative = self.relative(field, expected)
        if relative is not None:
            compare = _COMPARE[op]
            return Leaf(name, op, relative, lambda actual, resolved: compare(actual, resolved), relative)
        value = self.value(name, field, expected)
        if _is_textual(field):
            return _text_leaf(name, op, value)
        return Leaf(name, op, value, partial(_COMPARE_REVERSED[op], value), None)

    def relative(self, field: FieldSpec | None, expected: object) -> RelativeValue | None:
        if field is None or field.type not in (FieldType.DATE, FieldType.DATETIME):
            return None
        if not isinstance(expected, str) or not RELATIVE_OFFSET.match(expected):
            return None
        written = expected.replace(" ", "")
        delta = parse_duration(written[1:])  # at most MAX_DURATION (100 years): today ± it is always a date
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
                raise ValueError(f"expected a number for {name}, got {show_given(expected)}")
            if field.type is FieldType.BOOL and not isinstance(expected, bool):
                raise ValueError(f"expected true or false for {name}, got {show_given(expected)}")
            if FIELD_TYPES[field.type].textual and not isinstance(expected, str):
                raise ValueError(f"expected text in quotes for {name}, got {show_given(expected)}")
            if field.type is FieldType.CHOICE or field.type is FieldType.MULTI_CHOICE:
                if not isinstance(expected, str) or expected not in (field.options or ()):
                    raise ValueError(
                        f"{show_given(expected)} is not an option of {name} (options: {', '.join(field.options or ())})"
                    )
                return expected
            try:
                return coerce(field, expected, tz=self.tz)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        if name == REQUESTER:
            if not is_user_id(expected):
                raise ValueError(f"expected a Slack user id such as U012AB3CD, got {show_given(expected)}")
            return expected
        if name == REQUESTER_GROUP:
            if expected not in self.groups:
                raise ValueError(f"unknown group {show_given(expected)} (groups: {', '.join(self.groups)})")
            return expected
        if name == WEEKDAY:
            day = str(expected).lower()[:3]
            if not isinstance(expected, str) or day not in WEEKDAYS:
                raise ValueError(f"expected a weekday ({', '.join(WEEKDAYS)}), got {show_given(expected)}")
            return day
        if not isinstance(expected, int) or isinstance(expected, bool) or not 0 <= expected <= 23:
            raise ValueError(f"expected an hour from 0 to 23, got {show_given(expected)}")
        return expected


def _is_textual(field: FieldSpec | None) -> bool:
    """Text compares by ``comparison_key`` (case-insensitively) and is in doubt on a look-alike."""
    return field is not None and FIELD_TYPES[field.type].textual


def _text_leaf(name: str, op: Op, expected: str | list[str]) -> Leaf:
    """``eq``/``ne``/``in``/``not_in`` on text: decided by ``comparison_key``, in doubt on a look-alike."""
    values = expected if isinstance(expected, list) else [expected]
    keys = frozenset(comparison_key(v) for v in values)
    test = _same_text_in(keys) if op in (Op.EQ, Op.IN) else _other_text_in(keys)
    look_alikes: dict[str, str] = {}  # look-alike key → the constant, as written
    for value in values:
        for key in look_alike_keys(value):
            look_alikes.setdefault(key, value)
    index = frozenset(look_alikes)

    def looks_like(actual: Any) -> str | None:
        if not isinstance(actual, str) or comparison_key(actual) in keys:
            return None
        return next((look_alikes[key] for key in sorted(look_alike_keys(actual)) if key in index), None)

    return Leaf(name, op, expected, test, None, looks_like=looks_like, look_alike_index=index)


def _looks_contained(text: str) -> Callable[[Any], str | None]:
    """For ``contains``: the value does not contain ``text`` but a look-alike key of it contains one of ``text``'s."""
    key, look_alikes = comparison_key(text), look_alike_keys(text)

    def looks_like(actual: Any) -> str | None:
        if not isinstance(actual, str) or key in comparison_key(actual):
            return None
        found = any(part in whole for whole in look_alike_keys(actual) for part in look_alikes)
        return text if found else None

    return looks_like


def _looks_matched(pattern: Pattern) -> Callable[[Any], str | None]:
    """For ``matches``: the value does not match, but one of its look-alike keys does (which is named)."""

    def looks_like(actual: Any) -> str | None:
        if not isinstance(actual, str) or pattern.search(actual):
            return None
        return next((key for key in sorted(look_alike_keys(actual)) if pattern.search(key)), None)

    return looks_like


def _same_text_in(keys: frozenset[str]) -> Callable[[Any], bool]:
    def test(actual: Any) -> bool:
        return isinstance(actual, str) and comparison_key(actual) in keys

    return test


def _other_text_in(keys: frozenset[str]) -> Callable[[Any], bool]:
    def test(actual: Any) -> bool:
        return not isinstance(actual, str) or comparison_key(actual) not in keys

    return test


def _contains_text(key: str) -> Callable[[Any], bool]:
    def test(actual: Any) -> bool:
        return isinstance(actual, str) and key in comparison_key(actual)

    return test


def _never(_: object) -> bool:
    return False


def _between(low: Any, high: Any, actual: Any) -> bool:
    return bool(low <= actual <= high)


def _searches(pattern: Pattern) -> Callable[[str], bool]:
    return pattern.search


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
