"""Whether a suggested rule can meet a rule already in the file, read from the conditions alone.

A condition that is a conjunction (a leaf, ``all``, or a mapping of several fields) constrains
each field it names to an interval or a set of values. Two conjunctions are **provably disjoint**
when some field they both constrain has constraints with nothing in common: no request can match
both, whatever its other fields. Leaves that are not read here (``any``, ``not``, text operators,
``ne`` on an ordered field, dates relative to today, ``requester``, ``weekday``, ``hour``) are
left out, which only makes a condition look wider: a proof of disjointness stays sound.

``may_meet(suggestion, rule)``: False only when disjointness is proven. ``allowed_overlap``: the
one case §3.3 makes harmless, an ``approve`` suggestion meeting a *live* ``reject`` or ``require``
rule (reject and require take precedence over approve, so that rule's treatment never changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.conditions import All, Always, Condition, Leaf
from bot.domain.fields import FieldType
from bot.domain.governance import Kind, Rule
from bot.domain.governance_spec import Decision
from bot.domain.operators import Op
from bot.domain.suggest_regions import Bar, Candidate, Case, Cut, Tally, vouched_ends


@dataclass(frozen=True)
class Span:
    """An interval of an ordered field: ``low``/``high`` None is unbounded; ``*_open`` excludes the end."""

    low: Any = None
    high: Any = None
    low_open: bool = False
    high_open: bool = False

    def contains(self, value: Any) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (self.high is not None and (value > self.high or (self.high_open and value == self.high)))

    def meet(self, other: Span) -> Span:
        low, low_open = self.low, self.low_open
        if other.low is not None and (low is None or other.low > low or (other.low == low and other.low_open)):
            low, low_open = other.low, other.low_open
        high, high_open = self.high, self.high_open
        if other.high is not None and (high is None or other.high < high or (other.high == high and other.high_open)):
            high, high_open = other.high, other.high_open
        return Span(low, high, low_open, high_open)

    @property
    def empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        return bool(self.low > self.high or (self.low == self.high and (self.low_open or self.high_open)))


#: A field's constraint: an interval, or a finite set of the values it may take.
Constraint = Span | frozenset[Any]


def _meet(a: Constraint, b: Constraint) -> Constraint:
    if isinstance(a, Span):
        return a.meet(b) if isinstance(b, Span) else frozenset(v for v in b if _safe_contains(a, v))
    if isinstance(b, Span):
        return frozenset(v for v in a if _safe_contains(b, v))
    return a & b


def _safe_contains(span: Span, value: Any) -> bool:
    try:
        return span.contains(value)
    except TypeError:  # values of different types: not provably outside
        return True


def _is_empty(c: Constraint) -> bool:
    return c.empty if isinstance(c, Span) else not c


def leaf_constraint(leaf: Leaf, options: Sequence[Any] | None) -> Constraint | None:
    """What ``leaf`` says of its field's value, or None when it says nothing read here.

    ``options``: every value the field can take, for a choice or bool field (so ``ne`` and ``not_in``
    are read as the other options); None for other fields."""
    if leaf.relative is not None:
        return None
    op, expected = leaf.op, leaf.expected
    spans = {
        Op.LT: Span(high=expected, high_open=True),
        Op.LTE: Span(high=expected),
        Op.GT: Span(low=expected, low_open=True),
        Op.GTE: Span(low=expected),
    }
    if op in spans:
        return spans[op]
    if op is Op.BETWEEN:
        return Span(expected[0], expected[1])
    if op is Op.EQ:
        return frozenset([expected])
    if op is Op.IN:
        return frozenset(expected)
    if options is not None and op in (Op.NE, Op.NOT_IN):
        out = frozenset([expected]) if op is Op.NE else frozenset(expected)
        return frozenset(options) - out
    return None


def cut_constraint(cut: Cut) -> Constraint | None:
    """What a suggested leaf says (None for ``contains``: a multi_choice value holds several options)."""
    if cut.op == "lte":
        return Span(high=cut.value)
    if cut.op == "gte":
        return Span(low=cut.value)
    if cut.op == "between":
        return Span(cut.value[0], cut.value[1])
    if cut.op == "in":
        return frozenset(cut.value)
    if cut.op == "eq":
        return frozenset([cut.value])
    return None


def _field_options(kind: Kind, name: str) -> Sequence[Any] | None:
    spec = kind.spec.fields.get(name)
    if spec is None:
        return None
    if spec.type.value == "bool":
        return (True, False)
    if spec.type.value == "choice":
        return tuple(spec.options or ())
    return None


def rule_constraints(kind: Kind, condition: Condition) -> dict[str, list[Constraint]]:
    """Per field, the constraints a conjunctive condition puts on it (``{}``: none read)."""
    found: dict[str, list[Constraint]] = {}
    stack = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, All):
            stack.extend(node.children)
        elif isinstance(node, Leaf) and node.subject in kind.spec.fields:
            constraint = leaf_constraint(node, _field_options(kind, node.subject))
            if constraint is not None:
                found.setdefault(node.subject, []).append(constraint)
        elif not isinstance(node, Always | Leaf):
            continue  # any / not: nothing is read from them (the condition looks wider)
    return found


def cuts_constraints(cuts: Sequence[Cut], relative: frozenset[str] = frozenset()) -> dict[str, list[Constraint]]:
    """Per field, what ``cuts`` say of it; fields in ``relative`` (dates mined as offsets from
    submission) are left out, like the file's relative leaves: the condition only looks wider."""
    found: dict[str, list[Constraint]] = {}
    for cut in cuts:
        constraint = None if cut.field in relative else cut_constraint(cut)
        if constraint is not None:
            found.setdefault(cut.field, []).append(constraint)
    return found


