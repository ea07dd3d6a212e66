"""Values through the use cases (issue 9, items 2, 3 and 6): budgets, calendar edges, empty fields."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from bot.domain.clock import FixedClock
from bot.domain.contracts import ContractError
from bot.domain.lifecycle import State
from bot.domain.routing import Verdict
from bot.services.amend import amend_request
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.status import request_status
from bot.services.submit import submit_request
from storage.records import RequestRecord
from tests.conftest import governance_from, make_runtime
from tests.services.conftest import Tables

BUDGET = """
version: 1
timezone: Europe/Berlin
groups: {finance: {members: [U0FIN1, U0FIN2]}}
kinds:
  refund:
    title: Refund
    owner: U0FINLEAD
    fields:
      account: {type: text, required: true}
      amount: {type: money, currency: EUR, min: -100000}
      note: {type: text}
    approvers: finance
    rules:
      - id: small-refunds
        when: {amount: {lte: 1000}}
        decide: approve
        reason: Refunds up to a budget of 1000 per requester a month are pre-approved.
        limit: {sum: amount, max: 1000, per: requester, window: 30d}
"""


@pytest.fixture
def budget(engine: Engine, clock: FixedClock) -> Runtime:
    return make_runtime(engine, governance_from(BUDGET), clock)


def outcome_of(runtime: Runtime, text: str) -> State:
    return submit_request(runtime=runtime, kind="refund", requester="U0SAM", text=text).state


def test_a_negative_amount_never_gives_a_budget_its_room_back(budget: Runtime) -> None:
    assert outcome_of(budget, "account=Acme amount=900") is State.APPROVED
    # Allowed by the field (its min is below zero), approved by the rule, but it counts as 0.
    assert outcome_of(budget, "account=Acme amount=-100000") is State.APPROVED
    assert outcome_of(budget, "account=Acme amount=900") is State.PENDING
    assert outcome_of(budget, "account=Acme amount=100") is State.APPROVED  # 900 + 0 + 100: exactly the budget


def test_money_below_zero_is_refused_when_the_field_does_not_allow_it(runtime: Runtime, tables: Tables) -> None:
    before = tables.snapshot()
    with pytest.raises(ContractError) as caught:
        submit_request(
            runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=5 deal_value=-1000000"
        )
    assert [str(p) for p in caught.value.problems] == ["deal_value: must be at least 0 (got -1000000)"]
    assert tables.snapshot() == before


def test_an_exception_until_the_end_of_the_calendar_is_refused_at_submit(runtime: Runtime, tables: Tables) -> None:
    before = tables.snapshot()
    with pytest.raises(ContractError) as caught:
        submit_request(
            runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=9999-12-31"
        )
    assert [str(p) for p in caught.value.problems] == [
        "until: expected a date from 1900-01-01 to 2999-12-31, got “9999-12-31”"
    ]
    assert tables.snapshot() == before


def test_an_exception_stored_before_the_bound_still_lapses_instead_of_sticking(
    runtime: Runtime, engine: Engine, clock: FixedClock
) -> None:
    request_id = submit_request(
        runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=2026-12-31"
    ).request_id
    with engine.begin() as connection:  # as an older version stored it
        fields = {"asset": "https://a.io/x.png", "until": "9999-12-31"}
        connection.execute(update(RequestRecord).where(RequestRecord.id == request_id).values(fields=fields))
    for voter in ("U0BR1", "U0BR2"):
        decide_request(runtime=runtime, request_id=request_id, voter=voter, verdict=Verdict.APPROVE)
    assert request_status(runtime=runtime, request_id=request_id, viewer="U0SAM").state is State.APPROVED
    with engine.connect() as connection:
        lapses_at = (
            connection.execute(
                RequestRecord.__table__.select().where(RequestRecord.id == request_id)  # type: ignore[attr-defined]
            )
            .one()
            ._mapping["lapses_at"]
        )
    assert lapses_at is not None and lapses_at - clock.now() <= timedelta(days=30)  # max_duration decides


def test_an_empty_optional_field_is_not_given_on_every_path(budget: Runtime) -> None:
    first = submit_request(runtime=budget, kind="refund", requester="U0SAM", text='account=Acme note="" amount=')
    assert first.state is State.APPROVED or first.state is State.PENDING
    filed = request_status(runtime=budget, request_id=first.request_id, viewer="U0SAM").fields
    assert filed == {"account": "Acme"}
    second = submit_request(
        runtime=budget, kind="refund", requester="U0SAM", fields={"account": "Acme", "note": "hi", "amount": 2000}
    )
    # /signoff amend REQ-… note=  clears the note …
    amend_request(runtime=budget, request_id=second.request_id, requester="U0SAM", text="note=")
    assert "note" not in request_status(runtime=budget, request_id=second.request_id, viewer="U0SAM").fields
    # … and so does the Amend form with the input emptied (the form sends every input; empty is None).
    amend_request(
        runtime=budget, request_id=second.request_id, requester="U0SAM", fields={"account": "Acme", "amount": None}
    )
    assert request_status(runtime=budget, request_id=second.request_id, viewer="U0SAM").fields == {"account": "Acme"}


def test_an_empty_required_field_keeps_its_required_message(budget: Runtime, tables: Tables) -> None:
    for given in ({"text": 'account="" amount=5'}, {"fields": {"account": None, "amount": 5}}):
        with pytest.raises(ContractError) as caught:
            submit_request(runtime=budget, kind="refund", requester="U0SAM", **given)  # type: ignore[arg-type]
        assert [str(p) for p in caught.value.problems] == ["account: is required (text, up to 3000 characters)"]
