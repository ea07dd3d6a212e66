"""Dry runs: what would happen to a request, and why. Stores nothing."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.outcome import Resolution, resolve
from bot.services.runtime import Runtime


def explain_request(
    *,
    runtime: Runtime,
    kind: str,
    requester: str,
    text: str | None = None,
    fields: Mapping[str, object] | None = None,
) -> Resolution:
    """Resolve a request as if it were filed now; ``ContractError`` / ``UnknownKind`` otherwise.

    ``text`` is slash-command text as Slack sent it; ``fields`` are values (the HTTP API's JSON).
    Limits are read from storage, so the answer matches what filing it would do.
    """
    governance = runtime.governance()
    spec = governance.kind(kind)
    now = runtime.clock.now()
    if text is not None:
        values = governance.parse_slash_text(spec, text, at=now)
    else:
        values = governance.validate_fields(spec, fields or {}, at=now)
    with runtime.uow(read_only=True) as uow:
        return resolve(governance, spec, values, requester=requester, at=now, usage=uow.requests.limit_usage)
