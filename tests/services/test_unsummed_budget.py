"""A ``sum:`` budget is not bypassed by leaving its field empty, at submission and in a replay
(``signoff simulate``): both ask the one limit check, ``bot.domain.outcome.check_limit``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.domain.clock import FixedClock
from bot.domain.lifecycle import State
from bot.domain.surface import Window
from bot.services.runtime import Runtime
from bot.services.simulate import simulate_candidate
from bot.services.status import request_status
from bot.services.submit import submit_request
from tests.conftest import AT, governance_from, make_runtime
from tests.unit.test_unsummed_budget import BUDGETED

NO_RULES = BUDGETED[: BUDGETED.index("    rules:\n")]


@pytest.fixture
def budgeted(engine: Engine, clock: FixedClock) -> Runtime:
    return make_runtime(engine, governance_from(BUDGETED), clock)


def test_a_request_without_the_summed_field_goes_to_people_and_spends_nothing(budgeted: Runtime) -> None:
    empty = submit_request(runtime=budgeted, kind="deal", requester="U0SAM", text="n=5")
    assert empty.state is State.PENDING
    status = request_status(runtime=budgeted, request_id=empty.request_id, viewer="U0SAM")
    assert "budget applies, but deal_value is not given; the budget counts it" in str(status)
    # The budget is whole: 1000 still fit.
    full = submit_request(runtime=budgeted, kind="deal", requester="U0SAM", text="n=5 deal_value=1000")
    assert full.state is State.APPROVED


def test_a_replay_does_not_approve_the_requests_without_the_summed_field(engine: Engine, clock: FixedClock) -> None:
    live = make_runtime(engine, governance_from(NO_RULES), clock)
    for text in ("n=5", "n=6 deal_value=100", "n=7"):
        assert submit_request(runtime=live, kind="deal", requester="U0SAM", text=text).state is State.PENDING
    window = Window(AT - timedelta(days=1), AT + timedelta(days=1))
    result = simulate_candidate(live, governance_from(BUDGETED), window=window)
    assert result.candidate.auto_approved == 1  # only the request that gives deal_value
    assert {key: r.would_decide for key, r in result.by_rule.items()} == {("deal", "budget"): 1}
