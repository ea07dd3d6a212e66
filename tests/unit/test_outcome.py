"""Outcome precedence, limits, reasons and receipts (DESIGN §3.3)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.domain.governance import Governance
from bot.domain.governance_spec import Outcome
from bot.domain.outcome import LimitUsage, Resolution, resolve
from tests.conftest import AT, governance_from

PRECEDENCE = """
version: 1
timezone: Europe/Berlin
groups:
  finance: {members: [U0FIN1, U0FIN2]}
  cmo-office: {members: [U0CMO]}
  legal: {members: [U0LEGAL]}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      pct: {type: number, required: true}
      value: {type: money}
      sector: {type: choice, options: [public, private]}
    approvers: finance
    rules:
      - {id: small, when: {pct: {lte: 10}}, decide: approve, reason: Small is fine.}
      - {id: tiny, when: {pct: {lte: 2}}, decide: approve, reason: Tiny is fine.}
      - {id: public-sector, when: {sector: public}, decide: reject, reason: No discounts for the public sector.}
      - {id: big, when: {value: {gte: 100000}}, require: cmo-office, reason: Big deals need the CMO.}
      - {id: huge, when: {value: {gte: 500000}}, require: {group: legal, approvals: 1}, reason: Huge deals need legal.}
"""


@pytest.fixture
def governance() -> Governance:
    return governance_from(PRECEDENCE)


def run(governance: Governance, **fields: object) -> Resolution:
    kind = governance.kind("deal")
    values = governance.validate_fields(kind, fields, at=AT)
    return resolve(governance, kind, values, requester="U0SAM", at=AT)


def test_reject_wins_over_require_and_approve(governance: Governance) -> None:
    result = run(governance, pct=1, value=600000, sector="public")
    assert (result.outcome, result.rule, result.reason) == (
        Outcome.REJECT,
        "public-sector",
        "No discounts for the public sector.",
    )


def test_require_wins_over_approve_and_adds_steps_in_order(governance: Governance) -> None:
    result = run(governance, pct=1, value=600000)
    assert result.outcome is Outcome.ROUTE
    assert [(s.group, s.approvals) for s in result.steps] == [("finance", 1), ("cmo-office", 1), ("legal", 1)]
    assert result.rules == ("big", "huge")
    assert result.reason == "Big deals need the CMO. Huge deals need legal."


def test_approve_when_nothing_stronger_matches_is_decided_by_exactly_one_rule(governance: Governance) -> None:
    result = run(governance, pct=1)
    assert (result.outcome, result.rule, result.rules) == (Outcome.APPROVE, "small", ("small",))
    assert [t.rule for t in result.trace if t.matched] == ["small", "tiny"]


def test_when_the_first_approve_rule_is_used_up_the_next_one_decides() -> None:
    governance = governance_from(
        LIMITED.replace(
            "        limit: {count: 5, per: requester, window: 30d}\n",
            "        limit: {count: 5, per: requester, window: 30d}\n"
            "      - {id: tiny, when: {pct: {lte: 2}}, decide: approve, reason: Tiny discounts are always fine.}\n",
        )
    )
    kind = governance.kind("discount")
    result = resolve(governance, kind, {"pct": 1}, requester="U0SAM", at=AT, usage=RecordingUsage(LimitUsage(count=5)))
    assert (result.outcome, result.rule) == (Outcome.APPROVE, "tiny")
    assert [(c.rule, c.ok) for c in result.limits] == [("small", False)]


def test_nothing_matches_routes_to_the_default_step_and_says_what_would_have_applied(governance: Governance) -> None:
    result = run(governance, pct=25)
    assert result.outcome is Outcome.ROUTE
    assert [s.group for s in result.steps] == ["finance"]
    assert result.rule is None
    assert result.reason == (
        "No governed default covers this: small applies when pct ≤ 10 (got 25); tiny applies when pct ≤ 2 (got 25)."
    )


def test_rule_order_in_the_file_does_not_change_the_outcome() -> None:
    shuffled = PRECEDENCE.replace(
        "      - {id: small, when: {pct: {lte: 10}}, decide: approve, reason: Small is fine.}\n", ""
    )
    shuffled += "      - {id: small, when: {pct: {lte: 10}}, decide: approve, reason: Small is fine.}\n"
    for text in (PRECEDENCE, shuffled):
        governance = governance_from(text)
        assert run(governance, pct=1, value=600000, sector="public").outcome is Outcome.REJECT
        assert run(governance, pct=1, value=200000).outcome is Outcome.ROUTE
        assert run(governance, pct=5).outcome is Outcome.APPROVE


def test_a_rule_on_a_missing_optional_field_does_not_match_and_the_trace_says_why(governance: Governance) -> None:
    result = run(governance, pct=25)
    big = next(t for t in result.trace if t.rule == "big")
    assert not big.matched
    assert big.note == "cannot be evaluated: value is not set"


def test_receipt_carries_governance_version_inputs_and_trace(governance: Governance) -> None:
    receipt = run(governance, pct=25).receipt()
    assert receipt["governance"] == governance.version
    assert len(governance.version) == 64
    assert receipt["inputs"]["fields"] == {"pct": 25}
    assert receipt["inputs"]["requester"] == "U0SAM"
    assert receipt["outcome"] == "route"
    small = receipt["trace"][0]
    assert small == {
        "rule": "small",
        "effect": "approve",
        "mode": "live",
        "matched": False,
        "note": None,
        "conditions": [{"field": "pct", "op": "lte", "expected": 10, "actual": 25, "result": False}],
    }


LIMITED = """
version: 1
groups: {finance: {members: [U0FIN1]}}
kinds:
  discount:
    title: Discount
    owner: U0OWNER
    fields:
      pct: {type: number, required: true}
      value: {type: money}
    approvers: finance
    rules:
      - id: small
        when: {pct: {lte: 10}}
        decide: approve
        reason: Small discounts are pre-approved.
        limit: {count: 5, per: requester, window: 30d}
  spend:
    title: Spend
    owner: U0OWNER
    fields:
      amount: {type: money, required: true}
    approvers: finance
    rules:
      - id: petty
        when: {amount: {lte: 1000}}
        decide: approve
        reason: Petty spend is pre-approved.
        limit: {sum: amount, max: 2500, per: kind, window: 1w}
