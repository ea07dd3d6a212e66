"""Resolve a request against its kind's governed defaults (DESIGN §3.3).

Every rule of the kind is evaluated; order in the file does not matter. Precedence:
1. any matching ``decide: reject`` → rejected by that rule;
2. else any rule in doubt (it holds or fails only by how a look-alike is read: ``Acrne Corp``
   for ``Acme Corp``, ``Rule.in_doubt``) → routed: the default steps plus one per matching or
   doubtful require, and the reason names each look-alike. Signoff never decides on one;
3. else any matching ``require`` → routed: the default steps plus one per matching require;
4. else any matching ``decide: approve`` whose limit is not used up → approved by that rule;
5. else → routed to the default steps: no governed default covers it.
This function is the one place that knows that order. Shadow rules (``mode: shadow``, DESIGN
§3.7) take no part in it: they are never in the kind's reject, require, approve or doubt plans,
and never consult a limit. Each one that matches plainly (not in doubt) gives a ``ShadowVerdict``,
carried by the resolution (``Resolution.shadow``) so that it is recorded, never acted on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

from bot.domain.conditions import LeafTrace, plainly
from bot.domain.durations import format_duration
from bot.domain.fields import FieldValue, quote_value, render_value
from bot.domain.governance import Governance, Kind, Rule
from bot.domain.governance_spec import LimitScope, Outcome, StepSpec
from bot.domain.receipt import TraceSelection, jsonable, select_traced, trace_plan
from bot.domain.shadow import ShadowVerdict


@dataclass(frozen=True)
class LimitUsage:
    """How much of a rule's limit its own automatic approvals used in the window."""

    count: int = 0
    total: float = 0.0


@dataclass(frozen=True)
class LimitKey:
    """One limit's tally: the automatic approvals of ``kind`` by ``rule``, of one requester or,
    when ``requester`` is None (``per: kind``), of everyone. Writers that re-check a tally
    serialize on its key (``bot.services.limits``)."""

    kind: str
    rule: str
    requester: str | None


class UsageLookup(Protocol):
    """Storage's answer to "how often did this rule approve since then" (per requester or kind)."""

    def __call__(
        self, *, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None
    ) -> LimitUsage: ...


