"""The requester changes a pending request: it is evaluated again from scratch."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.errors import NotAllowed
from bot.domain.lifecycle import submission_event
from bot.domain.outcome import resolve
from bot.domain.requests import fields_to_json
from bot.services.limits import RecordedUsage, settle
from bot.services.observer import observe
from bot.services.runtime import Runtime
from bot.services.submit import Submission
from bot.services.transitions import record_transition, requesters_open_request


def amend_request(
    *,
    runtime: Runtime,
    request_id: int,
    requester: str,
    fields: Mapping[str, object] | None = None,
    text: str | None = None,
) -> Submission:
    """Change some fields of an open request (the rest stay) and evaluate it again.

    Earlier approvals stop counting (they saw other fields); a rule may now decide it, or it
    may need other steps. Cards already posted are updated; new approvers get new cards.
    Only the requester may amend. Raises ``ContractError`` for invalid fields.
    """
    governance = runtime.governance()
    now = runtime.clock.now()
    with runtime.uow() as uow:
        request = requesters_open_request(uow, request_id, requester, verb="amend")
        kind = governance.kind(request.kind)
        changes = dict(fields or {})
        if text is not None:
            changes = dict(kind.contract.decode_slash_text(text))
        if not changes:
            raise NotAllowed(f'say what to change, e.g. "amend {request.ref} field=value"')
        values = governance.validate_fields(kind, {**request.fields, **changes}, at=now)
        usage = RecordedUsage(uow.requests.limit_usage)
        resolution = resolve(governance, kind, values, requester=request.requester, at=now, usage=usage)
        resolution = settle(
            uow, governance, kind, values, requester=request.requester, at=now, resolution=resolution, usage=usage
        )
        previous_hash = request.fields_hash
        request.fields = fields_to_json(values)
        request.steps, request.rule_ids, request.reason = resolution.steps, resolution.rules, resolution.reason
        request.shadow = resolution.shadow  # the shadow verdicts of the new fields replace the old ones
        request.governance = governance.version
        uow.governance_versions.ensure(governance.version, governance.source, now=now)
        facts = {
            "fields": request.fields,
            "previous_fields_hash": previous_hash,
            "outcome": str(resolution.outcome),
            "receipt": resolution.receipt(),
        }
        event = submission_event(resolution.outcome, amend=True)
        events = record_transition(
            uow, governance, request, event, at=now, actor=requester, rule=resolution.rule, facts=facts
        )
        amended = Submission.of(governance, request, uow=uow)
        uow.commit()
    observe(runtime.observer, events)
    return amended
