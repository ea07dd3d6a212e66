"""A ``sum:`` budget cannot be bypassed by leaving the summed field empty (DESIGN §3.3: a rule that
cannot be evaluated does not match, and the trace says why): not at submission, not in the form's
preview, not in ``signoff explain``'s receipt; ``signoff check`` warns about an optional summed field."""

from __future__ import annotations

from datetime import datetime

from bot.domain.governance import Governance
from bot.domain.governance_spec import Outcome
from bot.domain.outcome import LimitUsage, Resolution, resolve
from bot.domain.preview import preview_of
from bot.slack.preview_blocks import preview_lines
from tests.conftest import AT, governance_from

BUDGETED = """
version: 1
timezone: UTC
groups: {finance: {members: [U0FIN1, U0FIN2]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      n: {type: number, required: true}
      deal_value: {type: money, currency: EUR, label: Deal value}
    approvers: finance
    rules:
      - id: budget
        when: {n: {lte: 15}}
        decide: approve
        reason: Within the budget.
        limit: {sum: deal_value, max: 1000, per: kind, window: 7d}
"""
FALLBACK = "      - {id: tiny, when: {n: {lte: 2}}, decide: approve, reason: Tiny.}\n"


def untouched(*, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None) -> LimitUsage:
    return LimitUsage()


def run(governance: Governance, **fields: object) -> Resolution:
    kind = governance.kind("deal")
    values = governance.validate_fields(kind, fields, at=AT)
    return resolve(governance, kind, values, requester="U0SAM", at=AT, usage=untouched)


def test_a_budgeted_rule_does_not_approve_a_request_without_the_summed_field_and_says_why() -> None:
    governance = governance_from(BUDGETED)
    assert run(governance, n=5, deal_value=300).outcome is Outcome.APPROVE
    assert run(governance, n=5, deal_value=0).outcome is Outcome.APPROVE  # a value given as 0 is a value
    empty = run(governance, n=5)
    assert (empty.outcome, empty.rule) == (Outcome.ROUTE, None)
    assert empty.reason == (
        "No governed default covers this: budget applies, but deal_value is not given; the budget counts it."
    )
    (traced,) = empty.receipt()["trace"]
    assert traced["rule"] == "budget" and traced["note"] == "deal_value is not given; the budget counts it"


def test_without_the_summed_field_the_next_approve_rule_may_still_decide() -> None:
    governance = governance_from(BUDGETED + FALLBACK)
    result = run(governance, n=1)
    assert (result.outcome, result.rule) == (Outcome.APPROVE, "tiny")


def test_the_preview_says_the_budget_needs_the_field_and_promises_no_approval() -> None:
    governance = governance_from(BUDGETED)
    kind = governance.kind("deal")
    resolution = run(governance, n=5)
    shown = preview_of(kind, resolution, usage=untouched)
    assert shown.outcome is Outcome.ROUTE
    assert preview_lines(shown)[1:] == [
        ":hourglass_flowing_sand: Needs *finance* (1 approval)",
        ":bar_chart: `budget`: EUR 1000 of EUR 1000 left this week; Deal value is not given and the budget "
        "counts it, so people decide",
    ]


def test_check_warns_that_a_budget_sums_an_optional_field_and_not_a_required_one() -> None:
    (warning,) = governance_from(BUDGETED).warnings
    assert warning.path == "kinds.deal.rules[0].limit.sum"
    assert "rule “budget” sums deal_value, which is optional" in warning.message
    assert "make the field required" in warning.message
    required = BUDGETED.replace("label: Deal value}", "label: Deal value, required: true}")
    assert governance_from(required).warnings == ()