def budget_amount(value: object) -> float:
    """What one request counts against a ``sum`` budget: its amount, or 0 when it is not a
    positive number. A negative amount (allowed only when its field sets ``min`` below zero)
    never counts as credit, so it cannot give a budget its room back."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 0.0


def no_usage(*, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None) -> LimitUsage:
    """A lookup for dry runs and file tests: no earlier automatic approvals."""
    return LimitUsage()


@dataclass(frozen=True)
class LimitCheck:
    """One rule's limit as checked for a request: ``used`` of ``allowed`` (approvals, or units of
    the summed field) in ``window``; ``ok``: it lets the rule approve. ``missing``: the summed field
    the request leaves empty — a budget cannot count it, so the rule cannot approve it (DESIGN §3.3:
    a rule that cannot be evaluated does not match)."""

    rule: str
    used: float
    allowed: float
    window: timedelta
    ok: bool
    missing: str | None = None

    def describe(self) -> str:
        if self.missing is not None:
            return f"{self.missing} is not given; the budget counts it"
        state = "available" if self.ok else "used up"
        used, allowed = render_value(self.used), render_value(self.allowed)
        return f"limit {state}: {used} of {allowed} in {format_duration(self.window)}"


@dataclass(slots=True)
class RuleTrace:
    """One rule as evaluated for a request."""

    rule: str
    effect: str
    matched: bool
    conditions: tuple[LeafTrace, ...]
    note: str | None = None
    #: It holds or fails only by how a look-alike is read: neither matched nor not (``Rule.in_doubt``).
    in_doubt: bool = False
    #: A ``mode: shadow`` rule: evaluated and recorded, never acted on.
    shadow: bool = False

    def failing(self) -> list[LeafTrace]:
        return [c for c in self.conditions if c.result is not True]


@dataclass(eq=False)
class Resolution:
    """What the governance decided for one request, and everything needed to explain it.

    Treat it as immutable. (It is not a frozen dataclass because building a frozen one costs
    more than resolving a typical request, and this is on every submission's path.)
    """

    outcome: Outcome
    rule: str | None
    rules: tuple[str, ...]
    steps: tuple[StepSpec, ...]
    governance: str
    kind: str
    fields: Mapping[str, FieldValue]
    requester: str
    at: datetime
    limits: tuple[LimitCheck, ...] = ()
    #: The tallies this outcome could depend on, whatever their usage: the limits of the matching
    #: approve rules up to the first one without a limit (none when a reject or require decides).
    #: Re-checking these under their locks makes the outcome final (``bot.services.limits``).
    limit_keys: tuple[LimitKey, ...] = ()
    #: What the kind's shadow rules would have decided (those that matched, in file order).
    shadow: tuple[ShadowVerdict, ...] = ()
    _kind: Kind | None = field(default=None, repr=False, compare=False)
    _facts: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _reason: str | None = field(default=None, repr=False, compare=False)

    @cached_property
    def reason(self) -> str:
        """Why, for people: the deciding rules' reasons, or which defaults almost applied.

        Computed on first use, like the trace, because only a routed request needs the
        near-miss explanation and it costs more than the decision itself.
        """
        if self._reason is not None:
            return self._reason
        return self._uncovered[0]

    @cached_property
    def _uncovered(self) -> tuple[str, tuple[str, ...]]:
        """The near-miss reason and the rules it names (none when a rule gave the reason)."""
        if self._reason is not None:
            return self._reason, ()
        if self._kind is None:
            return "No governed default covers this.", ()
        return _uncovered_reason(self._kind, self._facts, self.limits)

    @cached_property
    def traced(self) -> TraceSelection:
        """Which rules the trace shows, and how many others matched or not (``receipt.select_traced``)."""
        if self._kind is None:
            return TraceSelection(())
        return select_traced(
            self._kind, self._facts, deciding=self.rules, limits=self.limits, near_misses=self._uncovered[1]
        )

    @cached_property
    def trace(self) -> tuple[RuleTrace, ...]:
        """The traced rules (``traced``) with every condition they checked (computed on first use)."""
        return tuple(_trace(self.traced.rules, self._facts, self.limits))

    def approve_traces(self) -> tuple[RuleTrace, ...]:
        """Every live approve rule of the kind as evaluated for this request, in file order (the
        trace the near-miss reason is made from; none without the kind)."""
        return () if self._kind is None else tuple(_trace(self._kind.approves, self._facts, self.limits))

    def receipt(self) -> dict[str, Any]:
        """The JSON-ready receipt a decision carries: rule, governance version, inputs and trace.

        ``trace`` holds the traced rules (``traced``), each with its ``mode`` (``live`` or
        ``shadow``); when a large kind leaves some out, ``untraced`` counts them: ``{"rules",
        "matched", "not_matched", "summary"}``. ``rule`` and ``rules`` name live rules only;
        ``shadow`` lists the shadow verdicts: ``[{"rule": "…", "decide": "approve" | "reject"}]``.
        """
        receipt: dict[str, Any] = {
            "outcome": str(self.outcome),
            "rule": self.rule,
            "rules": list(self.rules),
            "reason": self.reason,
            "steps": [{"group": s.group, "approvals": s.approvals} for s in self.steps],
            "governance": self.governance,
            "kind": self.kind,
            "inputs": {
                "fields": {k: jsonable(v) for k, v in self.fields.items()},
                "requester": self.requester,
                "at": self.at.isoformat(),
            },
            "trace": [],
            "shadow": [verdict.to_json() for verdict in self.shadow],
        }
        if self._kind is not None:
            traced = self.traced
            plan = trace_plan(self._kind)
            whole = len(traced.rules) == len(self._kind.rules)
            receipt["trace"] = plan.trace_json(self._facts, self.limits, None if whole else traced.rules)
            if traced.untraced:
                receipt["untraced"] = traced.untraced_json()
        return receipt


def resolve(
    governance: Governance,
    kind: Kind,
    fields: Mapping[str, FieldValue],
    *,
    requester: str,
    at: datetime,
    usage: UsageLookup = no_usage,
) -> Resolution:
    """Decide a request by its kind's rules, or say which steps of people it needs."""
    facts = governance.facts(kind, fields, requester=requester, at=at)
    shadow = _shadow_verdicts(kind, facts)
    rejects = kind.reject_plan.matching(facts)
    requires = kind.require_plan.matching(facts) if not rejects else []
    doubtful = _doubtful(kind, facts, requires) if not rejects else []
    limits: list[LimitCheck] = []
    approves: list[Rule] = []
    keys: list[LimitKey] = []
    if not rejects and not requires and not doubtful:
        # Exactly one approve rule decides (the first in the file whose limit allows it), so that
        # each automatic approval is counted against one rule's limit only.
        matching = kind.approve_plan.matching(facts)
        keys = list(_limit_keys(kind, matching, requester))
        for rule in matching:
            check = check_limit(kind, rule, fields, requester, at, usage) if rule.limit is not None else None
            if check is not None:
                limits.append(check)
            if check is None or check.ok:
                approves.append(rule)
                break

    def result(outcome: Outcome, deciding: list[Rule], steps: tuple[StepSpec, ...], reason: str | None) -> Resolution:
        return Resolution(
            outcome=outcome,
            rule=deciding[0].id if deciding and outcome is not Outcome.ROUTE else None,
            rules=tuple(r.id for r in deciding),
            steps=steps,
            governance=governance.version,
            kind=kind.name,
            fields=fields,
            requester=requester,
            at=at,
            limits=tuple(limits),
            limit_keys=tuple(keys),
            shadow=shadow,
            _kind=kind,
            _facts=facts,
            _reason=reason,
        )

    if rejects:
        return result(Outcome.REJECT, rejects, (), rejects[0].reason)
    if doubtful:
        asked = [r.require for r in (*requires, *doubtful) if r.require is not None]
        reason = " ".join([_doubt_reason(doubtful, facts), *(r.reason for r in requires)])
        return result(Outcome.ROUTE, [*doubtful, *requires], _merge_steps(kind.default_steps, asked), reason)
    if requires:
        steps = _merge_steps(kind.default_steps, [r.require for r in requires if r.require is not None])
        return result(Outcome.ROUTE, requires, steps, " ".join(r.reason for r in requires))
    if approves:
        return result(Outcome.APPROVE, approves, (), approves[0].reason)
    return result(Outcome.ROUTE, [], kind.default_steps, None)


def _shadow_verdicts(kind: Kind, facts: Mapping[str, Any]) -> tuple[ShadowVerdict, ...]:
    """What each shadow rule that matches would have decided. One in doubt (a look-alike) gives
    none: as a live rule it would have sent the request to people. Its limit is never asked: a
    shadow rule is evaluated as if its limit had room, and consumes none of it."""
    if not kind.shadows:
        return ()
    return tuple(
        ShadowVerdict(rule.id, rule.decision)
        for rule in kind.shadow_plan.matching(facts)
        if rule.decision is not None and not rule.in_doubt(facts, True)
    )


def _doubtful(kind: Kind, facts: Mapping[str, Any], requires: list[Rule]) -> list[Rule]:
    """The rules in doubt (``Rule.in_doubt``), in file order; only those a value could put in doubt are asked."""
    matching = {rule.id for rule in requires}
    return [
        rule
        for rule in kind.doubt_plan.candidates(facts)
        if rule.id not in matching and rule.in_doubt(facts, rule.condition.truth(facts))
    ]


def _doubt_reason(rules: list[Rule], facts: Mapping[str, Any]) -> str:
    """``“Acrne Corp” looks like “Acme Corp” in rule allow-list: a person decides.``, per look-alike."""
    sentences: dict[str, None] = {}
    for rule in rules:
        sink: list[LeafTrace] = []
        rule.condition.trace(facts, sink)
        for leaf in sink:
            if leaf.looks_like is not None:
                actual = render_value(leaf.actual)
                sentences[f"“{actual}” looks like “{leaf.looks_like}” in rule {rule.id}: a person decides."] = None
    return " ".join(sentences)


def _limit_keys(kind: Kind, matching: list[Rule], requester: str) -> Iterator[LimitKey]:
    """The tallies ``resolve`` may ask about for these matching approve rules, at any usage."""
    for rule in matching:
        key = _limit_key(kind, rule, requester)
        if key is None:
            return  # this rule always decides when reached: none after it is ever asked about
        yield key


def _limit_key(kind: Kind, rule: Rule, requester: str) -> LimitKey | None:
    """Which tally ``rule``'s limit counts a request of ``requester`` against (None: no limit)."""
    if rule.limit is None:
        return None
    return LimitKey(kind.name, rule.id, requester if rule.limit.per is LimitScope.REQUESTER else None)


def check_limit(
    kind: Kind, rule: Rule, fields: Mapping[str, FieldValue], requester: str, at: datetime, usage: UsageLookup
) -> LimitCheck | None:
    """Whether ``rule``'s limit lets it approve this request at ``at`` (None: it has no limit)."""
    limit, key = rule.limit, _limit_key(kind, rule, requester)
    if limit is None or key is None:
        return None
    used = usage(kind=key.kind, rule=key.rule, requester=key.requester, since=at - limit.window, sum_field=limit.sum)
    if limit.count is not None:
        return LimitCheck(rule.id, used.count, limit.count, limit.window, used.count < limit.count)
    allowed = limit.max or 0.0
    given = fields.get(limit.sum or "")
    if given is None:  # an empty optional field is not 0: the rule cannot tell what it would spend
        return LimitCheck(rule.id, used.total, allowed, limit.window, False, missing=limit.sum)
    return LimitCheck(rule.id, used.total, allowed, limit.window, used.total + budget_amount(given) <= allowed)


def _merge_steps(defaults: tuple[StepSpec, ...], extra: list[StepSpec]) -> tuple[StepSpec, ...]:
    """Default steps plus required ones; a group named twice is one step with the larger quorum."""
    merged: dict[str, int] = {}
    for step in (*defaults, *extra):
        merged[step.group] = max(merged.get(step.group, 0), step.approvals)
    return tuple(StepSpec(group=g, approvals=n) for g, n in merged.items())


#: How many approve rules that almost applied a reason names before it says "and N other defaults".
_NEAR_MISSES = 3


def _uncovered_reason(
    kind: Kind, facts: Mapping[str, Any], limits: tuple[LimitCheck, ...]
) -> tuple[str, tuple[str, ...]]:
    """Why a person must decide: which defaults almost applied, and what they would need; and
    the ids of the rules it names.

    Built from ``kind.public`` only (the one view without ``preview: false`` rules, as the form's
    preview sees it): the reason is stored and shown to the requester, so a private rule that did
    not decide is never named in it, nor its condition."""
    approves = kind.public.approves
    misses: list[str] = []
    named: list[str] = []
    unsummed = {check.rule for check in limits if check.missing is not None}
    for seen, rule in enumerate(_trace(approves, facts, limits)):
        if len(named) == _NEAR_MISSES:
            others = len(approves) - seen
            misses.append(f"and {others} other default{'s' if others != 1 else ''}")
            break
        if rule.matched and rule.note:
            misses.append(f"{rule.rule} applies, but {'' if rule.rule in unsummed else 'its '}{rule.note}")
            named.append(rule.rule)
        elif not rule.matched:
            needs = [
                f"{c.as_requirement()} ({'not set' if c.result is None else 'got ' + quote_value(c.actual)})"
                for c in rule.failing()
            ]
            if needs:
                misses.append(f"{rule.rule} applies when {' and '.join(needs)}")
                named.append(rule.rule)
    if not misses:
        return "No governed default covers this.", ()
    return "No governed default covers this: " + "; ".join(misses) + ".", tuple(named)


def _trace(rules: Iterable[Rule], facts: Mapping[str, Any], limits: Iterable[LimitCheck]) -> Iterator[RuleTrace]:
    by_rule = {check.rule: check for check in limits}
    for rule in rules:
        sink: list[LeafTrace] = []
        truth = rule.condition.trace(facts, sink)
        check = by_rule.get(rule.id)
        note = check.describe() if check is not None else None
        if truth is None:
            note = "cannot be evaluated: " + "; ".join(c.note or "" for c in sink if c.result is None)
        in_doubt = any(c.looks_like is not None for c in sink) and rule.in_doubt(facts, truth)
        conditions = tuple(sink) if in_doubt else tuple(plainly(c) for c in sink)
        yield RuleTrace(rule.id, rule.effect, truth is True and not in_doubt, conditions, note, in_doubt, rule.shadow)