def disjoint(a: dict[str, list[Constraint]], b: dict[str, list[Constraint]]) -> bool:
    """Whether no value can satisfy both: some field's constraints, together, admit nothing."""
    for name in a.keys() & b.keys():
        together = [*a[name], *b[name]]
        acc = together[0]
        for more in together[1:]:
            acc = _meet(acc, more)
        if _is_empty(acc):
            return True
    return False


def allowed_overlap(decide: str, rule: Rule) -> bool:
    """§3.3: an approve suggestion never changes what a live reject or require rule does where both match."""
    return decide == "approve" and not rule.shadow and (rule.decision is Decision.REJECT or rule.require is not None)


def conflicts(kind: Kind, cuts: Sequence[Cut], decide: str, chosen: Sequence[Sequence[Cut]]) -> list[str]:
    """The ids of the kind's rules, and the earlier suggestions (``suggestion N``), that ``cuts`` may
    meet in a way that is not allowed ([] when none)."""
    dates = frozenset(name for name, spec in kind.spec.fields.items() if spec.type.value == "date")
    mine = cuts_constraints(cuts, dates)
    found = [
        rule.id
        for rule in kind.rules
        if not allowed_overlap(decide, rule) and not disjoint(mine, rule_constraints(kind, rule.condition))
    ]
    ours = cuts_constraints(cuts)  # suggestions compare date offsets with date offsets
    found += [f"suggestion {n + 1}" for n, other in enumerate(chosen) if not disjoint(ours, cuts_constraints(other))]
    return found


def blocking(kind: Kind, name: str, met: Sequence[str], chosen: Sequence[Sequence[Cut]]) -> list[Span] | None:
    """The interval of ``name`` each rule (or ``suggestion N``) in ``met`` is limited to, so that a
    region kept clear of them all is provably disjoint from them; None when one of them says
    nothing of ``name`` as an interval (then no narrowing on ``name`` can keep clear of it)."""
    rules = {rule.id: rule for rule in kind.rules}
    spans = []
    for which in met:
        if which.startswith("suggestion "):
            constraints = cuts_constraints(chosen[int(which.split()[1]) - 1]).get(name)
        else:
            constraints = rule_constraints(kind, rules[which].condition).get(name)
        if not constraints:
            return None
        acc = constraints[0]
        for more in constraints[1:]:
            acc = _meet(acc, more)
        if not isinstance(acc, Span):
            return None
        spans.append(acc)
    return spans


def clear_of(
    kind: Kind,
    cases: Sequence[Case],
    orders: dict[str, list[int]],
    bar: Bar,
    candidate: Candidate,
    met: Sequence[str],
    earlier: Sequence[Sequence[Cut]],
) -> Candidate | None:
    """The part of ``candidate`` on its threshold's side of the rules it ``met`` (``between`` the
    threshold and the nearest value clear of them), when that part still qualifies and is
    provably disjoint from them: ``x ≤ 10`` next to a rule on ``x ≤ 3`` → ``x`` from 4 to 10."""
    last = candidate.cuts[-1]
    spans = blocking(kind, last.field, met, earlier) if last.op in ("lte", "gte") else None
    if not spans or kind.spec.fields[last.field].type is FieldType.DATE:
        return None
    order = [i for i in orders[last.field] if i in set(candidate.members)]
    outwards = order[::-1] if last.op == "lte" else order  # from the threshold inwards
    kept: list[int] = []
    for i in outwards:
        if any(span.contains(cases[i].keys[last.field]) for span in spans):
            break
        kept.append(i)
    inner = vouched_ends(cases, kept, last.field, candidate.decide, bar)
    while kept and cases[kept[-1]].keys[last.field] not in inner:
        kept.pop()
    if not kept:
        return None
    other = cases[kept[-1]].keys[last.field]
    ends = tuple(sorted([last.value, other]))
    cuts = (*candidate.cuts[:-1], Cut(last.field, "between", ends))
    narrowed = Candidate(cuts, candidate.decide, tuple(sorted(kept)), other)
    tally = Tally(candidate.decide)
    for i in kept:
        tally.add(cases[i])
    if tally.problem(bar) is not None or conflicts(kind, cuts, candidate.decide, earlier):
        return None
    return narrowed
