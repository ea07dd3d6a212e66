"""Properties of ``signoff suggest`` on random histories and random rules already in the file:

- a suggested rule never changes what a rule of the file does, on any stored request nor on a grid
  of made-up ones, and suggestions of a kind never overlap each other;
- every threshold is a value present in the data;
- the file written with the suggestions always loads and passes its tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.domain.filetests import run_file_tests
from bot.domain.governance import Governance
from bot.domain.outcome import resolve
from bot.domain.suggest_rules import with_rules
from bot.governance_file import load_governance_text
from bot.rule_yaml import with_suggestions
from tests.conftest import governance_from
from tests.suggest_history import APPROVERS, History, run

BASE = """
version: 1
timezone: UTC
groups:
  finance: {members: [U0A, U0B, U0C]}
  cmo: {members: [U0CMO]}
kinds:
  discount:
    title: Discount
    owner: U0OWN
    fields:
      pct: {type: number, required: true, min: 0, max: 100}
      tier: {type: choice, options: [standard, partner, strategic], required: true}
      deal: {type: money, currency: EUR}
      rush: {type: bool}
    approvers: finance
"""
RULES = [
    "      - {id: small, when: {pct: {lte: 4}}, decide: approve, reason: Small.}\n",
    "      - {id: huge, when: {pct: {gt: 22}}, decide: reject, reason: Too much.}\n",
    "      - {id: partners, when: {tier: {in: [partner]}}, decide: reject, reason: No partners.}\n",
    "      - {id: big, when: {deal: {gte: 100000}}, require: cmo, reason: Big deals.}\n",
    "      - {id: trial, mode: shadow, when: {pct: {between: [6, 9]}}, decide: approve, reason: Trial.}\n",
    "      - {id: rushed, when: {all: [{rush: {eq: true}}, {pct: {gte: 15}}]}, decide: reject, reason: No rush.}\n",
]
TIERS = ("standard", "partner", "strategic")
GRID = [
    {"pct": pct / 2, "tier": tier, **({"deal": deal} if deal else {}), **({"rush": rush} if rush is not None else {})}
    for pct in range(61)
    for tier in TIERS
    for deal in (None, 150000)
    for rush in (None, True)
]
AT = datetime.fromisoformat("2026-03-02T09:00:00+00:00")

rows = st.lists(
    st.tuples(
        st.integers(0, 30),  # pct
        st.sampled_from(TIERS),
        st.sampled_from([None, 5000, 150000]),  # deal
        st.sampled_from([None, True, False]),  # rush
        st.sampled_from(["approved"] * 17 + ["rejected", "cancelled", "expired"]),
        st.sampled_from(APPROVERS),
    ),
    min_size=30,
    max_size=200,
)


def history_of(data: list[tuple[Any, ...]], cut: int) -> History:
    """Decisions follow ``pct ≤ cut`` → approve, else reject, unless the drawn state says cancelled/expired;
    a drawn ``rejected`` inside the region is noise."""
    history = History()
    for pct, tier, deal, rush, state, who in data:
        fields: dict[str, Any] = {"pct": pct, "tier": tier}
        if deal is not None:
            fields["deal"] = deal
        if rush is not None:
            fields["rush"] = rush
        if state == "approved":
            state = "approved" if pct <= cut else "rejected"
        history.add(fields, state, by=who)
    return history


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=rows, cut=st.integers(0, 30), picked=st.sets(st.integers(0, len(RULES) - 1)), support=st.integers(3, 15))
def test_suggestions_keep_the_file_s_rules_use_seen_values_and_write_a_passing_file(
    data: list[tuple[Any, ...]], cut: int, picked: set[int], support: int
) -> None:
    rules = "    rules:\n" + "".join(RULES[i] for i in sorted(picked)) if picked else ""
    governance = governance_from(BASE + rules)
    history = history_of(data, cut)
    report = run(governance, history, min_support=support, min_approval=0.9)
    event(f"suggestions: {min(len(report.suggestions), 3)}")
    if not report.suggestions:
        return
    kind = governance.kinds["discount"]
    extended, new_kind = with_rules(governance, kind, [s.rule() for s in report.suggestions])
    stored = [dict(item.fields or {}) for item in history.facts]
    _assert_rules_of_the_file_unchanged(governance, extended, stored + GRID)
    _assert_thresholds_seen(report.suggestions, stored)
    written = load_governance_text(with_suggestions(governance.source, report.suggestions))
    assert all(result.passed for result in run_file_tests(written, now=AT))
    assert new_kind.rules[-1].id == report.suggestions[-1].rule_id


def _assert_rules_of_the_file_unchanged(
    governance: Governance, extended: Governance, fields: list[dict[str, Any]]
) -> None:
    kind, new_kind = governance.kinds["discount"], extended.kinds["discount"]
    suggested = [r for r in new_kind.rules if r.id.startswith("suggested-")]
    for raw in fields:
        values = governance.validate_fields(kind, raw, at=AT)
        before = resolve(governance, kind, values, requester="U0REQ", at=AT)
        after = resolve(extended, new_kind, values, requester="U0REQ", at=AT)
        if before.rules or before.shadow:
            assert (before.outcome, before.rules, before.steps, before.shadow) == (
                after.outcome,
                after.rules,
                after.steps,
                after.shadow,
            ), raw
        facts = extended.facts(new_kind, values, requester="U0REQ", at=AT)
        assert sum(rule.condition.truth(facts) is True for rule in suggested) <= 1, raw


def _assert_thresholds_seen(suggestions: Any, stored: list[dict[str, Any]]) -> None:
    for suggestion in suggestions:
        leaves = suggestion.when.get("all", [suggestion.when])
        for leaf in leaves:
            ((name, ops),) = leaf.items()
            seen = {row.get(name) for row in stored}
            for op, value in ops.items():
                values = value if op in ("between", "in") else [value]
                assert all(v in seen for v in values), (suggestion.when, seen)
