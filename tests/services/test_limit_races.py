"""Limits under concurrency, on a real database: k allowed per window means k, however many file at once.

Every race starts its threads on a barrier, so they read and write together; each runs several
rounds. On PostgreSQL (READ COMMITTED) these failed nearly every round before writers locked the
limit tallies they re-check (``bot.services.limits.settle``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from bot.domain.clock import FixedClock
from bot.domain.errors import SignoffError, StorageBusy
from bot.domain.governance import Governance
from bot.domain.lifecycle import State
from bot.domain.outcome import LimitKey
from bot.services.amend import amend_request
from bot.services.runtime import Runtime
from bot.services.submit import Submission, submit_request
from storage.records import RequestRecord
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import governance_from
from tests.races import at_once

ROUNDS = 4
THREADS = 10

LIMITED = """
version: 1
groups:
  finance: {members: [U0FIN1, U0FIN2]}
kinds:
  discount:
    title: Discount
    owner: U0LEAD
    fields:
      account: {type: text, required: true}
      amount_pct: {type: number, required: true, min: 0, max: 100}
    approvers: finance
    rules:
      - id: small
        when: {amount_pct: {lte: 10}}
        decide: approve
        reason: Small is fine.
        limit: {count: 3, per: requester, window: 30d}
  budget:
    title: Budget move
    owner: U0LEAD
    fields:
      amount: {type: money, currency: EUR, required: true}
    approvers: finance
    rules:
      - id: small-budget
        when: {amount: {lte: 2000}}
        decide: approve
        reason: Pre-approved.
        limit: {sum: amount, max: 3500, per: kind, window: 30d}
"""


@pytest.fixture
def governance() -> Governance:
    return governance_from(LIMITED)


def states(results: list[Submission | SignoffError]) -> Counter[str]:
    return Counter(str(r.state) if isinstance(r, Submission) else type(r).__name__ for r in results)


def auto_approved(engine: Engine, rule: str) -> int:
    with engine.connect() as connection:
        query = select(func.count()).where(RequestRecord.auto_rule == rule)
        return int(connection.execute(query).scalar_one())


def file_discount(runtime: Runtime, requester: str, pct: int) -> Callable[[], Submission]:
    text = f"account=Acme amount_pct={pct}"
    return lambda: submit_request(runtime=runtime, kind="discount", requester=requester, text=text)


def file_budget(runtime: Runtime, requester: str, amount: int) -> Callable[[], Submission]:
    return lambda: submit_request(runtime=runtime, kind="budget", requester=requester, text=f"amount={amount}")


def amend_to(runtime: Runtime, requester: str, filed: Submission, text: str) -> Callable[[], Submission]:
    return lambda: amend_request(runtime=runtime, request_id=filed.request_id, requester=requester, text=text)


def test_a_count_limit_approves_exactly_k_of_many_filed_at_once(runtime: Runtime, engine: Engine) -> None:
    for round_ in range(ROUNDS):
        requester = f"U0RACE{round_}"
        results = at_once([file_discount(runtime, requester, 5)] * THREADS)
        assert states(results) == Counter({"approved": 3, "pending": THREADS - 3}), round_
        assert auto_approved(engine, "small") == 3 * (round_ + 1)
        routed = [r for r in results if isinstance(r, Submission) and r.state is State.PENDING]
        assert all("limit used up: 3 of 3" in r.reason for r in routed)


def test_a_budget_shared_by_everyone_is_never_overspent_by_requests_filed_at_once(
    runtime: Runtime, engine: Engine, clock: FixedClock
) -> None:
    for round_ in range(ROUNDS):
        results = at_once([file_budget(runtime, f"U0B{round_}X{n}", 1000) for n in range(THREADS)])
        assert states(results) == Counter({"approved": 3, "pending": THREADS - 3}), round_  # 3 × 1000 ≤ 3500
        assert auto_approved(engine, "small-budget") == 3 * (round_ + 1)
        clock.advance(timedelta(days=31))  # the next round starts with the whole budget


def test_amends_racing_submissions_share_one_limit(runtime: Runtime, engine: Engine) -> None:
    for round_ in range(ROUNDS):
        requester = f"U0AM{round_}"
        waiting = [file_discount(runtime, requester, 25)() for _ in range(THREADS // 2)]
        assert all(w.state is State.PENDING for w in waiting)  # 25 % is no small discount: people decide
        amends = [amend_to(runtime, requester, w, "amount_pct=5") for w in waiting]
        results = at_once([*amends, *[file_discount(runtime, requester, 5)] * (THREADS // 2)])
        assert states(results) == Counter({"approved": 3, "pending": THREADS - 3}), round_
        assert auto_approved(engine, "small") == 3 * (round_ + 1)


def test_a_held_limit_makes_a_bounded_submission_busy_and_stores_nothing(
    engine: Engine, governance: Governance, clock: FixedClock
) -> None:
    factory = SqlUnitOfWorkFactory(engine)
    bounded = Runtime(uow=factory.bounded(0.3), governance=lambda: governance, clock=clock)  # as Slack's 3 s answer
    with factory() as holder:
        holder.requests.lock_limits([LimitKey("discount", "small", "U0HELD")])
        with pytest.raises(StorageBusy):
            file_discount(bounded, "U0HELD", 5)()
    assert auto_approved(engine, "small") == 0
    assert file_discount(bounded, "U0HELD", 5)().state is State.APPROVED  # released with its unit of work


def test_requests_no_limit_is_asked_about_take_no_lock(runtime: Runtime, engine: Engine) -> None:
    with runtime.uow() as holder:
        holder.requests.lock_limits([LimitKey("discount", "small", "U0FREE")])
        if engine.dialect.name == "postgresql":  # SQLite: one writer at a time anyway
            done = at_once([file_discount(runtime, "U0FREE", 25)])  # routed without asking the limit
            assert states(done) == Counter({"pending": 1})
