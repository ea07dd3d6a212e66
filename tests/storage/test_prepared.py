"""Statements run on the driver's cursor read and write exactly what ``Connection.execute`` does."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from bot.domain.requests import Vote
from bot.domain.routing import Ballot, Delegation, Verdict
from bot.services.runtime import Runtime
from bot.services.submit import submit_request
from storage.prepared import Prepared
from storage.tables import DELEGATIONS, REQUESTS
from storage.uow import SqlUnitOfWorkFactory

FIELDS_HASH = "0" * 64


def test_a_request_read_through_the_driver_equals_the_one_sqlalchemy_reads(runtime: Runtime, engine: Engine) -> None:
    submitted = submit_request(
        runtime=runtime, kind="discount", requester="U0SAM", text="account=Ünïcode amount_pct=25"
    )
    with engine.connect() as connection:
        expected = connection.execute(select(REQUESTS).where(REQUESTS.c.id == submitted.request_id)).one()
        (row,) = Prepared(select(REQUESTS).where(REQUESTS.c.id == submitted.request_id)).rows(connection, {})
    assert tuple(row) == tuple(expected)
    assert row.created_at.tzinfo is not None and row.fields["account"] == "Ünïcode"


def test_dates_and_aware_timestamps_round_trip(engine: Engine) -> None:
    at = datetime(2026, 3, 4, 9, 30, 15, 123456, tzinfo=UTC)
    uow_factory = SqlUnitOfWorkFactory(engine)
    with uow_factory() as uow:
        uow.delegations.start(Delegation("U0ANN", "U0BOB", date(2026, 3, 20)), now=at)
        assert uow.delegations.active(today=date(2026, 3, 20)) == [Delegation("U0ANN", "U0BOB", date(2026, 3, 20))]
        assert uow.delegations.active(today=date(2026, 3, 21)) == []
        uow.commit()
    with engine.connect() as connection:
        (row,) = Prepared(select(DELEGATIONS)).rows(connection, {})
    assert row.created_at == at and row.until == date(2026, 3, 20) and row.ended_at is None


def test_a_driver_error_is_sqlalchemys_error_and_keeps_nothing(runtime: Runtime) -> None:
    submitted = submit_request(runtime=runtime, kind="discount", requester="U0SAM", text="account=A amount_pct=25")
    vote = Vote(Ballot("U0ANN", Verdict.APPROVE, FIELDS_HASH, None), datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    with runtime.uow() as uow:
        uow.votes.add(submitted.request_id, vote)
        with pytest.raises(IntegrityError):
            uow.votes.add(submitted.request_id, vote)  # the same voter on the same fields: refused
    with runtime.uow(read_only=True) as uow:
        assert uow.votes.for_request(submitted.request_id) == []


def test_a_statement_needing_python_side_defaults_is_refused(engine: Engine) -> None:
    # requests.version and escalation_level have Python-side defaults that only an execution
    # context fills in: a prepared INSERT leaving them out would store NULL, so it is refused.
    with engine.connect() as connection, pytest.raises(ValueError, match="Python-side defaults"):
        Prepared(insert(REQUESTS)).execute(connection, {"kind": "discount"})
