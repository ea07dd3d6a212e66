"""``signoff suggest`` (DESIGN §8): governed defaults mined from the human decisions of a window.

Input: the stored requests of the window (``RequestFacts`` with contents). Per kind of the
governance in force, ``mine`` reads each request's typed fields (``validate_fields`` as of its
submission; rows that no longer fit are counted and skipped); a **human decision** is a request
approved, lapsed or rejected by people (no ``auto_rule``); cancelled, expired, pending and
changes_requested are not decisions. Then, up to ``MAX_PER_KIND`` times: find the qualifying
regions (``bot.domain.suggest_regions``), best first (largest, then simplest), and accept the
first that passes every check below; remove its decisions; look again.

What is guaranteed of each suggestion, and of the suggestions of a kind together:

1. It qualifies (``suggest_regions``): support, share, ≥ 2 approvers, not one approver's habit (the
   busiest made at most two thirds of it, the others alone meet the share), ends two people vouched
   for (along every ordered field of the kind), thresholds on values seen in the data.
2. Conditions alone (``suggest_overlap``): it is provably disjoint from every other suggestion of
   the kind, and from every rule of the file (live or shadow) except a live ``reject`` or
   ``require`` rule when it approves — §3.3 leaves those in charge wherever both match. When
   ``lte``/``gte`` alone would meet a rule on the same field, the threshold becomes ``between``
   the region's two ends (both values seen in the data).
3. Data (``bot.domain.outcome.resolve``, the one reading of §3.3): with the file plus the
   suggestions, every stored request of the window that a rule of the file matched (live, or
   shadow verdicts) resolves exactly as before (outcome, deciding rules, steps, shadow verdicts);
   and the human decisions the suggestion would decide are exactly its mined region.
4. Its ``tests`` pass with the file plus all the kind's suggestions (each is checked with ``resolve``
   as ``signoff test`` runs it): just inside → its verdict by its rule; just outside → ``route``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.domain.condition_words import describe_when, plain
from bot.domain.contracts import ContractError
from bot.domain.fields import FieldType
from bot.domain.governance import Governance, Kind
from bot.domain.outcome import Resolution, resolve
from bot.domain.requests import format_request_id
from bot.domain.suggest_overlap import clear_of, conflicts
from bot.domain.suggest_regions import (
    Bar,
    Candidate,
    Case,
    Cut,
    Tally,
    candidates,
    sorted_orders,
    unvouched_edge,
)
from bot.domain.suggest_rules import NotCompiled, rule_id, when_of, with_rules
from bot.domain.suggest_tests import region_tests
from bot.domain.suggestions import Suggestion
from bot.domain.surface import RequestFacts, deciding_vote
from bot.domain.surface_window import Window

#: The most suggestions for one kind, and the most candidates tried before giving up on a round.
MAX_PER_KIND = 5
TRIES = 12
_APPROVED = frozenset({"approved", "lapsed"})


@dataclass(frozen=True)
class KindSummary:
    """What suggest read of one kind: stored ``requests``, ``human_decisions`` among them (valid
    ones), ``skipped_invalid`` (fields no longer fit the contract), ``governed`` (human decisions a
    rule of the file already matches), how many ``suggestions``, and ``note``: why there is no
    (further) suggestion, in plain words ("" when nothing needs saying)."""

    kind: str
    requests: int = 0
    human_decisions: int = 0
    skipped_invalid: int = 0
    governed: int = 0
    suggestions: int = 0
    note: str = ""
    #: Regions that qualified but were left with people, and why (in words), when others were suggested.
    dropped: tuple[str, ...] = ()
    #: Why the skipped rows no longer fit, the most common problem first ("x: is required (a number)").
    skipped_because: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "requests": self.requests,
            "human_decisions": self.human_decisions,
            "skipped_invalid": self.skipped_invalid,
            "governed": self.governed,
            "suggestions": self.suggestions,
            "note": self.note,
            "skipped_because": self.skipped_because,
            "dropped": list(self.dropped),
        }


@dataclass(frozen=True)
class SuggestionReport:
    """The suggestions of a window, best first per kind, and what was read (``kinds`` in file order)."""

    window: Window
    governance: str
    min_support: int
    min_approval: float
    suggestions: tuple[Suggestion, ...] = ()
    kinds: tuple[KindSummary, ...] = ()

    @property
    def requests(self) -> int:
        return sum(k.requests for k in self.kinds)

    @property
    def skipped_invalid(self) -> int:
        return sum(k.skipped_invalid for k in self.kinds)

    def as_json(self) -> dict[str, Any]:
        """DESIGN §8's ``{"suggestions": […]}`` plus what was read (extra keys)."""
        return {
            "from": self.window.start.isoformat(),
            "to": self.window.end.isoformat(),
            "governance": self.governance,
            "min_support": self.min_support,
            "min_approval": self.min_approval,
            "requests": self.requests,
            "skipped_invalid": self.skipped_invalid,
            "suggestions": [s.as_json() for s in self.suggestions],
            "kinds": [k.as_json() for k in self.kinds],
        }