"""


class RecordingUsage:
    """A usage lookup that answers from a fixed table and remembers what it was asked."""

    def __init__(self, usage: LimitUsage):
        self.usage = usage
        self.calls: list[dict[str, object]] = []

    def __call__(
        self, *, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None
    ) -> LimitUsage:
        self.calls.append({"kind": kind, "rule": rule, "requester": requester, "since": since, "sum_field": sum_field})
        return self.usage


@pytest.mark.parametrize(
    ("used", "outcome"), [(0, Outcome.APPROVE), (4, Outcome.APPROVE), (5, Outcome.ROUTE), (9, Outcome.ROUTE)]
)
def test_count_limit_per_requester(used: int, outcome: Outcome) -> None:
    governance = governance_from(LIMITED)
    kind = governance.kind("discount")
    usage = RecordingUsage(LimitUsage(count=used))
    result = resolve(governance, kind, {"pct": 5}, requester="U0SAM", at=AT, usage=usage)
    assert result.outcome is outcome
    assert usage.calls == [
        {"kind": "discount", "rule": "small", "requester": "U0SAM", "since": AT - timedelta(days=30), "sum_field": None}
    ]
    if outcome is Outcome.ROUTE:
        assert (
            result.reason
            == f"No governed default covers this: small applies, but its limit used up: {used} of 5 in 30d."
        )


@pytest.mark.parametrize(
    ("spent", "amount", "outcome"),
    [(0, 1000, Outcome.APPROVE), (1500, 1000, Outcome.APPROVE), (1600, 1000, Outcome.ROUTE)],
)
def test_budget_limit_per_kind_counts_this_request_too(spent: float, amount: int, outcome: Outcome) -> None:
    governance = governance_from(LIMITED)
    usage = RecordingUsage(LimitUsage(count=3, total=spent))
    result = resolve(governance, governance.kind("spend"), {"amount": amount}, requester="U0SAM", at=AT, usage=usage)
    assert result.outcome is outcome
    assert usage.calls[0]["requester"] is None
    assert usage.calls[0]["sum_field"] == "amount"


def test_limits_are_not_looked_up_for_rules_that_do_not_match() -> None:
    governance = governance_from(LIMITED)
    usage = RecordingUsage(LimitUsage())
    resolve(governance, governance.kind("discount"), {"pct": 50}, requester="U0SAM", at=AT, usage=usage)
    assert usage.calls == []


def test_requester_group_and_time_conditions_use_the_file_timezone() -> None:
    governance = governance_from("""
        version: 1
        timezone: America/New_York
        groups:
          finance: {members: [U0FIN1]}
          execs: {members: [U0BOSS]}
        kinds:
          spend:
            title: Spend
            owner: U0OWNER
            fields: {amount: {type: money, required: true}}
            approvers: finance
            rules:
              - {id: exec, when: {requester_group: {in: [execs]}}, decide: approve, reason: Execs decide.}
              - {id: weekend, when: {weekday: {in: [sat, sun]}}, decide: reject, reason: Not on weekends.}
              - {id: late, when: {hour: {gte: 20}}, require: execs, reason: Late requests need an exec.}
        """)
    kind = governance.kind("spend")
    friday_night_ny = datetime.fromisoformat("2026-03-07T00:30:00+00:00")  # Fri 19:30 in New York, Sat in UTC
    assert resolve(governance, kind, {"amount": 1}, requester="U0BOSS", at=friday_night_ny).outcome is Outcome.APPROVE
    assert resolve(governance, kind, {"amount": 1}, requester="U0SAM", at=friday_night_ny).outcome is Outcome.ROUTE
    nine_pm = datetime.fromisoformat("2026-03-06T21:00:00-05:00")
    assert [s.group for s in resolve(governance, kind, {"amount": 1}, requester="U0SAM", at=nine_pm).steps] == [
        "finance",
        "execs",
    ]
    saturday = datetime.fromisoformat("2026-03-07T10:00:00-05:00")
    assert resolve(governance, kind, {"amount": 1}, requester="U0BOSS", at=saturday).outcome is Outcome.REJECT
