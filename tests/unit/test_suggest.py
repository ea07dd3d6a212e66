"""The suggest miner (DESIGN §8) on small hand-made histories: each rule of what qualifies, and what never does."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import pytest

from bot.domain.filetests import run_file_tests
from bot.domain.governance import Governance
from bot.domain.outcome import resolve
from bot.domain.suggest_rules import with_rules
from bot.domain.suggestions import Suggestion
from bot.governance_file import load_governance_text
from bot.rule_yaml import with_suggestions
from tests.conftest import governance_from
from tests.suggest_history import History, run

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
      tier: {type: choice, options: [standard, partner], required: true}
      deal: {type: money, currency: EUR}
    approvers: finance
"""


def gov(rules: str = "") -> Governance:
    return governance_from(BASE + rules)


def approvals(history: History, pcts: list[float], tier: str = "standard", state: str = "approved") -> None:
    history.many(({"pct": p, "tier": tier}, state) for p in pcts)


def only(suggestions: tuple[Suggestion, ...]) -> Suggestion:
    assert len(suggestions) == 1, [s.when for s in suggestions]
    return suggestions[0]


def test_the_threshold_is_the_largest_value_people_approved_never_past_it() -> None:
    history = History()
    approvals(history, [1 + (n % 8) for n in range(48)])  # 1..8, by three approvers
    approvals(history, [20 + n for n in range(12)], state="rejected")
    suggestion = only(run(gov(), history).suggestions)
    assert suggestion.when == {"pct": {"lte": 8}} and suggestion.decide == "approve"
    assert (suggestion.support, suggestion.approved, suggestion.rejected, suggestion.approvers) == (48, 48, 0, 3)


def test_a_region_only_one_approver_decided_is_never_suggested() -> None:
    history = History()
    for n in range(60):
        history.add({"pct": 1 + n % 5, "tier": "standard"}, by="U0A")
    report = run(gov(), history)
    assert report.suggestions == ()
    assert report.kinds[0].note == (
        "the best region, pct ≤ 5, has 60 human decisions, but all its 60 decisions were made by one approver, U0A"
    )


def test_a_slice_one_approver_alone_approves_is_cut_off_at_the_edge() -> None:
    history = History()
    approvals(history, [1 + n % 5 for n in range(60)])  # 1..5: everyone approves
    for n in range(20):  # 6..9: only U0A ever decided, always approving (a habit)
        history.add({"pct": 6 + n % 4, "tier": "standard"}, by="U0A")
    approvals(history, [40 + n % 5 for n in range(30)], tier="partner", state="rejected")
    found = run(gov(), history).suggestions
    assert [s.when for s in found if s.decide == "approve"] == [{"pct": {"lte": 5}}]


def test_the_region_must_qualify_without_its_dominant_approver() -> None:
    history = History()
    for n in range(40):
        history.add({"pct": 1 + n % 5, "tier": "standard"}, by="U0A")
    for n in range(10):
        history.add({"pct": 1 + n % 5, "tier": "standard"}, by="U0B")
    assert run(gov(), history).suggestions == ()  # U0B alone: 10 decisions, fewer than 30
    for n in range(25):
        history.add({"pct": 1 + n % 5, "tier": "standard"}, by="U0C")
    assert only(run(gov(), history).suggestions).support == 75


@pytest.mark.parametrize(("rejected", "suggested"), [(1, True), (2, False)])
def test_a_region_people_rejected_more_than_the_bar_allows_is_not_suggested(rejected: int, suggested: bool) -> None:
    history = History()
    approvals(history, [5.0] * (100 - rejected))
    approvals(history, [5.0] * rejected, state="rejected")
    found = run(gov(), history).suggestions
    assert bool(found) is suggested  # 99 of 100 meets 0.99; 98 of 100 does not
    if found:
        assert (found[0].approved, found[0].rejected) == (99, 1)


def test_a_reject_region_sits_on_a_value_people_rejected() -> None:
    history = History()
    approvals(history, [50 + n % 10 for n in range(60)], state="rejected")  # 50..59 rejected
    approvals(history, [10 + n % 20 for n in range(20)], state="approved")
    suggestion = only(run(gov(), history, min_support=30).suggestions)
    assert suggestion.when == {"pct": {"gte": 50}} and suggestion.decide == "reject"
    assert suggestion.rejected == 60


