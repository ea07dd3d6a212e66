"""Units of work: readers never hold writers up, and nothing is kept without a commit."""

from __future__ import annotations

import threading

from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from tests.services.conftest import Tables


def test_a_reader_in_the_middle_of_its_work_does_not_hold_up_a_writer(runtime: Runtime, tables: Tables) -> None:
    submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25")
    finished = threading.Event()

    def write() -> None:
        submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=B amount_pct=25")
        finished.set()

    with runtime.uow(read_only=True) as reader:
        assert reader.requests.get(1) is not None  # the reader has begun and read
        writer = threading.Thread(target=write)
        writer.start()
        assert finished.wait(timeout=10), "the writer waited for the reader"
    writer.join(timeout=10)
    assert tables.snapshot()[0] == 2


def test_leaving_without_commit_keeps_nothing(runtime: Runtime, tables: Tables) -> None:
    with runtime.uow() as uow:
        uow.audit.append(request_id=None, at=runtime.clock.now(), actor="system", action="escalated", data={})
    assert tables.snapshot() == (0, 0, 0, 0)
