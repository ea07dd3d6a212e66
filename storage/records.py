"""SQLAlchemy 2 records: the tables Signoff keeps. Timestamps are timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class GovernanceVersionRecord(Base):
    __tablename__ = "governance_versions"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RequestRecord(Base):
    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_state_escalation", "state", "next_escalation_at"),
        Index("ix_requests_state_expiry", "state", "expires_at"),
        Index("ix_requests_state_lapse", "state", "lapses_at"),
        Index("ix_requests_state_lapse_warning", "state", "lapse_warn_at"),
        Index("ix_requests_auto_rule", "kind", "auto_rule", "created_at"),
        Index("ix_requests_requester", "requester", "state"),
        Index("ix_requests_kind_id", "kind", "id"),  # the HTTP API's list, newest first (0005)
        Index("ix_requests_created_at", "created_at"),  # reports read by submission time (0006)
        UniqueConstraint("imported_id", name="uq_requests_imported_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(16))
    fields: Mapped[dict[str, Any]] = mapped_column(Json)
    fields_hash: Mapped[str] = mapped_column(String(64))
    requester: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(24))
    governance: Mapped[str] = mapped_column(ForeignKey("governance_versions.hash"))
    steps: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    rule_ids: Mapped[list[str]] = mapped_column(Json)
    reason: Mapped[str] = mapped_column(Text)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lapses_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lapse_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decision_note: Mapped[str | None] = mapped_column(Text)
    auto_rule: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The request's id in the system it was imported from (``signoff history import``); null when filed here.
    imported_id: Mapped[str | None] = mapped_column(String(255))
    #: What the kind's shadow rules would have decided (DESIGN §3.7): ``[{"rule": …, "decide": …}]``.
    shadow: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)


class VoteRecord(Base):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("request_id", "voter", "fields_hash", name="uq_votes_once_per_fields"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    voter: Mapped[str] = mapped_column(String(32))
    on_behalf_of: Mapped[str | None] = mapped_column(String(32))
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    fields_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEventRecord(Base):
    """Append-only. ``data`` is stored as its canonical JSON text so the hash can be recomputed exactly."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    request_id: Mapped[int | None] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRecord(Base):
    """One row: the last event's seq and hash. Locked to append, so the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class OutboxRecord(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # A request's rows by status: the webhook claim's "held behind an earlier row" probe (0007).
        Index("ix_outbox_request_status", "request_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When a relay first claimed the row: a post whose outcome is unknown is looked for from then on.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MessageRecord(Base):
    """A posted card: where it is, so that every copy can be updated."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("channel", "ts", name="uq_messages_channel_ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Whether this copy shows the buttons (its recipient may still decide), as last rendered.
    live: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)


class DelegationRecord(Base):
    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delegator: Mapped[str] = mapped_column(String(32), index=True)
    delegate: Mapped[str] = mapped_column(String(32))
    until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PersonRecord(Base):
    """The people directory: what Slack's users.info last said of a person (refreshed by the worker)."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean)
    tz: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: None: unknown or stale (a delivery to them failed); checked again on the next pass.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class JobRunRecord(Base):
    """A claimed (job, period): whoever inserts it first runs that period; everyone else skips."""

    __tablename__ = "job_runs"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    owner: Mapped[str] = mapped_column(String(255))


class SlackDeliveryRecord(Base):
    """A processed Slack delivery (trigger_id, envelope id): the same one seen twice has one effect."""

    __tablename__ = "slack_deliveries"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookSubscriptionRecord(Base):
    """The state of a webhook subscription declared in the governance file: disabled (a 410) or not.

    A subscription without a row is enabled; ``signoff webhooks enable ID`` clears ``disabled_at``.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