def test_cancelled_expired_pending_and_rule_decisions_are_not_decisions_and_the_bar_is_inclusive() -> None:
    history = History()
    for _ in range(15):
        history.add({"pct": 3, "tier": "standard"}, by="U0A")
    for _ in range(14):  # 29 human decisions: one short of 30
        history.add({"pct": 3, "tier": "standard"}, by="U0B")
    for state in ("cancelled", "expired", "pending", "changes_requested"):
        for _ in range(5):
            history.add({"pct": 3, "tier": "standard"}, state, by="U0B")
    for _ in range(5):
        history.add({"pct": 3, "tier": "standard"}, auto_rule="old-rule")
    report = run(gov(), history)
    assert report.suggestions == () and report.kinds[0].human_decisions == 29
    history.add({"pct": 3, "tier": "standard"}, by="U0C")
    suggestion = only(run(gov(), history).suggestions)
    assert suggestion.support == 30 and suggestion.coverage == 1.0


def test_too_few_decisions_says_so() -> None:
    history = History()
    approvals(history, [3.0] * 29)
    approvals(history, [3.0] * 9, state="cancelled")
    assert run(gov(), history).kinds[0].note == "29 human decisions in the window, fewer than --min-support 30"


def test_rows_that_no_longer_fit_the_contract_are_skipped_and_counted() -> None:
    history = History()
    approvals(history, [2.0] * 60)
    history.add({"pct": "lots", "tier": "standard"})
    history.add({"pct": 2, "tier": "gold"})
    report = run(gov(), history)
    assert report.skipped_invalid == 2 and report.kinds[0].human_decisions == 60
    assert only(report.suggestions).support == 60


def test_a_suggestion_never_overlaps_an_approve_rule_of_the_file() -> None:
    rules = """    rules:
      - {id: small, when: {pct: {lte: 5}}, decide: approve, reason: Small., limit: {count: 1, per: requester, window: 30d}}
"""
    governance = gov(rules)
    history = History()
    approvals(history, [1 + n % 10 for n in range(150)])  # 1..10, all approved; 1..5 by people over the limit
    suggestion = only(run(governance, history).suggestions)
    assert suggestion.when == {"pct": {"between": [6, 10]}}
    assert suggestion.support == 75  # only what the rule of the file does not cover
    _assert_file_rules_unchanged(governance, [suggestion], [{"pct": p, "tier": "standard"} for p in range(101)])


def test_an_approve_suggestion_may_meet_a_live_reject_rule_which_keeps_precedence() -> None:
    rules = """    rules:
      - {id: no-partners, when: {tier: {in: [partner]}}, decide: reject, reason: Not for partners.}
"""
    governance = gov(rules)
    history = History()
    approvals(history, [1 + n % 10 for n in range(60)])
    approvals(history, [3.0] * 10, tier="partner", state="rejected")
    approvals(history, [30.0] * 10, state="rejected")
    suggestion = only(run(governance, history).suggestions)
    assert suggestion.when == {"pct": {"lte": 10}}
    fields = [{"pct": p, "tier": t} for p in range(0, 101, 3) for t in ("standard", "partner")]
    _assert_file_rules_unchanged(governance, [suggestion], fields)


def test_a_reject_suggestion_never_overrides_a_require_rule_on_another_field() -> None:
    rules = """    rules:
      - {id: big-deal, when: {deal: {gte: 100000}}, require: cmo, reason: Big deals need the CMO.}
"""
    governance = gov(rules)
    history = History()
    approvals(history, [60 + n % 10 for n in range(60)], state="rejected")
    report = run(governance, history)
    assert report.suggestions == ()
    assert "big-deal" in report.kinds[0].note


