"""The tamper-evident audit log: each event's hash covers its content and the previous hash.

``hash = sha256(prev_hash + canonical JSON of seq, request_id, at, actor, action, data)``.
Changing, removing or inserting any event breaks the chain at that point, and ``verify_chain``
names the first event where it breaks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.requests import canonical_json, format_request_id

GENESIS = "0" * 64


class Action(StrEnum):
    SUBMITTED = "submitted"
    AUTO_APPROVED = "auto_approved"
    AUTO_REJECTED = "auto_rejected"
    VOTED = "voted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    AMENDED = "amended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ESCALATED = "escalated"
    LAPSE_WARNED = "lapse_warned"
    LAPSED = "lapsed"
    DELEGATED = "delegated"
    DELEGATION_ENDED = "delegation_ended"
    IMPORTED = "imported"  # a past request brought in by ``signoff history import`` (DESIGN §8)


#: The actions that carry a receipt: the request was evaluated against the governance then
#: (its submission, or an amend). The latest of them is what ``/signoff status`` explains.
EVALUATIONS: frozenset[Action] = frozenset(
    {Action.SUBMITTED, Action.AUTO_APPROVED, Action.AUTO_REJECTED, Action.AMENDED}
)


@dataclass(frozen=True)
class AuditEntry:
    """An event to append: its seq and hashes are given by the log when it is appended."""

    request_id: int | None
    at: datetime
    actor: str
    action: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    request_id: int | None
    at: datetime
    actor: str
    action: str
    data: Mapping[str, Any]
    prev_hash: str
    hash: str

    def as_json(self) -> dict[str, Any]:
        """The export shape: one object per event (``signoff audit export``)."""
        return {
            "seq": self.seq,
            "request_id": format_request_id(self.request_id) if self.request_id is not None else None,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "data": dict(self.data),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def event_hash(
    *, prev_hash: str, seq: int, request_id: int | None, at: datetime, actor: str, action: str, data: Mapping[str, Any]
) -> str:
    return event_hash_of_text(
        prev_hash=prev_hash,
        seq=seq,
        request_id=request_id,
        at=at,
        actor=actor,
        action=action,
        data_json=canonical_json(data),
    )


def event_hash_of_text(
    *, prev_hash: str, seq: int, request_id: int | None, at: datetime, actor: str, action: str, data_json: str
) -> str:
    """The hash over ``data_json`` exactly as stored (it must be ``canonical_json`` of the data).

    The body is the canonical JSON of the whole event, spelled out with its keys in sorted
    order, so the data's text is hashed as is instead of being parsed and written again.
    """
    body = (
        f'{{"action":{canonical_json(action)},"actor":{canonical_json(actor)},"at":{canonical_json(at.isoformat())},'
        f'"data":{data_json},"request_id":{canonical_json(request_id)},"seq":{seq}}}'
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"audit event {self.seq}: {self.problem}"


def verify_chain(events: Iterable[AuditEvent], *, head: tuple[int, str] | None = None) -> ChainBreak | None:
    """The first event where the chain breaks, or None when it is intact.

    ``head`` is the last (seq, hash) recorded separately by storage: it catches events
    removed from the end, which the chain alone cannot show.
    """
    prev_hash, expected_seq = GENESIS, 1
    last: AuditEvent | None = None
    for event in events:
        if head is not None and event.seq > head[0]:
            return ChainBreak(event.seq, "it comes after the log's recorded head (inserted)")
        if event.seq != expected_seq:
            missing = "missing" if event.seq > expected_seq else "out of order"
            return ChainBreak(min(event.seq, expected_seq), f"event {expected_seq} is {missing}")
        if event.prev_hash != prev_hash:
            return ChainBreak(event.seq, "prev_hash does not match the hash of the event before it")
        recomputed = event_hash(
            prev_hash=prev_hash,
            seq=event.seq,
            request_id=event.request_id,
            at=event.at,
            actor=event.actor,
            action=event.action,
            data=event.data,
        )
        if recomputed != event.hash:
            return ChainBreak(event.seq, "its content does not match its hash (modified)")
        prev_hash, expected_seq, last = event.hash, expected_seq + 1, event
    if head is not None:
        head_seq, head_hash = head
        if last is None and head_seq > 0:
            return ChainBreak(1, f"events 1–{head_seq} are missing")
        if last is not None and (last.seq, last.hash) != (head_seq, head_hash):
            if head_seq > last.seq:
                return ChainBreak(last.seq + 1, f"events {last.seq + 1}–{head_seq} are missing")
            return ChainBreak(last.seq, "the log's recorded head does not match its last event")
    return None
