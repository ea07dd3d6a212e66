"""Repositories: the domain's requests, votes, audit log and outbox, stored with SQLAlchemy.

They translate between domain objects and records and never commit: the unit of work does.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.audit import GENESIS, AuditEvent, event_hash
from bot.domain.errors import ConcurrencyConflict, DuplicateKey
from bot.domain.governance_spec import Category, StepSpec
from bot.domain.lifecycle import OPEN_STATES, State
from bot.domain.outbox import Intent, IntentKind, MessageRef, OutboxItem, OutboxStatus
from bot.domain.outcome import LimitUsage
from bot.domain.requests import Request, Vote, canonical_json
from bot.domain.routing import Ballot, Delegation, Verdict
from storage.records import (
    AuditEventRecord,
    AuditHeadRecord,
    DelegationRecord,
    GovernanceVersionRecord,
    MessageRecord,
    OutboxRecord,
    RequestRecord,
    VoteRecord,
)

AUDIT_HEAD_ID = 1


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _to_request(record: RequestRecord) -> Request:
    return Request(
        id=record.id,
        kind=record.kind,
        category=Category(record.category),
        fields=dict(record.fields),
        requester=record.requester,
        state=State(record.state),
        governance=record.governance,
        created_at=record.created_at,
        steps=tuple(StepSpec.model_validate(step) for step in record.steps),
        rule_ids=tuple(record.rule_ids),
        reason=record.reason,
        receipt=dict(record.receipt),
        escalation_level=record.escalation_level,
        next_escalation_at=record.next_escalation_at,
        expires_at=record.expires_at,
        lapses_at=record.lapses_at,
        lapse_warn_at=record.lapse_warn_at,
        decided_at=record.decided_at,
        decided_by=record.decided_by,
        decision_note=record.decision_note,
        auto_rule=record.auto_rule,
        idempotency_key=record.idempotency_key,
        version=record.version,
        updated_at=record.updated_at,
    )


def _columns(request: Request) -> dict[str, Any]:
    return {
        "kind": request.kind,
        "category": str(request.category),
        "fields": request.fields,
        "fields_hash": request.fields_hash,
        "requester": request.requester,
        "state": str(request.state),
        "governance": request.governance,
        "steps": [{"group": s.group, "approvals": s.approvals} for s in request.steps],
        "rule_ids": list(request.rule_ids),
        "reason": request.reason,
        "receipt": request.receipt,
        "escalation_level": request.escalation_level,
        "next_escalation_at": request.next_escalation_at,
        "expires_at": request.expires_at,
        "lapses_at": request.lapses_at,
        "lapse_warn_at": request.lapse_warn_at,
        "decided_at": request.decided_at,
        "decided_by": request.decided_by,
        "decision_note": request.decision_note,
        "auto_rule": request.auto_rule,
        "updated_at": request.updated_at or request.created_at,
    }


class SqlRequestRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, request: Request) -> int:
        record = RequestRecord(
            **_columns(request), idempotency_key=request.idempotency_key, created_at=request.created_at, version=1
        )
        self.session.add(record)
        try:
            with self.session.begin_nested():
                self.session.flush()
        except IntegrityError:
            raise DuplicateKey(request.idempotency_key or "") from None
        request.id, request.version = record.id, record.version
        return record.id

    def get(self, request_id: int, *, for_update: bool = False) -> Request | None:
        query = select(RequestRecord).where(RequestRecord.id == request_id)
        if for_update:
            query = query.with_for_update()
        record = self.session.scalars(query.execution_options(populate_existing=True)).first()
        return _to_request(record) if record is not None else None

    def save(self, request: Request) -> None:
        result = self.session.execute(
            update(RequestRecord)
            .where(RequestRecord.id == request.require_id(), RequestRecord.version == request.version)
            .values(**_columns(request), version=RequestRecord.version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrencyConflict(request.require_id())
        request.version += 1

    def by_idempotency_key(self, key: str) -> Request | None:
        record = self.session.scalars(select(RequestRecord).where(RequestRecord.idempotency_key == key)).first()
        return _to_request(record) if record is not None else None

    def limit_usage(
        self, *, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None
    ) -> LimitUsage:
        query = select(RequestRecord.fields).where(
            RequestRecord.kind == kind, RequestRecord.auto_rule == rule, RequestRecord.created_at >= since
        )
        if requester is not None:
            query = query.where(RequestRecord.requester == requester)
        count, total = 0, 0.0
        for fields in self.session.scalars(query):
            count += 1
            value = fields.get(sum_field) if sum_field else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                total += value
        return LimitUsage(count=count, total=total)

    def open_ids(self, *, due_before: datetime, column: str) -> list[int]:
        attribute = getattr(RequestRecord, column)
        states = [str(State.APPROVED)] if column in ("lapses_at", "lapse_warn_at") else [str(s) for s in OPEN_STATES]
        query = (
            select(RequestRecord.id)
            .where(RequestRecord.state.in_(states), attribute.is_not(None), attribute <= due_before)
            .order_by(attribute, RequestRecord.id)
        )
        return list(self.session.scalars(query))

    def of_requester(self, requester: str, *, open_only: bool, limit: int) -> list[Request]:
        query = select(RequestRecord).where(RequestRecord.requester == requester)
        if open_only:
            query = query.where(RequestRecord.state.in_([str(s) for s in OPEN_STATES]))
        return [_to_request(r) for r in self.session.scalars(query.order_by(RequestRecord.id.desc()).limit(limit))]

    def open_requests(self, *, limit: int) -> list[Request]:
        query = (
            select(RequestRecord)
            .where(RequestRecord.state == str(State.PENDING))
            .order_by(RequestRecord.id)
            .limit(limit)
        )
        return [_to_request(r) for r in self.session.scalars(query)]


class SqlVoteRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, request_id: int, vote: Vote) -> None:
        ballot = vote.ballot
        self.session.add(
            VoteRecord(
                request_id=request_id,
                voter=ballot.voter,
                on_behalf_of=ballot.on_behalf_of,
                verdict=str(ballot.verdict),
                reason=vote.reason,
                fields_hash=ballot.fields_hash,
                created_at=vote.at,
            )
        )
        self.session.flush()

    def for_request(self, request_id: int) -> list[Vote]:
        query = select(VoteRecord).where(VoteRecord.request_id == request_id).order_by(VoteRecord.id)
        return [
            Vote(Ballot(r.voter, Verdict(r.verdict), r.fields_hash, r.on_behalf_of), r.created_at, r.reason)
            for r in self.session.scalars(query)
        ]


class SqlAuditLog:
    def __init__(self, session: Session):
        self.session = session

    def append(
        self, *, request_id: int | None, at: datetime, actor: str, action: str, data: dict[str, Any]
    ) -> AuditEvent:
        # The head row is locked for the rest of the transaction: appends are serialized, so the
        # chain can never fork. (SQLite transactions already hold the write lock from BEGIN.)
        head = self.session.scalars(
            select(AuditHeadRecord).where(AuditHeadRecord.id == AUDIT_HEAD_ID).with_for_update()
        ).one()
        canonical = canonical_json(data)
        stored = json.loads(canonical)
        seq = head.seq + 1
        digest = event_hash(
            prev_hash=head.hash, seq=seq, request_id=request_id, at=at, actor=actor, action=action, data=stored
        )
        self.session.add(
            AuditEventRecord(
                seq=seq,
                request_id=request_id,
                at=at,
                actor=actor,
                action=action,
                data=canonical,
                prev_hash=head.hash,
                hash=digest,
            )
        )
        event = AuditEvent(seq, request_id, at, actor, action, stored, head.hash, digest)
        head.seq, head.hash = seq, digest
        self.session.flush()
        return event

    def events(self, *, since: datetime | None = None, kind: str | None = None) -> Generator[AuditEvent, None, None]:
        query = select(AuditEventRecord).order_by(AuditEventRecord.seq)
        if since is not None:
            query = query.where(AuditEventRecord.at >= since)
        if kind is not None:
            query = query.where(
                AuditEventRecord.request_id.in_(select(RequestRecord.id).where(RequestRecord.kind == kind))
            )
        records = self.session.scalars(query.execution_options(yield_per=500))
        try:
            for record in records:
                yield AuditEvent(
                    record.seq,
                    record.request_id,
                    record.at,
                    record.actor,
                    record.action,
                    json.loads(record.data),
                    record.prev_hash,
                    record.hash,
                )
        finally:
            records.close()  # a reader that stops early (verify at the first break) frees the cursor

    def head(self) -> tuple[int, str]:
        head = self.session.get(AuditHeadRecord, AUDIT_HEAD_ID)
        return (head.seq, head.hash) if head is not None else (0, GENESIS)


class SqlOutbox:
    def __init__(self, session: Session):
        self.session = session

    def add(self, intent: Intent, *, now: datetime) -> bool:
        values = {
            "kind": str(intent.kind),
            "payload": intent.payload,
            "idempotency_key": intent.key,
            "request_id": intent.request_id,
            "status": str(OutboxStatus.PENDING),
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        dialect = self.session.get_bind().dialect.name
        statement: Any
        if dialect == "postgresql":
            statement = (
                postgresql.insert(OutboxRecord)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
        elif dialect == "sqlite":
            statement = (
                sqlite.insert(OutboxRecord).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
        else:  # pragma: no cover - only the two supported backends
            statement = insert(OutboxRecord).values(**values)
        result = self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def claim_due(self, *, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        due = or_(
            and_(OutboxRecord.status == str(OutboxStatus.PENDING), OutboxRecord.next_attempt_at <= now),
            # A claim whose lease ran out belongs to a relay that died mid-delivery.
            and_(OutboxRecord.status == str(OutboxStatus.SENDING), OutboxRecord.next_attempt_at <= now),
        )
        query = select(OutboxRecord).where(due).order_by(OutboxRecord.id).limit(limit)
        if _is_postgres(self.session):
            query = query.with_for_update(skip_locked=True)
        records = list(self.session.scalars(query))
        for record in records:
            record.status = str(OutboxStatus.SENDING)
            record.next_attempt_at = now + lease
        self.session.flush()
        return [
            OutboxItem(r.id, IntentKind(r.kind), r.idempotency_key, dict(r.payload), r.request_id, r.attempts)
            for r in records
        ]

    def _set(self, item_id: int, **values: Any) -> None:
        self.session.execute(update(OutboxRecord).where(OutboxRecord.id == item_id).values(**values))

    def mark_sent(self, item_id: int, *, now: datetime) -> None:
        self._set(
            item_id, status=str(OutboxStatus.SENT), sent_at=now, attempts=OutboxRecord.attempts + 1, last_error=None
        )

    def retry_later(self, item_id: int, *, at: datetime, error: str, count_attempt: bool = True) -> None:
        attempts = OutboxRecord.attempts + 1 if count_attempt else OutboxRecord.attempts
        self._set(item_id, status=str(OutboxStatus.PENDING), next_attempt_at=at, attempts=attempts, last_error=error)

    def mark_dead(self, item_id: int, *, now: datetime, error: str) -> None:
        self._set(
            item_id, status=str(OutboxStatus.DEAD), attempts=OutboxRecord.attempts + 1, last_error=error, sent_at=None
        )

    def counts(self) -> dict[str, int]:
        rows = self.session.execute(select(OutboxRecord.status, func.count()).group_by(OutboxRecord.status))
        return dict(rows.tuples().all())


class SqlMessageRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, request_id: int, ref: MessageRef, *, now: datetime) -> None:
        self.session.add(
            MessageRecord(
                request_id=request_id, recipient=ref.recipient, channel=ref.channel, ts=ref.ts, created_at=now
            )
        )
        self.session.flush()

    def for_request(self, request_id: int) -> list[MessageRef]:
        query = select(MessageRecord).where(MessageRecord.request_id == request_id).order_by(MessageRecord.id)
        return [MessageRef(r.channel, r.ts, r.recipient) for r in self.session.scalars(query)]


class SqlDelegationRepository:
    def __init__(self, session: Session):
        self.session = session

    def active(self, *, today: date) -> list[Delegation]:
        query = select(DelegationRecord).where(DelegationRecord.ended_at.is_(None), DelegationRecord.until >= today)
        return [Delegation(r.delegator, r.delegate, r.until) for r in self.session.scalars(query)]

    def start(self, delegation: Delegation, *, now: datetime) -> None:
        self.end(delegation.delegator, now=now)
        self.session.add(
            DelegationRecord(
                delegator=delegation.delegator, delegate=delegation.delegate, until=delegation.until, created_at=now
            )
        )
        self.session.flush()

    def end(self, delegator: str, *, now: datetime) -> Delegation | None:
        query = select(DelegationRecord).where(
            DelegationRecord.delegator == delegator, DelegationRecord.ended_at.is_(None)
        )
        ended = None
        for record in self.session.scalars(query):
            record.ended_at = now
            ended = Delegation(record.delegator, record.delegate, record.until)
        self.session.flush()
        return ended


class SqlGovernanceVersionRepository:
    def __init__(self, session: Session):
        self.session = session

    def ensure(self, version: str, content: str, *, now: datetime) -> None:
        if self.session.get(GovernanceVersionRecord, version) is not None:
            return
        record = GovernanceVersionRecord(hash=version, content=content, first_seen_at=now)
        try:
            with self.session.begin_nested():
                self.session.add(record)
        except IntegrityError:
            pass  # another transaction recorded the same version first: same content, nothing to do
