"""A backtest of a governance file on stored history (DESIGN §8 ``signoff simulate``).

Every stored request of the window (live and imported), in submission order, is replayed through
a ``Governance`` as if it had been filed then, by its requester: its stored fields are validated
against the file's contract as of its submission (``validate_fields(…, submitted=True)``), then
``bot.domain.outcome.resolve`` decides it, the one place that knows outcome precedence, at its
submission time (weekday/hour conditions, date offsets) and with the file's own ``limit`` usage:
a ``ReplayTally`` of the automatic approvals *this replay* made before it (DESIGN §3.4: a limit
counts the rule's own automatic approvals). So that a request early in the window sees the
approvals made just before it, the replay starts ``lead_in`` earlier (the longest limit window of
either file); requests of that lead-in feed the tallies only and are counted nowhere.

Both files are replayed the same way in one pass: the candidate and the file in force
(``current``). A request whose kind a file lacks, or whose fields no longer fit its contract, is
skipped by that file (``skipped_invalid`` for the candidate, with a few examples and reasons).

What happened is the stored final state: ``auto`` when a rule decided it (``auto_rule``),
``human`` when people approved or rejected it (state approved or lapsed / rejected without a
rule); cancelled, expired, pending and changes_requested are no human decision.

Definitions (the figures of ``Simulation``):

- ``human_decisions_saved``: requests people decided that the candidate would have decided
  automatically *the same way* (approved where people approved, rejected where they rejected);
- contradictions: the candidate approves where people rejected, or rejects where they approved;
- ``resolved_by_default_share`` of a file: its automatic decisions ÷ (its replayed requests −
  those it routes that were cancelled or are still pending). That is the report's divisor
  (requests − cancelled − pending, ``bot.domain.surface.Counters``) except that a request the file
  would have decided at once counts as decided even when, in fact, it was cancelled or is still
  pending (under that file it would not have been). Replaying the file in force that reproduces
  every stored decision gives the report's share exactly;
- ``by_rule``: per approve/reject rule of the candidate, how many replayed requests it decides,
  and of those how many people decided the same way (``agreed_with_humans``) or the other way
  (``contradicted``).

Fidelity. A request is replayed with its stored fields at its submission time. An amended request
keeps its original submission time but stores its amended fields, and live it was resolved again
when amended (at that later time, with the usage then): its replay uses the amended fields at the
original time, so a weekday/hour or date-offset condition, or a limit, may answer differently than
it did. Stored automatic decisions were made by the file in force then (``requests.governance``);
only an unchanged file reproduces them all (``current_vs_stored`` counts how many it does).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.domain.contracts import ContractError
from bot.domain.governance import Governance
from bot.domain.governance_spec import Decision, LimitScope, LimitSpec
from bot.domain.outcome import budget_amount, resolve
from bot.domain.requests import format_request_id
from bot.domain.simulate_contracts import contract_changes
from bot.domain.simulate_figures import APPROVE, REJECT, Fidelity, RuleAgreement, SideFigures
from bot.domain.simulate_tally import ReplayTally
from bot.domain.surface import RequestFacts, Window, deciding_vote

#: How many example ids (contradictions, skipped requests) a simulation keeps.
EXAMPLES = 5
_APPROVED = frozenset({"approved", "lapsed"})
_DECIDED = _APPROVED | {"rejected"}


@dataclass(frozen=True, slots=True)
class Answer:
    """One file's answer for one request: ``outcome`` ``approve`` | ``reject`` | ``route`` and the
    deciding ``rule`` (None when routed); or, when the file could not replay it, ``outcome`` None
    and ``skipped`` saying why (one line)."""

    outcome: str | None
    rule: str | None = None
    skipped: str | None = None

    @property
    def automatic(self) -> bool:
        return self.outcome == APPROVE or self.outcome == REJECT

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"outcome": self.outcome, "rule": self.rule}
        if self.skipped is not None:
            data["skipped"] = self.skipped
        return data


@dataclass(frozen=True, slots=True)
class Happened:
    """What became of a stored request: its ``state``; ``by`` ``rule:<id>`` (a rule decided), the
    deciding person's user id (people decided) or None (no decision: cancelled, expired, open);
    ``auto`` / ``human``: ``approve`` or ``reject`` when a rule / people decided, else None."""

    state: str
    by: str | None
    auto: str | None
    rule: str | None
    human: str | None

    def as_json(self) -> dict[str, Any]:
        return {"state": self.state, "by": self.by}


def happened(facts: RequestFacts) -> Happened:
    """The stored outcome of ``facts`` as a ``Happened``."""
    if facts.state not in _DECIDED:
        return Happened(facts.state, None, None, None, None)
    verdict = APPROVE if facts.state in _APPROVED else REJECT
    if facts.auto_rule:
        return Happened(facts.state, f"rule:{facts.auto_rule}", verdict, facts.auto_rule, None)
    vote = deciding_vote(facts)
    return Happened(facts.state, vote[0] if vote else facts.decided_by, None, None, verdict)


@dataclass(frozen=True, slots=True)
class Replayed:
    """One request of the window, replayed through both files."""

    facts: RequestFacts
    candidate: Answer
    current: Answer
    happened: Happened

    def as_json(self) -> dict[str, Any]:
        """The ``--per-request`` line: ``{"request", "kind", "submitted_at", "requester", "fields",
        "candidate": {"outcome", "rule"[, "skipped"]}, "current": {…}, "happened": {"state", "by"}}``."""
        return {
            "request": format_request_id(self.facts.id),
            "kind": self.facts.kind,
            "submitted_at": self.facts.submitted_at.isoformat(),
            "requester": self.facts.requester,
            "fields": self.facts.fields,
            "candidate": self.candidate.as_json(),
            "current": self.current.as_json(),
            "happened": self.happened.as_json(),
        }


class Replayer:
    """One governance replayed request by request, in submission order, with its own limit tally."""

    def __init__(self, governance: Governance):
        self.governance = governance
        self.tally = ReplayTally()
        #: (kind, rule) → its limit, for the approve rules that have one (looked up once per approval).
        self._limits: dict[tuple[str, str], LimitSpec] = {
            (name, rule.id): rule.limit
            for name, kind in governance.kinds.items()
            for rule in kind.approves
            if rule.limit is not None
        }

    def answer(self, facts: RequestFacts) -> Answer:
        """Resolve ``facts`` as filed at its submission time by its requester; record an automatic
        approval by a limited rule in the tally. Never raises for a request that does not fit."""
        governance = self.governance
        kind = governance.kinds.get(facts.kind)
        if kind is None:
            return Answer(None, skipped=f"the file has no kind “{facts.kind}”")
        at = facts.submitted_at
        try:
            values = governance.validate_fields(kind, facts.fields or {}, at=at, submitted=True)
        except ContractError as exc:
            return Answer(None, skipped=f"{kind.name}: {exc}")
        requester = facts.requester or ""
        resolution = resolve(governance, kind, values, requester=requester, at=at, usage=self.tally)
        outcome, rule = str(resolution.outcome), resolution.rule
        if outcome == APPROVE and rule is not None:
            limit = self._limits.get((kind.name, rule))
            if limit is not None:
                who = requester if limit.per is LimitScope.REQUESTER else None
                amount = budget_amount(values.get(limit.sum)) if limit.sum else 0.0
                self.tally.add(kind=kind.name, rule=rule, requester=who, at=at, amount=amount)
        return Answer(outcome, rule)


def lead_in(governances: Iterable[Governance], kinds: Collection[str] | None = None) -> timedelta:
    """The longest ``limit`` window of the approve rules of ``kinds`` (None: all) in ``governances``;
    zero when none has a limit. Replaying from ``window.start − lead_in`` lets every limit see the
    approvals its window reaches back to."""
    windows = [
        rule.limit.window
        for governance in governances
        for name, kind in governance.kinds.items()
        if kinds is None or name in kinds
        for rule in kind.approves
        if rule.limit is not None
    ]
    return max(windows, default=timedelta(0))


@dataclass
class Simulation:
    """The backtest of ``candidate`` against ``current`` over ``window`` (see the module docstring)."""

    window: Window
    candidate_version: str
    current_version: str
    lead_in: timedelta
    requests: int = 0
    candidate: SideFigures = field(default_factory=SideFigures)
    current: SideFigures = field(default_factory=SideFigures)
    human_decisions_saved: int = 0
    approved_where_humans_rejected: int = 0
    rejected_where_humans_approved: int = 0
    contradiction_examples: list[str] = field(default_factory=list)
    skipped_examples: list[tuple[str, str]] = field(default_factory=list)
    differs_from_current: int = 0
    #: Requests both files replayed: ``differs_from_current`` counts among these only.
    both_replayed: int = 0
    current_skipped_examples: list[tuple[str, str]] = field(default_factory=list)
    by_rule: dict[tuple[str, str], RuleAgreement] = field(default_factory=dict)
    current_vs_stored: Fidelity = field(default_factory=Fidelity)
    #: The ``--kind`` names asked for (None: every kind).
    kinds: tuple[str, ...] | None = None
    #: The candidate's shadow rules (of ``kinds``): trialled beside the rules, never replayed as decisions.
    shadow_rules: int = 0
    #: Contract changes the values cannot show (``bot.domain.simulate_contracts``), one line each.
    warnings: list[str] = field(default_factory=list)
    #: When the window holds no request: the first and last stored submission (None: none stored).
    stored_span: tuple[datetime, datetime] | None = None

    @property
    def contradictions(self) -> int:
        return self.approved_where_humans_rejected + self.rejected_where_humans_approved

    def add(self, item: Replayed) -> None:
        """Count one replayed request of the window."""
        facts, candidate, what = item.facts, item.candidate, item.happened
        self.requests += 1
        self.candidate.count(candidate, facts.state)
        self.current.count(item.current, facts.state)
        self.current_vs_stored.count(facts, item.current, what)
        if candidate.skipped is not None and len(self.skipped_examples) < EXAMPLES:
            self.skipped_examples.append((format_request_id(facts.id), candidate.skipped))
        current = item.current
        if current.skipped is not None and len(self.current_skipped_examples) < EXAMPLES:
            self.current_skipped_examples.append((format_request_id(facts.id), current.skipped))
        if candidate.outcome is not None and current.outcome is not None:
            self.both_replayed += 1
            self.differs_from_current += (candidate.outcome, candidate.rule) != (current.outcome, current.rule)
        if not candidate.automatic:
            return
        agreement = self.by_rule.get((facts.kind, candidate.rule or ""))
        if agreement is not None:
            agreement.would_decide += 1
        if what.human is None:
            return
        if what.human == candidate.outcome:
            self.human_decisions_saved += 1
            if agreement is not None:
                agreement.agreed_with_humans += 1
            return
        if candidate.outcome == APPROVE:
            self.approved_where_humans_rejected += 1
        else:
            self.rejected_where_humans_approved += 1
        if agreement is not None:
            agreement.contradicted += 1
        if len(self.contradiction_examples) < EXAMPLES:
            self.contradiction_examples.append(format_request_id(facts.id))


def _rules(candidate: Governance, kinds: Collection[str] | None) -> dict[tuple[str, str], RuleAgreement]:
    """The candidate's live deciding rules of ``kinds``, in file order, each with zero counts."""
    return {
        (name, rule.id): RuleAgreement(name, rule.id, str(rule.decision))
        for name, kind in candidate.kinds.items()
        if kinds is None or name in kinds
        for rule in kind.rules
        if not rule.shadow and rule.decision in (Decision.APPROVE, Decision.REJECT)
    }


