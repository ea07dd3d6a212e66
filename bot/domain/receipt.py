"""The trace part of a receipt as JSON, built fast: every submission stores one.

The straightforward way (``RuleTrace`` objects from ``Condition.trace``, then a dict per rule
and per leaf) costs ~2 µs a rule. Most rules are one comparison on one field, and all that
changes between requests is the field's value and the comparison's result, so the JSON of
each such rule is compiled once per kind (a ``TracePlan``) and filled in per request: a
field's value is rendered once however many rules test it. Other rules (``all``/``any``/
``not``, ``set``, relative dates, text that can be in doubt, rules with a limit check) take the
straightforward way.
The output is identical either way. Every traced rule carries its ``mode`` (``live`` or
``shadow``, DESIGN §3.7).

Receipts stay small however large a kind grows: a kind of up to ``TRACED_RULES`` rules is traced
whole; in a larger one, ``select_traced`` keeps the rules that decided, matched or almost
matched, and the receipt counts the rest (``"untraced"``). At 10,000 rules that is ~5 KB
instead of ~1.9 MB per request.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.domain.conditions import Leaf, LeafTrace, MatchPlan, plainly
from bot.domain.fields import render_value

if TYPE_CHECKING:
    from bot.domain.governance import Kind, Rule
    from bot.domain.outcome import LimitCheck

_MISSING: Any = object()
#: The most rules one receipt traces in full; the others are counted.
TRACED_RULES = 20
#: A compiled single-leaf rule: id, effect, mode, subject, op, test, the expected value as JSON,
#: and whether that is a list (copied per receipt, so that no two receipts share one).
_Simple = tuple[str, str, str, str, str, Callable[[Any], Any], Any, bool]
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
    """One leaf; one in doubt has ``"result": null`` and names what the value ``"looks_like"``."""
    return {
        "field": c.field,
        "op": c.op,
        "expected": jsonable(c.expected),
        "actual": jsonable(c.actual),
        "result": None if c.looks_like is not None else bool(c.result),
        **({"note": c.note} if c.note else {}),
        **({"looks_like": c.looks_like} if c.looks_like is not None else {}),
    }


def traced_rule_json(rule: Rule, facts: Mapping[str, Any], limit: LimitCheck | None) -> dict[str, Any]:
    """One rule traced the straightforward way (any condition, a limit note)."""
    sink: list[LeafTrace] = []
    truth = rule.condition.trace(facts, sink)
    note = limit.describe() if limit is not None else None
    if truth is None:
        note = "cannot be evaluated: " + "; ".join(c.note or "" for c in sink if c.result is None)
    in_doubt = any(c.looks_like is not None for c in sink) and rule.in_doubt(facts, truth)
    if not in_doubt:
        sink = [plainly(c) for c in sink]
    return {
        "rule": rule.id,
        "effect": rule.effect,
        "mode": str(rule.mode),
        "matched": truth is True and not in_doubt,
        "note": note,
        "conditions": [leaf_json(c) for c in sink],
        **({"in_doubt": True} if in_doubt else {}),
    }


class TracePlan:
    """A kind's rules compiled for receipts: ``trace_json`` gives every rule's trace, in file order."""

    def __init__(self, rules: Iterable[Rule]):
        self._entries: list[_Entry] = []
        self._by_id: dict[str, _Entry] = {}
        for rule in rules:
            leaf = rule.condition
            simple: _Simple | None = None
            if isinstance(leaf, Leaf) and leaf.direct_test is not None and leaf.looks_like is None:
                expected = jsonable(leaf.expected)
                is_list = isinstance(expected, list)
                simple = (
                    rule.id,
                    rule.effect,
                    str(rule.mode),
                    leaf.subject,
                    leaf.op.value,
                    leaf.direct_test,
                    expected,
                    is_list,
                )
            self._entries.append((rule, simple))
            self._by_id[rule.id] = (rule, simple)
        self._rules = tuple(rule for rule, _ in self._entries)
        self._position = {rule.id: i for i, rule in enumerate(self._rules)}
        #: Rules of two or more conditions, by position: the ones that can "almost" match.
        self._compound = tuple(
            (i, tuple(leaves)) for i, rule in enumerate(self._rules) if len(leaves := rule.condition.leaves()) > 1
        )
        #: Which rules hold, as positions in file order: one pass over every rule of the kind.
        self._matching = MatchPlan([(rule.condition, i) for i, rule in enumerate(self._rules)])

    def select(
        self,
        facts: Mapping[str, Any],
        *,
        deciding: Collection[str],
        limits: Iterable[LimitCheck],
        near_misses: Sequence[str],
    ) -> TraceSelection:
        """See ``select_traced``."""
        rules = self._rules
        if len(rules) <= TRACED_RULES:
            return TraceSelection(rules)
        position = self._position
        in_order = self._matching.matching(facts)
        matched = set(in_order)
        kept: dict[int, None] = {}  # positions, in the order of priority

        def take(positions: Iterable[int]) -> None:
            for i in positions:
                if len(kept) == TRACED_RULES:
                    return
                kept[i] = None

        named = [*deciding, *(check.rule for check in limits)]
        take(sorted(position[rule_id] for rule_id in named if rule_id in position))
        take(position[rule_id] for rule_id in near_misses if rule_id in position)
        almost = [i for i, leaves in self._compound if i not in matched and _almost(leaves, facts)]
        for live in (True, False):  # live rules first: shadow ones never decide, nor make the reason
            take(i for i in in_order if rules[i].shadow is not live)
            take(i for i in almost if rules[i].shadow is not live)
        chosen = sorted(kept)
        matched_untraced = len(matched) - sum(i in matched for i in chosen)
        return TraceSelection(
            tuple(rules[i] for i in chosen), matched_untraced, len(rules) - len(chosen) - matched_untraced
        )

    def trace_json(
        self, facts: Mapping[str, Any], limits: Iterable[LimitCheck], rules: Sequence[Rule] | None = None
    ) -> list[dict[str, Any]]:
        """The trace of ``rules`` (all of the kind's when None), in the order given."""
        entries = self._entries if rules is None else [self._by_id[rule.id] for rule in rules]
        by_rule = {check.rule: check for check in limits}
        actuals: dict[str, tuple[Any, Any, bool]] = {}  # subject → value, its JSON, whether a list
        out: list[dict[str, Any]] = []
        append = out.append
        for rule, simple in entries:
            if simple is None or (by_rule and simple[0] in by_rule):
                append(traced_rule_json(rule, facts, by_rule.get(rule.id)))
                continue
            rule_id, effect, mode, subject, op, test, expected, expected_is_list = simple
            if expected_is_list:
                expected = _copy(expected)
            seen = actuals.get(subject)
            if seen is None:
                value = facts.get(subject, _MISSING)
                actual = None if value is _MISSING else jsonable(value)
                seen = actuals[subject] = (value, actual, isinstance(actual, list))
            value, actual, actual_is_list = seen
            if value is _MISSING:
                append(_not_set(rule_id, effect, mode, subject, op, expected))
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
                {
                    "rule": rule_id,
                    "effect": effect,
                    "mode": mode,
                    "matched": result is True,
                    "note": None,
                    "conditions": [condition],
                }
            )
        return out


