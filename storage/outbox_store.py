"""The outbox and the posted messages it leaves behind, in the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, insert, or_, select, update

from bot.domain.outbox import (
    CARD_INTENTS,
    WAITING,
    CardWork,
    Intent,
    IntentKind,
    Lane,
    MessageRef,
    OutboxItem,
    OutboxStatus,
)
from storage.prepared import Prepared
from storage.tables import (
    MESSAGES,
    OUTBOX,
    insert_ignoring_conflicts,
    is_postgres,
)

_INSERT_MESSAGE = insert(MESSAGES)
_QUEUE: dict[str, Prepared] = {}
_WAITING = sorted(str(s) for s in WAITING)
_WEBHOOK = str(IntentKind.WEBHOOK)
_EARLIER = OUTBOX.alias("earlier")
#: A webhook row waits while an earlier row of the same (subscription, request) still waits or is
#: being sent, so a receiver gets a request's events in order (dead rows do not hold anything back).
_HELD_BEHIND = exists().where(
    _EARLIER.c.request_id == OUTBOX.c.request_id,
    _EARLIER.c.kind == _WEBHOOK,
    _EARLIER.c.id < OUTBOX.c.id,
    _EARLIER.c.status.in_(_WAITING),
    _EARLIER.c.payload["subscription"].as_string() == OUTBOX.c.payload["subscription"].as_string(),
)
_LANES = {
    None: or_(OUTBOX.c.kind != _WEBHOOK, ~_HELD_BEHIND),
    Lane.SLACK: OUTBOX.c.kind != _WEBHOOK,
    Lane.WEBHOOKS: and_(OUTBOX.c.kind == _WEBHOOK, ~_HELD_BEHIND),
}
_SELECT_MESSAGES = select(MESSAGES).where(MESSAGES.c.request_id == bindparam("request_id")).order_by(MESSAGES.c.id)


def _outbox_row(intent: Intent, now: datetime) -> dict[str, Any]:
    return {
        "kind": str(intent.kind),
        "payload": intent.payload,
        "idempotency_key": intent.key,
        "request_id": intent.request_id,
        "status": str(OutboxStatus.PENDING),
        "attempts": 0,
        "next_attempt_at": intent.not_before or now,
        "created_at": now,
    }


def _claimed_item(row: Any, *, before: tuple[str, datetime | None] | None = None) -> OutboxItem:
    """The item of ``row`` as it was before its claim: ``before`` is (status, claimed_at) then, when
    ``row`` was read after the claim (PostgreSQL's one-statement claim)."""
    status, claimed_at = before if before is not None else (row.status, row.claimed_at)
    # Claimed before, and then: still "sending" (its relay died), or failed (a failure may have come
    # after Slack took the post, and a rate-limited check of such a row must not forget the doubt).
    failed_before = row.attempts > 0 or row.last_error is not None
    in_doubt = claimed_at is not None and (status == str(OutboxStatus.SENDING) or failed_before)
    return OutboxItem(
        row.id,
        IntentKind(row.kind),
        row.idempotency_key,
        dict(row.payload),
        row.request_id,
        row.attempts,
        in_doubt=in_doubt,
        claimed_at=claimed_at,
        created_at=row.created_at,
    )


class SqlOutbox:
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, intent: Intent, *, now: datetime) -> bool:
        # RETURNING, not rowcount: psycopg reports -1 rows for an INSERT … ON CONFLICT it skipped.
        statement = insert_ignoring_conflicts(self.connection, OUTBOX, "idempotency_key", returning_id=True)
        return self.connection.execute(statement, _outbox_row(intent, now)).first() is not None

    def add_many(self, intents: list[Intent], *, now: datetime) -> None:
        """Queue several intents in one round trip; those whose key is already queued are skipped."""
        if intents:
            dialect = self.connection.dialect.name
            statement = _QUEUE.get(dialect) or _QUEUE.setdefault(
                dialect, Prepared(insert_ignoring_conflicts(self.connection, OUTBOX, "idempotency_key"))
            )
            statement.execute_many(self.connection, [_outbox_row(intent, now) for intent in intents])

    def claim_due(self, *, now: datetime, limit: int, lease: timedelta, lane: Lane | None = None) -> list[OutboxItem]:
        """Claim up to ``limit`` due rows of ``lane`` (None: every row) until ``now + lease``.

        A "sending" row whose lease ran out is due: it belonged to a relay that died mid-delivery
        and comes back ``in_doubt``, as does a row that failed before (a failure does not always
        say whether Slack took the post). A webhook row is not claimed while an earlier row of the
        same subscription and request waits or is being sent (DESIGN §9: in order per request).
        """
        due = and_(OUTBOX.c.status.in_(_WAITING), OUTBOX.c.next_attempt_at <= now, _LANES[lane])
        first_claim = func.coalesce(OUTBOX.c.claimed_at, bindparam("now", now, type_=OUTBOX.c.claimed_at.type))
        claimed = {"status": str(OutboxStatus.SENDING), "next_attempt_at": now + lease, "claimed_at": first_claim}
        if is_postgres(self.connection):
            if lane is Lane.WEBHOOKS:
                # A webhook claim lost to a server crash leaves its row pending: it is POSTed again with
                # the same webhook-id (at least once, as with a lost "sent" mark; ``mark_all_sent``).
                self.connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            return self._claim_in_one_statement(due, limit, claimed)
        rows = self.connection.execute(select(OUTBOX).where(due).order_by(OUTBOX.c.id).limit(limit)).all()
        if rows:
            self.connection.execute(update(OUTBOX).where(OUTBOX.c.id.in_([r.id for r in rows])).values(**claimed))
        return [_claimed_item(r) for r in rows]

    def _claim_in_one_statement(self, due: Any, limit: int, claimed: dict[str, Any]) -> list[OutboxItem]:
        """PostgreSQL: pick (``FOR UPDATE SKIP LOCKED``) and claim in one round trip, returning each row
        as it was before the claim (its status and first claim say whether it is in doubt)."""
        was = (
            select(OUTBOX.c.id, OUTBOX.c.status.label("was_status"), OUTBOX.c.claimed_at.label("was_claimed_at"))
            .where(due)
            .order_by(OUTBOX.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("picked")
        )
        statement = (
            update(OUTBOX)
            .where(OUTBOX.c.id == was.c.id)
            .values(**claimed)
            .returning(*OUTBOX.c, was.c.was_status, was.c.was_claimed_at)
        )
        rows = sorted(self.connection.execute(statement).all(), key=lambda row: row.id)
        return [_claimed_item(row, before=(row.was_status, row.was_claimed_at)) for row in rows]

    def renew(self, item_ids: list[int], *, until: datetime) -> None:
        """Extend the lease of rows still being sent (the relay holding them is alive) to ``until``."""
        if item_ids:
            held = and_(OUTBOX.c.id.in_(item_ids), OUTBOX.c.status == str(OutboxStatus.SENDING))
            self.connection.execute(update(OUTBOX).where(held).values(next_attempt_at=until))

    def make_due(self, keys: list[str], *, now: datetime) -> int:
        """Bring queued rows with these keys that wait for a later time forward to ``now``; how many."""
        if not keys:
            return 0
        waiting = and_(
            OUTBOX.c.idempotency_key.in_(keys),
            OUTBOX.c.status == str(OutboxStatus.PENDING),
            OUTBOX.c.next_attempt_at > now,
        )
        return self.connection.execute(update(OUTBOX).where(waiting).values(next_attempt_at=now)).rowcount

    def statuses(self, keys: list[str]) -> dict[str, OutboxStatus]:
        """The status of each queued row among ``keys`` (keys never queued are absent)."""
        if not keys:
            return {}
        query = select(OUTBOX.c.idempotency_key, OUTBOX.c.status).where(OUTBOX.c.idempotency_key.in_(keys))
        return {key: OutboxStatus(status) for key, status in self.connection.execute(query)}

    def _set(self, item_id: int, **values: Any) -> None:
        self.connection.execute(update(OUTBOX).where(OUTBOX.c.id == item_id).values(**values))

    def mark_sent(self, item_id: int, *, now: datetime) -> None:
        self.mark_all_sent([item_id], now=now)

    def mark_all_sent(self, item_ids: list[int], *, now: datetime) -> None:
        """Record several deliveries as sent in one statement (a relay batch's webhooks).

        On PostgreSQL the transaction commits without waiting for its WAL flush
        (``synchronous_commit = off``, PostgreSQL docs §30.4 "Asynchronous Commit"): a server crash
        may forget the last fraction of a second of "sent" marks, and those rows are then delivered
        again, exactly as after a relay that died before recording them (at least once; the same
        ``webhook-id``, and a Slack post in doubt is looked up before it is posted again). Their
        claims were committed durably, so no row is ever lost.
        """
        if item_ids:
            if self.connection.dialect.name == "postgresql":
                self.connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            sent = {"status": str(OutboxStatus.SENT), "sent_at": now, "attempts": OUTBOX.c.attempts + 1}
            self.connection.execute(update(OUTBOX).where(OUTBOX.c.id.in_(item_ids)).values(**sent, last_error=None))

    def retry_later(self, item_id: int, *, at: datetime, error: str, count_attempt: bool = True) -> None:
        attempts = OUTBOX.c.attempts + 1 if count_attempt else OUTBOX.c.attempts
        self._set(item_id, status=str(OutboxStatus.PENDING), next_attempt_at=at, attempts=attempts, last_error=error)

    def mark_dead(self, item_id: int, *, now: datetime, error: str) -> None:
        self._set(item_id, status=str(OutboxStatus.DEAD), attempts=OUTBOX.c.attempts + 1, last_error=error)

    def requeue_dead_webhooks(self, subscription: str, *, now: datetime, since: datetime | None = None) -> int:
        """Queue again the dead deliveries of ``subscription`` (queued at or after ``since``); how many.

        Each keeps its idempotency key, so it is sent with its original ``webhook-id``; its
        attempts start again from zero and it is due at ``now``.
        """
        dead = [
            OUTBOX.c.kind == _WEBHOOK,
            OUTBOX.c.status == str(OutboxStatus.DEAD),
            OUTBOX.c.idempotency_key.startswith(f"webhook:{subscription}:", autoescape=True),
        ]
        if since is not None:
            dead.append(OUTBOX.c.created_at >= since)
        again = {"status": str(OutboxStatus.PENDING), "attempts": 0, "next_attempt_at": now, "claimed_at": None}
        return int(self.connection.execute(update(OUTBOX).where(*dead).values(**again)).rowcount)

    def merge_pending(self, key: str, merge: Callable[[dict[str, Any]], dict[str, Any]]) -> bool:
        """Rewrite the payload of the row ``key`` with ``merge`` if it is still pending; whether it was.

        The row is locked while it is rewritten (two relays merging into it do not lose a change).
        """
        query = select(OUTBOX.c.id, OUTBOX.c.payload).where(
            OUTBOX.c.idempotency_key == key, OUTBOX.c.status == str(OutboxStatus.PENDING)
        )
        if is_postgres(self.connection):
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            return False
        self._set(row.id, payload=merge(dict(row.payload)))
        return True

    def delete_sent_before(self, cutoff: datetime) -> int:
        sent = OUTBOX.c.status == str(OutboxStatus.SENT), OUTBOX.c.sent_at < cutoff
        return int(self.connection.execute(delete(OUTBOX).where(*sent)).rowcount)


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
            "live": ref.live,
        }
        self.connection.execute(_INSERT_MESSAGE, values)

    def for_request(self, request_id: int) -> list[MessageRef]:
        rows = self.connection.execute(_SELECT_MESSAGES, {"request_id": request_id})
        return [MessageRef(r.channel, r.ts, r.recipient, r.live) for r in rows]

    def set_live(self, ref: MessageRef, live: bool) -> None:
        """Record whether the copy at ``ref`` now shows its buttons."""
        self.connection.execute(
            update(MESSAGES).where(MESSAGES.c.channel == ref.channel, MESSAGES.c.ts == ref.ts).values(live=live)
        )

    def for_requests(self, request_ids: list[int]) -> dict[int, list[MessageRef]]:
        """The posted copies of many requests at once."""
        found: dict[int, list[MessageRef]] = {request_id: [] for request_id in request_ids}
        for start in range(0, len(request_ids), 500):
            chunk = request_ids[start : start + 500]
            query = select(MESSAGES).where(MESSAGES.c.request_id.in_(chunk)).order_by(MESSAGES.c.id)
            for r in self.connection.execute(query):
                found[r.request_id].append(MessageRef(r.channel, r.ts, r.recipient, r.live))
        return found

    def card_work(self, request_ids: list[int]) -> dict[int, CardWork]:
        """Per request with any card work in the outbox: recipients queued, update or fan-out waiting."""
        found: dict[int, CardWork] = {}
        kinds = sorted(str(k) for k in CARD_INTENTS)
        for start in range(0, len(request_ids), 500):
            chunk = request_ids[start : start + 500]
            query = select(OUTBOX.c.request_id, OUTBOX.c.kind, OUTBOX.c.payload, OUTBOX.c.status).where(
                OUTBOX.c.request_id.in_(chunk), OUTBOX.c.kind.in_(kinds)
            )
            for r in self.connection.execute(query):
                work = found.setdefault(r.request_id, CardWork(set()))
                if r.kind == str(IntentKind.POST_CARD):
                    work.recipients.add(str(r.payload.get("recipient")))
                elif r.kind == str(IntentKind.UPDATE_CARDS):
                    work.updating = work.updating or r.status in _WAITING
                else:
                    work.routing = work.routing or r.status in _WAITING
        return found
