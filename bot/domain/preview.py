"""The request form's live preview (DESIGN §2): what would happen if the form were submitted now.

Pure: built from a ``Resolution`` of the kind's *public* rules (``Kind.public``: the kind without
the rules marked ``preview: false``), or, while the form is incomplete or invalid, from the
contract's ``ContractError``, and then nothing is evaluated (no value is guessed). A kind with a
live private rule says so on every preview alike (``Preview.private``), whatever the values: a
preview never depends on a private rule, so probing values tells nothing about one.

Shapes: amounts are field units (a money budget's in its field's ``currency``), windows are
``timedelta``; field names in ``needed`` and ``problems`` are the labels a person sees on the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.domain.conditions import All, Condition, Leaf
from bot.domain.contracts import ContractError, FieldProblem
from bot.domain.governance import Kind
from bot.domain.governance_spec import Outcome, StepSpec
from bot.domain.operators import Op
from bot.domain.outcome import LimitCheck, Resolution, UsageLookup, budget_amount, check_limit
from bot.domain.routing import StepRoute
from bot.domain.text import is_blank

#: What every preview or dry run that left out a kind's live private rules ends with, whatever the values.
PRIVATE_NOTE = "Rules the owner keeps private may still change this."
#: The comparisons a near miss may name: a threshold the value could move across.
_THRESHOLDS = frozenset({Op.LT.value, Op.LTE.value, Op.GT.value, Op.GTE.value, Op.BETWEEN.value})


@dataclass(frozen=True)
class Budget:
    """What is left of one consulted limit before this request: ``left`` of ``allowed`` approvals
    (``amount`` False) or units of the summed field (``amount`` True, in ``currency`` when money),
    in a rolling ``window``. ``needs``: what this request would take of an amount budget; ``ok``:
    whether it fits (when not, people decide). ``missing``: the label of the summed field this
    request leaves empty (then the rule cannot approve it, ``ok`` False)."""

    rule: str
    left: float
    allowed: float
    window: timedelta
    ok: bool
    amount: bool = False
    currency: str | None = None
    needs: float | None = None
    missing: str | None = None


@dataclass(frozen=True)
class NearMiss:
    """A public approve rule whose conditions all held but one threshold: ``requirement`` is that
    threshold as a person reads it (``amount_pct ≤ 10``), which ``rule`` pre-approves.

    ``short``: the rule's limit as it stands now when it would not let the rule approve this
    request (a count used up, a budget without room for it), so the preview promises nothing the
    rule would not do; None when it has no limit or room to spare."""

    rule: str
    requirement: str
    short: Budget | None = None


@dataclass(frozen=True)
class Preview:
    """What the form would lead to now. ``outcome`` None: not evaluated, because ``needed`` (required
    fields left empty) or ``problems`` (values the contract refuses) say what to fix first.

    ``rule`` and ``reason``: the deciding rule (approve, reject) or the require rules' reasons (a
    route by rule; None for the default route). ``steps``: who would decide, for a route.
    ``near_miss``: only when no rule decided (the default route).
    ``private``: the kind has live rules kept out of the preview, which may still change it.
    """

    kind: str
    outcome: Outcome | None
    rule: str | None = None
    reason: str | None = None
    steps: tuple[StepSpec, ...] = ()
    budgets: tuple[Budget, ...] = ()
    near_miss: NearMiss | None = None
    needed: tuple[str, ...] = ()
    problems: tuple[FieldProblem, ...] = ()
    private: bool = False
    #: Where each of ``steps`` really goes (``bot.domain.eligibility.step_routes``); empty: to its group.
    routes: tuple[StepRoute, ...] = ()


def seen_before_filing(kind: Kind, person: str) -> tuple[Kind, bool]:
    """The rules a dry run for ``person`` (``/signoff explain`` in Slack) may evaluate, and whether
    it left out live private rules (then it ends with ``PRIVATE_NOTE``, whatever the values).

    The kind's owner sees every rule; anyone else ``kind.public``, as the form's preview does (the
    one place that leaves out ``preview: false`` rules). Operators with the file (the CLI) and
    receipts after filing are not asked here: they show every rule."""
    if person == kind.owner:
        return kind, False
    return kind.public, kind.private


def receipt_seen_by(kind: Kind, receipt: Mapping[str, Any], *, full: bool) -> dict[str, Any]:
    """A stored receipt (``Resolution.receipt``'s shape) as one person may read it: whole when
    ``full`` (the kind's owner, the request's approvers), else without the trace of the live
    private rules (``preview: false``) that did not decide it — a rule that decided is shown to all
    who may see the request (DESIGN §3.4, §3.7)."""
    hidden = {r.id for r in kind.rules if not r.preview and not r.shadow} - set(receipt.get("rules") or ())
    trace = receipt.get("trace")
    if full or not hidden or not isinstance(trace, list):
        return dict(receipt)
    kept = [t for t in trace if not (isinstance(t, Mapping) and t.get("rule") in hidden)]
    return {**receipt, "trace": kept}


def preview_of(
    kind: Kind, resolution: Resolution, *, usage: UsageLookup, routes: tuple[StepRoute, ...] = ()
) -> Preview:
    """The preview of ``resolution``, made with ``kind.public``'s rules; ``private`` from ``kind``;
    ``routes``: where its steps really go.

    ``usage``: the limit usage ``resolution`` was made with, asked again only for the limit of the
    rule a near miss names (which the resolution did not consult: that rule did not match)."""
    public = kind.public
    by_rule = bool(resolution.rules)
    default_route = resolution.outcome is Outcome.ROUTE and not by_rule
    return Preview(
        kind=kind.name,
        outcome=resolution.outcome,
        rule=resolution.rule,
        reason=resolution.reason if by_rule else None,
        steps=resolution.steps,
        budgets=tuple(_budget(public, resolution, check) for check in resolution.limits),
        near_miss=_near_miss(public, resolution, usage) if default_route else None,
        private=kind.private,
        routes=routes,
    )


def preview_of_problems(kind: Kind, raw: Mapping[str, object], error: ContractError) -> Preview:
    """The preview of a form the contract refuses: which required fields are still empty, and what
    is wrong with the others (``error``'s problems, each named by the field's label)."""
    fields = kind.contract.fields
    empty = {name for name, spec in fields.items() if spec.required and _empty(raw.get(name))}
    needed = tuple(fields[name].display_name(name) for name in fields if name in empty)
    problems = tuple(
        FieldProblem(fields[p.field].display_name(p.field) if p.field in fields else p.field, p.message)
        for p in error.problems
        if p.field not in empty
    )
    return Preview(kind=kind.name, outcome=None, needed=needed, problems=problems, private=kind.private)


def _empty(value: object) -> bool:
    return value is None or value == [] or (isinstance(value, str) and is_blank(value))


def _budget(kind: Kind, resolution: Resolution, check: LimitCheck) -> Budget:
    rule = kind.rule(check.rule)
    limit = rule.limit if rule is not None else None
    left = max(check.allowed - check.used, 0.0)
    if limit is None or limit.sum is None:
        return Budget(check.rule, left, check.allowed, check.window, check.ok)
    spec = kind.contract.fields.get(limit.sum)
    currency = spec.currency if spec is not None else None
    if check.missing is not None:
        label = spec.display_name(limit.sum) if spec is not None else limit.sum
        return Budget(check.rule, left, check.allowed, check.window, False, True, currency, None, label)
    needs = budget_amount(resolution.fields.get(limit.sum))
    return Budget(check.rule, left, check.allowed, check.window, check.ok, True, currency, needs)


def _near_miss(kind: Kind, resolution: Resolution, usage: UsageLookup) -> NearMiss | None:
    """The first approve rule (file order) that one threshold on a field of the form kept from
    matching, every other condition holding; from the resolution's own trace, not a second evaluator.

    Asked only of a request routed because no rule decided it: then crossing that threshold lets
    the rule approve (a reject or require rule that holds would win over it, DESIGN §3.3) — if its
    limit lets it, which is checked now as if the rule matched (``NearMiss.short`` when not)."""
    for traced in resolution.approve_traces():
        rule = kind.rule(traced.rule)
        if traced.matched or traced.in_doubt or rule is None or not _conjunction(rule.condition):
            continue
        failing = traced.failing()
        if len(failing) != 1:
            continue
        leaf = failing[0]
        if leaf.result is False and leaf.op in _THRESHOLDS and leaf.field in kind.contract.fields:
            r = resolution
            check = check_limit(kind, rule, r.fields, r.requester, r.at, usage)
            short = _budget(kind, resolution, check) if check is not None and not check.ok else None
            return NearMiss(traced.rule, leaf.as_requirement(), short)
    return None


def _conjunction(condition: Condition) -> bool:
    """Comparisons that must all hold (no ``any`` or ``not``): moving the one that failed across
    its threshold is then enough for the rule to match."""
    if isinstance(condition, All):
        return all(_conjunction(child) for child in condition.children)
    return isinstance(condition, Leaf)
