"""The ``tests:`` of a suggested rule (DESIGN §3.6), drawn from the stored requests themselves.

- **just inside**: the human decision of the region nearest its threshold (a member that people
  decided the region's way) → ``expect`` the rule's verdict, ``rule`` its id;
- **just outside**: the stored request nearest the threshold on the other side (meeting the
  rule's other condition, if any), when the file plus the suggestions routes it → ``expect: route``.

Each test carries the request's stored fields and its submission time as ``at`` (so that dates
are read as they were then), and is kept only if ``resolve`` with the file plus the kind's
suggestions gives what it expects, the requester being ``signoff test``'s (``TEST_REQUESTER``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.domain.contracts import ContractError
from bot.domain.filetests import TEST_REQUESTER
from bot.domain.governance import Governance, Kind
from bot.domain.governance_spec import Outcome
from bot.domain.outcome import resolve
from bot.domain.requests import format_request_id
from bot.domain.suggest_regions import Candidate, Case, Cut
from bot.domain.suggest_rules import with_rules
from bot.domain.suggestions import Suggestion

#: How many stored requests beyond the threshold are tried for the "just outside" test.
OUTSIDE_TRIES = 50


def region_tests(
    governance: Governance,
    kind: Kind,
    cases: Sequence[Case],
    orders: dict[str, list[int]],
    candidate: Candidate,
    rule_id: str,
) -> list[dict[str, Any]]:
    """Up to two tests (inside, outside) for the suggestion ``rule_id`` of ``kind`` in ``governance``."""
    tests = []
    inside = _inside(cases, candidate)
    if inside is not None and _outcome(governance, kind, inside) == (candidate.decide, rule_id):
        tests.append(_test(inside, f"just inside {rule_id}", candidate.decide, rule_id))
    outside = _outside(governance, kind, cases, orders, candidate)
    if outside is not None:
        tests.append(_test(outside, f"just outside {rule_id}", "route", None))
    return tests


def _threshold(candidate: Candidate) -> Cut | None:
    last = candidate.cuts[-1]
    return last if last.op in ("lte", "gte", "between") else None


def _inside(cases: Sequence[Case], candidate: Candidate) -> Case | None:
    agreeing = [cases[i] for i in candidate.members if cases[i].verdict == candidate.decide]
    if not agreeing:
        return None
    cut = _threshold(candidate)
    if cut is None:
        return min(agreeing, key=lambda c: c.id)
    at_edge = _edge(cut, candidate)
    return min(agreeing, key=lambda c: (abs_gap(c.keys[cut.field], at_edge), c.id))


def abs_gap(value: Any, edge: Any) -> Any:
    return value - edge if value >= edge else edge - value


def _edge(cut: Cut, candidate: Candidate) -> Any:
    """The threshold people vouched for: ``lte``'s value, ``gte``'s, or the mined end of a ``between``."""
    if cut.op != "between":
        return cut.value
    low, high = cut.value
    return high if candidate.other_end == low else low


def _outside(
    governance: Governance, kind: Kind, cases: Sequence[Case], orders: dict[str, list[int]], candidate: Candidate
) -> Case | None:
    cut = _threshold(candidate)
    others = candidate.cuts[:-1] if cut is not None else ()
    if cut is None:
        pool = [c for c in cases if not candidate.cuts[0].holds(c.keys)]
    else:
        edge = _edge(cut, candidate)
        order = [cases[i] for i in orders.get(cut.field, [])]
        beyond_high = cut.op == "lte" or (cut.op == "between" and edge == cut.value[1])
        if beyond_high:
            pool = [c for c in order if c.keys[cut.field] > edge]
        else:
            pool = [c for c in reversed(order) if c.keys[cut.field] < edge]
        pool = [c for c in pool if all(o.holds(c.keys) for o in others)]
    for case in pool[:OUTSIDE_TRIES]:
        if _outcome(governance, kind, case)[0] == "route":
            return case
    return None


def _outcome(governance: Governance, kind: Kind, case: Case) -> tuple[str, str | None]:
    resolution = resolve(governance, kind, case.values, requester=TEST_REQUESTER, at=case.at)
    rule = resolution.rule if resolution.outcome is not Outcome.ROUTE else None
    return str(resolution.outcome), rule


def _test(case: Case, name: str, expect: str, rule: str | None) -> dict[str, Any]:
    test: dict[str, Any] = {
        "name": f"{name}: {format_request_id(case.id)}",
        "fields": dict(case.raw),
        "at": case.at.isoformat(),
        "expect": expect,
    }
    if rule is not None:
        test["rule"] = rule
    return test


def as_shadow(governance: Governance, suggestions: Sequence[Suggestion]) -> list[Suggestion]:
    """The suggestions as ``mode: shadow`` rules (DESIGN §3.7), each test now expecting what the file
    plus the shadow rules does: the outcome the file in force gives (route, or a rule of the file)
    and exactly the shadow verdicts that match, so ``signoff test`` passes on the written file.
    A test whose fields no longer fit the contract is dropped."""
    grouped: dict[str, list[Suggestion]] = {}
    for suggestion in suggestions:
        grouped.setdefault(suggestion.kind, []).append(replace(suggestion, mode="shadow"))
    result = []
    for name, group in grouped.items():
        extended, kind = with_rules(governance, governance.kinds[name], [s.rule() for s in group])
        for suggestion in group:
            tests = [t for t in (_shadow_test(extended, kind, test) for test in suggestion.tests) if t is not None]
            result.append(replace(suggestion, tests=tuple(tests)))
    return result


def _shadow_test(governance: Governance, kind: Kind, test: Mapping[str, Any]) -> dict[str, Any] | None:
    at = datetime.fromisoformat(test["at"])
    try:
        values = governance.validate_fields(kind, test["fields"], at=at)
    except ContractError:
        return None
    resolution = resolve(governance, kind, values, requester=TEST_REQUESTER, at=at)
    shadow_test = {key: value for key, value in test.items() if key not in ("expect", "rule")}
    shadow_test["expect"] = str(resolution.outcome)
    if resolution.outcome is not Outcome.ROUTE and resolution.rule is not None:
        shadow_test["rule"] = resolution.rule
    shadow_test["shadow"] = {v.rule: str(v.decide) for v in resolution.shadow}
    return shadow_test
