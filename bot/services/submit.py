"""Submit a request: validate its contract, resolve it, store it with its audit event and cards."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.actors import rule_of
from bot.domain.errors import DuplicateKey
from bot.domain.governance import Governance
from bot.domain.governance_spec import Category, StepSpec
from bot.domain.lifecycle import State, submission_event
from bot.domain.outcome import LimitUsage, Resolution, UsageLookup, resolve
from bot.domain.requests import Request, fields_to_json
from bot.services.observer import observe
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

    @classmethod
    def of(cls, governance: Governance, request: Request, *, replayed: bool = False) -> Submission:
        kind = governance.kinds.get(request.kind)
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
        )


def _deciding_rule(request: Request) -> str | None:
    return rule_of(request.decided_by)


def submit_request(
    *,
    runtime: Runtime,
    kind: str,
    requester: str,
    fields: Mapping[str, object] | None = None,
    text: str | None = None,
    idempotency_key: str | None = None,
    category: Category | None = None,
) -> Submission:
    """File a request; a governed default may decide it at once, else it goes to people.

    ``text`` is slash-command text as Slack sent it; ``fields`` are values from a modal.
    ``category`` is the command's: ``/exception`` files only exception kinds. The same
    ``idempotency_key`` (a Slack trigger_id) twice stores one request and answers the same.
    Raises ``UnknownKind``, ``WrongCategory`` or ``ContractError`` and stores nothing then
    (and ``StorageBusy`` / ``TooSlow`` when the database or the answer's deadline does not allow it).
    The rules are evaluated before the write transaction starts (``ReadUsage``).
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
    read = ReadUsage(runtime)
    resolution = resolve(governance, spec, values, requester=requester, at=now, usage=read)
    try:
        with runtime.uow() as uow:
            if not read.still_true(uow.requests.limit_usage):  # a limit's count moved meanwhile: decide again
                resolution = resolve(
                    governance, spec, values, requester=requester, at=now, usage=uow.requests.limit_usage
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
                facts={"kind": spec.name, "fields": request.fields, "receipt": resolution.receipt()},
            )
            uow.commit()
    except DuplicateKey:
        # The same delivery was seen before (a retry, or a redelivery racing us): nothing new is
        # stored, and the answer is the one the first delivery got.
        with runtime.uow(read_only=True) as uow:
            earlier = uow.requests.by_idempotency_key(idempotency_key or "")
        if earlier is None:
            raise
        return Submission.of(governance, earlier, replayed=True)
    observe(runtime.observer, events)
    return Submission.of(governance, request)


class ReadUsage:
    """A ``UsageLookup`` that reads each limit's usage in its own read-only unit of work, and remembers it.

    ``still_true`` asks the writing transaction the same questions: when every answer is the
    same, a resolution made with these answers is the one the transaction would make (``resolve``
    depends on nothing else), so only a limit that moved meanwhile costs a second evaluation.
    """

    def __init__(self, runtime: Runtime):
        self._runtime = runtime
        self._answers: list[tuple[dict[str, Any], LimitUsage]] = []

    def __call__(
        self, *, kind: str, rule: str, requester: str | None, since: datetime, sum_field: str | None
    ) -> LimitUsage:
        query: dict[str, Any] = {
            "kind": kind,
            "rule": rule,
            "requester": requester,
            "since": since,
            "sum_field": sum_field,
        }
        with self._runtime.uow(read_only=True) as uow:
            used = uow.requests.limit_usage(**query)
        self._answers.append((query, used))
        return used

    def still_true(self, usage: UsageLookup) -> bool:
        return all(usage(**query) == used for query, used in self._answers)


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
        idempotency_key=idempotency_key,
    )