@dataclass
class _Read:
    cases: list[Case] = field(default_factory=list)
    requests: int = 0
    skipped: int = 0
    problems: Counter[str] = field(default_factory=Counter)


def mine(
    facts: Iterable[RequestFacts],
    governance: Governance,
    *,
    window: Window,
    kinds: Collection[str] | None = None,
    bar: Bar | None = None,
) -> SuggestionReport:
    """Suggestions for ``kinds`` (names as the file has them; None: every kind of the file)."""
    bar = bar or Bar()
    names = [k for k in governance.kinds if kinds is None or k in kinds]
    read = {name: _Read() for name in names}
    for item in facts:
        into = read.get(item.kind)
        if into is not None:
            _collect(governance, governance.kinds[item.kind], item, into)
    suggestions: list[Suggestion] = []
    summaries = []
    for name in names:
        found, summary = _mine_kind(governance, governance.kinds[name], read[name], bar)
        suggestions += found
        summaries.append(summary)
    return SuggestionReport(
        window, governance.version, bar.min_support, bar.min_share, tuple(suggestions), tuple(summaries)
    )


def _collect(governance: Governance, kind: Kind, item: RequestFacts, into: _Read) -> None:
    into.requests += 1
    try:
        values = governance.validate_fields(kind, item.fields or {}, at=item.submitted_at, submitted=True)
    except ContractError as exc:
        into.skipped += 1
        into.problems.update(str(problem) for problem in exc.problems)
        return
    verdict = None
    if not item.auto_rule and item.state in _APPROVED:
        verdict = "approve"
    elif not item.auto_rule and item.state == "rejected":
        verdict = "reject"
    vote = deciding_vote(item) if verdict else None
    wait = (vote[1] - item.submitted_at).total_seconds() / 3600 if vote else None
    raw = dict(item.fields or {})
    requester = item.requester or ""
    approver = vote and vote[0]
    keys = _keys(governance, kind, values, item.submitted_at)
    into.cases.append(
        Case(item.id, values, raw, requester, item.submitted_at, verdict, approver, wait, keys, item.source_id)
    )


def _keys(governance: Governance, kind: Kind, values: dict[str, Any], at: datetime) -> dict[str, Any]:
    """``values`` with each date as whole days from the submission day: a date rule is mined as an
    offset (``{lte: "+3d"}``, "within three days of submission"), never as a calendar date, which
    no future request could meet once it has passed."""
    day = governance.today(at)
    keys = dict(values)
    for name, spec in kind.spec.fields.items():
        if spec.type is FieldType.DATE and isinstance(keys.get(name), date):
            keys[name] = (keys[name] - day).days
    return keys


def _touched(resolution: Resolution) -> bool:
    """Whether a rule of the file matched: it decided, added a step, or gave a shadow verdict."""
    return bool(resolution.rules or resolution.shadow)


def _signature(resolution: Resolution) -> tuple[Any, ...]:
    return (resolution.outcome, resolution.rules, resolution.steps, resolution.shadow)


