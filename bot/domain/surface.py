"""The decision surface (DESIGN §8 ``signoff report``): what people and rules decided, per kind.

``tally`` reads each request once, as ``RequestFacts``, and keeps only counters per kind,
approver, rule and week, plus one float per human decision (for percentiles): its memory does
not grow with the number of requests it has read beyond that. ``bot.domain.surface_json``
renders the result in §8's JSON shape. Everything here is pure and in UTC; weeks start on Monday in the
governance timezone.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from bot.domain.governance import Governance

# The window is part of the model: re-exported, so that ``bot.domain.surface`` names all of it.
from bot.domain.surface_window import DEFAULT_SINCE as DEFAULT_SINCE
from bot.domain.surface_window import Window as Window
from bot.domain.surface_window import parse_window as parse_window

_UTC = ZoneInfo("UTC")


class RequestFacts(NamedTuple):
    """One stored request (live or imported) as the report reads it (a named tuple: storage makes
    one per row, and a tuple is built several times faster than a frozen dataclass).

    ``state`` is a ``State`` value; ``decided_by`` a user id, ``rule:<id>`` or ``system``;
    ``auto_rule`` the id of the rule that decided it (None when people did or nobody has);
    ``votes`` are (voter, verdict ``approve``/``reject``/``changes``, at) in any order;
    ``shadow`` are (rule id, ``approve``/``reject``) of the shadow rules that matched it.
    """

    id: int
    kind: str
    imported: bool
    state: str
    submitted_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    auto_rule: str | None = None
    escalation_level: int = 0
    votes: tuple[tuple[str, str, datetime], ...] = ()
    shadow: tuple[tuple[str, str], ...] = ()
    #: When an approved exception's validity ends; read for imported rows only (a live one's
    #: lapse is its state, ``lapsed``, set by the sweep).
    lapses_at: datetime | None = None
    #: Who filed it (a Slack user id); read only when asked for contents (``contents=True``).
    requester: str | None = None
    #: Its fields as stored (the JSON document the contract validated); only with ``contents=True``.
    fields: Mapping[str, Any] | None = None
    #: The version hash of the governance file it was filed (and resolved) under; only with ``contents=True``.
    governance: str | None = None
    #: An imported request's id in the system it came from (``imported_id``), else None.
    source_id: str | None = None


def default_share(by_rules: int, divisor: int) -> float:
    """``resolved_by_default_share`` (DESIGN §8): decided by rules ÷ ``divisor``; 0.0 when the
    divisor is 0 (nothing decided yet: shown as "—", never as 0 %)."""
    return by_rules / divisor if divisor > 0 else 0.0


COUNTER_NAMES = (
    "requests",
    "auto_approved",
    "auto_rejected",
    "human_approved",
    "human_rejected",
    "changes_requested",
    "cancelled",
    "expired",
    "pending",
    "lapsed",
)


@dataclass(frozen=True)
class Counters:
    """How many requests ended each way. A lapsed exception counts as approved *and* in ``lapsed``."""

    requests: int = 0
    auto_approved: int = 0
    auto_rejected: int = 0
    human_approved: int = 0
    human_rejected: int = 0
    changes_requested: int = 0
    cancelled: int = 0
    expired: int = 0
    pending: int = 0
    lapsed: int = 0

    @property
    def share_divisor(self) -> int:
        """What the share is out of: requests − cancelled − pending (0: nothing decided yet, no share)."""
        return self.requests - self.cancelled - self.pending

    @property
    def human_decisions(self) -> int:
        """Requests people approved or rejected (what time to decision and approvers count)."""
        return self.human_approved + self.human_rejected

    @property
    def resolved_by_default_share(self) -> float:
        """Decided by rules ÷ ``share_divisor``; 0.0 when that is 0 (shown as "—", never as 0 %)."""
        return default_share(self.auto_approved + self.auto_rejected, self.share_divisor)

    @classmethod
    def of(cls, counts: Counter[str]) -> Counters:
        return cls(**{name: counts[name] for name in COUNTER_NAMES})

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in COUNTER_NAMES}
        data["resolved_by_default_share"] = round(self.resolved_by_default_share, 4)
        data["share_divisor"] = self.share_divisor
        data["human_decisions"] = self.human_decisions  # 0: the time-to-decision figures have nothing to measure
        return data


@dataclass(frozen=True)
class RuleFigures:
    """One rule: ``mode`` is ``live``, ``shadow`` or ``removed`` (no longer in the file);
    ``decided`` how many requests it decided (live; a shadow rule never decides: 0);
    ``would_have_decided`` how many it matched in shadow (each a verdict recorded), of which
    ``shadow_agreed``/``shadow_disagreed`` counts those people then decided."""

    rule: str
    mode: str
    decided: int = 0
    shadow_agreed: int = 0
    shadow_disagreed: int = 0
    would_have_decided: int = 0


@dataclass(frozen=True)
class ApproverFigures:
    """The human decisions one person made (the deciding votes), and their median time in hours:
    the true median (``statistics.median``: the mean of the two middle values of an even count),
    unlike the kind's nearest-rank p50."""

    user: str
    decisions: int
    approved: int
    rejected: int
    median_hours: float


