"""``signoff simulate`` of the file in force reproduces what it decided live (DESIGN §8), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.domain.lifecycle import State
from bot.domain.simulate import Answer, Replayed, Simulation
from bot.domain.surface import Window
from bot.services.amend import amend_request
from bot.services.report import surface_report
from bot.services.runtime import Runtime
from bot.services.simulate import simulate_candidate
from bot.services.submit import submit_request
from tests.conftest import governance_from, make_runtime
from tests.services.simulate_history import GOVERNANCE, History, file_history

#: What the file in force decided live: request name → (outcome, rule); the rest were routed.
AUTOMATIC = {
    "sam_small_1": ("approve", "small"),
    "sam_small_2": ("approve", "small"),
    "ana_small": ("approve", "small"),
    "sam_budget": ("approve", "team-budget"),
    "ana_office": ("approve", "office-hours"),
    "sam_over": ("reject", "over-limit"),
    "brand_short": ("approve", "short"),
    "bob_budget": ("approve", "team-budget"),
    "sam_small_5": ("approve", "small"),
}


@pytest.fixture
def governance() -> Governance:
    return governance_from(GOVERNANCE)


@pytest.fixture
def runtime(engine: Engine, governance: Governance, clock: FixedClock) -> Runtime:
    return make_runtime(engine, governance, clock)


@pytest.fixture
def history(runtime: Runtime, clock: FixedClock) -> History:
    return file_history(runtime, clock)


def replay(runtime: Runtime, candidate: Governance, window: Window) -> tuple[dict[int, Replayed], Simulation]:
    seen: dict[int, Replayed] = {}
    result = simulate_candidate(runtime, candidate, window=window, on_request=lambda r: seen.__setitem__(r.facts.id, r))
    return seen, result


def test_the_history_was_decided_as_described(runtime: Runtime, history: History) -> None:
    """The premise: the live decisions are those the tests below expect the replay to make again."""
    assert history.start is not None
    with runtime.uow(read_only=True) as uow:
        stored = {f.id: f for f in uow.surface.facts(Window(history.start, history.start + timedelta(days=30)))}
    for name, request_id in history.ids.items():
        facts = stored[request_id]
        outcome = {"approved": "approve", "rejected": "reject"}[facts.state] if facts.auto_rule else "route"
        assert (outcome, facts.auto_rule) == AUTOMATIC.get(name, ("route", None)), name


@pytest.mark.parametrize("cut", [False, True], ids=["whole", "window-cuts-limit-periods"])
def test_the_file_in_force_reproduces_every_stored_decision(
    runtime: Runtime, governance: Governance, history: History, cut: bool
) -> None:
    assert history.start is not None and history.cut is not None
    window = history.cut if cut else Window(history.start - timedelta(days=1), history.start + timedelta(days=30))
    again = governance_from(GOVERNANCE)  # the same file, loaded again: candidate = the file in force
    seen, _ = replay(runtime, again, window)
    names = {request_id: name for name, request_id in history.ids.items()}
    in_window = {request_id for request_id in names if request_id in seen}
    if cut:
        assert {names[i] for i in in_window} >= {"ana_evening", "bob_budget", "bob_budget_2", "sam_small_4"}
        assert "sam_budget" not in {names[i] for i in in_window}
    else:
        assert in_window == set(names)
    for request_id in in_window:
        item = seen[request_id]
        expected = AUTOMATIC.get(names[request_id], ("route", None))
        assert (item.candidate.outcome, item.candidate.rule) == expected, names[request_id]
        assert (item.current.outcome, item.current.rule) == expected, names[request_id]
        assert item.happened.by == (f"rule:{expected[1]}" if expected[1] else item.happened.by)


def test_a_backtest_of_the_file_in_force_finds_no_contradiction_and_the_reports_share(
    runtime: Runtime, governance: Governance, history: History
) -> None:
    assert history.cut is not None
    for window in (history.cut, Window(history.cut.start - timedelta(days=3), history.cut.end)):
        _, result = replay(runtime, governance_from(GOVERNANCE), window)
        assert result.contradictions == 0 and result.human_decisions_saved == 0
        fidelity = result.current_vs_stored
        assert fidelity.automatic == fidelity.automatic_reproduced > 0
        assert fidelity.routed == fidelity.routed_reproduced > 0
        report = surface_report(runtime, window=window).totals
        assert result.candidate.resolved_by_default_share == report.resolved_by_default_share
        assert result.requests == report.requests


def test_an_amended_request_is_replayed_with_its_amended_fields_at_its_submission_time(
    runtime: Runtime, clock: FixedClock, history: History
) -> None:
    """The documented limit of fidelity: live, the amendment was evaluated when it was made (Friday
    10:00, office hours); the replay evaluates the amended fields at the submission (Thursday 20:00)."""
    assert history.start is not None
    clock.set(history.start + timedelta(days=8, hours=10))  # Thursday 20:00 in Berlin
    filed = submit_request(runtime=runtime, kind="discount", requester="U0ANA", text="account=Acme amount_pct=35")
    clock.set(history.start + timedelta(days=9))  # Friday 10:00
    amended = amend_request(runtime=runtime, request_id=filed.request_id, requester="U0ANA", text="amount_pct=25")
    assert (amended.state, amended.rule) == (State.APPROVED, "office-hours")
    window = Window(history.start - timedelta(days=1), history.start + timedelta(days=30))
    seen, result = replay(runtime, governance_from(GOVERNANCE), window)
    item = seen[filed.request_id]
    assert item.candidate == Answer("route") and item.happened.by == "rule:office-hours"
    assert item.facts.fields == {"account": "Acme", "amount_pct": 25}
    fidelity = result.current_vs_stored
    assert fidelity.automatic_reproduced == fidelity.automatic - 1
