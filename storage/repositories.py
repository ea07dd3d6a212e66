"""Repositories: the domain's requests, votes, audit log and outbox, stored with SQLAlchemy.

They translate between domain objects and records and never commit: the unit of work does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain.audit import GENESIS, AuditEvent, event_hash_of_text
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


def _is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


_IGNORING_CONFLICTS: dict[tuple[str, str, str, bool], Any] = {}


def _insert_ignoring_conflicts(connection: Connection, table: Table, unique: str, *, returning_id: bool = False) -> Any:
    """``INSERT … ON CONFLICT (unique) DO NOTHING`` in the connection's dialect, built once per process."""
    key = (connection.dialect.name, table.name, unique, returning_id)
    statement = _IGNORING_CONFLICTS.get(key)
    if statement is None:
        dialect = postgresql if key[0] == "postgresql" else sqlite
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=[unique])
        if returning_id:
            statement = statement.returning(table.c.id)
        _IGNORING_CONFLICTS[key] = statement
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

_INSERT_REQUEST = insert(REQUESTS).returning(REQUESTS.c.id)
_SELECT_REQUEST = select(REQUESTS).where(REQUESTS.c.id == bindparam("request_id"))
_SELECT_REQUEST_FOR_UPDATE = _SELECT_REQUEST.with_for_update()
_UPDATE_REQUEST = (
    update(REQUESTS)
    .where(REQUESTS.c.id == bindparam("request_id"), REQUESTS.c.version == bindparam("expected_version"))
    .values(version=REQUESTS.c.version + 1)
)
_INSERT_VOTE = insert(VOTES)
_SELECT_VOTES = select(VOTES).where(VOTES.c.request_id == bindparam("request_id")).order_by(VOTES.c.id)
_SELECT_HEAD = select(AUDIT_HEAD).where(AUDIT_HEAD.c.id == bindparam("head_id"))
_SELECT_HEAD_FOR_UPDATE = _SELECT_HEAD.with_for_update()
_INSERT_AUDIT_EVENT = insert(AUDIT_EVENTS)
_UPDATE_HEAD = update(AUDIT_HEAD).where(AUDIT_HEAD.c.id == bindparam("head_id"))
_ADVANCE_HEAD = update(AUDIT_HEAD).where(
    AUDIT_HEAD.c.id == bindparam("head_id"),
    AUDIT_HEAD.c.seq == bindparam("seen_seq"),
    AUDIT_HEAD.c.hash == bindparam("seen_hash"),
)
_INSERT_MESSAGE = insert(MESSAGES)
_SELECT_MESSAGES = select(MESSAGES).where(MESSAGES.c.request_id == bindparam("request_id")).order_by(MESSAGES.c.id)
_SELECT_ACTIVE_DELEGATIONS = select(DELEGATIONS).where(
    DELEGATIONS.c.ended_at.is_(None), DELEGATIONS.c.until >= bindparam("today")
)


