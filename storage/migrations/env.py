"""Alembic environment: runs migrations on the connection ``storage.migrate`` hands it."""

from __future__ import annotations

from alembic import context

from storage.records import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `signoff db upgrade` (storage.migrate.upgrade)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
