"""The request form's live preview: what submitting it now would do. Reads, stores nothing."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.contracts import ContractError
from bot.domain.outcome import resolve
from bot.domain.preview import Preview, preview_of, preview_of_problems
from bot.services.routing import directory
from bot.services.runtime import Runtime


def preview_request(*, runtime: Runtime, kind: str, requester: str, raw_values: Mapping[str, object]) -> Preview:
    """The preview of a form of ``kind`` holding ``raw_values`` (a submitted view's values, None
    for an empty input), for ``requester``, as of now. ``UnknownKind`` when the kind is gone.

    Input the contract refuses gives a preview of what is missing or wrong, and nothing is
    evaluated. Otherwise the kind's public rules (``Kind.public``: without ``preview: false``
    rules) are resolved, with limit usage read from storage in a read-only unit of work, and where
    each step really goes is said by the eligibility rules (the requester, deactivated people). Nothing
    is stored: no request, audit event or outbox row.
    """
    governance = runtime.governance()
    spec = governance.kind(kind)
    now = runtime.clock.now()
    try:
        values = governance.validate_fields(spec, raw_values, at=now)
    except ContractError as exc:
        return preview_of_problems(spec, raw_values, exc)
    with runtime.uow(read_only=True) as uow:
        usage = uow.requests.limit_usage
        resolution = resolve(governance, spec.public, values, requester=requester, at=now, usage=usage)
        people = directory(uow, governance, governance.today(now)) if resolution.steps else None
        routes = people.routes(spec, resolution.steps, requester) if people is not None else ()
        return preview_of(spec, resolution, usage=usage, routes=routes)