def simulate(
    facts: Iterable[RequestFacts],
    candidate: Governance,
    current: Governance,
    window: Window,
    *,
    kinds: Collection[str] | None = None,
    on_request: Callable[[Replayed], None] | None = None,
) -> Simulation:
    """Replay ``facts`` (in submission order, from ``window.start − lead_in(…)``; with requester and
    fields) through ``candidate`` and ``current``; count those submitted in ``window`` (of ``kinds``,
    None: all) and pass each to ``on_request``. Earlier facts feed the limit tallies only; later
    ones, and other kinds, are ignored. One pass; memory holds the tallies' approval times, not the
    requests."""
    wanted = None if kinds is None else frozenset(kinds)
    result = Simulation(window, candidate.version, current.version, lead_in((candidate, current), wanted))
    result.by_rule = _rules(candidate, wanted)
    result.current_vs_stored = Fidelity(current.version)
    result.kinds = None if kinds is None else tuple(kinds)
    result.shadow_rules = sum(
        rule.shadow for name, kind in candidate.kinds.items() if wanted is None or name in wanted for rule in kind.rules
    )
    result.warnings = contract_changes(current, candidate, wanted)
    replay_candidate, replay_current = Replayer(candidate), Replayer(current)
    start, end = window.start, window.end
    for item in facts:
        at = item.submitted_at
        if at >= end or (wanted is not None and item.kind not in wanted):
            continue
        answers = replay_candidate.answer(item), replay_current.answer(item)
        if at < start:
            continue  # the lead-in: tallies only
        replayed = Replayed(item, answers[0], answers[1], happened(item))
        result.add(replayed)
        if on_request is not None:
            on_request(replayed)
    return result
