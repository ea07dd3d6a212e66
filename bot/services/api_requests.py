"""The HTTP API's use cases for one authenticated client (DESIGN §9): file, read, list and explain requests.

Filing is ``submit_request``, the slash command's own use case: the same contract, rules,
limits and budgets, cards through the outbox, audit event. What the API adds is who filed it
(``via: "api:<client>"`` in the submission's audit data), the client's kinds, and Stripe-like
idempotency: a key is the client's own (stored as ``api:<client>:<key>``, so two clients never
collide); the same key with the same body answers with the request it filed, the same key with
another body is ``IdempotencyMismatch`` and files nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.api_clients import IdempotencyMismatch, KindNotAllowed
from bot.domain.contracts import ContractError
from bot.domain.errors import RequestNotFound
from bot.domain.governance import Governance, Kind, UnknownKind
from bot.domain.governance_spec import ApiClientSpec
from bot.domain.json_values import literal_json
from bot.domain.lifecycle import State
from bot.domain.outcome import Resolution
from bot.domain.requests import Request, Vote, canonical_json
from bot.services.explain import explain_request
from bot.services.runtime import Runtime
from bot.services.submit import Submission, submit_request

#: The most requests one page of the list holds.
MAX_PAGE = 100


def via(client: ApiClientSpec) -> str:
    """How a request filed by ``client`` records where it came from (its submission's audit data)."""
    return f"api:{client.id}"


def client_kind(governance: Governance, client: ApiClientSpec, name: str) -> Kind:
    """The kind ``name`` if ``client`` may use it; ``UnknownKind`` (naming the client's kinds) or ``KindNotAllowed``."""
    try:
        kind = governance.kind(name)
    except UnknownKind:
        raise UnknownKind(name, sorted(k for k in client.kinds if k in governance.kinds)) from None
    if not client.may_use(kind.name):
        raise KindNotAllowed(client.id, kind.name)
    return kind


def input_sha256(kind: str, requester: str, fields: Mapping[str, object]) -> str:
    """What an idempotency key is bound to: the hash of the body's canonical JSON (key order and spacing aside).

    Numbers count as written (``literal_json``): a retry that writes ``5.000`` where the first call
    wrote ``5.0`` is another body, never a replay of the approved one.
    """
    body = {"kind": kind, "requester": requester, "fields": literal_json(dict(fields))}
    return hashlib.sha256(canonical_json(body).encode("utf-8", "replace")).hexdigest()


def file_for_client(
    *,
    runtime: Runtime,
    client: ApiClientSpec,
    kind: str,
    requester: str,
    fields: Mapping[str, object],
    idempotency_key: str | None = None,
) -> Submission:
    """File a request as ``/request`` would; the answer's ``replayed`` says an earlier call with this key filed it.

    Raises ``UnknownKind``, ``KindNotAllowed``, ``IdempotencyMismatch``, ``ContractError`` (every
    problem of the fields; nothing stored), ``StorageBusy`` / ``TooSlow``. A replay is found by
    the unique key when the request is inserted (no read before: a first call costs what a slash
    command costs), or, when the fields are no longer valid (a date now past), by looking the key
    up; either way it describes the request as it stands now.
    """
    governance = runtime.governance()
    spec = client_kind(governance, client, kind)
    fingerprint = input_sha256(spec.name, requester, fields)  # "Discount" and "discount" are one body
    key = f"{via(client)}:{idempotency_key}" if idempotency_key is not None else None
    try:
        submission = submit_request(
            runtime=runtime,
            kind=spec.name,
            requester=requester,
            fields=fields,
            idempotency_key=key,
            origin={"via": via(client), "input_sha256": fingerprint},
        )
    except ContractError:
        # Invalid now; a retry of a call that was valid then still gets its request.
        earlier = _earlier(runtime, key, fingerprint, idempotency_key or "") if key is not None else None
        if earlier is None:
            raise
        with runtime.uow(read_only=True) as uow:
            return Submission.of(governance, earlier, replayed=True, uow=uow)
    if submission.replayed and key is not None:  # the key filed a request before: was it this body?
        _earlier(runtime, key, fingerprint, idempotency_key or "")
    return submission


def _earlier(runtime: Runtime, key: str, fingerprint: str, shown_key: str) -> Request | None:
    """The request filed with ``key``, if any; ``IdempotencyMismatch`` if it was filed with another body."""
    with runtime.uow(read_only=True) as uow:
        earlier = uow.requests.by_idempotency_key(key)
        data = uow.audit.submission(earlier.require_id()) if earlier is not None else None
    if earlier is None:
        return None
    if (data or {}).get("input_sha256") != fingerprint:
        raise IdempotencyMismatch(shown_key, earlier.ref)
    return earlier


@dataclass(frozen=True)
class RequestDetail:
    """One request as a client reads it: the request, its votes, its latest receipt, and where it came from."""

    request: Request
    votes: tuple[Vote, ...] = ()
    receipt: dict[str, Any] = field(default_factory=dict)
    via: str | None = None


def read_for_client(*, runtime: Runtime, client: ApiClientSpec, request_id: int) -> RequestDetail:
    """The request with its votes and receipt; ``RequestNotFound`` when there is none of the client's kinds.

    A request of a kind the client may not use is "not found" too, so that ids and their kinds
    cannot be enumerated by a client (DESIGN §9: clients see only their kinds).
    """
    with runtime.uow(read_only=True) as uow:
        request = uow.requests.get(request_id)
        if request is None or not client.may_use(request.kind):
            raise RequestNotFound(request_id)
        votes = tuple(uow.votes.for_request(request_id))
        receipt = uow.audit.latest_receipt(request_id) or {}
        submitted = uow.audit.submission(request_id) or {}
    origin = submitted.get("via")
    return RequestDetail(request, votes, receipt, origin if isinstance(origin, str) else None)


@dataclass(frozen=True)
class Page:
    """One page of a client's requests, newest first, and the id the next page starts below (None: the last page)."""

    requests: tuple[Request, ...]
    next_before: int | None


def list_for_client(
    *,
    runtime: Runtime,
    client: ApiClientSpec,
    kind: str | None = None,
    state: State | None = None,
    since: datetime | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Page:
    """Requests of the client's kinds (or of ``kind``, which must be one of them), newest first.

    Keyset pagination on the request id: ``before`` is the previous page's ``next_before``, so
    requests filed meanwhile never shift a page. ``limit`` is 1 to ``MAX_PAGE``.
    Raises ``UnknownKind`` / ``KindNotAllowed`` for ``kind``.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1 to {MAX_PAGE}")
    governance = runtime.governance()
    kinds = [client_kind(governance, client, kind).name] if kind is not None else sorted(client.kinds)
    with runtime.uow(read_only=True) as uow:
        found = uow.requests.page(
            kinds=kinds, state=str(state) if state else None, since=since, before=before, limit=limit + 1
        )
    shown = tuple(found[:limit])
    return Page(shown, shown[-1].require_id() if len(found) > limit else None)


def field_problems(
    *, runtime: Runtime, client: ApiClientSpec, kind: object, fields: object
) -> list[tuple[str | None, str]]:
    """The problems of ``fields`` under ``kind``'s contract, as (field, message), when both can be read; else none.

    For a body whose other parts are also wrong, so that one answer lists every problem (README:
    "422 … every problem listed"). Stores and reads nothing.
    """
    if not isinstance(kind, str) or not isinstance(fields, dict):
        return []
    governance = runtime.governance()
    try:
        spec = client_kind(governance, client, kind)
        governance.validate_fields(spec, fields, at=runtime.clock.now())
    except ContractError as exc:
        return [(p.field, p.message) for p in exc.problems]
    except (UnknownKind, KindNotAllowed):
        return []
    return []


def explain_for_client(
    *, runtime: Runtime, client: ApiClientSpec, kind: str, requester: str, fields: Mapping[str, object]
) -> Resolution:
    """What filing this request now would decide, and why (``signoff explain --json``); stores nothing."""
    spec = client_kind(runtime.governance(), client, kind)
    return explain_request(runtime=runtime, kind=spec.name, requester=requester, fields=fields)
