"""Repositories of requests, votes, delegations and governance versions.

Repositories use Core statements, not ORM flushes: each use case is a handful of single-row
reads and writes. Hot-path statements are built once and only bind parameters per call;
building one with ``.values(...)`` each time costs more than SQLite takes to run it. They
never commit: the unit of work does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update

from bot.domain.actors import RULE_PREFIX
from bot.domain.errors import ConcurrencyConflict, DuplicateKey
from bot.domain.governance_spec import Category, StepSpec
from bot.domain.lifecycle import OPEN_STATES, Clock, State
from bot.domain.outcome import LimitKey, LimitUsage, budget_amount
from bot.domain.requests import Request, Vote, storable_request_id
from bot.domain.routing import Ballot, Delegation, Verdict
from bot.domain.shadow import shadow_from_json, shadow_json
from storage.locks import hold, lock_id
from storage.prepared import Prepared
from storage.tables import (
    DELEGATIONS,
    GOVERNANCE_VERSIONS,
    JOB_RUNS,
    REQUESTS,
    VOTES,
    insert_ignoring_conflicts,
    is_postgres,
)

_INSERT_REQUEST = Prepared(insert(REQUESTS).returning(REQUESTS.c.id))
_INSERT_REQUEST_ONCE: dict[str, Prepared] = {}
_SELECT_REQUEST = select(REQUESTS).where(REQUESTS.c.id == bindparam("request_id"))
_GET_REQUEST = Prepared(_SELECT_REQUEST)
_GET_REQUEST_FOR_UPDATE = Prepared(_SELECT_REQUEST.with_for_update())
_UPDATE_REQUEST = Prepared(
    update(REQUESTS)
    .where(REQUESTS.c.id == bindparam("request_id"), REQUESTS.c.version == bindparam("expected_version"))
    .values(version=REQUESTS.c.version + 1)
)
_INSERT_VOTE = Prepared(insert(VOTES))
#: ``n`` new request ids at once (PostgreSQL): a batch of imported requests is sent with its ids.
_NEXT_REQUEST_IDS = text("SELECT nextval(pg_get_serial_sequence('requests', 'id')) FROM generate_series(1, :n)")
_SELECT_VOTES = Prepared(select(VOTES).where(VOTES.c.request_id == bindparam("request_id")).order_by(VOTES.c.id))
_SELECT_ACTIVE_DELEGATIONS = Prepared(
    select(DELEGATIONS).where(DELEGATIONS.c.ended_at.is_(None), DELEGATIONS.c.until >= bindparam("today"))
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
        escalation_level=record.escalation_level,
        next_escalation_at=record.next_escalation_at,
        expires_at=record.expires_at,
        lapses_at=record.lapses_at,
        lapse_warn_at=record.lapse_warn_at,
        decided_at=record.decided_at,
        decided_by=record.decided_by,
        decision_note=record.decision_note,
        auto_rule=record.auto_rule,
        shadow=shadow_from_json(record.shadow),
        idempotency_key=record.idempotency_key,
        imported_id=record.imported_id,
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
        "escalation_level": request.escalation_level,
        "next_escalation_at": request.next_escalation_at,
        "expires_at": request.expires_at,
        "lapses_at": request.lapses_at,
        "lapse_warn_at": request.lapse_warn_at,
        "decided_at": request.decided_at,
        "decided_by": request.decided_by,
        "decision_note": request.decision_note,
        "auto_rule": request.auto_rule,
        "shadow": shadow_json(request.shadow),
        "updated_at": request.updated_at or request.created_at,
    }


class SqlRequestRepository:
    def __init__(self, connection: Connection):
        self.connection = connection
        #: Each request's columns as read or written in this unit of work: ``save`` writes only changes.
        self._stored: dict[int, dict[str, Any]] = {}

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
            dialect = self.connection.dialect.name
            statement = _INSERT_REQUEST_ONCE.get(dialect) or _INSERT_REQUEST_ONCE.setdefault(
                dialect,
                Prepared(insert_ignoring_conflicts(self.connection, REQUESTS, "idempotency_key", returning_id=True)),
            )
        request_id = statement.returning_scalar(self.connection, values)
        if request_id is None:
            raise DuplicateKey(request.idempotency_key or "")
        request.id, request.version = int(request_id), 1
        return request.id

    def get(self, request_id: int, *, for_update: bool = False) -> Request | None:
        if not storable_request_id(request_id):  # PostgreSQL would fail on an id its INTEGER cannot hold
            return None
        query = _GET_REQUEST_FOR_UPDATE if for_update else _GET_REQUEST
        rows = query.rows(self.connection, {"request_id": request_id})
        if not rows:
            return None
        request = _to_request(rows[0])
        self._stored[request_id] = _columns(request)
        return request

    def save(self, request: Request) -> None:
        """Write the request's changed columns and bump its version; ``ConcurrencyConflict`` if it moved on."""
        request_id = request.require_id()
        columns = _columns(request)
        stored = self._stored.get(request_id)
        # Unchanged columns are left out: re-encoding the fields' JSON and every timestamp costs
        # more than the UPDATE itself.
        changed = columns if stored is None else {k: v for k, v in columns.items() if stored.get(k) != v}
        params = {**changed, "request_id": request_id, "expected_version": request.version}
        if _UPDATE_REQUEST.execute(self.connection, params) != 1:
            raise ConcurrencyConflict(request_id)
        self._stored[request_id] = columns
        request.version += 1

    def by_idempotency_key(self, key: str) -> Request | None:
        row = self.connection.execute(select(REQUESTS).where(REQUESTS.c.idempotency_key == key)).first()
        return _to_request(row) if row is not None else None

    def add_imported(self, requests: Sequence[Request]) -> dict[str, int]:
        """``INSERT … ON CONFLICT (imported_id) DO NOTHING`` of the whole batch in a few statements: an
        id already stored, even by an import committed a moment ago, is skipped by the unique index
        rather than by a read that could be stale.

        SQLite: one multi-row insert with ``RETURNING`` (SQLAlchemy's insertmanyvalues). PostgreSQL:
        ids drawn from the sequence in one query, the rows sent with them in one pipelined
        executemany, and the ones that went in read back in one query; a multi-row statement of
        thousands of parameters costs psycopg more to parse than the server takes to store it.
        """
        if not requests:
            return {}
        fixed = {"idempotency_key": None, "version": 1}
        rows = [{**_columns(r), **fixed, "imported_id": r.imported_id, "created_at": r.created_at} for r in requests]
        statement = insert_ignoring_conflicts(self.connection, REQUESTS, "imported_id")
        if not is_postgres(self.connection):
            returning = statement.returning(REQUESTS.c.id, REQUESTS.c.imported_id)
            return {row.imported_id: int(row.id) for row in self.connection.execute(returning, rows)}
        ids = list(self.connection.execute(_NEXT_REQUEST_IDS, {"n": len(rows)}).scalars())
        for row, request_id in zip(rows, ids, strict=True):
            row["id"] = request_id
        self.connection.execute(statement, rows)
        went_in = select(REQUESTS.c.id, REQUESTS.c.imported_id).where(REQUESTS.c.id.in_(ids))
        return {row.imported_id: int(row.id) for row in self.connection.execute(went_in)}

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
            total += budget_amount(fields.get(sum_field)) if sum_field else 0.0
        return LimitUsage(count=count, total=total)

    def lock_limits(self, keys: Iterable[LimitKey]) -> None:
        """Serialize writers per limit tally (``bot.services.ports.RequestRepository.lock_limits``).

        One advisory lock per tally, named by kind, rule and requester (``*``: everyone), in the
        order ``storage.locks.hold`` gives; nothing on SQLite, whose writers hold the write lock.
        """
        hold(self.connection, (limit_lock_id(key) for key in keys))

    def open_ids(self, *, due_before: datetime, column: str) -> list[int]:
        clock = Clock(column)
        due = REQUESTS.c[str(clock)]
        states = sorted(str(s) for s in clock.due_in)
        query = (
            select(REQUESTS.c.id)
            .where(REQUESTS.c.state.in_(states), due.is_not(None), due <= due_before)
            .where(REQUESTS.c.imported_id.is_(None))  # history: its lapses_at is for the report only
            .order_by(due, REQUESTS.c.id)
        )
        return list(self.connection.execute(query).scalars())

    def of_requester(self, requester: str, *, open_only: bool, limit: int) -> list[Request]:
        query = select(REQUESTS).where(REQUESTS.c.requester == requester)
        if open_only:
            query = query.where(REQUESTS.c.state.in_([str(s) for s in OPEN_STATES]))
        return [_to_request(r) for r in self.connection.execute(query.order_by(REQUESTS.c.id.desc()).limit(limit))]

    def count_auto_decided(self, *, since: datetime, until: datetime) -> int:
        """How many requests governed defaults decided in [since, until)."""
        query = select(func.count()).where(
            REQUESTS.c.decided_by.like(RULE_PREFIX + "%"), REQUESTS.c.decided_at >= since, REQUESTS.c.decided_at < until
        )
        return int(self.connection.execute(query).scalar_one())

    def page(
        self, *, kinds: list[str], state: str | None, since: datetime | None, before: int | None, limit: int
    ) -> list[Request]:
        query = select(REQUESTS).where(REQUESTS.c.kind.in_(kinds))
        if state is not None:
            query = query.where(REQUESTS.c.state == state)
        if since is not None:
            query = query.where(REQUESTS.c.created_at >= since)
        if before is not None:
            query = query.where(REQUESTS.c.id < before)
        query = query.order_by(REQUESTS.c.id.desc()).limit(limit)
        return [_to_request(r) for r in self.connection.execute(query)]

    def open_requests(self, *, limit: int) -> list[Request]:
        query = select(REQUESTS).where(REQUESTS.c.state == str(State.PENDING)).order_by(REQUESTS.c.id).limit(limit)
        return [_to_request(r) for r in self.connection.execute(query)]