def _to_request(record: Any) -> Request:
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
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, request: Request) -> int:
        values = {
            **_columns(request),
            "idempotency_key": request.idempotency_key,
            "created_at": request.created_at,
            "version": 1,
        }
        if request.idempotency_key is None:
            statement = _INSERT_REQUEST
        else:
            statement = _insert_ignoring_conflicts(self.connection, REQUESTS, "idempotency_key", returning_id=True)
        request_id = self.connection.execute(statement, values).scalar()
        if request_id is None:
            raise DuplicateKey(request.idempotency_key or "")
        request.id, request.version = int(request_id), 1
        return request.id

    def get(self, request_id: int, *, for_update: bool = False) -> Request | None:
        query = _SELECT_REQUEST_FOR_UPDATE if for_update else _SELECT_REQUEST
        row = self.connection.execute(query, {"request_id": request_id}).first()
        return _to_request(row) if row is not None else None

    def save(self, request: Request) -> None:
        params = {**_columns(request), "request_id": request.require_id(), "expected_version": request.version}
        result = self.connection.execute(_UPDATE_REQUEST, params)
        if result.rowcount != 1:
            raise ConcurrencyConflict(request.require_id())
        request.version += 1

    def by_idempotency_key(self, key: str) -> Request | None:
        row = self.connection.execute(select(REQUESTS).where(REQUESTS.c.idempotency_key == key)).first()
        return _to_request(row) if row is not None else None

    def limit_usage(
        self, *, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None
    ) -> LimitUsage:
        query = select(REQUESTS.c.fields).where(
            REQUESTS.c.kind == kind, REQUESTS.c.auto_rule == rule, REQUESTS.c.created_at >= since
        )
        if requester is not None:
            query = query.where(REQUESTS.c.requester == requester)
        count, total = 0, 0.0
        for fields in self.connection.execute(query).scalars():
            count += 1
            value = fields.get(sum_field) if sum_field else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                total += value
        return LimitUsage(count=count, total=total)

    def open_ids(self, *, due_before: datetime, column: str) -> list[int]:
        due = REQUESTS.c[column]
        states = [str(State.APPROVED)] if column in ("lapses_at", "lapse_warn_at") else [str(s) for s in OPEN_STATES]
        query = (
            select(REQUESTS.c.id)
            .where(REQUESTS.c.state.in_(states), due.is_not(None), due <= due_before)
            .order_by(due, REQUESTS.c.id)
        )
        return list(self.connection.execute(query).scalars())

    def of_requester(self, requester: str, *, open_only: bool, limit: int) -> list[Request]:
        query = select(REQUESTS).where(REQUESTS.c.requester == requester)
        if open_only:
            query = query.where(REQUESTS.c.state.in_([str(s) for s in OPEN_STATES]))
        return [_to_request(r) for r in self.connection.execute(query.order_by(REQUESTS.c.id.desc()).limit(limit))]

    def open_requests(self, *, limit: int) -> list[Request]:
        query = select(REQUESTS).where(REQUESTS.c.state == str(State.PENDING)).order_by(REQUESTS.c.id).limit(limit)
        return [_to_request(r) for r in self.connection.execute(query)]


class SqlVoteRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, request_id: int, vote: Vote) -> None:
        ballot = vote.ballot
        values = {
            "request_id": request_id,
            "voter": ballot.voter,
            "on_behalf_of": ballot.on_behalf_of,
            "verdict": str(ballot.verdict),
            "reason": vote.reason,
            "fields_hash": ballot.fields_hash,
            "created_at": vote.at,
        }
        self.connection.execute(_INSERT_VOTE, values)

    def for_request(self, request_id: int) -> list[Vote]:
        return [
            Vote(Ballot(r.voter, Verdict(r.verdict), r.fields_hash, r.on_behalf_of), r.created_at, r.reason)
            for r in self.connection.execute(_SELECT_VOTES, {"request_id": request_id})
        ]