def _not_set(rule_id: str, effect: str, mode: str, subject: str, op: str, expected: Any) -> dict[str, Any]:
    not_set = f"{subject} is not set"
    condition = {"field": subject, "op": op, "expected": expected, "actual": None, "result": False, "note": not_set}
    return {
        "rule": rule_id,
        "effect": effect,
        "mode": mode,
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


@dataclass(frozen=True)
class TraceSelection:
    """Which rules a receipt traces (in file order), and how many of the others matched or not."""

    rules: tuple[Rule, ...]
    matched_untraced: int = 0
    unmatched_untraced: int = 0

    @property
    def untraced(self) -> int:
        return self.matched_untraced + self.unmatched_untraced

    def summary(self) -> str:
        """``9,990 other rules did not match`` (empty when every rule is traced)."""
        if not self.untraced:
            return ""
        rules = f"{self.untraced:,} other rule{'s' if self.untraced != 1 else ''}"
        if not self.matched_untraced:
            return f"{rules} did not match"
        return f"{rules} not shown: {self.matched_untraced:,} matched, {self.unmatched_untraced:,} did not"

    def untraced_json(self) -> dict[str, Any]:
        return {
            "rules": self.untraced,
            "matched": self.matched_untraced,
            "not_matched": self.unmatched_untraced,
            "summary": self.summary(),
        }


def select_traced(
    kind: Kind,
    facts: Mapping[str, Any],
    *,
    deciding: Collection[str],
    limits: Iterable[LimitCheck],
    near_misses: Sequence[str],
) -> TraceSelection:
    """The rules a receipt traces: all of a kind with at most ``TRACED_RULES`` rules; otherwise, up
    to ``TRACED_RULES`` of them, in this order of priority: the rules that decided and those whose
    limit was checked; the rules the near-miss reason names (``near_misses``); the other live
    rules that matched, then the live ones of two or more conditions where all but one held; then
    the same two for shadow rules (they never decide, so never crowd out a live rule). The rest are
    counted, matched or not. The trace lists the chosen rules in file order.
    """
    return trace_plan(kind).select(facts, deciding=deciding, limits=limits, near_misses=near_misses)


def _almost(leaves: Sequence[Leaf], facts: Mapping[str, Any]) -> bool:
    """Every condition of a compound rule but one held."""
    return sum(leaf.truth(facts) is not True for leaf in leaves) == 1