def limit_lock_id(key: LimitKey) -> int:
    """The advisory lock id of one limit tally: kind, rule, and the requester or ``*`` for everyone."""
    return lock_id("limit", key.kind, key.rule, "*" if key.requester is None else key.requester)


def _vote_values(request_id: int, vote: Vote) -> dict[str, Any]:
    ballot = vote.ballot
    return {
        "request_id": request_id,
        "voter": ballot.voter,
        "on_behalf_of": ballot.on_behalf_of,
        "verdict": str(ballot.verdict),
        "reason": vote.reason,
        "fields_hash": ballot.fields_hash,
        "created_at": vote.at,
    }


class SqlVoteRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, request_id: int, vote: Vote) -> None:
        _INSERT_VOTE.execute(self.connection, _vote_values(request_id, vote))

    def add_many(self, votes: Sequence[tuple[int, Vote]]) -> None:
        if votes:
            self.connection.execute(insert(VOTES), [_vote_values(request_id, vote) for request_id, vote in votes])

    def for_requests(self, request_ids: list[int]) -> dict[int, list[Vote]]:
        """Votes of many requests at once (digests look at every pending request)."""
        found: dict[int, list[Vote]] = {request_id: [] for request_id in request_ids}
        for start in range(0, len(request_ids), 500):
            chunk = request_ids[start : start + 500]
            rows = self.connection.execute(select(VOTES).where(VOTES.c.request_id.in_(chunk)).order_by(VOTES.c.id))
            for r in rows:
                found[r.request_id].append(
                    Vote(Ballot(r.voter, Verdict(r.verdict), r.fields_hash, r.on_behalf_of), r.created_at, r.reason)
                )
        return found

    def for_request(self, request_id: int) -> list[Vote]:
        return [
            Vote(Ballot(r.voter, Verdict(r.verdict), r.fields_hash, r.on_behalf_of), r.created_at, r.reason)
            for r in _SELECT_VOTES.rows(self.connection, {"request_id": request_id})
        ]


class SqlDelegationRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    def active(self, *, today: date) -> list[Delegation]:
        rows = _SELECT_ACTIVE_DELEGATIONS.rows(self.connection, {"today": today})
        return [Delegation(r.delegator, r.delegate, r.until) for r in rows]

    def start(self, delegation: Delegation, *, now: datetime) -> None:
        """Replace the delegator's delegation: two starting at once leave one active, the later."""
        hold(self.connection, [lock_id("delegation", delegation.delegator)])
        self.end(delegation.delegator, now=now)
        values = {
            "delegator": delegation.delegator,
            "delegate": delegation.delegate,
            "until": delegation.until,
            "created_at": now,
        }
        self.connection.execute(insert(DELEGATIONS).values(**values))

    def end(self, delegator: str, *, now: datetime) -> Delegation | None:
        """End the delegator's active delegation; the one ended, or None (also when a concurrent end won)."""
        current = DELEGATIONS.c.delegator == delegator, DELEGATIONS.c.ended_at.is_(None)
        ending = update(DELEGATIONS).where(*current).values(ended_at=now)
        rows = self.connection.execute(ending.returning(DELEGATIONS)).all()
        if not rows:
            return None
        last = max(rows, key=lambda r: r.id)
        return Delegation(last.delegator, last.delegate, last.until)


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
        statement = insert_ignoring_conflicts(self.connection, GOVERNANCE_VERSIONS, "hash")
        self.connection.execute(statement, {"hash": version, "content": content, "first_seen_at": now})
        self.pending.add(version)


class SqlJobRuns:
    """Claims of scheduled runs: the first process to insert a run's key does that run."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def claim(self, key: str, *, owner: str, now: datetime) -> bool:
        statement = insert_ignoring_conflicts(self.connection, JOB_RUNS, "key")
        inserted = self.connection.execute(
            statement.returning(JOB_RUNS.c.key), {"key": key, "owner": owner, "claimed_at": now}
        )
        return inserted.first() is not None

    def delete_before(self, cutoff: datetime) -> int:
        return int(self.connection.execute(delete(JOB_RUNS).where(JOB_RUNS.c.claimed_at < cutoff)).rowcount)
