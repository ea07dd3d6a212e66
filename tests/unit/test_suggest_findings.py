"""The suggest miner against the policy owner's findings (QA of issue 12): each class of mistake, with
the tester's own reproductions and the latent history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest

from bot.domain.condition_words import describe_when, plain
from bot.domain.filetests import run_file_tests
from bot.domain.governance import Governance
from bot.domain.suggest import SuggestionReport, mine
from bot.domain.suggest_regions import Bar, Cut
from bot.domain.suggest_rules import rule_id, when_of, with_rules
from bot.domain.surface import RequestFacts
from bot.governance_file import load_governance_text
from bot.rule_yaml import with_suggestions
from tests.conftest import governance_from
from tests.latent_history import HABIT, LATENT_GOVERNANCE, history
from tests.suggest_history import START, WINDOW, History, run

BASE = """
version: 1
timezone: UTC
groups:
  g: {members: [U0A1, U0A2, U0A3, U0A4, U0A5, U0A6, U0A7, U0A8, U0A9, U0B1, U0B2, U0H]}
kinds:
  k:
    title: K
    owner: U0OWN
    fields:
      x: {type: number}
      c: {type: choice, options: [a, b]}
      dt: {type: date}
    approvers: g
"""
FOUR = ("U0A1", "U0A2", "U0A3", "U0A4")


def gov(rules: str = "") -> Governance:
    return governance_from(BASE + rules)


def approve_rules(report: SuggestionReport) -> list[object]:
    return [s.when for s in report.suggestions if s.decide == "approve"]


def test_values_only_one_approver_decided_never_set_the_end() -> None:
    """The tester's c7: x 1…10 by four people; 11…14 approved 4 times each by U0H alone; 15…24 split."""
    history = History("k")
    history.many((({"x": 1 + n % 10}, "approved") for n in range(100)), approvers=FOUR)
    for x in (11, 12, 13, 14):
        for _ in range(4):
            history.add({"x": x}, by="U0H")
    history.many((({"x": 15 + n % 10}, "approved" if n % 2 else "rejected") for n in range(40)), approvers=FOUR)
    assert approve_rules(run(gov(), history)) == [{"x": {"lte": 10}}]


@cache
def latent() -> SuggestionReport:
    """Three months (Jan–Mar 2026, 3000 a month, seed 1) of the latent history, mined with the defaults."""
    rows, _ = history(months=[date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)], count=3000, seed=1)
    facts = [_facts(n + 1, row) for n, row in enumerate(rows)]
    return mine(facts, governance_from(LATENT_GOVERNANCE), window=WINDOW, bar=Bar())


def _facts(n: int, row: dict[str, object]) -> RequestFacts:
    at = datetime.fromisoformat(str(row["submitted_at"]))
    decided = datetime.fromisoformat(str(row["decided_at"])) if row["decided_at"] else None
    state = str(row["outcome"])
    verdict = {"approved": "approve", "rejected": "reject"}.get(state)
    votes = ((str(row["decided_by"]), verdict, decided),) if verdict and decided else ()
    fields = row["fields"]
    assert isinstance(fields, dict)
    return RequestFacts(
        n,
        str(row["kind"]),
        True,
        state,
        at,
        decided,
        row["decided_by"],
        None,  # type: ignore[arg-type]
        votes=votes,
        requester=str(row["requester"]),
        fields=fields,
    )


def test_the_latent_budget_rule_ends_where_two_people_vouched_for_it() -> None:
    budget = [s for s in latent().suggestions if s.kind == "budget-move" and "department" not in str(s.when)]
    assert [s.when for s in budget] == [{"amount": {"between": [550, 5000]}}]
    inside = [t for t in budget[0].tests if t["expect"] == "approve"]
    assert inside and all(not (t["fields"]["department"] == "hr" and t["fields"]["amount"] > 5000) for t in inside), (
        HABIT["budget-move"]
    )


TEN = ("U0A1", "U0A2", "U0A3", "U0A4", "U0A5", "U0A6", "U0A7", "U0A8", "U0A9", "U0B1")


def _shared_region(counts: dict[str, int]) -> History:
    """The tester's c1: approvals of x 1…10 (``counts`` per approver), and 60 split decisions at x 30…39."""
    history = History("k")
    n = 0
    for who, count in counts.items():
        for _ in range(count):
            history.add({"x": 1 + n % 10}, by=who)
            n += 1
    history.many((({"x": 30 + m % 10}, "approved" if m % 2 else "rejected") for m in range(60)), approvers=FOUR)
    return history


