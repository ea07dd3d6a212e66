"""Other "read, then write based on it" steps, raced on a real database: each holds at once.

Quorum counting in decide (the request row is locked before its votes are read), one active
delegation per person (an advisory lock per delegator; ending is one UPDATE … RETURNING),
disabling a webhook subscription (a guarded UPDATE), claiming a scheduled run (an insert on a
unique key), and the same idempotency key filed many times at once (the unique key again).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import partial

from sqlalchemy import Engine, func, select

from bot.domain.errors import AlreadyDecided
from bot.domain.lifecycle import State
from bot.domain.routing import Delegation, Verdict
from bot.services.decide import decide_request
from bot.services.delegate import end_delegation, start_delegation
from bot.services.runtime import Runtime
from bot.services.submit import Submission, submit_request
from storage.records import AuditEventRecord, RequestRecord, VoteRecord
from tests.races import at_once

ROUNDS = 4
THREADS = 8


def count(engine: Engine, query: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())  # type: ignore[call-overload]


def test_three_approvals_at_once_on_a_two_approval_step_approve_once(runtime: Runtime, engine: Engine) -> None:
    for _ in range(ROUNDS):
        filed = submit_request(
            runtime=runtime, kind="brand", requester="U0SAM", text="asset=https://a.io/x.png until=2026-03-20"
        )
        voters = ["U0BR1", "U0BR2", "U0BR3"]
        vote = partial(decide_request, runtime=runtime, request_id=filed.request_id, verdict=Verdict.APPROVE)
        results = at_once([partial(vote, voter=v) for v in voters])
        assert sum(isinstance(r, AlreadyDecided) for r in results) == 1, results  # the third came too late
        votes = select(func.count()).where(VoteRecord.request_id == filed.request_id)
        approvals = select(func.count()).where(
            AuditEventRecord.request_id == filed.request_id, AuditEventRecord.action == "approved"
        )
        assert (count(engine, votes), count(engine, approvals)) == (2, 1)
        with runtime.uow(read_only=True) as uow:
            assert uow.requests.get(filed.request_id).state is State.APPROVED  # type: ignore[union-attr]


def test_delegations_started_at_once_leave_one_active(runtime: Runtime, engine: Engine) -> None:
    until = date(2026, 3, 20)
    for round_ in range(ROUNDS):
        delegator = f"U0DEL{round_}"
        delegates = [f"U0TO{round_}X{n}" for n in range(THREADS)]
        start = partial(start_delegation, runtime=runtime, delegator=delegator, until=until)
        at_once([partial(start, delegate=d) for d in delegates])
        with runtime.uow(read_only=True) as uow:
            active = [d for d in uow.delegations.active(today=date(2026, 3, 4)) if d.delegator == delegator]
        assert len(active) == 1, active
        ended = at_once([partial(end_delegation, runtime=runtime, delegator=delegator)] * THREADS)
        assert [e for e in ended if isinstance(e, Delegation)] == active  # one end, one audit event
        ends = select(func.count()).where(AuditEventRecord.action == "delegation_ended")
        assert count(engine, ends) == round_ + 1


def test_a_subscription_disabled_at_once_by_many_is_disabled_once(runtime: Runtime) -> None:
    def disable(n: int) -> bool:
        with runtime.uow() as uow:
            changed = uow.webhooks.disable("crm", now=runtime.clock.now(), reason=f"410 from call {n}")
            uow.commit()
        return changed

    def enable() -> bool:
        with runtime.uow() as uow:
            changed = uow.webhooks.enable("crm", now=runtime.clock.now())
            uow.commit()
        return changed

    for _ in range(ROUNDS):
        assert at_once([partial(disable, n) for n in range(THREADS)]).count(True) == 1
        assert at_once([enable] * THREADS).count(True) == 1


def test_a_scheduled_run_claimed_at_once_by_many_workers_runs_once(runtime: Runtime) -> None:
    def claim(key: str, owner: str) -> bool:
        with runtime.uow() as uow:
            claimed = uow.job_runs.claim(key, owner=owner, now=runtime.clock.now())
            uow.commit()
        return claimed

    for round_ in range(ROUNDS):
        key = f"digests:2026-03-04T09:0{round_}"
        assert at_once([partial(claim, key, f"worker-{n}") for n in range(THREADS)]).count(True) == 1


def test_one_idempotency_key_filed_at_once_stores_one_request(runtime: Runtime, engine: Engine) -> None:
    for round_ in range(ROUNDS):
        key = f"trigger-{round_}"
        file = partial(submit_request, runtime=runtime, kind="discount", requester="U0KEY", idempotency_key=key)
        results = at_once([partial(file, text="account=Acme amount_pct=5")] * THREADS)
        submissions = [r for r in results if isinstance(r, Submission)]
        assert len(submissions) == THREADS, results
        assert Counter(s.replayed for s in submissions) == Counter({False: 1, True: THREADS - 1})
        assert len({(s.ref, s.state) for s in submissions}) == 1
        assert count(engine, select(func.count()).where(RequestRecord.idempotency_key == key)) == 1


def test_a_deactivation_recorded_at_once_by_many_workers_is_one_change(runtime: Runtime) -> None:
    def record(person: str, deleted: bool) -> bool:
        with runtime.uow() as uow:
            changed = uow.people.record(person, deleted=deleted, tz=None, now=runtime.clock.now())
            uow.commit()
        return changed

    for round_ in range(ROUNDS):
        person = f"U0GONE{round_}"  # unknown until now: the first answer inserts the row
        assert at_once([partial(record, person, True)] * THREADS).count(True) == 1
        assert at_once([partial(record, person, False)] * THREADS).count(True) == 1