class AuditHead:
    """This process's last known audit head (seq, hash), shared by its units of work.

    Appending normally takes three statements: lock and read the head, insert the event,
    move the head. With a known head it takes two: move the head *if it is still where we
    last saw it* (which locks it), then insert. If another process or thread appended in the
    meantime the guarded move changes nothing and the append falls back to reading the head
    under its lock, so the chain is exactly as safe either way.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._head: tuple[int, str] | None = None

    def get(self) -> tuple[int, str] | None:
        with self._lock:
            return self._head

    def committed(self, head: tuple[int, str]) -> None:
        with self._lock:
            if self._head is None or head[0] > self._head[0]:
                self._head = head


class SqlAuditLog:
    def __init__(self, connection: Connection, known_head: AuditHead | None = None):
        self.connection = connection
        self.known_head = known_head or AuditHead()
        #: The head after this transaction's appends; published to ``known_head`` on commit.
        self.pending_head: tuple[int, str] | None = None

    def append(
        self, *, request_id: int | None, at: datetime, actor: str, action: str, data: dict[str, Any]
    ) -> AuditEvent:
        canonical = canonical_json(data)
        event: dict[str, Any] = {"request_id": request_id, "at": at, "actor": actor, "action": action}

        def digest_of(seq: int, prev_hash: str) -> str:
            return event_hash_of_text(
                prev_hash=prev_hash,
                seq=seq,
                request_id=request_id,
                at=at,
                actor=actor,
                action=action,
                data_json=canonical,
            )

        guess = self.pending_head or self.known_head.get()
        if guess is not None:
            seq, prev_hash = guess[0] + 1, guess[1]
            digest = digest_of(seq, prev_hash)
            moved = self.connection.execute(
                _ADVANCE_HEAD,
                {"head_id": AUDIT_HEAD_ID, "seen_seq": guess[0], "seen_hash": prev_hash, "seq": seq, "hash": digest},
            )
            if moved.rowcount != 1:
                guess = None
        if guess is None:
            # The head row stays locked until the transaction ends: appends are serialized, so
            # the chain never forks. (SQLite transactions hold the write lock from BEGIN anyway.)
            head = self.connection.execute(_SELECT_HEAD_FOR_UPDATE, {"head_id": AUDIT_HEAD_ID}).one()
            seq, prev_hash = head.seq + 1, head.hash
            digest = digest_of(seq, prev_hash)
            self.connection.execute(_UPDATE_HEAD, {"head_id": AUDIT_HEAD_ID, "seq": seq, "hash": digest})
        self.connection.execute(
            _INSERT_AUDIT_EVENT, {**event, "seq": seq, "data": canonical, "prev_hash": prev_hash, "hash": digest}
        )
        self.pending_head = (seq, digest)
        return AuditEvent(seq, request_id, at, actor, action, data, prev_hash, digest)

    def events(self, *, since: datetime | None = None, kind: str | None = None) -> Generator[AuditEvent, None, None]:
        query = select(AUDIT_EVENTS).order_by(AUDIT_EVENTS.c.seq)
        if since is not None:
            query = query.where(AUDIT_EVENTS.c.at >= since)
        if kind is not None:
            query = query.where(AUDIT_EVENTS.c.request_id.in_(select(REQUESTS.c.id).where(REQUESTS.c.kind == kind)))
        rows = self.connection.execute(query.execution_options(yield_per=500))
        try:
            for row in rows:
                yield AuditEvent(
                    row.seq,
                    row.request_id,
                    row.at,
                    row.actor,
                    row.action,
                    json.loads(row.data),
                    row.prev_hash,
                    row.hash,
                )
        finally:
            rows.close()  # a reader that stops early (verify, at the first break) frees the cursor

    def head(self) -> tuple[int, str]:
        head = self.connection.execute(_SELECT_HEAD, {"head_id": AUDIT_HEAD_ID}).first()
        return (head.seq, head.hash) if head is not None else (0, GENESIS)


def _outbox_row(intent: Intent, now: datetime) -> dict[str, Any]:
    return {
        "kind": str(intent.kind),
        "payload": intent.payload,
        "idempotency_key": intent.key,
        "request_id": intent.request_id,
        "status": str(OutboxStatus.PENDING),
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


class SqlOutbox:
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, intent: Intent, *, now: datetime) -> bool:
        statement = _insert_ignoring_conflicts(self.connection, OUTBOX, "idempotency_key")
        return bool(self.connection.execute(statement, _outbox_row(intent, now)).rowcount)

    def add_many(self, intents: list[Intent], *, now: datetime) -> None:
        """Queue several intents in one round trip; those whose key is already queued are skipped."""
        if intents:
            statement = _insert_ignoring_conflicts(self.connection, OUTBOX, "idempotency_key")
            self.connection.execute(statement, [_outbox_row(intent, now) for intent in intents])

    def claim_due(self, *, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        due = and_(
            # A "sending" row whose lease ran out belongs to a relay that died mid-delivery.
            OUTBOX.c.status.in_([str(OutboxStatus.PENDING), str(OutboxStatus.SENDING)]),
            OUTBOX.c.next_attempt_at <= now,
        )
        query = select(OUTBOX).where(due).order_by(OUTBOX.c.id).limit(limit)
        if _is_postgres(self.connection):
            query = query.with_for_update(skip_locked=True)
        rows = self.connection.execute(query).all()
        if rows:
            claimed = {"status": str(OutboxStatus.SENDING), "next_attempt_at": now + lease}
            self.connection.execute(update(OUTBOX).where(OUTBOX.c.id.in_([r.id for r in rows])).values(**claimed))
        return [
            OutboxItem(r.id, IntentKind(r.kind), r.idempotency_key, dict(r.payload), r.request_id, r.attempts)
            for r in rows
        ]

    def _set(self, item_id: int, **values: Any) -> None:
        self.connection.execute(update(OUTBOX).where(OUTBOX.c.id == item_id).values(**values))

    def mark_sent(self, item_id: int, *, now: datetime) -> None:
        self._set(item_id, status=str(OutboxStatus.SENT), sent_at=now, attempts=OUTBOX.c.attempts + 1, last_error=None)

    def retry_later(self, item_id: int, *, at: datetime, error: str, count_attempt: bool = True) -> None:
        attempts = OUTBOX.c.attempts + 1 if count_attempt else OUTBOX.c.attempts
        self._set(item_id, status=str(OutboxStatus.PENDING), next_attempt_at=at, attempts=attempts, last_error=error)

    def mark_dead(self, item_id: int, *, now: datetime, error: str) -> None:
        self._set(item_id, status=str(OutboxStatus.DEAD), attempts=OUTBOX.c.attempts + 1, last_error=error)

    def counts(self) -> dict[str, int]:
        rows = self.connection.execute(select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status))
        return {str(status): int(count) for status, count in rows}


class SqlMessageRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, request_id: int, ref: MessageRef, *, now: datetime) -> None:
        values = {
            "request_id": request_id,
            "recipient": ref.recipient,
            "channel": ref.channel,
            "ts": ref.ts,
            "created_at": now,
        }
        self.connection.execute(_INSERT_MESSAGE, values)

    def for_request(self, request_id: int) -> list[MessageRef]:
        rows = self.connection.execute(_SELECT_MESSAGES, {"request_id": request_id})
        return [MessageRef(r.channel, r.ts, r.recipient) for r in rows]


class SqlDelegationRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    def active(self, *, today: date) -> list[Delegation]:
        rows = self.connection.execute(_SELECT_ACTIVE_DELEGATIONS, {"today": today})
        return [Delegation(r.delegator, r.delegate, r.until) for r in rows]

    def start(self, delegation: Delegation, *, now: datetime) -> None:
        self.end(delegation.delegator, now=now)
        values = {
            "delegator": delegation.delegator,
            "delegate": delegation.delegate,
            "until": delegation.until,
            "created_at": now,
        }
        self.connection.execute(insert(DELEGATIONS).values(**values))

    def end(self, delegator: str, *, now: datetime) -> Delegation | None:
        current = DELEGATIONS.c.delegator == delegator, DELEGATIONS.c.ended_at.is_(None)
        rows = self.connection.execute(select(DELEGATIONS).where(*current)).all()
        if not rows:
            return None
        self.connection.execute(update(DELEGATIONS).where(*current).values(ended_at=now))
        return Delegation(rows[-1].delegator, rows[-1].delegate, rows[-1].until)


class SqlGovernanceVersionRepository:
    """Records each governance version once; ``known`` remembers, per process, versions already stored."""

    def __init__(self, connection: Connection, known: set[str]):
        self.connection = connection
        self.known = known
        #: Versions written in this transaction, "known" once it commits (a rollback must not leave them so).
        self.pending: set[str] = set()

    def ensure(self, version: str, content: str, *, now: datetime) -> None:
        if version in self.known:
            return
        statement = _insert_ignoring_conflicts(self.connection, GOVERNANCE_VERSIONS, "hash")
        self.connection.execute(statement, {"hash": version, "content": content, "first_seen_at": now})
        self.pending.add(version)
