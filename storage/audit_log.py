"""The audit log in the database: append-only events, chained by hash, with a locked head."""

from __future__ import annotations

import json
import threading
from collections.abc import Generator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from bot.domain.audit import EVALUATIONS, GENESIS, AuditEntry, AuditEvent, event_hash_of_text
from bot.domain.requests import canonical_json
from storage.prepared import Prepared
from storage.tables import (
    AUDIT_EVENTS,
    AUDIT_HEAD,
    REQUESTS,
)

AUDIT_HEAD_ID = 1
#: The actions whose data holds a receipt (``bot.domain.audit.EVALUATIONS``), as stored.
_EVALUATIONS = sorted(str(a) for a in EVALUATIONS)

_SELECT_HEAD = select(AUDIT_HEAD).where(AUDIT_HEAD.c.id == bindparam("head_id"))
_SELECT_HEAD_FOR_UPDATE = _SELECT_HEAD.with_for_update()
_SELECT_LATEST_EVALUATION = (
    select(AUDIT_EVENTS.c.data)
    .where(AUDIT_EVENTS.c.request_id == bindparam("request_id"), AUDIT_EVENTS.c.action.in_(_EVALUATIONS))
    .order_by(AUDIT_EVENTS.c.seq.desc())
    .limit(1)
)
_SELECT_FIRST_EVENT = (
    select(AUDIT_EVENTS.c.data)
    .where(AUDIT_EVENTS.c.request_id == bindparam("request_id"))
    .order_by(AUDIT_EVENTS.c.seq)
    .limit(1)
)
_INSERT_AUDIT_EVENT = Prepared(insert(AUDIT_EVENTS))
_UPDATE_HEAD = Prepared(update(AUDIT_HEAD).where(AUDIT_HEAD.c.id == bindparam("head_id")))
_ADVANCE_HEAD = Prepared(
    update(AUDIT_HEAD).where(
        AUDIT_HEAD.c.id == bindparam("head_id"),
        AUDIT_HEAD.c.seq == bindparam("seen_seq"),
        AUDIT_HEAD.c.hash == bindparam("seen_hash"),
    )
)


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
            moved = _ADVANCE_HEAD.execute(
                self.connection,
                {"head_id": AUDIT_HEAD_ID, "seen_seq": guess[0], "seen_hash": prev_hash, "seq": seq, "hash": digest},
            )
            if moved != 1:
                guess = None
        if guess is None:
            # The head row stays locked until the transaction ends: appends are serialized, so
            # the chain never forks. (SQLite transactions hold the write lock from BEGIN anyway.)
            head = self.connection.execute(_SELECT_HEAD_FOR_UPDATE, {"head_id": AUDIT_HEAD_ID}).one()
            seq, prev_hash = head.seq + 1, head.hash
            digest = digest_of(seq, prev_hash)
            _UPDATE_HEAD.execute(self.connection, {"head_id": AUDIT_HEAD_ID, "seq": seq, "hash": digest})
        _INSERT_AUDIT_EVENT.execute(
            self.connection, {**event, "seq": seq, "data": canonical, "prev_hash": prev_hash, "hash": digest}
        )
        self.pending_head = (seq, digest)
        return AuditEvent(seq, request_id, at, actor, action, data, prev_hash, digest)

    def hold(self) -> None:
        """Lock the head row until the transaction ends (``bot.services.ports.AuditLog.hold``)."""
        if self.pending_head is None:
            head = self.connection.execute(_SELECT_HEAD_FOR_UPDATE, {"head_id": AUDIT_HEAD_ID}).one()
            self.pending_head = (head.seq, head.hash)

    def append_many(self, entries: Sequence[AuditEntry]) -> None:
        """Chain ``entries`` after the head (locked), insert them in one statement, move the head once."""
        if not entries:
            return
        self.hold()
        assert self.pending_head is not None  # set by hold()
        seq, prev_hash = self.pending_head
        rows = []
        for entry in entries:
            seq += 1
            canonical = canonical_json(entry.data)
            digest = event_hash_of_text(
                prev_hash=prev_hash,
                seq=seq,
                request_id=entry.request_id,
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                data_json=canonical,
            )
            rows.append(
                {
                    "seq": seq,
                    "request_id": entry.request_id,
                    "at": entry.at,
                    "actor": entry.actor,
                    "action": entry.action,
                    "data": canonical,
                    "prev_hash": prev_hash,
                    "hash": digest,
                }
            )
            prev_hash = digest
        self.connection.execute(insert(AUDIT_EVENTS), rows)
        _UPDATE_HEAD.execute(self.connection, {"head_id": AUDIT_HEAD_ID, "seq": seq, "hash": prev_hash})
        self.pending_head = (seq, prev_hash)

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

    def kinds(self) -> list[str]:
        """The kinds of the stored requests, sorted."""
        return list(self.connection.execute(select(REQUESTS.c.kind).distinct().order_by(REQUESTS.c.kind)).scalars())

    def latest_receipt(self, request_id: int) -> dict[str, Any] | None:
        row = self.connection.execute(_SELECT_LATEST_EVALUATION, {"request_id": request_id}).first()
        if row is None:
            return None
        receipt = json.loads(row.data).get("receipt")
        return receipt if isinstance(receipt, dict) else None

    def submission(self, request_id: int) -> dict[str, Any] | None:
        row = self.connection.execute(_SELECT_FIRST_EVENT, {"request_id": request_id}).first()
        data = json.loads(row.data) if row is not None else None
        return data if isinstance(data, dict) else None

    def head(self) -> tuple[int, str]:
        head = self.connection.execute(_SELECT_HEAD, {"head_id": AUDIT_HEAD_ID}).first()
        return (head.seq, head.hash) if head is not None else (0, GENESIS)
