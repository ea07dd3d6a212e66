"""What commands that store nothing read, they read beside a writer holding the lock (both backends):
the schema revision, the span of stored submissions, the stored kinds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine, create_engine, text

from bot.domain.clock import FixedClock
from bot.domain.governance import Governance
from bot.services.audit import stored_kinds
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.migrate import current_revision
from storage.uow import SqlUnitOfWorkFactory
from tests.storage.test_busy import write_lock_held_elsewhere


@contextmanager
def a_writer_elsewhere(engine: Engine) -> Iterator[None]:
    """SQLite: a second connection holds the write lock (``BEGIN IMMEDIATE``). PostgreSQL: a
    transaction holds what a writer holds on ``requests`` (``ROW EXCLUSIVE``, as INSERT/UPDATE do);
    ``ACCESS EXCLUSIVE`` (test_busy) would block readers too, which no writer of Signoff does."""
    if engine.dialect.name == "sqlite":
        with write_lock_held_elsewhere(engine):
            yield
        return
    other = create_engine(engine.url)
    with other.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("LOCK TABLE requests IN ROW EXCLUSIVE MODE"))
        try:
            yield
        finally:
            transaction.rollback()
    other.dispose()


def test_the_revision_span_and_kinds_are_read_while_another_connection_writes(
    engine: Engine, governance: Governance, clock: FixedClock
) -> None:
    units = SqlUnitOfWorkFactory(engine)
    runtime = Runtime(uow=units, governance=lambda: governance, clock=clock)
    with units(read_only=True) as unit:
        assert unit.surface.span() is None and unit.audit.kinds() == []
    first = clock.now()
    for pct in (5, 25):
        submit_request(runtime=runtime, kind="discount", requester="U0SAM", text=f"account=Acme amount_pct={pct}")
        clock.advance(timedelta(hours=2))
    revision = current_revision(engine)
    assert revision is not None
    with a_writer_elsewhere(engine):
        assert current_revision(engine) == revision
        with units(read_only=True) as unit:
            assert unit.surface.span() == (first, first + timedelta(hours=2))
            assert unit.surface.span(["brand"]) is None
        assert stored_kinds(uow=units) == ["discount"]
