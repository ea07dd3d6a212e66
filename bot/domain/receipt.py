"""The trace part of a receipt as JSON, built fast: every submission stores one.

The straightforward way (``RuleTrace`` objects from ``Condition.trace``, then a dict per rule
and per leaf) costs ~2 µs a rule. Most rules are one comparison on one field, and all that
changes between requests is the field's value and the comparison's result, so the JSON of
each such rule is compiled once per kind (a ``TracePlan``) and filled in per request: a
field's value is rendered once however many rules test it. Other rules (``all``/``any``/
``not``, ``set``, relative dates, rules with a limit check) take the straightforward way.
The output is identical either way.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bot.domain.conditions import Leaf, LeafTrace
from bot.domain.fields import render_value

if TYPE_CHECKING:
    from bot.domain.governance import Kind, Rule
    from bot.domain.outcome import LimitCheck

_MISSING: Any = object()
#: A compiled single-leaf rule: id, effect, subject, op, test, the expected value as JSON, and
#: whether that is a list (copied per receipt, so that no two receipts share one).
_Simple = tuple[str, str, str, str, Callable[[Any], Any], Any, bool]
#: A rule and, when it is one plain comparison, its compiled form.
_Entry = tuple["Rule", _Simple | None]


def jsonable(value: Any) -> Any:
    """A field value or expectation as JSON: scalars as they are, lists item by item, else rendered."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | frozenset | set):
        return [jsonable(v) for v in value]
    if hasattr(value, "describe"):
        return value.describe()
    return render_value(value)


def leaf_json(c: LeafTrace) -> dict[str, Any]:
    return {
        "field": c.field,
        "op": c.op,
        "expected": jsonable(c.expected),
        "actual": jsonable(c.actual),
        "result": bool(c.result),
        **({"note": c.note} if c.note else {}),
    }


def traced_rule_json(rule: Rule, facts: Mapping[str, Any], limit: LimitCheck | None) -> dict[str, Any]:
    """One rule traced the straightforward way (any condition, a limit note)."""
    sink: list[LeafTrace] = []
    truth = rule.condition.trace(facts, sink)
    note = limit.describe() if limit is not None else None
    if truth is None:
        note = "cannot be evaluated: " + "; ".join(c.note or "" for c in sink if c.result is None)
    return {
        "rule": rule.id,
        "effect": rule.effect,
        "matched": truth is True,
        "note": note,
        "conditions": [leaf_json(c) for c in sink],
    }


class TracePlan:
    """A kind's rules compiled for receipts: ``trace_json`` gives every rule's trace, in file order."""

    def __init__(self, rules: Iterable[Rule]):
        self._entries: list[_Entry] = []
        for rule in rules:
            leaf = rule.condition
            simple: _Simple | None = None
            if isinstance(leaf, Leaf) and leaf.direct_test is not None:
                expected = jsonable(leaf.expected)
                is_list = isinstance(expected, list)
                simple = (rule.id, rule.effect, leaf.subject, leaf.op.value, leaf.direct_test, expected, is_list)
            self._entries.append((rule, simple))

    def trace_json(self, facts: Mapping[str, Any], limits: Iterable[LimitCheck]) -> list[dict[str, Any]]:
        by_rule = {check.rule: check for check in limits}
        actuals: dict[str, tuple[Any, Any, bool]] = {}  # subject → value, its JSON, whether a list
        out: list[dict[str, Any]] = []
        append = out.append
        for rule, simple in self._entries:
            if simple is None or (by_rule and simple[0] in by_rule):
                append(traced_rule_json(rule, facts, by_rule.get(rule.id)))
                continue
            rule_id, effect, subject, op, test, expected, expected_is_list = simple
            if expected_is_list:
                expected = _copy(expected)
            seen = actuals.get(subject)
            if seen is None:
                value = facts.get(subject, _MISSING)
                actual = None if value is _MISSING else jsonable(value)
                seen = actuals[subject] = (value, actual, isinstance(actual, list))
            value, actual, actual_is_list = seen
            if value is _MISSING:
                append(_not_set(rule_id, effect, subject, op, expected))
                continue
            result = test(value)
            condition = {
                "field": subject,
                "op": op,
                "expected": expected,
                "actual": _copy(actual) if actual_is_list else actual,
                "result": bool(result),
            }
            append(
                {"rule": rule_id, "effect": effect, "matched": result is True, "note": None, "conditions": [condition]}
            )
        return out


def _not_set(rule_id: str, effect: str, subject: str, op: str, expected: Any) -> dict[str, Any]:
    not_set = f"{subject} is not set"
    condition = {"field": subject, "op": op, "expected": expected, "actual": None, "result": False, "note": not_set}
    return {
        "rule": rule_id,
        "effect": effect,
        "matched": False,
        "note": "cannot be evaluated: " + not_set,
        "conditions": [condition],
    }


def _copy(value: list[Any]) -> list[Any]:
    return [_copy(v) if isinstance(v, list) else v for v in value]


_PLANS: weakref.WeakKeyDictionary[Kind, TracePlan] = weakref.WeakKeyDictionary()


def trace_plan(kind: Kind) -> TracePlan:
    """The kind's ``TracePlan``, compiled on first use and kept as long as the kind is."""
    plan = _PLANS.get(kind)
    if plan is None:
        plan = _PLANS[kind] = TracePlan(kind.rules)
    return plan
