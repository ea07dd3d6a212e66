"""``signoff report`` over requests made through the services, on SQLite and PostgreSQL (DESIGN §8)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, update

from bot.domain.clock import FixedClock
from bot.domain.governance import UnknownKind
from bot.domain.routing import Verdict
from bot.domain.surface import RuleFigures, SurfaceReport, Window
from bot.domain.surface_json import report_json
from bot.domain.surface_text import text_report
from bot.services.cancel import cancel_request
from bot.services.decide import decide_request
from bot.services.report import surface_report
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from bot.services.sweeps import escalate_due, lapse_due
from storage.tables import REQUESTS
from tests.conftest import governance_from, make_runtime
from tests.services.conftest import LIFECYCLE


def _discount(runtime: Runtime, pct: int) -> int:
    text = f"account=Acme amount_pct={pct}"
    return submit_request(runtime=runtime, kind="discount", requester="U0SAM", text=text).request_id


def _history(runtime: Runtime, clock: FixedClock, engine: Engine) -> Window:
    """Eight requests in the window (and one before it), decided every way there is."""
    _discount(runtime, 5)  # before the window
    clock.advance(timedelta(days=1))
    window = Window(clock.now(), clock.now() + timedelta(days=30))
    _discount(runtime, 5)  # auto approved by `small`
    _discount(runtime, 50)  # auto rejected by `over-limit`
    approved, rejected, cancelled = _discount(runtime, 25), _discount(runtime, 30), _discount(runtime, 20)
    _discount(runtime, 15)  # stays pending, past its 8h SLA
    submit_request(runtime=runtime, kind="contract", requester="U0SAM", fields={"counterparty": "Initech"})
    brand = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=2026-03-06"
    ).request_id
    clock.advance(timedelta(hours=2))
    decide_request(runtime=runtime, request_id=approved, voter="U0FIN1", verdict=Verdict.APPROVE)
    for voter in ("U0BR1", "U0BR2"):  # a quorum of two: the second approval decides
        decide_request(runtime=runtime, request_id=brand, voter=voter, verdict=Verdict.APPROVE)
    cancel_request(runtime=runtime, request_id=cancelled, requester="U0SAM")
    clock.advance(timedelta(hours=8, minutes=1))
    assert escalate_due(runtime=runtime) == 2
    decide_request(runtime=runtime, request_id=rejected, voter="U0FIN2", verdict=Verdict.REJECT, reason="No.")
    clock.set(datetime.fromisoformat("2026-03-07T00:00:00+00:00"))
    while lapse_due(runtime=runtime):
        pass
    with engine.begin() as connection:  # what a shadow rule `trial` said of two of them (DESIGN §3)
        for request_id in (approved, rejected):
            shadow = [{"rule": "trial", "decide": "approve"}]
            connection.execute(update(REQUESTS).where(REQUESTS.c.id == request_id).values(shadow=shadow))
    return window


def test_the_report_counts_what_people_and_rules_decided(runtime: Runtime, clock: FixedClock, engine: Engine) -> None:
    window = _history(runtime, clock, engine)
    report = surface_report(runtime, window=window)
    data = report_json(report)
    assert data["totals"] == {
        "requests": 8,
        "auto_approved": 1,
        "auto_rejected": 1,
        "human_approved": 2,
        "human_rejected": 1,
        "changes_requested": 0,
        "cancelled": 1,
        "expired": 0,
        "pending": 2,
        "lapsed": 1,
        "resolved_by_default_share": 0.4,
        "share_divisor": 5,
        "human_decisions": 3,
    }
    discount, contract, brand = report.kinds
    assert (discount.kind, discount.owner, discount.counters.requests) == ("discount", "U0FINLEAD", 6)
    assert (discount.p50_hours, round(discount.p90_hours, 3)) == (2.0, 10.017)
    assert (discount.sla_breaches, discount.escalations) == (2, 2)
    assert discount.rules == (
        RuleFigures("small", "live", 1),
        RuleFigures("over-limit", "live", 1),
        RuleFigures("big-deal", "live", 0),
        RuleFigures("trial", "removed", 0, shadow_agreed=1, shadow_disagreed=1, would_have_decided=2),
    )
    assert [(a.user, a.approved, a.rejected) for a in discount.approvers] == [("U0FIN1", 1, 0), ("U0FIN2", 0, 1)]
    assert (contract.counters.pending, contract.sla_breaches) == (1, 0)  # contract has no SLA
    assert (brand.counters.human_approved, brand.counters.lapsed) == (1, 1)
    assert [(a.user, a.decisions, a.median_hours) for a in brand.approvers] == [("U0BR2", 1, 2.0)]


def test_the_report_of_one_kind_and_an_unknown_kind(runtime: Runtime, clock: FixedClock, engine: Engine) -> None:
    window = _history(runtime, clock, engine)
    only: SurfaceReport = surface_report(runtime, window=window, kinds=["brand"])
    assert [k.kind for k in only.kinds] == ["brand"] and only.totals.requests == 1
    with pytest.raises(UnknownKind, match="kinds: brand, contract, discount"):
        surface_report(runtime, window=window, kinds=["refund"])
    # a kind is named as /request and the history import name it: any case, ends stripped
    shouted: SurfaceReport = surface_report(runtime, window=window, kinds=[" BRAND", "Brand"])
    assert [k.kind for k in shouted.kinds] == ["brand"] and shouted.totals.requests == 1


def test_an_empty_window_reports_zeros(runtime: Runtime, clock: FixedClock) -> None:
    report = surface_report(runtime, window=Window(clock.now(), clock.now() + timedelta(days=1)))
    assert report.totals.requests == 0 and report.totals.resolved_by_default_share == 0.0
    assert [k.counters.requests for k in report.kinds] == [0, 0, 0]


def test_malformed_shadow_entries_are_skipped_not_fatal(runtime: Runtime, clock: FixedClock, engine: Engine) -> None:
    request_id = _discount(runtime, 25)
    decide_request(runtime=runtime, request_id=request_id, voter="U0FIN1", verdict=Verdict.APPROVE)
    shadow = [{"rule": 5}, "trial", {"rule": "odd", "decide": "maybe"}, {"rule": "trial", "decide": "reject"}]
    with engine.begin() as connection:
        connection.execute(update(REQUESTS).where(REQUESTS.c.id == request_id).values(shadow=shadow))
    report = surface_report(runtime, window=Window(clock.now(), clock.now() + timedelta(hours=1)))
    assert [r for r in report.kinds[0].rules if r.mode == "removed"] == [
        RuleFigures("trial", "removed", 0, shadow_agreed=0, shadow_disagreed=1, would_have_decided=1)
    ]


TRIAL = "      - {id: trial-15, when: {amount_pct: {lte: 15}}, decide: approve, reason: Trial., mode: shadow}\n"


def test_a_shadow_rule_trialled_on_live_requests_is_reported_with_its_agreement(
    engine: Engine, clock: FixedClock
) -> None:
    """Shadow verdicts written by the real evaluation (not by hand), people deciding, then the report."""
    governance = governance_from(LIFECYCLE.replace("    rules:\n", "    rules:\n" + TRIAL, 1))
    runtime = make_runtime(engine, governance, clock)
    since = clock.now()
    trialled = [_discount(runtime, pct) for pct in (12, 13, 14)]  # trial-15 says approve; people decide
    untouched = _discount(runtime, 30)  # trial-15 does not match: no verdict
    clock.advance(timedelta(hours=2))
    for request_id, verdict in zip(trialled, (Verdict.APPROVE, Verdict.APPROVE, Verdict.REJECT), strict=True):
        decide_request(runtime=runtime, request_id=request_id, voter="U0FIN1", verdict=verdict, reason="Margin.")
    decide_request(runtime=runtime, request_id=untouched, voter="U0FIN2", verdict=Verdict.REJECT, reason="No.")
    report = surface_report(runtime=runtime, window=Window(since, clock.now() + timedelta(seconds=1)))
    discount = next(kind for kind in report.kinds if kind.kind == "discount")
    rules = {figure.rule: figure for figure in discount.rules}
    # A shadow rule decides nothing: its matches are what it would have decided.
    assert rules["trial-15"] == RuleFigures("trial-15", "shadow", 0, 2, 1, would_have_decided=3)
    assert rules["small"].mode == "live"
    assert discount.counters.human_approved == 2 and discount.counters.auto_approved == 0  # it decided nothing
    (shown_kind,) = [kind for kind in report_json(report)["kinds"] if kind["kind"] == "discount"]
    shown = {r["rule"]: r for r in shown_kind["rules"]}["trial-15"]
    assert (shown["mode"], shown["shadow_agreed"], shown["shadow_disagreed"]) == ("shadow", 2, 1)
    assert (shown["decided"], shown["would_have_decided"]) == (0, 3)
    line = next(line for line in text_report(report).splitlines() if "trial-15" in line)
    assert line.split() == ["discount", "trial-15", "shadow", "0", "3", "2", "1"]
