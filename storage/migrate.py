"""Schema migrations (Alembic), applied by `signoff db upgrade` and at the start of serve/worker.

On PostgreSQL an advisory lock serializes upgrades, so replicas starting together migrate once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from storage.engine import READ_ONLY

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Arbitrary but fixed: the advisory lock id all Signoff processes agree on for migrations.
MIGRATION_LOCK_ID = 0x5167_0FF1


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema (a no-op when it is already there)."""
    config = _config()
    with engine.connect() as connection:
        locked = connection.dialect.name == "postgresql"
        if locked:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if locked:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
                connection.commit()


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None: no Signoff tables yet).

    A plain read (``READ_ONLY``: SQLite ``BEGIN``, not ``BEGIN IMMEDIATE``): commands that store
    nothing check the schema without queueing for, or holding, the writer lock.
    """
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        return MigrationContext.configure(connection).get_current_revision()
