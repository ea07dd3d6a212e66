"""The migrations build exactly the schema the records declare, on SQLite and PostgreSQL.

A column or index added to ``storage.records`` without a migration (or the other way round)
works in tests that create tables from the records and fails on a real upgraded database.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from storage.records import Base


def test_the_upgraded_schema_is_the_declared_one(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
