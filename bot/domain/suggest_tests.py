"""The ``tests:`` of a suggested rule (DESIGN §3.6), drawn from the stored requests themselves.

- per end of the threshold (both ends of a ``between``), **just inside**: the human decision of the
  region nearest that end that people decided the region's way → ``expect`` the rule's verdict,
  ``rule`` its id; **just outside**: the stored request nearest that end on the other side (meeting
  the rule's other condition, if any) that the file plus the suggestions routes → ``expect: route``;
- per other condition of a two-condition rule, **just outside on** that field: a stored request
  that meets the threshold but not that condition, routed → ``expect: route`` (a later edit that
  drops the condition fails it). A pair is left out only when history has no such request.

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
    """The tests of the suggestion ``rule_id`` of ``kind`` in ``governance``: per end of its threshold
    (both ends of a ``between``) a just-inside and a just-outside request, and per other condition a
    request that meets the threshold but not that condition (outside on that condition alone); each
    from the stored requests, kept only when ``resolve`` gives what it expects."""
    tests: list[dict[str, Any]] = []
    seen: set[int] = set()

    def keep(case: Case | None, name: str, expect: str, rule: str | None) -> None:
        if case is not None and case.id not in seen and _outcome(governance, kind, case) == (expect, rule):
            seen.add(case.id)
            tests.append(_test(case, name, expect, rule))

    cut = _threshold(candidate)
    others = candidate.cuts[:-1] if cut is not None else candidate.cuts
    agreeing = [cases[i] for i in candidate.members if cases[i].verdict == candidate.decide]
    if cut is None:
        keep(min(agreeing, key=lambda c: c.id, default=None), f"just inside {rule_id}", candidate.decide, rule_id)
    for edge, above in _ends(cut):
        assert cut is not None
        inside = min(agreeing, key=lambda c: (abs_gap(c.keys[cut.field], edge), c.id), default=None)
        keep(inside, f"just inside {rule_id}", candidate.decide, rule_id)
        order = [cases[i] for i in orders.get(cut.field, [])]
        beyond = (
            [c for c in order if c.keys[cut.field] > edge]
            if above
            else [c for c in reversed(order) if c.keys[cut.field] < edge]
        )
        outside = [c for c in beyond if all(o.holds(c.keys) for o in others)]
        keep(_first_routed(governance, kind, outside), f"just outside {rule_id}", "route", None)
    for other in others:  # outside on this condition alone
        rest = [o for o in candidate.cuts if o is not other]
        pool = [c for c in cases if not other.holds(c.keys) and all(o.holds(c.keys) for o in rest)]
        keep(_first_routed(governance, kind, pool), f"just outside {rule_id} on {other.field}", "route", None)
    return tests


def _ends(cut: Cut | None) -> list[tuple[Any, bool]]:
    """Each end of a threshold and whether outside lies above it."""
    if cut is None:
        return []
    if cut.op == "between":
        return [(cut.value[1], True), (cut.value[0], False)]
    return [(cut.value, cut.op == "lte")]


def _threshold(candidate: Candidate) -> Cut | None:
    last = candidate.cuts[-1]
    return last if last.op in ("lte", "gte", "between") else None


def abs_gap(value: Any, edge: Any) -> Any:
    return value - edge if value >= edge else edge - value


def _first_routed(governance: Governance, kind: Kind, pool: Sequence[Case]) -> Case | None:
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
