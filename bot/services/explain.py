"""Dry runs: what would happen to a request, and why. Stores nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.fields import FieldValue
from bot.domain.governance import Governance, Kind
from bot.domain.outcome import Resolution, resolve
from bot.domain.preview import seen_before_filing
from bot.services.runtime import Runtime


@dataclass(frozen=True)
class DryRun:
    """A dry run for a person: ``resolution`` made with the rules they may see before filing;
    ``private``: live private rules were left out, which may still change the outcome."""

    resolution: Resolution
    private: bool


def explain_request(
    *,
    runtime: Runtime,
    kind: str,
    requester: str,
    text: str | None = None,
    fields: Mapping[str, object] | None = None,
) -> Resolution:
    """Resolve a request by every rule of its kind as if it were filed now; ``ContractError`` /
    ``UnknownKind`` otherwise. For those who may read the whole file (the HTTP API's clients,
    tests); a person in Slack gets ``dry_run_for``.

    ``text`` is slash-command text as Slack sent it; ``fields`` are values (the HTTP API's JSON).
    Limits are read from storage, so the answer matches what filing it would do.
    """
    governance = runtime.governance()
    spec = governance.kind(kind)
    now = runtime.clock.now()
    values = _values(governance, spec, text, fields, now)
    return _resolve(runtime, governance, spec, values, requester, now)


def dry_run_for(*, runtime: Runtime, kind: str, person: str, text: str) -> DryRun:
    """``/signoff explain``: ``person`` files ``text`` (slash-command text) of ``kind`` now, as a dry
    run; ``ContractError`` / ``UnknownKind`` otherwise. Resolved with the rules ``person`` may see
    before filing (``seen_before_filing``: every rule for the kind's owner, else those the form's
    preview shows), so probing values tells nothing about a private threshold."""
    governance = runtime.governance()
    spec = governance.kind(kind)
    now = runtime.clock.now()
    values = _values(governance, spec, text, None, now)
    seen, private = seen_before_filing(spec, person)
    return DryRun(_resolve(runtime, governance, seen, values, person, now), private)


def _values(
    governance: Governance, spec: Kind, text: str | None, fields: Mapping[str, object] | None, now: datetime
) -> dict[str, FieldValue]:
    if text is not None:
        return governance.parse_slash_text(spec, text, at=now)
    return governance.validate_fields(spec, fields or {}, at=now)


def _resolve(
    runtime: Runtime, governance: Governance, spec: Kind, values: Mapping[str, FieldValue], requester: str, at: datetime
) -> Resolution:
    with runtime.uow(read_only=True) as uow:
        return resolve(governance, spec, values, requester=requester, at=at, usage=uow.requests.limit_usage)