@pytest.mark.parametrize("total", [30, 31, 33])
def test_unanimous_decisions_shared_by_ten_people_qualify_from_min_support(total: int) -> None:
    counts = {who: total // 10 + (1 if n < total % 10 else 0) for n, who in enumerate(TEN)}
    suggestion = next(s for s in run(gov(), _shared_region(counts)).suggestions if s.decide == "approve")
    assert (suggestion.when, suggestion.support, suggestion.approvers) == ({"x": {"lte": 10}}, total, 10)


def test_twenty_nine_say_which_bar_failed_and_one_approver_s_habit_is_named() -> None:
    few = run(gov(), _shared_region(dict.fromkeys(TEN[:9], 3) | {"U0B1": 2}))
    assert few.suggestions == () and few.kinds[0].note == (
        "no region of at least 30 human decisions where people decided one way at least 99% of the time"
    )
    skew = run(gov(), _shared_region({"U0A1": 90, "U0A2": 10}))
    assert skew.suggestions == () and skew.kinds[0].note == (
        "the best region, x ≤ 10, has 100 human decisions, but U0A1 made 90 of its 100 decisions, "
        "more than two thirds: one approver's habit"
    )


def test_rows_that_no_longer_fit_say_why() -> None:
    history = History("k")
    history.many((({"c": "a"}, "approved") for _ in range(40)), approvers=FOUR)
    report = run(
        gov().__class__ and governance_from(BASE.replace("x: {type: number}", "x: {type: number, required: true}")),
        history,
    )
    assert report.kinds[0].skipped_invalid == 40
    assert report.kinds[0].note == (
        "0 human decisions in the window, fewer than --min-support 30; "
        "40 requests no longer fit k's fields: x: is required (a number)"
    )


def test_the_written_reason_is_a_policy_sentence_and_the_evidence_stays_in_the_json() -> None:
    by_when = {str(s.when): s for s in latent().suggestions if s.kind == "discount"}
    routine = by_when[str({"amount_pct": {"lte": 10}})]
    assert routine.reason == "Discount approval requests where amount_pct ≤ 10 are approved by default."
    rejected = next(s for s in by_when.values() if s.decide == "reject")
    assert rejected.reason.endswith("are not approved.") and "People" not in rejected.reason
    assert rejected.as_json()["rejected"] == rejected.rejected and rejected.support >= 30


def _dated(history: History, days: int, state: str, by: str) -> None:
    at = START + timedelta(minutes=10 * (len(history.facts) + 1))  # History.add's submission time
    history.add({"dt": (at.date() + timedelta(days=days)).isoformat()}, state, by=by)


def test_a_date_policy_is_mined_relative_to_the_submission_day_never_as_a_calendar_date() -> None:
    """The tester's c4: approved when dt is 1…3 days after submission; split when 30…36 days after."""
    history = History("k")
    for n in range(100):
        _dated(history, 1 + n % 3, "approved", FOUR[n % 4])
    for n in range(60):
        _dated(history, 30 + n % 7, "approved" if n % 2 else "rejected", FOUR[n % 4])
    report = run(gov(), history)
    assert approve_rules(report) == [{"dt": {"lte": "+3d"}}]
    suggestion = report.suggestions[0]
    assert suggestion.rule_id == "suggested-dt-le-3d" and suggestion.support == 100
    written = load_governance_text(with_suggestions(gov().source, report.suggestions))
    assert all(result.passed for result in run_file_tests(written, now=START)) and suggestion.tests


REQUESTER_GATE = """    rules:
      - {id: r, when: {all: [{requester: {in: [U0REQ1]}}, {x: {lte: 3}}]}, decide: approve, reason: Trusted.}
"""


def test_a_region_next_to_a_requester_gated_rule_is_offered_clear_of_it() -> None:
    """The tester's c5: 100 approvals at x 1…10 by four approvers; a file rule approves U0REQ1's x ≤ 3."""
    history = History("k")
    history.many((({"x": 1 + n % 10}, "approved") for n in range(100)), approvers=FOUR)
    history.many((({"x": 60 + n % 10}, "rejected") for n in range(40)), approvers=FOUR)
    report = run(gov(REQUESTER_GATE), history)
    assert approve_rules(report) == [{"x": {"between": [4, 10]}}]
    assert next(s for s in report.suggestions if s.decide == "approve").support == 70


def test_a_region_dropped_for_a_rule_of_the_file_is_said_in_words() -> None:
    history = History("k")
    history.many((({"x": 1 + n % 10}, "approved") for n in range(100)), approvers=FOUR)
    rule = "    rules:\n      - {id: r, when: {x: {in: [62, 3]}}, decide: approve, reason: Small.}\n"
    report = run(gov(rule), history)
    assert report.suggestions == ()
    assert report.kinds[0].note.startswith("the region x ≤ 10 would meet rule r (x is 62 or 3)")
    assert "{" not in report.kinds[0].note and "[" not in report.kinds[0].note


def test_a_region_dropped_beside_a_suggestion_is_still_explained() -> None:
    history = History("k")
    history.many((({"x": 1 + n % 10}, "approved") for n in range(100)), approvers=FOUR)
    history.many((({"x": 70 + n % 10}, "rejected") for n in range(40)), approvers=FOUR)
    rule = "    rules:\n      - {id: r, when: {x: {in: [62, 3]}}, decide: approve, reason: Small.}\n"
    report = run(gov(rule), history)
    assert [s.decide for s in report.suggestions] == ["reject"]
    assert report.kinds[0].dropped[0] == "the region x ≤ 10 would meet rule r (x is 62 or 3)"


def _tested(suggestion_when: object, kind: str = "discount") -> list[tuple[str, dict[str, object]]]:
    found = next(s for s in latent().suggestions if s.kind == kind and s.when == suggestion_when)
    return [(str(t["name"]).split(":")[0], dict(t["fields"])) for t in found.tests]


def test_each_end_of_a_between_and_each_condition_has_its_tests() -> None:
    budget = _tested({"amount": {"between": [550, 5000]}}, "budget-move")
    amounts = {name: fields["amount"] for name, fields in budget}
    inside = sorted(fields["amount"] for name, fields in budget if name.startswith("just inside"))
    outside = sorted(fields["amount"] for name, fields in budget if name.startswith("just outside"))
    assert inside == [550, 5000] and outside[0] < 550 and outside[-1] > 5000, amounts
    partner = {"all": [{"tier": {"in": ["partner"]}}, {"amount_pct": {"between": [11, 20]}}]}
    tests = _tested(partner)
    on_tier = [fields for name, fields in tests if name.endswith("on tier")]
    assert len(on_tier) == 1 and on_tier[0]["tier"] != "partner" and 11 <= on_tier[0]["amount_pct"] <= 20
    assert {fields["amount_pct"] for name, fields in tests if name.startswith("just inside")} == {11, 20}
    assert 21 in {fields["amount_pct"] for name, fields in tests if name.startswith("just outside suggested")}


def test_the_largest_routine_region_is_suggested_first_whatever_the_order_within_a_value() -> None:
    """Smoke test F2: over 29 Jan – 29 Apr, ``length ≤ 4h`` (466 decisions, 463 approved) used to lose
    to ``crm ∧ until ≤ +4d`` (328): the agreement "at its ends" was also asked of its open lower end
    (the first 47 decisions at 1h, sorted by approver, held both dissents of that value's 158). Only
    a threshold is such an end now, so the largest qualifying region comes first and the rest keep
    clear of it."""
    months = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    rows, _ = history(months=months, count=3000, seed=1)
    since, until = datetime(2026, 1, 28, 23, tzinfo=UTC), datetime(2026, 4, 28, 22, tzinfo=UTC)
    facts = [_facts(n + 1, row) for n, row in enumerate(rows)]
    inside = [f for f in facts if since <= f.submitted_at < until]
    report = mine(inside, governance_from(LATENT_GOVERNANCE), window=WINDOW, kinds=["access-exception"], bar=Bar())
    found = [(s.when, s.support, s.approved) for s in report.suggestions]
    assert found[0] == ({"length": {"lte": "4h"}}, 466, 463)
    assert found[1:] == [({"all": [{"system": {"in": ["crm"]}}, {"length": {"between": ["8h", "3d"]}}]}, 206, 205)]
    assert not any("length ≤ 4h" in why for why in report.kinds[0].dropped)


def test_a_range_of_one_value_is_written_as_that_value() -> None:
    """Smoke test F2: never "length is from 4h to 4h" / ``…-from-4h-to-4h``; ``in: [v]`` where the
    type takes ``in`` (numbers), else ``eq`` (durations)."""
    governance = governance_from(LATENT_GOVERNANCE)
    access, discount = governance.kinds["access-exception"], governance.kinds["discount"]
    four_hours = (timedelta(hours=4), timedelta(hours=4))
    cuts = (Cut("system", "in", ("billing",)), Cut("length", "between", four_hours))
    assert when_of(access, cuts) == {"all": [{"system": {"in": ["billing"]}}, {"length": {"eq": "4h"}}]}
    assert rule_id(access, cuts, ()) == "suggested-system-billing-length-4h"
    assert (
        plain(describe_when(when_of(access, cuts), access.spec.fields, tz=UTC)) == "system is billing and length = 4h"
    )
    pct = (Cut("amount_pct", "between", (4, 4)),)
    assert when_of(discount, pct) == {"amount_pct": {"in": [4]}}
    assert rule_id(discount, pct, ()) == "suggested-amount-pct-4"
    assert plain(describe_when(when_of(discount, pct), discount.spec.fields, tz=UTC)) == "amount_pct is 4"
    with_rules(governance, access, [{"id": "r", "when": when_of(access, cuts), "decide": "approve", "reason": "R."}])
