"""A governance with limits, a time condition and a date offset, and a live history filed through it.

``file_history(runtime, clock)`` files requests through the real submit service over nine days
from a Wednesday 09:00 UTC (``clock`` must stand there), has people decide, cancel or leave some,
and returns the ids by name (``History``). What the file in force decided, live:

- day 0 (Wed, 10:00 Berlin): ``sam_small_1``/``_2`` approved by ``small`` (2 per requester / 7d),
  ``sam_small_3`` routed (limit used up; approved by U0FIN1); ``ana_small`` approved by ``small``;
  ``sam_budget`` (6000) approved by ``team-budget`` (sum of deal_value ≤ 10000 per kind / 3d),
  ``ana_budget`` (5000) routed (budget used up; rejected by U0FIN2); ``ana_office`` approved by
  ``office-hours`` (weekday 9–11 h, 1 per kind / 1d), ``sam_office`` routed (limit; cancelled),
  ``sam_over`` rejected by ``over-limit``; ``brand_short`` (until +5d) approved by ``short``,
  ``brand_long`` (until +26d) routed (approved by U0BR1); ``sam_apac`` (region apac, 35 %) routed
  (approved by U0FIN1), ``ana_mid`` (33 %) routed (rejected by U0FIN2);
- day 1 (Thu, 20:00 Berlin): ``ana_evening`` (25 %) routed (not office hours; left pending);
- day 2 (Fri, 10:00): ``bob_budget`` (3000) approved by ``team-budget`` (6000 + 3000 in 3 days),
  ``bob_budget_2`` (2000) routed (6000 + 3000 + 2000 > 10000; approved by U0FIN2);
- day 5 (Mon, 10:00): ``sam_small_4`` routed (day 0's two approvals are within 7 days; approved);
- day 8 (Thu, 10:00): ``sam_small_5`` approved by ``small`` (day 0 is now more than 7 days back).

``cut`` is a window from day 1 12:00 to day 9: it starts inside the periods of ``small`` and
``team-budget``, so ``bob_budget_2`` and ``sam_small_4`` are routed only because of approvals
made before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.clock import FixedClock
from bot.domain.routing import Verdict
from bot.domain.surface import Window
from bot.services.cancel import cancel_request
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request

GOVERNANCE = """
version: 1
timezone: Europe/Berlin
groups:
  finance: {members: [U0FIN1, U0FIN2]}
  brand-council: {members: [U0BR1, U0BR2]}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true}
      amount_pct: {type: number, required: true, min: 0, max: 100}
      deal_value: {type: money}
      region: {type: choice, options: [emea, amer, apac]}
    approvers: finance
    rules:
      - id: small
        when: {amount_pct: {lte: 10}}
        decide: approve
        reason: Small is fine.
        limit: {count: 2, per: requester, window: 7d}
      - id: team-budget
        when: {all: [{amount_pct: {gt: 10}}, {amount_pct: {lte: 20}}]}
        decide: approve
        reason: Within the team budget.
        limit: {sum: deal_value, max: 10000, per: kind, window: 3d}
      - id: office-hours
        when: {all: [{amount_pct: {gt: 20}}, {amount_pct: {lte: 30}}, {hour: {between: [9, 11]}},
                     {weekday: {in: [mon, tue, wed, thu, fri]}}]}
        decide: approve
        reason: One a day in office hours.
        limit: {count: 1, per: kind, window: 1d}
      - {id: over-limit, when: {amount_pct: {gt: 40}}, decide: reject, reason: Too much.}
  brand:
    title: Brand exception
    category: exception
    owner: U0BRANDLEAD
    fields:
      asset: {type: url, required: true}
      until: {type: date, required: true}
    approvers: brand-council
    valid_until: until
    max_duration: 60d
    rules:
      - {id: short, when: {until: {lte: "+7d"}}, decide: approve, reason: A week at most.}
"""


@dataclass
class History:
    """Request ids by name (see the module docstring), the first submission, and the ``cut`` window."""

    ids: dict[str, int] = field(default_factory=dict)
    start: datetime | None = None
    cut: Window | None = None

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


def file_history(runtime: Runtime, clock: FixedClock) -> History:
    """File, decide and cancel the history of the module docstring; ``clock`` starts on a Wednesday 09:00 UTC."""
    start = clock.now()
    history = History(start=start, cut=Window(start + timedelta(days=1, hours=3), start + timedelta(days=9)))

    def discount(name: str, requester: str, text: str) -> None:
        submitted = submit_request(runtime=runtime, kind="discount", requester=requester, text=f"account=Acme {text}")
        history.ids[name] = submitted.request_id

    def brand(name: str, days: int) -> None:
        until = (start + timedelta(days=days)).date().isoformat()
        text = f"asset=https://a.io/x.png until={until}"
        history.ids[name] = submit_request(runtime=runtime, kind="brand", requester="U0SAM", text=text).request_id

    def decide(name: str, voter: str, verdict: Verdict) -> None:
        reason = "No." if verdict is Verdict.REJECT else None
        decide_request(runtime=runtime, request_id=history[name], voter=voter, verdict=verdict, reason=reason)

    for name, requester, text in [
        ("sam_small_1", "U0SAM", "amount_pct=5"),
        ("sam_small_2", "U0SAM", "amount_pct=8"),
        ("sam_small_3", "U0SAM", "amount_pct=9"),
        ("ana_small", "U0ANA", "amount_pct=5"),
        ("sam_budget", "U0SAM", "amount_pct=15 deal_value=6000"),
        ("ana_budget", "U0ANA", "amount_pct=15 deal_value=5000"),
        ("ana_office", "U0ANA", "amount_pct=25"),
        ("sam_office", "U0SAM", "amount_pct=25"),
        ("sam_over", "U0SAM", "amount_pct=50"),
        ("sam_apac", "U0SAM", "amount_pct=35 region=apac"),
        ("ana_mid", "U0ANA", "amount_pct=33 region=emea"),
    ]:
        discount(name, requester, text)
    brand("brand_short", 5)
    brand("brand_long", 26)
    clock.advance(timedelta(hours=2))
    decide("sam_small_3", "U0FIN1", Verdict.APPROVE)
    decide("ana_budget", "U0FIN2", Verdict.REJECT)
    decide("sam_apac", "U0FIN1", Verdict.APPROVE)
    decide("ana_mid", "U0FIN2", Verdict.REJECT)
    decide("brand_long", "U0BR1", Verdict.APPROVE)
    cancel_request(runtime=runtime, request_id=history["sam_office"], requester="U0SAM")
    clock.set(start + timedelta(days=1, hours=10))  # Thursday 20:00 in Berlin
    discount("ana_evening", "U0ANA", "amount_pct=25")
    clock.set(start + timedelta(days=2))
    discount("bob_budget", "U0BOB", "amount_pct=15 deal_value=3000")
    discount("bob_budget_2", "U0BOB", "amount_pct=15 deal_value=2000")
    clock.advance(timedelta(hours=1))
    decide("bob_budget_2", "U0FIN2", Verdict.APPROVE)
    clock.set(start + timedelta(days=5))
    discount("sam_small_4", "U0SAM", "amount_pct=6")
    clock.advance(timedelta(hours=1))
    decide("sam_small_4", "U0FIN1", Verdict.APPROVE)
    clock.set(start + timedelta(days=8))
    discount("sam_small_5", "U0SAM", "amount_pct=5")
    return history
