"""The decision surface's tally (DESIGN §8 ``signoff report``): each counter, the share, percentiles,
SLA, escalations, rules (live and removed), shadow agreement, approvers and weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.governance import Governance
from bot.domain.surface import (
    Counters,
    RequestFacts,
    RuleFigures,
    Window,
    parse_window,
    percentile,
    tally,
)
from bot.domain.surface_json import report_json
from tests.conftest import governance_from

GOVERNANCE = """
version: 1
timezone: Europe/Berlin
groups:
  finance: {members: [U0FIN1, U0FIN2]}
kinds:
  discount:
    title: Discount approval
    owner: U0FINLEAD
    fields: {amount_pct: {type: number, required: true}}
    approvers: finance
    sla: 8h
    rules:
      - {id: small, when: {amount_pct: {lte: 10}}, decide: approve, reason: Small is fine.}
      - {id: huge, when: {amount_pct: {gt: 40}}, decide: reject, reason: Too much.}
  brand:
    title: Brand exception
    category: exception
    owner: U0BRANDLEAD
    fields: {until: {type: date, required: true}}
    approvers: finance
    valid_until: until
"""

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # a Monday
WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=30))


@pytest.fixture(scope="module")
def governance() -> Governance:
    return governance_from(GOVERNANCE)


def fact(
    state: str,
    *,
    kind: str = "discount",
    rule: str | None = None,
    by: str | None = "U0FIN1",
    hours: float = 1.0,
    **extra: object,
) -> RequestFacts:
    decided = T0 + timedelta(hours=hours)
    votes = extra.pop("votes", None)
    if votes is None and rule is None and state in ("approved", "lapsed", "rejected") and by:
        votes = ((by, "reject" if state == "rejected" else "approve", decided),)
    return RequestFacts(
        id=int(str(extra.pop("id", 1))),
        kind=kind,
        imported=bool(extra.pop("imported", False)),
        state=state,
        submitted_at=extra.pop("submitted_at", T0),  # type: ignore[arg-type]
        decided_at=None if state in ("pending", "changes_requested") else decided,
        decided_by=f"rule:{rule}" if rule else by,
        auto_rule=rule,
        escalation_level=int(str(extra.pop("escalation_level", 0))),
        votes=tuple(votes or ()),  # type: ignore[arg-type]
        shadow=tuple(extra.pop("shadow", ())),  # type: ignore[arg-type]
        lapses_at=extra.pop("lapses_at", None),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("facts", "counter"),
    [
        (fact("approved", rule="small"), "auto_approved"),
        (fact("rejected", rule="huge"), "auto_rejected"),
        (fact("approved"), "human_approved"),
        (fact("rejected"), "human_rejected"),
        (fact("changes_requested"), "changes_requested"),
        (fact("cancelled", by="U0REQ"), "cancelled"),
        (fact("expired", by="system"), "expired"),
        (fact("pending"), "pending"),
    ],
)
def test_each_state_lands_in_its_one_counter(governance: Governance, facts: RequestFacts, counter: str) -> None:
    report = tally([facts], governance, WINDOW)
    expected = {"requests": 1, counter: 1}
    assert {k: v for k, v in vars(report.totals).items() if v} == expected
    assert report.kinds[0].counters == report.totals


def test_a_lapsed_exception_counts_as_approved_and_as_lapsed(governance: Governance) -> None:
    report = tally([fact("lapsed", kind="brand"), fact("lapsed", kind="brand", rule="gone")], governance, WINDOW)
    assert report.totals == Counters(requests=2, human_approved=1, auto_approved=1, lapsed=2)


def test_an_imported_exception_whose_validity_ended_counts_as_lapsed(governance: Governance) -> None:
    ended, later = T0 + timedelta(days=3), T0 + timedelta(days=60)
    facts = [
        fact("approved", kind="brand", imported=True, lapses_at=ended, id=1),
        fact("approved", kind="brand", imported=True, lapses_at=later, id=2),  # still valid at now
        fact("approved", kind="brand", lapses_at=ended, id=3),  # live: its lapse is its state, set by the sweep
    ]
    counters = tally(facts, governance, WINDOW, now=T0 + timedelta(days=10)).kinds[1].counters
    assert (counters.human_approved, counters.lapsed) == (3, 1)


@pytest.mark.parametrize(
    ("counters", "share"),
    [
        (Counters(), 0.0),
        (Counters(requests=2, cancelled=1, pending=1), 0.0),
        (Counters(requests=4, auto_approved=1, auto_rejected=1, human_approved=2), 0.5),
        (Counters(requests=5, auto_approved=2, cancelled=1, pending=2), 1.0),
        (Counters(requests=4, auto_approved=1, expired=1, changes_requested=1, human_rejected=1), 0.25),
    ],
)
def test_share_resolved_by_default_leaves_out_cancelled_and_pending(counters: Counters, share: float) -> None:
    assert counters.resolved_by_default_share == share


@pytest.mark.parametrize(
    ("values", "p50", "p90"),
    [([], 0.0, 0.0), ([5.0], 5.0, 5.0), ([1.0, 2.0], 1.0, 2.0), ([float(i) for i in range(1, 11)], 5.0, 9.0)],
)
def test_percentiles_are_nearest_rank(values: list[float], p50: float, p90: float) -> None:
    assert (percentile(values, 0.5), percentile(values, 0.9)) == (p50, p90)


def test_time_to_decision_counts_human_decisions_only_to_the_deciding_vote(governance: Governance) -> None:
    facts = [fact("approved", hours=h, id=i) for i, h in enumerate([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], start=1)] + [
        fact("approved", rule="small", hours=500),
        fact("cancelled", hours=600),
        fact("expired", hours=700),
    ]
    # A quorum of two: the second approval decides; a stale approval after the decision does not count.
    early = T0 + timedelta(hours=2)
    votes = (
        ("U0FIN2", "approve", early),
        ("U0FIN1", "approve", T0 + timedelta(hours=20)),
        ("U0X", "approve", T0 + timedelta(hours=90)),
    )
    facts.append(
        RequestFacts(99, "discount", False, "approved", T0, T0 + timedelta(hours=20), "U0FIN1", None, 0, votes)
    )
    kind = tally(facts, governance, WINDOW).kinds[0]
    assert (kind.p50_hours, kind.p90_hours) == (6.0, 10.0)
    assert [(a.user, a.decisions, a.median_hours) for a in kind.approvers] == [("U0FIN1", 11, 6.0)]


def test_approvers_count_their_deciding_votes_by_verdict(governance: Governance) -> None:
    facts = [
        fact("approved", by="U0FIN1"),
        fact("rejected", by="U0FIN1", hours=3),
        fact("rejected", by="U0FIN2", hours=4),
    ]
    figures = {a.user: a for a in tally(facts, governance, WINDOW).kinds[0].approvers}
    # the true median: 1 h and 3 h give 2 h (nearest rank would give the lower middle, 1 h)
    assert (figures["U0FIN1"].approved, figures["U0FIN1"].rejected, figures["U0FIN1"].median_hours) == (1, 1, 2.0)
    assert (figures["U0FIN2"].decisions, figures["U0FIN2"].rejected) == (1, 1)


def test_sla_breaches_are_late_human_decisions_and_requests_still_open_past_it(governance: Governance) -> None:
    facts = [
        fact("approved", hours=8),  # exactly on time
        fact("rejected", hours=8.5),  # late
        fact("approved", rule="small", hours=50),  # rules are no breach
        fact("pending", submitted_at=T0),
        fact("pending", submitted_at=T0 + timedelta(hours=5)),
        fact("approved", kind="brand", hours=100),  # brand has no sla
    ]
    report = tally(facts, governance, WINDOW, now=T0 + timedelta(hours=12))
    assert [k.sla_breaches for k in report.kinds] == [2, 0]


def test_escalations_count_requests_escalated_at_least_once(governance: Governance) -> None:
    facts = [fact("approved", escalation_level=2), fact("pending", escalation_level=1), fact("rejected")]
    assert tally(facts, governance, WINDOW).kinds[0].escalations == 2


def test_rules_list_the_file_then_ids_only_the_data_has_as_removed(governance: Governance) -> None:
    facts = [fact("approved", rule="small"), fact("approved", rule="small"), fact("rejected", rule="old-one")]
    assert tally(facts, governance, WINDOW).kinds[0].rules == (
        RuleFigures("small", "live", 2),
        RuleFigures("huge", "live", 0),
        RuleFigures("old-one", "removed", 1),
    )


def test_shadow_verdicts_agree_or_not_with_the_human_final_decision(governance: Governance) -> None:
    facts = [
        fact("approved", shadow=[("trial", "approve")]),
        fact("lapsed", shadow=[("trial", "approve")]),
        fact("rejected", shadow=[("trial", "approve")]),
        fact("rejected", shadow=[("trial", "reject")]),
        fact("pending", shadow=[("trial", "approve")]),  # no decision yet: neither
        fact("cancelled", shadow=[("trial", "reject")]),  # not a decision: neither
        fact("approved", rule="small", shadow=[("trial", "reject")]),  # a rule decided, not people
    ]
    trial = tally(facts, governance, WINDOW).kinds[0].rules[-1]
    assert trial == RuleFigures(
        "trial", "removed", decided=0, shadow_agreed=3, shadow_disagreed=1, would_have_decided=7
    )


def test_window_and_kind_filter_and_kinds_the_file_no_longer_has(governance: Governance) -> None:
    facts = [
        fact("approved", submitted_at=WINDOW.end),  # half-open: excluded
        fact("approved", submitted_at=WINDOW.start),
        fact("approved", kind="retired", imported=True),
    ]
    report = tally(facts, governance, WINDOW)
    assert [(k.kind, k.owner, k.counters.requests) for k in report.kinds] == [
        ("discount", "U0FINLEAD", 1),
        ("brand", "U0BRANDLEAD", 0),
        ("retired", None, 1),
    ]
    assert [k.kind for k in tally(facts, governance, WINDOW, kinds=["brand"]).kinds] == ["brand"]


def test_weeks_start_on_monday_in_the_governance_timezone(governance: Governance) -> None:
    sunday_late_utc = datetime(2026, 6, 7, 22, 30, tzinfo=UTC)  # already Monday 00:30 in Berlin
    facts = [fact("approved", rule="small"), fact("approved", submitted_at=sunday_late_utc)]
    weeks = tally(facts, governance, WINDOW).kinds[0].weeks
    assert [(w.week_start, w.requests, w.resolved_by_default_share) for w in weeks] == [
        (date(2026, 6, 1), 1, 1.0),
        (date(2026, 6, 8), 1, 0.0),
    ]


def test_report_json_has_the_design_shape(governance: Governance) -> None:
    data = report_json(tally([fact("approved", rule="small"), fact("rejected")], governance, WINDOW))
    assert set(data) >= {"from", "to", "governance", "totals", "kinds"}
    assert data["totals"]["resolved_by_default_share"] == 0.5
    kind = data["kinds"][0]
    assert kind["kind"] == "discount" and kind["owner"] == "U0FINLEAD" and kind["auto_approved"] == 1
    assert kind["time_to_decision_hours"] == {"p50": 1.0, "p90": 1.0}
    assert kind["rules"][0] == {
        "rule": "small",
        "mode": "live",
        "decided": 1,
        "shadow_agreed": 0,
        "shadow_disagreed": 0,
        "would_have_decided": 0,
    }
    assert kind["approvers"] == [{"user": "U0FIN1", "decisions": 1, "approved": 0, "rejected": 1, "median_hours": 1.0}]


BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "until", "start", "end"),
    [
        (None, None, NOW - timedelta(days=90), NOW),
        ("14d", None, NOW - timedelta(days=14), NOW),
        ("2026-06-01", None, datetime(2026, 5, 31, 22, tzinfo=UTC), NOW),
        ("2026-01-01", "2026-02-01", datetime(2025, 12, 31, 23, tzinfo=UTC), datetime(2026, 1, 31, 23, tzinfo=UTC)),
    ],
)
def test_parse_window(since: str | None, until: str | None, start: datetime, end: datetime) -> None:
    assert parse_window(since, until, now=NOW, timezone=BERLIN) == Window(start, end)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("90", None, "--since expects a duration"),
        ("2026-6-1", None, "--since expects a duration"),
        ("2026-06-01T10:00", None, "--since expects"),
        ("2026-02-30", None, "not a calendar date"),
        ("0d", None, "--since: a duration must be longer than zero"),
        ("999999d", None, "--since: a duration is at most 36500d"),
        ("1000000h", None, "--since: a duration is at most 36500d"),
        ("99999999999999999999999w", None, "--since: a duration is at most 36500d"),
        ("0001-01-01", None, "out of range; expected a date from 1900-01-01 to 2999-12-31"),
        ("1899-12-31", None, "out of range; expected a date from 1900-01-01 to 2999-12-31"),
        (None, "9999-12-31", "--until: “9999-12-31” is out of range; expected a date from 1900-01-01"),
        (None, "3000-01-01", "out of range"),
        (None, "7d", "--until expects a date"),
        ("2026-06-05", "2026-06-05", "must be after --since"),
        ("2026-06-11", None, "must be after --since"),
    ],
)
def test_parse_window_refuses_what_it_cannot_read_in_one_line(
    since: str | None, until: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_window(since, until, now=NOW, timezone=BERLIN)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_widest_window_is_tallied_by_week_without_leaving_the_calendar(zone: str) -> None:
    """Every week start of the widest window the options accept is computable, in any zone."""
    wide = governance_from(GOVERNANCE.replace("Europe/Berlin", zone))
    window = parse_window("1900-01-01", "2999-12-31", now=NOW, timezone=wide.tz)
    first, last = fact("approved", submitted_at=window.start), fact("approved", submitted_at=window.end - timedelta(1))
    weeks = tally([first, last], wide, window).kinds[0].weeks
    assert [w.week_start for w in weeks] == [date(1900, 1, 1), date(2999, 12, 30)]  # both Mondays


def test_nothing_decided_is_no_share_a_dash_not_zero_percent(governance: Governance) -> None:
    from bot.domain.surface_text import text_report

    facts = [fact("pending", id=1), fact("cancelled", id=2), fact("pending", kind="contract", id=3)]
    report = tally(facts, governance, WINDOW)
    data = report_json(report)
    assert data["totals"]["resolved_by_default_share"] == 0.0 and data["totals"]["share_divisor"] == 0
    # p50/p90 read 0.0 with nothing to measure: the extra key tells them from a decision made at once
    assert data["totals"]["human_decisions"] == 0 and data["kinds"][0]["time_to_decision_hours"]["p50"] == 0.0
    assert data["kinds"][0]["weeks"][0]["share_divisor"] == 0  # the week is there; it has no share
    text = text_report(report)
    assert "0.0%" not in text and "nothing decided yet" in text
    discount_row = next(line for line in text.splitlines() if line.startswith("discount "))
    assert discount_row.split()[12] == "—"
    decided = text_report(tally([fact("approved", rule="small")], governance, WINDOW))
    by_rule = next(line for line in decided.splitlines() if line.startswith("discount ")).split()
    assert by_rule[12] == "100.0%"
    assert by_rule[13:15] == ["—", "—"]  # no human decision: no time to one (not "0.0", decided at once)
    assert "p50/p90: no human decision" in decided


def test_a_window_that_ends_before_it_starts_is_told_in_the_dates_as_typed() -> None:
    with pytest.raises(ValueError, match="must be after") as caught:
        parse_window("2026-06-05", "2026-06-01", now=NOW, timezone=ZoneInfo("Europe/Berlin"))
    assert str(caught.value) == (
        "--until “2026-06-01” (2026-06-01 00:00) must be after --since “2026-06-05” (2026-06-05 00:00, Europe/Berlin)"
    )  # not the UTC instants (2026-05-31T22:00:00+00:00), a day off for the person who typed them
