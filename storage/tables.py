"""Core table handles and statement helpers shared by the repositories."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from storage.records import (
    AuditEventRecord,
    AuditHeadRecord,
    DelegationRecord,
    GovernanceVersionRecord,
    JobRunRecord,
    MessageRecord,
    OutboxRecord,
    PersonRecord,
    RequestRecord,
    VoteRecord,
    WebhookSubscriptionRecord,
)


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


IGNORING_CONFLICTS: dict[tuple[str, str, str, bool], Any] = {}


def insert_ignoring_conflicts(connection: Connection, table: Table, unique: str, *, returning_id: bool = False) -> Any:
    """``INSERT … ON CONFLICT (unique) DO NOTHING`` in the connection's dialect, built once per process."""
    key = (connection.dialect.name, table.name, unique, returning_id)
    statement = IGNORING_CONFLICTS.get(key)
    if statement is None:
        dialect = postgresql if key[0] == "postgresql" else sqlite
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=[unique])
        if returning_id:
            statement = statement.returning(table.c.id)
        IGNORING_CONFLICTS[key] = statement
    return statement


# Repositories use Core statements, not ORM flushes: each use case is a handful of single-row
# reads and writes. Hot-path statements are built once and only bind parameters per call;
# building one with .values(...) each time costs more than SQLite takes to run it.
REQUESTS = cast(Table, RequestRecord.__table__)
VOTES = cast(Table, VoteRecord.__table__)
AUDIT_EVENTS = cast(Table, AuditEventRecord.__table__)
AUDIT_HEAD = cast(Table, AuditHeadRecord.__table__)
OUTBOX = cast(Table, OutboxRecord.__table__)
MESSAGES = cast(Table, MessageRecord.__table__)
DELEGATIONS = cast(Table, DelegationRecord.__table__)
GOVERNANCE_VERSIONS = cast(Table, GovernanceVersionRecord.__table__)
JOB_RUNS = cast(Table, JobRunRecord.__table__)
PEOPLE = cast(Table, PersonRecord.__table__)
WEBHOOK_SUBSCRIPTIONS = cast(Table, WebhookSubscriptionRecord.__table__)
