"""Dry runs: what would happen to a request, and why. Stores nothing."""

from __future__ import annotations

from bot.domain.outcome import Resolution, resolve
from bot.services.runtime import Runtime


def explain_request(*, runtime: Runtime, kind: str, text: str, requester: str) -> Resolution:
    """Resolve slash-command text as if it were filed now; ``ContractError`` / ``UnknownKind`` otherwise.

    Limits are read from storage, so the answer matches what filing it would do.
    """
    governance = runtime.governance()
    spec = governance.kind(kind)
    now = runtime.clock.now()
    fields = governance.parse_slash_text(spec, text, at=now)
    with runtime.uow(read_only=True) as uow:
        return resolve(governance, spec, fields, requester=requester, at=now, usage=uow.requests.limit_usage)