class _Miner:
    """The rounds of one kind: ``pool`` holds the human decisions not yet covered by a rule."""

    def __init__(self, governance: Governance, kind: Kind, cases: list[Case], bar: Bar):
        self.governance, self.kind, self.cases, self.bar = governance, kind, cases, bar
        self.facts = [governance.facts(kind, c.values, requester=c.requester, at=c.at) for c in cases]
        self.kind_facts = self.facts
        self.base: dict[int, Resolution] = {}
        decisions = [i for i, c in enumerate(cases) if c.verdict]
        self.governed = {i for i in decisions if _touched(self.baseline(i))}
        self.pool = set(decisions) - self.governed
        self.orders = sorted_orders(kind, cases)
        self.chosen: list[tuple[Candidate, dict[str, Any]]] = []
        self.refused: list[str] = []

    def words(self, cuts: Sequence[Cut]) -> str:
        """A region in words, as ``explain`` writes conditions ("x is at most 10")."""
        return plain(describe_when(when_of(self.kind, cuts), self.kind.spec.fields, tz=self.governance.tz))

    def listing(self, met: Sequence[str], earlier: Sequence[tuple[Cut, ...]]) -> str:
        """The rules (and earlier suggestions) ``met`` names, each with its condition in words."""
        specs = {rule.id: rule for rule in self.kind.spec.rules}
        named = []
        for which in met:
            if which.startswith("suggestion "):
                named.append(f"the suggestion {self.words(earlier[int(which.split()[1]) - 1])}")
            else:
                when = specs[which].when or {}
                named.append(
                    f"rule {which} ({plain(describe_when(when, self.kind.spec.fields, tz=self.governance.tz))})"
                )
        return ", ".join(named)

    def baseline(self, i: int) -> Resolution:
        if i not in self.base:
            c = self.cases[i]
            self.base[i] = resolve(self.governance, self.kind, c.values, requester=c.requester, at=c.at)
        return self.base[i]

    def run(self) -> None:
        for _ in range(MAX_PER_KIND):
            found = candidates(self.kind, self.cases, self.pool, self.orders, self.bar)
            accepted = next((a for a in map(self._accept, found[:TRIES]) if a is not None), None)
            if accepted is None:
                return
            self.chosen.append(accepted)
            self.pool -= set(accepted[0].members)

    def _accept(self, candidate: Candidate) -> tuple[Candidate, dict[str, Any]] | None:
        edge = unvouched_edge(self.cases, candidate.members, self.orders)
        if edge is not None:
            return None
        taken = {r.id for r in self.kind.rules} | {rule["id"] for _, rule in self.chosen}
        earlier = [c.cuts for c, _ in self.chosen]
        cuts = candidate.cuts
        met = conflicts(self.kind, cuts, candidate.decide, earlier)
        if met and cuts[-1].op in ("lte", "gte") and candidate.other_end is not None:
            last = cuts[-1]
            ends = sorted([last.value, candidate.other_end])
            cuts = (*cuts[:-1], Cut(last.field, "between", (ends[0], ends[1])))
            met = conflicts(self.kind, cuts, candidate.decide, earlier)
        if met:
            clear = clear_of(self.kind, self.cases, self.orders, self.bar, candidate, met, earlier)
            if clear is None:
                refusal = f"the region {self.words(candidate.cuts)} would meet {self.listing(met, earlier)}"
                if refusal not in self.refused:
                    self.refused.append(refusal)
                return None
            candidate, cuts = clear, clear.cuts
        new_id = rule_id(self.kind, cuts, taken)
        when = when_of(self.kind, cuts)
        reason = policy_reason(self.kind, when, candidate.decide, self.governance.tz)
        rule = {"id": new_id, "when": when, "decide": candidate.decide, "reason": reason}
        try:
            extended, kind = with_rules(self.governance, self.kind, [r for _, r in self.chosen] + [rule])
        except NotCompiled:
            return None
        if not self._same_elsewhere(extended, kind, new_id, candidate):
            self.refused.append(f"the region {self.words(cuts)} would change what a rule of the file does")
            return None
        return Candidate(cuts, candidate.decide, candidate.members, candidate.other_end), rule

    def _same_elsewhere(self, extended: Governance, kind: Kind, new_id: str, candidate: Candidate) -> bool:
        """Check 3 of the module docstring, over every stored request the new rule matches."""
        condition = next(r for r in kind.rules if r.id == new_id).condition
        decided = set()
        if kind.needs_clock and not self.kind.needs_clock:  # a date offset reads the submission day
            self.kind_facts = [extended.facts(kind, c.values, requester=c.requester, at=c.at) for c in self.cases]
        for i, facts in enumerate(self.kind_facts if kind.needs_clock else self.facts):
            if condition.truth(facts) is not True:
                continue
            c = self.cases[i]
            after = resolve(extended, kind, c.values, requester=c.requester, at=c.at)
            if _touched(self.baseline(i)) and _signature(self.baseline(i)) != _signature(after):
                return False
            if c.verdict and after.rule == new_id:
                decided.add(i)
        return decided == set(candidate.members)


