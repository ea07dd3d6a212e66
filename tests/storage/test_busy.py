"""A unit of work with a wait bound gives up on a locked database in time, and stores nothing then.

Another connection (not this process's writer queue) holds the write lock: on SQLite a second
``sqlite3`` connection in ``BEGIN IMMEDIATE``, on PostgreSQL an ``ACCESS EXCLUSIVE`` lock on
``requests``. A bounded submission raises ``StorageBusy`` within its bound plus a margin; once
the lock is released, nothing of it was stored, and filing again with the same idempotency key
files exactly one request. An unbounded unit (a background job) waits the lock out instead.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text

from bot.domain.clock import FixedClock
from bot.domain.errors import StorageBusy
from bot.domain.governance import Governance
from bot.services.runtime import Runtime
from bot.services.submit import Submission, submit_request
from storage.records import RequestRecord
from storage.uow import SqlUnitOfWorkFactory
from tests.services.conftest import Tables

BOUND = 0.5
#: Time a bounded unit may take beyond its bound (thread wake-ups, SQLite's busy handler steps).
MARGIN = 1.0


@contextmanager
def write_lock_held_elsewhere(engine: Engine) -> Iterator[None]:
    """Hold the database's write lock from a connection outside this engine's pool until the block ends."""
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(str(engine.url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    other = create_engine(engine.url)
    with other.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("LOCK TABLE requests IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            transaction.rollback()
    other.dispose()


def file(runtime: Runtime, key: str) -> Submission:
    return submit_request(
        runtime=runtime, kind="discount", text="account=Acme amount_pct=25", requester="U0SAM", idempotency_key=key
    )


def test_a_bounded_unit_gives_up_in_time_stores_nothing_and_a_retry_files_once(
    engine: Engine, governance: Governance, clock: FixedClock, tables: Tables
) -> None:
    units = SqlUnitOfWorkFactory(engine)
    bounded = Runtime(uow=units.bounded(BOUND), governance=lambda: governance, clock=clock)
    before = tables.snapshot()
    with write_lock_held_elsewhere(engine):
        started = time.monotonic()
        with pytest.raises(StorageBusy, match=r"^Signoff is busy right now and nothing was saved; please try again"):
            file(bounded, "trigger-1")
        assert time.monotonic() - started < BOUND + MARGIN
    assert tables.snapshot() == before  # nothing of it was stored, not even after the release
    first = file(bounded, "trigger-1")
    again = file(bounded, "trigger-1")
    assert (first.replayed, again.replayed, again.request_id) == (False, True, first.request_id)
    assert tables.count(RequestRecord) == before[0] + 1


def test_a_background_unit_waits_the_lock_out_while_a_bounded_one_gives_up(
    engine: Engine, governance: Governance, clock: FixedClock, tables: Tables
) -> None:
    units = SqlUnitOfWorkFactory(engine)
    background = Runtime(uow=units, governance=lambda: governance, clock=clock)
    bounded = Runtime(uow=units.bounded(BOUND), governance=lambda: governance, clock=clock)
    filed: list[Submission] = []
    with write_lock_held_elsewhere(engine):
        worker = threading.Thread(target=lambda: filed.append(file(background, "job-1")))
        worker.start()
        with pytest.raises(StorageBusy):
            file(bounded, "click-1")
        assert worker.is_alive()  # still waiting: background work keeps the engine's long wait
    worker.join(timeout=15)
    assert not worker.is_alive() and len(filed) == 1
    assert tables.count(RequestRecord) == 1
