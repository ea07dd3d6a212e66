"""The HTTP API's bodies as Pydantic models (DESIGN §9): what clients send, what they get back.

Request models are strict (a number is not a string, no key beyond those listed) so that a
mistake is named rather than guessed at; the fields of a request are checked by its kind's data
contract, not here. Response models are what ``/api/v1/openapi.json`` documents; extra keys may
be added over time, never removed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from bot.domain.fields import USER_ID
from bot.domain.filetests import TEST_REQUESTER
from bot.domain.lifecycle import State
from bot.domain.moments import parse_datetime
from bot.domain.routing import Verdict

#: ``requester``: a Slack user id, the one bounded pattern Signoff reads them by (``bot.domain.fields.USER_ID``).
UserId = Annotated[str, StringConstraints(pattern=f"^{USER_ID.pattern}$")]
KindName = Annotated[str, StringConstraints(min_length=1, max_length=40)]
#: A request's fields, by name; each value is a JSON string, number, boolean or list, per the kind's contract.
Fields = dict[str, Any]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FileRequest(ApiModel):
    """``POST /api/v1/requests``: file a request as ``/request`` would."""

    kind: KindName = Field(description="the kind of request, e.g. discount (one of the client's kinds)")
    requester: UserId = Field(description="the Slack user id of the person asking; they can never approve it")
    fields: Fields = Field(description="the request's fields by name, per the kind's contract")


class ExplainRequest(ApiModel):
    """``POST /api/v1/explain``: what filing this request now would decide, and why. Stores nothing."""

    kind: KindName
    requester: UserId = Field(
        default=TEST_REQUESTER, description=f"a Slack user id; rules may depend on it (default {TEST_REQUESTER})"
    )
    fields: Fields


class Step(BaseModel):
    """A step of people: ``approvals`` distinct members of ``group``."""

    group: str
    approvals: int


class Filed(BaseModel):
    """The answer to a filing: what the slash command would have told the requester."""

    request: str = Field(description="the request's id, e.g. REQ-43")
    kind: str
    state: State
    rule: str | None = Field(description="the rule that decided it at once; null when it went to people")
    reason: str
    steps: list[Step] = Field(description="who must approve, in order (empty when a rule decided)")
    due_at: datetime | None = Field(description="when it escalates if nobody acts (the kind's sla)")
    replayed: bool = Field(description="true when an earlier call with this Idempotency-Key filed it")


class VoteOut(BaseModel):
    voter: str
    verdict: Verdict
    on_behalf_of: str | None
    at: datetime
    reason: str | None


class RequestOut(BaseModel):
    """A request as the list shows it."""

    request: str
    kind: str
    state: State
    requester: str
    fields: Fields
    rule: str | None
    reason: str
    steps: list[Step]
    version: int
    created_at: datetime
    updated_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None = Field(description="a Slack user id, rule:<id>, or system")
    due_at: datetime | None
    expires_at: datetime | None
    lapses_at: datetime | None


class RequestDetailOut(RequestOut):
    """One request with its decision record: votes, the latest receipt, and where it came from."""

    note: str | None = Field(description="the reason given with the decision (a rejection's, say)")
    via: str | None = Field(description="api:<client> for requests filed through the API; null for Slack")
    votes: list[VoteOut]
    receipt: dict[str, Any] = Field(description="the latest evaluation: `signoff explain --json`'s shape")


class RequestPage(BaseModel):
    requests: list[RequestOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


#: ``limit``: 1 to 3 ASCII digits (``int()`` would also take ``5_0``, `` 5``, ``+5`` and ``٥``).
_LIMIT = re.compile(r"[0-9]{1,3}", re.ASCII)
#: ``since``: an ISO 8601 date and time that ends with its UTC offset (``Z`` or ``±HH:MM``).
_SINCE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})",
    re.ASCII,
)
_SINCE_FORM = "an ISO 8601 date and time with its UTC offset, such as 2026-12-01T09:00:00Z or 2026-12-01T10:00:00+01:00"


def _read_limit(raw: object) -> object:
    """``limit`` as written: digits 0-9 only, 1 to 100."""
    if isinstance(raw, str) and _LIMIT.fullmatch(raw) and 1 <= int(raw) <= 100:
        return int(raw)
    raise ValueError("must be a whole number from 1 to 100 in digits 0-9, such as 50")


def _read_since(raw: object) -> object:
    """``since`` as written: ISO 8601 with an offset, within the calendar Signoff keeps (``bot.domain.moments``)."""
    if not isinstance(raw, str) or not _SINCE.fullmatch(raw):
        raise ValueError(f"must be {_SINCE_FORM}")
    try:
        return parse_datetime(raw, UTC)
    except ValueError as exc:
        raise ValueError(f"{exc}; write {_SINCE_FORM}") from None


class ListQuery(ApiModel):
    """``GET /api/v1/requests`` query parameters (each at most once), read as strictly as any value."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)

    kind: KindName | None = None
    state: State | None = None
    since: Annotated[AwareDatetime, BeforeValidator(_read_since)] | None = Field(
        default=None, description=f"created at or after: {_SINCE_FORM}, from 1900 to 2999"
    )
    cursor: str | None = Field(default=None, max_length=200)
    limit: Annotated[int, BeforeValidator(_read_limit)] = Field(
        default=50, ge=1, le=100, description="how many per page, 1 to 100 in digits 0-9"
    )


class Explanation(BaseModel):
    """``signoff explain --json``'s shape (DESIGN §5); extra keys are fine."""

    model_config = ConfigDict(extra="allow")

    outcome: str = Field(description="approve, reject or route")
    rule: str | None
    reason: str
    steps: list[Step]
    trace: list[dict[str, Any]]
    governance: str


class Problem(BaseModel):
    field: str | None = Field(description="where in the body (fields.amount_pct) or query; null for the whole")
    message: str


class ApiError(BaseModel):
    """Every error answer: one sentence, and for 400/422 every problem found."""

    error: str
    errors: list[Problem] | None = None