@dataclass(frozen=True)
class WeekShare:
    """One kind's share resolved by defaults among requests submitted in the week from ``week_start`` (Monday)."""

    week_start: date
    kind: str
    resolved_by_default_share: float
    requests: int
    #: The share's divisor (``Counters.share_divisor``): 0 means nothing decided yet, no share.
    share_divisor: int = 0


@dataclass(frozen=True)
class KindFigures:
    """One kind's figures; ``owner`` is None for a kind the file no longer has. Hours are wall-clock."""

    kind: str
    owner: str | None
    counters: Counters
    p50_hours: float
    p90_hours: float
    sla_breaches: int
    escalations: int
    rules: tuple[RuleFigures, ...]
    approvers: tuple[ApproverFigures, ...]
    weeks: tuple[WeekShare, ...]
    decision_hours: tuple[float, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class SurfaceReport:
    """The report over ``window`` against the governance file ``governance`` (its version hash);
    weeks start on Monday in ``tz`` (the governance timezone)."""

    window: Window
    governance: str
    totals: Counters
    kinds: tuple[KindFigures, ...]
    tz: ZoneInfo = _UTC
    #: When the window holds no request: (first, last) submission time of the stored requests (of
    #: the kinds asked for), or None when none is stored at all; None too when the window holds some.
    stored_span: tuple[datetime, datetime] | None = None


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``share`` of the values at or
    below it (``sorted_values[ceil(share·n) − 1]``); 0.0 for no values. p50 of an even count is
    the lower middle value."""
    if not sorted_values:
        return 0.0
    return sorted_values[max(math.ceil(share * len(sorted_values)) - 1, 0)]


_APPROVED = frozenset({"approved", "lapsed"})
_DECIDED = _APPROVED | {"rejected"}
_OPEN = frozenset({"pending", "changes_requested"})


def _outcome(facts: RequestFacts) -> str:
    """Which decision counter the request falls in (its state's counter when it is no decision)."""
    if facts.state in _DECIDED:
        who = "auto" if facts.auto_rule else "human"
        return f"{who}_{'approved' if facts.state in _APPROVED else 'rejected'}"
    return facts.state


def deciding_vote(facts: RequestFacts) -> tuple[str, datetime] | None:
    """The vote that made a human decision: the latest vote agreeing with the final state, cast
    no later than the decision (by ``decided_by`` when it has one). None when there is none."""
    if facts.state not in _DECIDED or facts.auto_rule:
        return None
    verdict = "approve" if facts.state in _APPROVED else "reject"
    cutoff = facts.decided_at
    matching = [v for v in facts.votes if v[1] == verdict and (cutoff is None or v[2] <= cutoff)]
    by_decider = [v for v in matching if v[0] == facts.decided_by] or matching
    if not by_decider:
        return None
    voter, _, at = max(by_decider, key=lambda v: v[2])
    return voter, at


@dataclass
class _Approver:
    approved: int = 0
    rejected: int = 0
    hours: list[float] = field(default_factory=list)


@dataclass
class _Kind:
    counts: Counter[str] = field(default_factory=Counter)
    sla_breaches: int = 0
    escalations: int = 0
    fired: Counter[str] = field(default_factory=Counter)
    trialled: Counter[str] = field(default_factory=Counter)
    agreed: Counter[str] = field(default_factory=Counter)
    disagreed: Counter[str] = field(default_factory=Counter)
    approvers: dict[str, _Approver] = field(default_factory=dict)
    weeks: dict[date, Counter[str]] = field(default_factory=dict)


def _count(into: Counter[str], outcome: str, lapsed: bool) -> None:
    into["requests"] += 1
    into[outcome] += 1
    if lapsed:
        into["lapsed"] += 1


class _Weeks:
    """The Monday (in ``tz``) starting the week of a moment in ``window``: the week starts are
    computed once, a moment is placed among them by bisection (no time-zone conversion per request)."""

    def __init__(self, window: Window, tz: ZoneInfo):
        first = window.start.astimezone(tz).date()
        monday = first - timedelta(days=first.weekday())
        self.mondays: list[date] = []
        self.instants: list[datetime] = []
        while not self.instants or self.instants[-1] < window.end:
            self.mondays.append(monday)
            self.instants.append(datetime.combine(monday, time.min, tzinfo=tz).astimezone(_UTC))
            monday += timedelta(days=7)

    def of(self, moment: datetime) -> date:
        return self.mondays[bisect_right(self.instants, moment) - 1]


def _imported_lapse(facts: RequestFacts, now: datetime) -> bool:
    """An imported approved exception whose validity ended by ``now``: it stays ``approved`` (no
    sweep touches history) but counts as lapsed, as DESIGN §8 counts "an approved exception that
    later lapsed"."""
    return facts.imported and facts.state == "approved" and facts.lapses_at is not None and facts.lapses_at <= now


def _add(acc: _Kind, facts: RequestFacts, sla: timedelta | None, now: datetime, weeks: _Weeks) -> None:
    outcome = _outcome(facts)
    lapsed = facts.state == "lapsed" or _imported_lapse(facts, now)
    _count(acc.counts, outcome, lapsed)
    week_start = weeks.of(facts.submitted_at)
    week = acc.weeks.get(week_start)
    if week is None:
        week = acc.weeks[week_start] = Counter()
    _count(week, outcome, lapsed)
    acc.escalations += facts.escalation_level > 0
    if facts.auto_rule and facts.state in _DECIDED:
        acc.fired[facts.auto_rule] += 1
    for rule, decide in facts.shadow:
        acc.trialled[rule] += 1
        if facts.state in _DECIDED and not facts.auto_rule:
            agrees = (decide == "approve") == (facts.state in _APPROVED)
            (acc.agreed if agrees else acc.disagreed)[rule] += 1
    if outcome.startswith("human_"):
        vote = deciding_vote(facts)
        voter, at = vote if vote else (facts.decided_by or "unknown", facts.decided_at or facts.submitted_at)
        hours = (at - facts.submitted_at).total_seconds() / 3600
        person = acc.approvers.setdefault(voter, _Approver())
        person.hours.append(hours)
        if outcome == "human_approved":
            person.approved += 1
        else:
            person.rejected += 1
        acc.sla_breaches += sla is not None and at - facts.submitted_at > sla
    elif facts.state in _OPEN:
        acc.sla_breaches += sla is not None and now - facts.submitted_at > sla


def tally(
    facts: Iterable[RequestFacts],
    governance: Governance,
    window: Window,
    *,
    kinds: Collection[str] | None = None,
    now: datetime | None = None,
) -> SurfaceReport:
    """The report over ``facts`` in one pass (facts outside ``window`` or ``kinds`` are skipped).

    Per kind (the file's kinds in file order, then kinds only the data has, by name): the
    counters; time to decision (human decisions only: submission to the deciding vote, wall-clock
    hours, nearest-rank p50/p90, see ``percentile``); SLA breaches (a human decision, or a request
    still open at ``now`` — default ``window.end`` — later than submission + the kind's ``sla``);
    escalations (requests escalated at least once); rules (the file's, then ids only the data
    names, as ``removed``); approvers (by decisions, then id); weeks (Monday starts, ascending).
    """
    now = window.end if now is None else now
    wanted = None if kinds is None else set(kinds)
    accs: dict[str, _Kind] = {}
    weeks = _Weeks(window, governance.tz)
    for item in facts:
        if item.submitted_at not in window or (wanted is not None and item.kind not in wanted):
            continue
        kind = governance.kinds.get(item.kind)
        sla = kind.spec.sla if kind is not None else None
        acc = accs.get(item.kind)
        if acc is None:
            acc = accs[item.kind] = _Kind()
        _add(acc, item, sla, now, weeks)
    names = [n for n in governance.kinds if wanted is None or n in wanted]
    names += sorted(set(accs) - set(names))
    figures = tuple(_kind_figures(name, governance, accs.get(name, _Kind())) for name in names)
    totals: Counter[str] = Counter()
    for acc in accs.values():
        totals.update(acc.counts)
    return SurfaceReport(window, governance.version, Counters.of(totals), figures, governance.tz)


def _rule_figures(name: str, governance: Governance, acc: _Kind) -> tuple[RuleFigures, ...]:
    kind = governance.kinds.get(name)
    declared = [(spec.id, str(spec.mode)) for spec in (kind.spec.rules if kind else [])]
    known = {rule for rule, _ in declared}
    declared += [(rule, "removed") for rule in sorted((set(acc.fired) | set(acc.trialled)) - known)]
    return tuple(
        RuleFigures(rule, mode, acc.fired[rule], acc.agreed[rule], acc.disagreed[rule], acc.trialled[rule])
        for rule, mode in declared
    )


def _kind_figures(name: str, governance: Governance, acc: _Kind) -> KindFigures:
    kind = governance.kinds.get(name)
    approvers = sorted(
        (
            ApproverFigures(user, p.approved + p.rejected, p.approved, p.rejected, statistics.median(p.hours))
            for user, p in acc.approvers.items()
        ),
        key=lambda a: (-a.decisions, a.user),
    )
    hours = sorted(h for p in acc.approvers.values() for h in p.hours)
    weeks = tuple(
        WeekShare(start, name, week.resolved_by_default_share, week.requests, week.share_divisor)
        for start, week in sorted((start, Counters.of(c)) for start, c in acc.weeks.items())
    )
    return KindFigures(
        kind=name,
        owner=kind.owner if kind is not None else None,
        counters=Counters.of(acc.counts),
        p50_hours=percentile(hours, 0.5),
        p90_hours=percentile(hours, 0.9),
        sla_breaches=acc.sla_breaches,
        escalations=acc.escalations,
        rules=_rule_figures(name, governance, acc),
        approvers=tuple(approvers),
        weeks=weeks,
        decision_hours=tuple(hours),
    )
