"""Submit a request: validate its contract, resolve it, store it with its audit event and cards."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import DuplicateKey
from bot.domain.governance import Governance
from bot.domain.governance_spec import Category, StepSpec
from bot.domain.lifecycle import State, submission_event
from bot.domain.outcome import Resolution, resolve
from bot.domain.requests import Request, fields_to_json
from bot.domain.routing import StepRoute
from bot.services.limits import read_apart, settle
from bot.services.observer import observe
from bot.services.ports import UnitOfWork
from bot.services.routing import directory
from bot.services.runtime import Runtime
from bot.services.transitions import record_transition


@dataclass(frozen=True)
class Submission:
    """The answer to a submission, as the requester sees it in the acknowledgement."""

    request_id: int
    ref: str
    kind: str
    title: str
    state: State
    rule: str | None
    reason: str
    owner: str
    steps: tuple[StepSpec, ...]
    due_at: datetime | None
    lapses_at: datetime | None
    replayed: bool = False
    #: Where each of ``steps`` really goes (``Directory.routes``); empty: to its group.
    routes: tuple[StepRoute, ...] = ()

    @classmethod
    def of(cls, governance: Governance, request: Request, *, replayed: bool = False, uow: UnitOfWork) -> Submission:
        """``request`` as its acknowledgement says it; ``uow`` reads where its steps really go."""
        kind = governance.kinds.get(request.kind)
        routes: tuple[StepRoute, ...] = ()
        if kind is not None and request.steps and request.state.is_open:
            today = governance.today(request.updated_at or request.created_at)
            routes = directory(uow, governance, today).routes(kind, request.steps, request.requester)
        return cls(
            request_id=request.require_id(),
            ref=request.ref,
            kind=request.kind,
            title=kind.title if kind is not None else request.kind,
            state=request.state,
            rule=_deciding_rule(request),
            reason=request.reason,
            owner=kind.owner if kind is not None else "",
            steps=request.steps,
            due_at=request.next_escalation_at,
            lapses_at=request.lapses_at,
            replayed=replayed,
            routes=routes,
        )


def _deciding_rule(request: Request) -> str | None:
    return request.deciding_rule


def submit_request(
    *,
    runtime: Runtime,
    kind: str,
    requester: str,
    fields: Mapping[str, object] | None = None,
    text: str | None = None,
    idempotency_key: str | None = None,
    category: Category | None = None,
    origin: Mapping[str, str] | None = None,
) -> Submission:
    """File a request; a governed default may decide it at once, else it goes to people.

    ``text`` is slash-command text as Slack sent it; ``fields`` are values from a modal.
    ``category`` is the command's: ``/exception`` files only exception kinds. The same
    ``idempotency_key`` (a Slack trigger_id) twice stores one request and answers the same.
    ``origin`` is added to the submission's audit data (the HTTP API: ``{"via": "api:crm", …}``).
    Raises ``UnknownKind``, ``WrongCategory`` or ``ContractError`` and stores nothing then
    (and ``StorageBusy`` / ``TooSlow`` when the database or the answer's deadline does not allow it).
    The rules are evaluated before the write transaction starts; a limit they consulted is
    checked again under its lock in it (``bot.services.limits.settle``).
    """
    governance = runtime.governance()
    spec = governance.kind(kind)
    spec.check_filed_with(category)
    now = runtime.clock.now()
    if text is not None:
        values = governance.parse_slash_text(spec, text, at=now)
    else:
        values = governance.validate_fields(spec, fields or {}, at=now)

    # Rules run before the write lock is taken: a slow evaluation never holds up other writers.
    read = read_apart(lambda: runtime.uow(read_only=True))
    resolution = resolve(governance, spec, values, requester=requester, at=now, usage=read)
    try:
        with runtime.uow() as uow:
            resolution = settle(
                uow, governance, spec, values, requester=requester, at=now, resolution=resolution, usage=read
            )
            request = _new_request(governance, resolution, idempotency_key, now)
            uow.governance_versions.ensure(governance.version, governance.source, now=now)
            events = record_transition(
                uow,
                governance,
                request,
                submission_event(resolution.outcome),
                at=now,
                actor=requester,
                rule=resolution.rule,
                facts={"kind": spec.name, "fields": request.fields, "receipt": resolution.receipt(), **(origin or {})},
            )
            submitted = Submission.of(governance, request, uow=uow)
            uow.commit()
    except DuplicateKey:
        # The same delivery was seen before (a retry, or a redelivery racing us): nothing new is
        # stored, and the answer is the one the first delivery got.
        with runtime.uow(read_only=True) as uow:
            earlier = uow.requests.by_idempotency_key(idempotency_key or "")
            if earlier is None:
                raise
            return Submission.of(governance, earlier, replayed=True, uow=uow)
    observe(runtime.observer, events)
    return submitted


def _new_request(governance: Governance, resolution: Resolution, idempotency_key: str | None, now: datetime) -> Request:
    kind = governance.kind(resolution.kind)
    return Request(
        kind=kind.name,
        category=kind.category,
        fields=fields_to_json(resolution.fields),
        requester=resolution.requester,
        state=State.PENDING,  # a new request has no state yet: its submission event sets it
        governance=governance.version,
        created_at=now,
        updated_at=now,
        steps=resolution.steps,
        rule_ids=resolution.rules,
        reason=resolution.reason,
        shadow=resolution.shadow,
        idempotency_key=idempotency_key,
    )
