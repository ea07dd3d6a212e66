"""Two people clicking at once, on a real database: exactly one decision wins."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import Engine, select

from bot.domain.errors import AlreadyDecided, SignoffError
from bot.domain.routing import Verdict
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.records import AuditEventRecord, OutboxRecord, VoteRecord

ROUNDS = 6


def race(runtime: Runtime, request_id: int) -> tuple[list[str], list[SignoffError]]:
    barrier = threading.Barrier(2)
    winners: list[str] = []
    losers: list[SignoffError] = []

    def click(voter: str) -> None:
        barrier.wait(timeout=10)
        try:
            decide_request(runtime=runtime, request_id=request_id, voter=voter, verdict=Verdict.APPROVE)
            winners.append(voter)
        except SignoffError as error:
            losers.append(error)

    threads = [threading.Thread(target=click, args=(voter,)) for voter in ("U0FIN1", "U0FIN2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return winners, losers


def test_two_votes_racing_on_a_one_approval_request(runtime: Runtime, engine: Engine) -> None:
    for _ in range(ROUNDS):
        request = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=25")
        winners, losers = race(runtime, request.request_id)
        assert len(winners) == 1, (winners, losers)
        (loser,) = losers
        assert isinstance(loser, AlreadyDecided)
        assert loser.by == winners[0]
        assert str(loser) == f"{request.ref} was already approved by <@{winners[0]}>"
        with engine.connect() as connection:
            actions = Counter(
                connection.execute(
                    select(AuditEventRecord.action).where(AuditEventRecord.request_id == request.request_id)
                ).scalars()
            )
            votes = (
                connection.execute(select(VoteRecord.voter).where(VoteRecord.request_id == request.request_id))
                .scalars()
                .all()
            )
            notices = (
                connection.execute(
                    select(OutboxRecord.idempotency_key).where(
                        OutboxRecord.request_id == request.request_id, OutboxRecord.kind == "notify"
                    )
                )
                .scalars()
                .all()
            )
        assert actions == Counter({"submitted": 1, "approved": 1})
        assert votes == winners
        assert len(notices) == 1
