"""The HTTP API's bodies as Pydantic models (DESIGN §9): what clients send, what they get back.

Request models are strict (a number is not a string, no key beyond those listed) so that a
mistake is named rather than guessed at; the fields of a request are checked by its kind's data
contract, not here. Response models are what ``/api/v1/openapi.json`` documents; extra keys may
be added over time, never removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from bot.domain.fields import USER_ID
from bot.domain.filetests import TEST_REQUESTER
from bot.domain.lifecycle import State
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
    requester: UserId = Field(default=TEST_REQUESTER, description="a Slack user id; rules may depend on it")
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


class ListQuery(ApiModel):
    """``GET /api/v1/requests`` query parameters (each at most once)."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)

    kind: KindName | None = None
    state: State | None = None
    since: AwareDatetime | None = Field(default=None, description="created at or after (ISO 8601 with an offset)")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=100)


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
