"""A unit of work run before an acknowledgement keeps to the answer's deadline: past it, nothing is stored.

``bot.answer_deadline`` says how many seconds are left before the pending answer to Slack is
due. A unit of work that is past it when it starts, or when it is about to commit (a slow rule
evaluation inside it, say), rolls back and raises ``TooSlow``: the person is told "took too
long, nothing was saved", and that is true. Once nothing waits for an answer (None), or time
is left, it commits as before; a retry with the same key files exactly one request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

import bot.services.submit as submit_module
from bot.answer_deadline import answer_deadline
from bot.domain.clock import FixedClock
from bot.domain.errors import StorageBusy, TooSlow
from bot.domain.governance import Governance
from bot.domain.routing import Verdict
from bot.services.decide import decide_request
from bot.services.runtime import Runtime
from bot.services.submit import Submission, submit_request
from storage.records import RequestRecord, VoteRecord
from storage.uow import SqlUnitOfWorkFactory
from tests.services.conftest import Tables

TOO_SLOW = "That took too long, so nothing was saved; please try again"


class Deadline:
    """Seconds left, as a test sets them (``_slow_evaluation`` sets them past due once the rules have run)."""

    def __init__(self, left: float | None):
        self.left = left

    def __call__(self) -> float | None:
        return self.left


def file(runtime: Runtime, key: str) -> Submission:
    return submit_request(
        runtime=runtime, kind="discount", text="account=Acme amount_pct=25", requester="U0SAM", idempotency_key=key
    )


def _slow_evaluation(deadline: Deadline, monkeypatch: pytest.MonkeyPatch) -> None:
    real = submit_module.resolve

    def resolve(*args: Any, **kwargs: Any) -> Any:
        resolution = real(*args, **kwargs)
        deadline.left = -0.25  # the rules took past the deadline
        return resolution

    monkeypatch.setattr(submit_module, "resolve", resolve)


CASES: list[tuple[str, float | None, bool, bool]] = [
    # (case, seconds left at the start, evaluation runs past the deadline, filed)
    ("overdue before it starts", -0.01, False, False),
    ("evaluation runs past the deadline", 2.0, True, False),
    ("time left", 2.0, False, True),
    ("no answer waits (already acknowledged)", None, False, True),
]


@pytest.mark.parametrize(("case", "left", "slow", "filed"), CASES, ids=[c[0] for c in CASES])
def test_a_submission_past_its_answer_deadline_stores_nothing(
    engine: Engine,
    governance: Governance,
    clock: FixedClock,
    tables: Tables,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    left: float | None,
    slow: bool,
    filed: bool,
) -> None:
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine).bounded(2.0), governance=lambda: governance, clock=clock)
    deadline = Deadline(left)
    if slow:
        _slow_evaluation(deadline, monkeypatch)
    before = tables.snapshot()
    with answer_deadline(deadline):
        if filed:
            assert not file(runtime, "trigger-1").replayed
        else:
            with pytest.raises(TooSlow, match=f"^{TOO_SLOW}$") as raised:
                file(runtime, "trigger-1")
            assert isinstance(raised.value, StorageBusy)  # answered like busy: nothing saved, safe to retry
    assert tables.count(RequestRecord) == before[0] + (1 if filed else 0)
    if not filed:
        assert tables.snapshot() == before
        monkeypatch.undo()
        first, again = file(runtime, "trigger-1"), file(runtime, "trigger-1")  # the retry files once
        assert (first.replayed, again.replayed) == (False, True)
        assert tables.count(RequestRecord) == before[0] + 1


def test_a_decision_past_its_answer_deadline_stores_no_vote(
    engine: Engine, governance: Governance, clock: FixedClock, tables: Tables
) -> None:
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine).bounded(2.0), governance=lambda: governance, clock=clock)
    request_id = file(runtime, "trigger-d").request_id
    decide: Callable[[], object] = lambda: decide_request(  # noqa: E731
        runtime=runtime, request_id=request_id, voter="U0FIN1", verdict=Verdict.REJECT, reason="no"
    )
    before = tables.snapshot()
    with answer_deadline(lambda: -0.5), pytest.raises(TooSlow):
        decide()
    assert tables.snapshot() == before and tables.count(VoteRecord) == 0
    decide()
    assert tables.count(VoteRecord) == 1


def _evaluation_held(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """The next evaluation signals ``evaluating`` once its rules have run, then waits for ``release``."""
    real = submit_module.resolve
    evaluating, release = threading.Event(), threading.Event()
    held = [True]

    def resolve(*args: Any, **kwargs: Any) -> Any:
        resolution = real(*args, **kwargs)
        if held and threading.current_thread() is not threading.main_thread():
            held.clear()
            evaluating.set()
            assert release.wait(timeout=10)
        return resolution

    monkeypatch.setattr(submit_module, "resolve", resolve)
    return evaluating, release


def test_rules_are_evaluated_outside_the_write_lock_and_a_limit_that_moved_is_checked_again(
    engine: Engine, governance: Governance, clock: FixedClock, tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one submission's rules run, others file at once (not "busy"); its limit is then counted again.

    ``small`` approves at most 2 requests per requester in 30 days. A's evaluation (approve by
    ``small``, 0 used) is held; meanwhile B and C use the limit up. Released, A sees the count
    moved, is evaluated again inside its transaction, and goes to people.
    """
    runtime = Runtime(uow=SqlUnitOfWorkFactory(engine).bounded(0.5), governance=lambda: governance, clock=clock)

    def small(key: str) -> Submission:
        return submit_request(
            runtime=runtime, kind="discount", text="account=Acme amount_pct=5", requester="U0SAM", idempotency_key=key
        )

    evaluating, release = _evaluation_held(monkeypatch)
    filed: list[Submission] = []
    held = threading.Thread(target=lambda: filed.append(small("A")))
    held.start()
    try:
        assert evaluating.wait(timeout=10)
        others = [small("B"), small("C")]  # within 0.5 s each: no write lock is held by A's evaluation
    finally:
        release.set()
        held.join(timeout=10)
    assert [s.rule for s in others] == ["small", "small"]
    assert len(filed) == 1 and filed[0].rule is None and filed[0].state.value == "pending"
    assert tables.count(RequestRecord) == 3
