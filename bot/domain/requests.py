"""A request as the lifecycle sees it, and the canonical JSON its fields are stored and hashed as."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.domain.actors import rule_of
from bot.domain.durations import format_duration
from bot.domain.governance_spec import Category, StepSpec
from bot.domain.lifecycle import State
from bot.domain.routing import Ballot
from bot.domain.shadow import ShadowVerdict

JsonValue = Any


def to_json_value(value: object) -> JsonValue:
    """A typed field value in the JSON form it is stored, hashed and exported in."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, tuple | list):
        return [to_json_value(v) for v in value]
    return value


def fields_to_json(fields: Mapping[str, object]) -> dict[str, JsonValue]:
    return {name: to_json_value(value) for name, value in fields.items()}


def canonical_json(data: object) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept. What hashes are taken over."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def fields_hash(fields_json: Mapping[str, JsonValue]) -> str:
    """What an approval binds to: the hash of the exact fields the approver saw."""
    return hashlib.sha256(canonical_json(fields_json).encode()).hexdigest()


def format_request_id(request_id: int) -> str:
    return f"REQ-{request_id}"


#: A request number as people and Signoff's own buttons write it: ASCII digits only. ``str.isdigit``
#: and ``int()`` also take other scripts' digits ("٤٢" is 42 to them), so a look-alike id would pass.
REQUEST_NUMBER = re.compile(r"[0-9]{1,11}")
#: The largest request id storage can hold (``requests.id`` is a 32-bit INTEGER on PostgreSQL). Ids
#: above it are well written but name no request: storage answers "no such request" for them.
MAX_REQUEST_ID = 2**31 - 1


def storable_request_id(request_id: int) -> bool:
    """Whether ``request_id`` can name a stored request (1 to ``MAX_REQUEST_ID``); others are never looked up."""
    return 1 <= request_id <= MAX_REQUEST_ID


def parse_request_id(value: object) -> int | None:
    """The one reading of a request id: ``"REQ-42"``, ``"req-42"``, ``"#42"``, ``"42"`` or ``42`` → 42.

    Anything else → None: other scripts' digits (``REQ-٤٢``), signs, spaces inside, more than 11
    digits, booleans, floats, other types. Surrounding whitespace is ignored.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < 10**11 else None
    if not isinstance(value, str):
        return None
    cleaned = value.strip()
    cleaned = cleaned[4:] if cleaned[:4].upper() == "REQ-" else cleaned.removeprefix("#")
    return int(cleaned) if REQUEST_NUMBER.fullmatch(cleaned) else None


def why_not_a_request_id(value: str) -> str:
    """Why ``parse_request_id`` refused ``value``, for the person who wrote it, e.g.
    ``"it has more than 11 digits"`` or ``"it takes REQ- and a number in digits 0-9"``."""
    number = value.strip().upper().removeprefix("REQ-").removeprefix("#")
    if number.isascii() and number.isdigit() and len(number) > 11:
        return "it has more than 11 digits"
    return "it takes REQ- and a number in digits 0-9"


@dataclass
class Request:
    """One ask: what was asked, by whom, where it stands, and what governance said about it."""

    kind: str
    category: Category
    fields: dict[str, JsonValue]
    requester: str
    state: State
    governance: str
    created_at: datetime
    steps: tuple[StepSpec, ...] = ()
    rule_ids: tuple[str, ...] = ()
    reason: str = ""
    escalation_level: int = 0
    next_escalation_at: datetime | None = None
    expires_at: datetime | None = None
    lapses_at: datetime | None = None
    lapse_warn_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    auto_rule: str | None = None
    #: What the kind's shadow rules would have decided at its latest evaluation (DESIGN §3.7);
    #: empty when none matched, None when it was never evaluated with them (stored before).
    shadow: tuple[ShadowVerdict, ...] | None = None
    idempotency_key: str | None = None
    #: The request's id in the system it was imported from (``signoff history import``); None when filed here.
    imported_id: str | None = None
    id: int | None = None
    version: int = 0
    updated_at: datetime | None = None
    #: ``fields`` as last hashed, and its hash: a decision reads the hash several times.
    _hashed: tuple[dict[str, JsonValue], str] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def fields_hash(self) -> str:
        """The hash of ``fields`` (see ``fields_hash``); ``fields`` is replaced, never changed in place."""
        hashed = self._hashed
        if hashed is None or hashed[0] is not self.fields:
            hashed = self._hashed = (self.fields, fields_hash(self.fields))
        return hashed[1]

    @property
    def deciding_rule(self) -> str | None:
        """The id of the rule that decided the request; None while people decide (or when they did)."""
        return rule_of(self.decided_by)

    @property
    def ref(self) -> str:
        return format_request_id(self.id or 0)

    def require_id(self) -> int:
        if self.id is None:
            raise ValueError("the request has not been stored yet")
        return self.id


@dataclass(frozen=True)
class Vote:
    """A stored vote: a ballot plus when it was cast and the reason given."""

    ballot: Ballot
    at: datetime
    reason: str | None = None
