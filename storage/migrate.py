"""Schema migrations (Alembic), applied by `signoff db upgrade` and at the start of serve/worker.

On PostgreSQL an advisory lock serializes upgrades, so replicas starting together migrate once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
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


def expected_revisions() -> frozenset[str]:
    """The newest migration(s) this code ships: what a current database is at."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def schema_problem(engine: Engine) -> str | None:
    """What keeps this code from using the database's schema, in one line; None when it is current.

    No Signoff tables, an older revision (``signoff db upgrade`` brings it up), or a revision this
    code does not know (written by a newer Signoff: upgrading this one cannot help).
    """
    revision = current_revision(engine)
    expected = expected_revisions()
    if revision is None:
        return "the database has no Signoff tables yet; run `signoff db upgrade`"
    if revision in expected:
        return None
    needed = ", ".join(sorted(expected))
    try:
        ScriptDirectory(str(MIGRATIONS)).get_revision(revision)
    except CommandError:
        return (
            f"the database is at schema revision {revision}, which this Signoff does not know (it needs {needed}); "
            "was it upgraded by a newer Signoff?"
        )
    return f"the database is at schema revision {revision}; this Signoff needs {needed}: run `signoff db upgrade`"
