"""The suggested defaults in an owner's weekly summary (DESIGN §2 last row, §8 "In Slack"): mined at
delivery from the last 90 days of the owner's kinds, the top ones by coverage then support, each
with its ``when`` in words; none where the history shows no routine decision."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.domain.routing import Verdict
from bot.domain.suggestions import Suggestion
from bot.domain.surface_summary import top_suggestions
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.services.surface_summary import owner_figures, queue_surface_summaries
from tests.conftest import governance_from
from tests.fakes import FakeGateway, drain

#: Two kinds of the finance lead's (one with a plain routine region, one with too few decisions)
#: and one of the legal lead's (a few decisions, no routine). No rules: people decide everything.
SUGGESTING = """
version: 1
timezone: Europe/Berlin
groups:
  finance: {members: [U0FIN1, U0FIN2, U0FIN3]}
  legal: {members: [U0LAW1, U0LAW2]}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true}
      amount_pct: {type: number, required: true, min: 0, max: 100}
      tier: {type: choice, options: [partner, reseller, direct], required: true}
    approvers: finance
  travel:
    title: Travel
    owner: U0FINLEAD
    fields:
      cost: {type: money, currency: EUR, required: true}
    approvers: finance
  contract:
    title: Contract review
    owner: U0LAWLEAD
    fields: {counterparty: {type: text, required: true}}
    approvers: legal
"""
#: The summary's Monday (ISO week 11), 09:00 in Berlin; the history lies in the 5 weeks before it.
MONDAY = datetime.fromisoformat("2026-03-09T09:00:00+01:00")
APPROVERS = ("U0FIN1", "U0FIN2", "U0FIN3")
ROUTINE, REJECTED = 80, 20


@pytest.fixture
def governance() -> Governance:
    return governance_from(SUGGESTING)


def plain_history(runtime: Runtime, clock: FixedClock, *, account: str = "Acme") -> None:
    """A history so plain any correct miner finds it: 80 discounts of amount_pct 1–5 approved by
    three people, 2 h after submission; 20 of 30–49 % rejected; 5 travel requests approved; 3
    contracts, two approved and one rejected. All in the five weeks before ``MONDAY``."""
    start = datetime.fromisoformat("2026-02-02T10:00:00+01:00")
    for n in range(ROUTINE + REJECTED):
        clock.set(start + timedelta(hours=8 * n))
        routine = n < ROUTINE
        pct = 1 + n % 5 if routine else 30 + n % 20
        tier = ("partner", "reseller", "direct")[n % 3]
        text = f"account={account}-{n} amount_pct={pct} tier={tier}"
        filed = submit_request(runtime=runtime, kind="discount", requester=f"U0REQ{n % 7}", text=text)
        clock.advance(timedelta(hours=2))
        verdict = Verdict.APPROVE if routine else Verdict.REJECT
        decide_request(
            runtime=runtime, request_id=filed.request_id, voter=APPROVERS[n % 3], verdict=verdict, reason="no"
        )
    for n in range(5):
        filed = submit_request(runtime=runtime, kind="travel", requester="U0REQ1", text=f"cost={100 + n}")
        decide_request(runtime=runtime, request_id=filed.request_id, voter=APPROVERS[n % 3], verdict=Verdict.APPROVE)
    for n, verdict in enumerate((Verdict.APPROVE, Verdict.APPROVE, Verdict.REJECT)):
        filed = submit_request(runtime=runtime, kind="contract", requester="U0REQ2", text=f"counterparty=C{n}")
        decide_request(runtime=runtime, request_id=filed.request_id, voter="U0LAW1", verdict=verdict, reason="no")


def test_the_owner_of_a_kind_with_a_routine_region_is_sent_it_as_a_suggestion(
    runtime: Runtime, clock: FixedClock
) -> None:
    plain_history(runtime, clock)
    gateway = FakeGateway()
    drain(runtime, gateway)
    clock.set(MONDAY)
    queue_surface_summaries(runtime=runtime, timezone_of={}.get)
    drain(runtime, gateway)
    sent = {surface.owner: surface for surface in gateway.surfaces}
    assert set(sent) == {"U0FINLEAD", "U0LAWLEAD"}
    (shown,) = sent["U0FINLEAD"].suggestions  # discount's routine region; travel has too few decisions
    suggestion = shown.suggestion
    assert (suggestion.kind, suggestion.decide) == ("discount", "approve")
    assert (suggestion.support, suggestion.approved, suggestion.rejected) == (ROUTINE, ROUTINE, 0)
    assert suggestion.approvers == 3
    assert suggestion.coverage == pytest.approx(ROUTINE / (ROUTINE + REJECTED))
    assert suggestion.median_wait_hours == pytest.approx(2.0)
    assert "".join(token.text for token in shown.condition) == "amount_pct ≤ 5"
    assert suggestion.tests  # drawn from real history, for the Show YAML modal
    assert sent["U0LAWLEAD"].suggestions == ()


def test_app_home_mines_nothing(runtime: Runtime, clock: FixedClock) -> None:
    plain_history(runtime, clock)
    clock.set(MONDAY)
    home = owner_figures(runtime=runtime, owner="U0FINLEAD")
    assert home is not None and home.suggestions == ()
    summary = owner_figures(runtime=runtime, owner="U0FINLEAD", suggestions=True)
    assert summary is not None and [s.suggestion.kind for s in summary.suggestions] == ["discount"]


def _mined(kind: str, rule: str, coverage: float, support: int) -> Suggestion:
    return Suggestion(kind, rule, {"x": {"lte": 1}}, "approve", "r", support, support, 0, 2, coverage, 1.0)


def test_the_top_three_by_coverage_then_support() -> None:
    mined = [
        _mined("a", "low", 0.10, 500),
        _mined("b", "most", 0.60, 40),
        _mined("a", "tie-more-support", 0.40, 90),
        _mined("c", "tie-less-support", 0.40, 35),
        _mined("b", "tie-same", 0.40, 35),
    ]
    assert [s.rule_id for s in top_suggestions(mined)] == ["most", "tie-more-support", "tie-same"]
    assert top_suggestions([]) == []