def test_evidence_examples_and_tests_come_from_history() -> None:
    history = History()
    approvals(history, [1 + n % 8 for n in range(47)])
    history.add({"pct": 4, "tier": "standard"}, "rejected", by="U0B")  # one dissent: listed first
    approvals(history, [12.0] * 10, state="rejected")
    suggestion = only(run(governance := gov(), history, min_approval=0.95).suggestions)
    assert suggestion.examples[0] == "REQ-48" and len(suggestion.examples) == 5
    assert suggestion.median_wait_hours == 2.0
    inside, outside = suggestion.tests
    assert (inside["expect"], inside["rule"], inside["fields"]["pct"]) == ("approve", suggestion.rule_id, 8)
    assert (outside["expect"], outside["fields"]["pct"]) == ("route", 12)
    written = load_governance_text(with_suggestions(governance.source, [suggestion]))
    results = run_file_tests(written, now=datetime.fromisoformat(inside["at"]))
    assert results and all(r.passed for r in results)


def test_two_regions_of_a_kind_never_overlap() -> None:
    history = History()
    approvals(history, [1 + n % 10 for n in range(60)])  # ≤ 10: approved
    approvals(history, [11 + n % 10 for n in range(60)], tier="partner")  # partner ≤ 20: approved
    approvals(history, [11 + n % 10 for n in range(60)], state="rejected")  # standard 11..20: rejected
    found = run(gov(), history).suggestions
    whens = [s.when for s in found]
    assert {"pct": {"lte": 10}} in whens
    assert {"all": [{"tier": {"in": ["partner"]}}, {"pct": {"between": [11, 20]}}]} in whens


def _assert_file_rules_unchanged(
    governance: Governance, suggestions: list[Suggestion], fields: Sequence[Mapping[str, object]]
) -> None:
    """Every request a rule of the file matches resolves the same with the suggestions added."""
    kind = governance.kinds["discount"]
    extended, new_kind = with_rules(governance, kind, [s.rule() for s in suggestions])
    at = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
    for raw in fields:
        values = governance.validate_fields(kind, raw, at=at)
        before = resolve(governance, kind, values, requester="U0REQ", at=at)
        after = resolve(extended, new_kind, values, requester="U0REQ", at=at)
        if before.rules or before.shadow:
            assert (before.outcome, before.rules, before.steps, before.shadow) == (
                after.outcome,
                after.rules,
                after.steps,
                after.shadow,
            ), raw


TYPED = """
version: 1
timezone: UTC
groups:
  sec: {members: [U0A, U0B, U0C]}
kinds:
  access:
    title: Access
    owner: U0OWN
    fields:
      until: {type: date, required: true}
      length: {type: duration, required: true}
      tags: {type: multi_choice, options: [vpn, admin, audit]}
      urgent: {type: bool}
    approvers: sec
"""


SAME = {"until": "2026-05-01", "length": "1d"}


@pytest.mark.parametrize(
    ("approved", "rejected", "expected"),
    [
        (lambda n: {**SAME, "until": f"2026-04-{1 + n % 8:02d}"}, SAME, {"until": {"lte": "+37d"}}),
        (lambda n: {**SAME, "length": f"{1 + n % 5}h"}, {**SAME, "length": "30d"}, {"length": {"lte": "5h"}}),
        # two `contains` regions are never proven disjoint (a request may hold both options): one of them
        (lambda n: {**SAME, "tags": ["vpn", "audit"]}, {**SAME, "tags": ["admin"]}, {"tags": {"contains": "admin"}}),
        (lambda n: {**SAME, "urgent": True}, {**SAME, "urgent": False}, {"urgent": {"eq": True}}),
    ],
)
def test_thresholds_and_options_of_every_type_are_written_as_the_file_writes_them(
    approved: Callable[[int], dict[str, object]], rejected: dict[str, object], expected: dict[str, object]
) -> None:
    governance = governance_from(TYPED)
    history = History(kind="access")
    history.many((approved(n), "approved") for n in range(60))
    history.many((rejected, "rejected") for _ in range(60))
    found = run(governance, history).suggestions
    assert expected in [s.when for s in found]
    assert sum("tags" in str(s.when) for s in found) <= 1
    written = load_governance_text(with_suggestions(governance.source, found))
    at = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
    assert all(result.passed for result in run_file_tests(written, now=at))
