"""Units of work: readers never hold writers up, and nothing is kept without a commit."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import Engine

from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.uow import SqlUnitOfWorkFactory
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


def test_on_sqlite_a_writing_unit_holds_the_write_lock_before_its_first_read(engine: Engine) -> None:
    """So a usage it reads stays true until it commits (``bot.services.limits``): no other writer in between."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL writers lock what they re-check instead (storage.locks)")
    other = sqlite3.connect(str(engine.url.database), isolation_level=None, timeout=0)
    try:
        with SqlUnitOfWorkFactory(engine)(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")  # the unit has begun and read nothing yet
        with SqlUnitOfWorkFactory(engine)(read_only=True):  # a reader takes no write lock
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()