def _mine_kind(governance: Governance, kind: Kind, read: _Read, bar: Bar) -> tuple[list[Suggestion], KindSummary]:
    decisions = sum(1 for c in read.cases if c.verdict)
    because = "; ".join(problem for problem, _ in read.problems.most_common(3))
    summary = KindSummary(kind.name, read.requests, decisions, read.skipped, skipped_because=because)
    if decisions < bar.min_support:
        note = f"{decisions} human decisions in the window, fewer than --min-support {bar.min_support}"
        if read.skipped:
            note += f"; {read.skipped} requests no longer fit {kind.name}'s fields: {because}"
        return [], _with(summary, note=note)
    miner = _Miner(governance, kind, read.cases, bar)
    miner.run()
    suggestions = _suggestions(miner, decisions)
    note = ""
    if not suggestions:
        note = _why_none(miner, bar)
    dropped = tuple(miner.refused) if suggestions else ()
    return suggestions, _with(
        summary, governed=len(miner.governed), suggestions=len(suggestions), note=note, dropped=dropped
    )


def _with(summary: KindSummary, **changes: Any) -> KindSummary:
    return KindSummary(**{**summary.__dict__, **changes})


def _why_none(miner: _Miner, bar: Bar) -> str:
    """Why no region qualified: the bar the best region missed, with its numbers, in words."""
    if len(miner.pool) < bar.min_support:
        return (
            f"the rules of the file already cover {len(miner.governed)} of the human decisions; "
            f"{len(miner.pool)} left, fewer than --min-support {bar.min_support}"
        )
    if miner.refused:
        return "; ".join(miner.refused[:3])
    relaxed = Bar(bar.min_support, bar.min_share, people=False)
    found = candidates(miner.kind, miner.cases, miner.pool, miner.orders, relaxed)
    if not found:
        return (
            f"no region of at least {bar.min_support} human decisions where people decided one way "
            f"at least {bar.min_share:.0%} of the time"
        )
    best = found[0]
    tally = Tally(best.decide)
    for i in best.members:
        tally.add(miner.cases[i])
    why = tally.problem(bar) or "no end of it was vouched for by two approvers"
    return f"the best region, {miner.words(best.cuts)}, has {len(best.members)} human decisions, but {why}"


def policy_reason(kind: Kind, when: Mapping[str, Any], decide: str, tz: Any) -> str:
    """What a requester reads (``explain``, the request card): the rule as a policy sentence, in
    the words ``explain`` uses for conditions — "Discount approval requests where amount_pct ≤ 10
    are approved by default." The evidence stays in the YAML comment and the JSON."""
    words = plain(describe_when(when, kind.spec.fields, tz=tz))
    verdict = "are approved by default" if decide == "approve" else "are not approved"
    return f"{kind.spec.title} requests where {words} {verdict}."


def _median_wait(members: list[Case]) -> float:
    waits = [c.wait_hours for c in members if c.wait_hours is not None]
    return float(statistics.median(waits)) if waits else 0.0


def _suggestions(miner: _Miner, decisions: int) -> list[Suggestion]:
    if not miner.chosen:
        return []
    rules = [rule for _, rule in miner.chosen]
    extended, kind = with_rules(miner.governance, miner.kind, rules)
    found = []
    for candidate, rule in miner.chosen:
        members = [miner.cases[i] for i in candidate.members]
        verdicts = Counter(c.verdict for c in members)
        dissent_first = sorted(members, key=lambda c: (c.verdict == candidate.decide, c.id))
        examples = [format_request_id(c.id) for c in dissent_first[:5]]
        sources = {format_request_id(c.id): c.source for c in dissent_first[:5] if c.source}
        tests = region_tests(extended, kind, miner.cases, miner.orders, candidate, rule["id"])
        found.append(
            Suggestion(
                kind=kind.name,
                rule_id=rule["id"],
                when=rule["when"],
                decide=candidate.decide,
                reason=rule["reason"],
                support=len(members),
                approved=verdicts["approve"],
                rejected=verdicts["reject"],
                approvers=len({c.approver for c in members if c.approver}),
                coverage=len(members) / decisions if decisions else 0.0,
                median_wait_hours=_median_wait(members),
                examples=tuple(examples),
                sources=sources,
                tests=tuple(tests),
            )
        )
    return found
