"""Candidate regions for ``signoff suggest`` (DESIGN §8): where people almost always decided one way.

A region is one or two ``Cut`` s (a §3.2 leaf on one of the kind's own fields) and the human
decisions in it. Thresholds are found by one sorted pass per field (prefix counts), never by
comparing decisions pairwise: a pass over ``n`` decisions costs O(n), so a kind's candidates cost
O(fields² · n) plus one sort per ordered field.

What makes a region qualify, for ``decide`` approve (reject alike):

- ``support`` ≥ ``min_support`` human decisions, at least ``min_share`` of them approvals
  (``Tally.problem``);
- decided by ≥ 2 distinct approvers (DESIGN §8), and not one approver's habit: the busiest approver
  made at most two thirds (``TOP_SHARE``) of its decisions, and the others' decisions alone still
  meet ``min_share``. (Requiring ``min_support`` decisions *without* the busiest approver would refuse
  30 unanimous decisions by 10 people; two thirds still refuses 90 of 100 by one person, and a
  two-person team qualifies when the work is shared.)
- both ends are vouched for by two people (``_Run``, ``unvouched_edge``): the decisions nearest an
  end of the region (whole groups of equal value, at least ``edge_size``: max(5, ⌈support/10⌉)),
  along every ordered field of the kind, are not all one approver's, and a value one approver
  alone decided ``EDGE_MIN`` times or more is never an end. A slice only one person ever approves,
  next to a routine region, is cut off rather than swallowed;
- an end value (``vouched_ends``) is one people did not decide the other way at more often than
  ``min_share`` allows (nobody, for a value decided fewer than 100 times at 0.99), and that at least two
  different approvers decided the region's way at it or between it and the previous such value:
  one person's decisions never set a threshold, however often they were made;
- people agree at the ends nearly as well as overall: of the ``edge_size`` decisions nearest each
  threshold (both ends of a ``between``; the open end of ``lte``/``gte`` is none), at least
  ``Bar.edge_share`` (twice the dissent ``min_share`` allows) went the region's way, so a
  threshold stops where people start to split;
- a threshold sits on a value seen in the data on which someone decided the region's way: never
  past the largest value people approved for an approve rule (a ``gte`` region is bounded above:
  ``between`` its two ends), on a rejected value for a reject rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from bot.domain.fields import FieldType
from bot.domain.governance import Kind

#: Field types a threshold (``lte``/``gte``) is mined on, and those an option set is.
ORDERED_TYPES = frozenset({FieldType.NUMBER, FieldType.MONEY, FieldType.DURATION, FieldType.DATE})
DISCRETE_TYPES = frozenset({FieldType.CHOICE, FieldType.MULTI_CHOICE, FieldType.BOOL})
#: The most a region's busiest approver may have decided of it (2/3, as numerator and denominator).
TOP_SHARE = (2, 3)
#: The fewest decisions nearest a threshold that must not all be one approver's; also, a value
#: decided this many times by one approver alone is that approver's habit, never a region's end.
EDGE_MIN = 5


class Case(NamedTuple):
    """One stored request of a kind as suggest reads it.

    ``values``: its typed fields (``Governance.validate_fields``); ``raw``: the stored JSON fields;
    ``verdict``: ``approve``/``reject`` for a human decision, None otherwise; ``approver``: who
    made it (the deciding vote; None when unknown); ``wait_hours``: submission → deciding vote.
    """

    id: int
    values: dict[str, Any]
    raw: dict[str, Any]
    requester: str
    at: Any
    verdict: str | None
    approver: str | None
    wait_hours: float | None
    #: What regions are mined on: ``values``, but a date as whole days from the submission day
    #: (``+3`` for three days after it, in the governance timezone), as ``{lte: "+3d"}`` reads it.
    keys: dict[str, Any]
    #: An imported request's id in the system it came from, else None.
    source: str | None = None


@dataclass(frozen=True)
class Bar:
    """What a region must reach: ``min_support`` decisions, ``min_share`` (0.5, 1] of them one way,
    and (``people``) the approver bars of the module docstring."""

    min_support: int = 30
    min_share: float = 0.99
    #: False: only support and share count (to explain, in a note, which other bar a region missed).
    people: bool = True

    @property
    def edge_share(self) -> float:
        """What the decisions nearest a region's ends must reach: twice the dissent ``min_share``
        allows (0.98 for 0.99), so a sample's noise does not cut a region, but people who split
        (a judgement call, about half and half) do."""
        return max(0.5, 1 - 2 * (1 - self.min_share))


class Cut(NamedTuple):
    """One leaf: ``field`` ``op`` ``value``. ``op`` is ``lte``, ``gte``, ``between`` (value: (low,
    high)), ``in`` (value: a tuple of options), ``eq`` (bool) or ``contains`` (a multi_choice option)."""

    field: str
    op: str
    value: Any

    def holds(self, values: dict[str, Any]) -> bool:
        actual = values.get(self.field)
        if actual is None:
            return False
        if self.op == "lte":
            return bool(actual <= self.value)
        if self.op == "gte":
            return bool(actual >= self.value)
        if self.op == "between":
            return bool(self.value[0] <= actual <= self.value[1])
        if self.op == "in":
            return actual in self.value
        if self.op == "eq":
            return bool(actual == self.value)
        return self.value in actual  # contains


@dataclass(frozen=True)
class Candidate:
    """A region that qualified: its cuts (1 or 2), verdict, and the indexes of its decisions.

    ``low``: the smallest value of its threshold field in it (to write ``between`` when ``lte``
    alone would overlap another rule), or the largest one for a ``gte`` threshold."""

    cuts: tuple[Cut, ...]
    decide: str
    members: tuple[int, ...]
    other_end: Any = None

    @property
    def rank(self) -> tuple[int, int, str]:
        """Largest region first, then the simplest (a ``between`` counts as two comparisons), then a stable order."""
        comparisons = len(self.cuts) + sum(1 for cut in self.cuts if cut.op == "between")
        return (-len(self.members), comparisons, repr(self.cuts))


class Tally:
    """Counts of a growing region (decisions added in threshold order) and whether it qualifies."""

    __slots__ = ("agree", "agreeing", "count", "decide", "support", "top")

    def __init__(self, decide: str):
        self.decide = decide
        self.support = 0
        self.agree = 0
        self.count: dict[str, int] = {}
        self.agreeing: dict[str, int] = {}
        self.top: str | None = None

    def add(self, case: Case) -> None:
        agrees = case.verdict == self.decide
        self.support += 1
        who = case.approver
        if agrees:
            self.agree += 1
        if who is not None:
            n = self.count[who] = self.count.get(who, 0) + 1
            if agrees:
                self.agreeing[who] = self.agreeing.get(who, 0) + 1
            if self.top is None or n > self.count[self.top]:
                self.top = who

    def problem(self, bar: Bar) -> str | None:
        """None when the region qualifies, else why not, in plain words (the first bar it misses)."""
        verb = "approved" if self.decide == "approve" else "rejected"
        if self.support < bar.min_support:
            return f"{self.support} decisions, fewer than --min-support {bar.min_support}"
        if self.agree < bar.min_share * self.support - 1e-9:
            return f"people {verb} only {self.agree} of its {self.support} decisions, under --min-approval"
        if not bar.people:
            return None
        if len(self.count) < 2 or self.top is None:
            return f"all its {self.support} decisions were made by one approver, {self.top or 'unknown'}"
        most = self.count[self.top]
        if most * TOP_SHARE[1] > TOP_SHARE[0] * self.support:
            return f"{self.top} made {most} of its {self.support} decisions, more than two thirds: one approver's habit"
        rest = self.support - most
        rest_agree = self.agree - self.agreeing.get(self.top, 0)
        if rest_agree < bar.min_share * rest - 1e-9:
            return f"without {self.top}, people {verb} only {rest_agree} of {rest}, under --min-approval"
        return None


def threshold_scan(
    cases: Sequence[Case], order: Sequence[int], field: str, decide: str, bar: Bar, *, bounded: bool = False
) -> tuple[Any, int, Any, int] | None:
    """The largest qualifying prefix of ``order`` (indexes into ``cases``, sorted by ``field`` in
    the scan's direction): (threshold value, prefix end, first value, prefix start), or None.

    ``bounded``: the region is written ``between`` its two ends, so it starts at the first value
    someone decided ``decide`` (an approve rule never reaches past the largest value approved).
    Both ends must be vouched for by two people (``_Run``), and agree nearly as well as the whole:
    of the ``edge_size`` decisions nearest each threshold (the start of an unbounded scan is
    none), at least ``Bar.edge_share`` went the region's way (a threshold stops where
    people stop agreeing, not where a large region's bulk hides it)."""
    n = len(order)
    start = 0
    if bounded:
        lows = vouched_ends(cases, order[::-1], field, decide, bar, 2 if bar.people else 1)
        while start < n and (cases[order[start]].verdict != decide or cases[order[start]].keys[field] not in lows):
            start += 1
    if start >= n:
        return None
    tally = Tally(decide)
    best: tuple[Any, int, Any, int] | None = None
    first = cases[order[start]].keys[field]
    lead, tail = _Run(), _Run()
    opening = False
    agreed = [0]  # agreed[j]: decisions decided ``decide`` among the scan's first j
    # Once more people dissented than the whole scan could absorb, no longer prefix qualifies: stop.
    most_dissent = (1 - bar.min_share) * (n - start) + 1e-9
    pos = start
    highs = vouched_ends(cases, order[start:], field, decide, bar, 2 if bar.people else 1)
    while pos < n and tally.support - tally.agree <= most_dissent:
        value = cases[order[pos]].keys[field]
        who: set[str | None] = set()
        size = 0
        while pos < n and cases[order[pos]].keys[field] == value:
            case = cases[order[pos]]
            tally.add(case)
            agreed.append(agreed[-1] + (case.verdict == decide))
            who.add(case.approver)
            size += 1
            pos += 1
        habit = len(who) == 1 and size >= EDGE_MIN  # a value only one person decided, again and again
        opening = habit if pos - size == start else opening
        lead.extend(who, size, leading=True)
        tail.extend(who, size)
        k = edge_size(tally.support)
        alone = (habit or opening or lead.length >= k or tail.length >= k) and bar.people
        if value in highs and not alone and len(agreed) > k:
            # The start of an unbounded scan (``lte``: the smallest value seen) is no threshold.
            ends = min(agreed[k], agreed[-1] - agreed[-1 - k]) if bounded else agreed[-1] - agreed[-1 - k]
            if ends >= bar.edge_share * k - 1e-9 and tally.problem(bar) is None:
                best = (value, pos, first, start)
    return best


def vouched_ends(
    cases: Sequence[Case], order: Sequence[int], field: str, decide: str, bar: Bar, people: int = 2
) -> set[Any]:
    """The values of ``field`` along ``order`` (a scan, sorted from the region's fixed side outwards)
    that may be a region's end: people did not decide the other way at that value more often than
    ``bar.min_share`` allows (for a value decided fewer than 1 / (1 − min_share) times, 100 at 0.99,
    that is: nobody did), and at least ``people`` different approvers decided ``decide`` at it or
    between it and the previous such value. One person's decisions never set an end, however often
    they were made."""
    ends: set[Any] = set()
    since: set[str] = set()
    pos, n = 0, len(order)
    while pos < n:
        value = cases[order[pos]].keys[field]
        size = contrary = 0
        while pos < n and cases[order[pos]].keys[field] == value:
            case = cases[order[pos]]
            if case.verdict == decide and case.approver is not None:
                since.add(case.approver)
            contrary += case.verdict != decide
            size += 1
            pos += 1
        if contrary <= (1 - bar.min_share) * size + 1e-9 and len(since) >= people:
            ends.add(value)
            since = set()
    return ends


class _Run:
    """Decisions at one end of a region, in whole groups of equal value, that one approver alone made
    (a group two people decided ends the run). ``leading``: the run at the start, which stops growing
    once broken."""

    def __init__(self) -> None:
        self.who: str | None = None
        self.length = 0
        self.broken = False

    def extend(self, who: set[str | None], size: int, *, leading: bool = False) -> None:
        if leading and self.broken:
            return
        single = next(iter(who)) if len(who) == 1 else None
        if single is None:
            self.who, self.length, self.broken = None, 0, True
        elif single == self.who:
            self.length += size
        elif leading and self.who is not None:
            self.broken = True
        else:
            self.who, self.length = single, size


def edge_size(support: int) -> int:
    """How many decisions nearest an end of a region of ``support`` decisions must not all be one approver's."""
    return max(EDGE_MIN, math.ceil(support / 10))


def sorted_orders(kind: Kind, cases: Sequence[Case]) -> dict[str, list[int]]:
    """For each ordered field of ``kind``: indexes of ``cases`` that have it, by (value, approver)."""
    orders = {}
    for name, spec in kind.spec.fields.items():
        if spec.type in ORDERED_TYPES:
            have = [i for i, c in enumerate(cases) if c.keys.get(name) is not None]
            have.sort(key=lambda i: (cases[i].keys[name], cases[i].approver or ""))
            orders[name] = have
    return orders


def discrete_cuts(kind: Kind, cases: Sequence[Case], pool: Iterable[int]) -> list[tuple[Cut, list[int]]]:
    """Every single-option cut of the kind's choice, multi_choice and bool fields, with its decisions."""
    found: dict[Cut, list[int]] = {}
    for i in pool:
        values = cases[i].keys
        for name, spec in kind.spec.fields.items():
            if spec.type not in DISCRETE_TYPES or values.get(name) is None:
                continue
            value = values[name]
            if spec.type is FieldType.MULTI_CHOICE:
                for option in value:
                    found.setdefault(Cut(name, "contains", option), []).append(i)
            elif spec.type is FieldType.BOOL:
                found.setdefault(Cut(name, "eq", value), []).append(i)
            else:
                found.setdefault(Cut(name, "in", (value,)), []).append(i)
    return sorted(found.items(), key=lambda item: repr(item[0]))


def candidates(
    kind: Kind, cases: Sequence[Case], pool: set[int], orders: dict[str, list[int]], bar: Bar
) -> list[Candidate]:
    """Every qualifying region over the decisions ``pool`` (indexes into ``cases``), best first."""
    found: list[Candidate] = []
    scans = _threshold_candidates(cases, orders, lambda i: i in pool, bar, ())
    found += scans
    singles = discrete_cuts(kind, cases, sorted(pool))
    for decide in ("approve", "reject"):
        found += _option_sets(cases, singles, decide, bar)
    for cut, members in singles:
        if len(members) < bar.min_support:
            continue
        inside = set(members)
        others = {name: order for name, order in orders.items() if name != cut.field}
        found += _threshold_candidates(cases, others, inside.__contains__, bar, (cut,))
    found.sort(key=lambda c: c.rank)
    return found


def _threshold_candidates(
    cases: Sequence[Case],
    orders: dict[str, list[int]],
    keep: Callable[[int], bool],
    bar: Bar,
    given: tuple[Cut, ...],
) -> list[Candidate]:
    found = []
    for name, full in orders.items():
        order = [i for i in full if keep(i)]
        if len(order) < bar.min_support:
            continue
        backwards = order[::-1]
        for decide in ("approve", "reject"):
            for op, seq in (("lte", order), ("gte", backwards)):
                bounded = decide == "approve" and op == "gte"
                best = threshold_scan(cases, seq, name, decide, bar, bounded=bounded)
                if best is None:
                    continue
                value, end, first, start = best
                cut = Cut(name, "between", (value, first)) if bounded else Cut(name, op, value)
                found.append(Candidate((*given, cut), decide, tuple(sorted(seq[start:end])), first))
    return found


def _option_sets(cases: Sequence[Case], singles: list[tuple[Cut, list[int]]], decide: str, bar: Bar) -> list[Candidate]:
    """Per choice field, the ``in`` set of every option people decided ``decide`` (≥ ``min_share``,
    ≥ 2 approvers each), when the set as a whole qualifies."""
    by_field: dict[str, list[tuple[Cut, list[int]]]] = {}
    for cut, members in singles:
        tally = Tally(decide)
        for i in members:
            tally.add(cases[i])
        clean = tally.agree >= bar.min_share * tally.support - 1e-9 and (len(tally.count) >= 2 or not bar.people)
        if clean:
            by_field.setdefault(cut.field, []).append((cut, members))
    found = []
    for name, parts in by_field.items():
        if parts[0][0].op == "in":
            options = tuple(sorted(option for cut, _ in parts for option in cut.value))
            members = sorted(i for _, m in parts for i in m)
            picked = [(Cut(name, "in", options), members)]
        else:
            picked = parts  # bool and multi_choice: one option per cut
        for cut, members in picked:
            tally = Tally(decide)
            for i in members:
                tally.add(cases[i])
            if tally.problem(bar) is None:
                found.append(Candidate((cut,), decide, tuple(members)))
    return found


def unvouched_edge(cases: Sequence[Case], members: Sequence[int], orders: dict[str, list[int]]) -> str | None:
    """The first ordered field along which the region's lowest or highest decisions (whole groups of
    equal value, at least ``edge_size`` decisions) are all one approver's, else None. A region is only
    as wide as two people made it, in every direction: an ``in`` region must not swallow, say, the
    large values only one person approves."""
    inside = set(members)
    k = edge_size(len(members))
    for name, order in orders.items():
        mine = [i for i in order if i in inside]
        if len(mine) < k:
            continue
        for end in (mine, mine[::-1]):
            run = _Run()
            pos = 0
            while pos < len(end) and pos < k and not run.broken:
                value = cases[end[pos]].keys[name]
                who: set[str | None] = set()
                size = 0
                while pos < len(end) and cases[end[pos]].keys[name] == value:
                    who.add(cases[end[pos]].approver)
                    size += 1
                    pos += 1
                if pos == size and len(who) == 1 and size >= EDGE_MIN and None not in who:
                    return name
                run.extend(who, size, leading=True)
            if not run.broken and run.length >= k and run.who is not None:
                return name
    return None
