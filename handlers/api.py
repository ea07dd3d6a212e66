"""The HTTP API's routes (DESIGN §9): parse the body or query, call one service, answer JSON.

Each function takes what ``handlers.api_http`` read from the request (the authenticated client,
the parsed JSON body or the query string) and returns an ``Answer``, or raises ``Refusal`` with
the status and the problems to tell. Errors the services raise are turned into answers by
``refusal_of``; the shapes are in ``handlers.api_models``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs

from pydantic import BaseModel, ValidationError

from bot.domain.api_clients import IdempotencyMismatch, KindNotAllowed
from bot.domain.contracts import ContractError
from bot.domain.errors import RequestNotFound, SignoffError, StorageBusy
from bot.domain.governance import UnknownKind
from bot.domain.governance_spec import ApiClientSpec
from bot.domain.json_values import JsonNumber, json_type, read_json_document
from bot.domain.requests import (
    Request,
    Vote,
    format_request_id,
    parse_request_id,
    storable_request_id,
    why_not_a_request_id,
)
from bot.services.api_requests import (
    RequestDetail,
    explain_for_client,
    field_problems,
    file_for_client,
    list_for_client,
    read_for_client,
)
from bot.services.runtime import Runtime
from bot.services.submit import Submission
from handlers.api_models import (
    ExplainRequest,
    Filed,
    FileRequest,
    ListQuery,
    Problem,
    RequestDetailOut,
    RequestOut,
    RequestPage,
    Step,
    VoteOut,
)

M = TypeVar("M", bound=BaseModel)
Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Answer:
    """A JSON answer: status, body (JSON-ready), extra headers."""

    status: int
    body: Any
    headers: Headers = ()


@dataclass(eq=False)
class Refusal(Exception):
    """An error answer: ``{"error": message, "errors": [...]}`` with ``status``."""

    status: int
    message: str
    errors: list[Problem] = field(default_factory=list)
    headers: Headers = ()

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def answer(self) -> Answer:
        body: dict[str, Any] = {"error": self.message}
        if self.errors:
            body["errors"] = [p.model_dump() for p in self.errors]
        return Answer(self.status, body, self.headers)


def file_request(runtime: Runtime, client: ApiClientSpec, body: object, idempotency_key: str | None) -> Answer:
    """``POST /api/v1/requests`` → 201 ``Filed``; 200 with ``Idempotent-Replayed: true`` for a replay."""
    asked = parsed(FileRequest, body, also=_field_problems(runtime, client, body), stored=True)
    submission = file_for_client(
        runtime=runtime,
        client=client,
        kind=asked.kind,
        requester=asked.requester,
        fields=asked.fields,
        idempotency_key=idempotency_key,
    )
    filed = _filed(submission)
    if submission.replayed:
        return Answer(200, filed, (("Idempotent-Replayed", "true"),))
    return Answer(201, filed, (("Location", f"/api/v1/requests/{submission.ref}"),))


def read_request(runtime: Runtime, client: ApiClientSpec, ref: str) -> Answer:
    """``GET /api/v1/requests/{id}`` → ``RequestDetailOut`` (``REQ-42``, ``42``, ``#42``: ``parse_request_id``)."""
    request_id = parse_request_id(ref) if ref == ref.strip() else None  # a path holds no spaces around an id
    if request_id is None:
        raise Refusal(400, f"“{ref[:40]}” is not a request id: {why_not_a_request_id(ref)}, as in REQ-42")
    return Answer(200, _detail(read_for_client(runtime=runtime, client=client, request_id=request_id)))


def list_requests(runtime: Runtime, client: ApiClientSpec, query_string: str) -> Answer:
    """``GET /api/v1/requests?kind=&state=&since=&cursor=&limit=`` → ``RequestPage``, newest first."""
    query = parsed(ListQuery, _query(query_string), where="the query")
    page = list_for_client(
        runtime=runtime,
        client=client,
        kind=query.kind,
        state=query.state,
        since=query.since,
        before=read_cursor(query.cursor) if query.cursor is not None else None,
        limit=query.limit,
    )
    cursor = make_cursor(page.next_before) if page.next_before is not None else None
    body = RequestPage(requests=[_summary(r) for r in page.requests], next_cursor=cursor)
    return Answer(200, body.model_dump(mode="json"))


def explain(runtime: Runtime, client: ApiClientSpec, body: object) -> Answer:
    """``POST /api/v1/explain`` → ``signoff explain --json``'s shape (``Explanation``)."""
    asked = parsed(ExplainRequest, body, also=_field_problems(runtime, client, body))
    try:
        resolution = explain_for_client(
            runtime=runtime, client=client, kind=asked.kind, requester=asked.requester, fields=asked.fields
        )
    except ContractError as exc:
        raise refusal_of(exc, stored=False) from None
    return Answer(200, resolution.receipt())


def refusal_of(
    error: SignoffError | UnknownKind | ContractError, *, in_query: bool = False, stored: bool = True
) -> Refusal:
    """The answer to an error a service raised (422 for a body's mistakes, 400 for a query's).

    ``stored``: the call would have stored something (a filing), so the message says nothing was.
    """
    if isinstance(error, ContractError):
        problems = [
            Problem(field=f"fields.{p.field}" if p.field else "fields", message=p.message) for p in error.problems
        ]
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        tail = "; nothing was stored" if stored else ""
        return Refusal(422, f"the {error.kind} request is not valid ({count}){tail}", capped(problems))
    if isinstance(error, UnknownKind):
        accepted = ", ".join(error.known) or "none"
        message = f"there is no kind “{error.name[:40]}” this client may use (kinds: {accepted})"
        return Refusal(400 if in_query else 422, message, [Problem(field="kind", message=message)])
    if isinstance(error, KindNotAllowed):
        return Refusal(403, str(error))
    if isinstance(error, IdempotencyMismatch):  # draft-ietf-httpapi-idempotency-key-header §2.7: 422
        return Refusal(422, str(error), [Problem(field="Idempotency-Key", message="already used with another body")])
    if isinstance(error, RequestNotFound):
        return Refusal(404, str(error))
    if isinstance(error, StorageBusy):
        return Refusal(503, str(error), headers=(("Retry-After", "1"),))
    return Refusal(409, str(error))


def parsed(
    model: type[M], data: object, *, where: str = "the body", also: Sequence[Problem] = (), stored: bool = False
) -> M:
    """``data`` as ``model``; ``Refusal`` (422 for a body, 400 for the query) naming every problem (and ``also``).

    ``stored``: the call would have stored something, so the message says nothing was.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(error, model) for error in exc.errors(include_url=False)]
    problems += [p for p in also if p.field not in {q.field for q in problems}]
    status = 400 if where == "the query" else 422
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    tail = "; nothing was stored" if stored else ""
    raise Refusal(status, f"{where} is not valid ({count}){tail}", capped(problems))


#: The most problems one answer lists; the rest are counted (a 1 MiB body can hold 40,000 unknown names).
MAX_PROBLEMS = 50


def capped(problems: list[Problem]) -> list[Problem]:
    """At most ``MAX_PROBLEMS`` problems, then one saying how many more there are."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], Problem(field=None, message=f"and {more} more problems not listed")]


def _field_problems(runtime: Runtime, client: ApiClientSpec, body: object) -> list[Problem]:
    """The fields' own problems when the body's top level is also wrong (one round trip lists all)."""
    if not isinstance(body, dict):
        return []
    found = field_problems(runtime=runtime, client=client, kind=body.get("kind"), fields=body.get("fields"))
    return [Problem(field=f"fields.{name}" if name else "fields", message=message) for name, message in found]


#: What a JSON value of the wrong type should have been, by Pydantic's error type.
_EXPECTED = {
    "string_type": "a JSON string",
    "dict_type": "a JSON object",
    "model_type": "a JSON object",
    "int_type": "a whole number",
    "bool_type": "true or false",
}


def _problem(error: Mapping[str, Any], model: type[BaseModel]) -> Problem:
    where = ".".join(str(part) for part in error.get("loc", ())) or None
    kind = error.get("type", "")
    accepted = ", ".join(model.model_fields)
    if kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = f"is not accepted here (accepted: {accepted})"
    elif where == "requester" and kind in ("string_pattern_mismatch", "string_type"):
        got = "" if kind == "string_pattern_mismatch" else f", got {_a(json_type(error.get('input')))}"
        message = f"must be a Slack user id: U or W, then 2 to 20 capitals or digits (such as U012AB3CD){got}"
    elif kind in _EXPECTED:
        message = f"must be {_EXPECTED[kind]}, got {_a(json_type(error.get('input')))}"
    else:
        message = str(error.get("msg", "is not valid")).replace("Input should be", "must be")
        message = message.removeprefix("Value error, ")
    return Problem(field=where, message=message)


def _a(json_kind: str) -> str:
    return {"null": "null", "object": "an object", "array": "an array"}.get(json_kind, f"a {json_kind}")


def _query(query_string: str) -> dict[str, str]:
    """The query string as one value per name; a name given twice is a ``Refusal`` (400)."""
    try:
        values = parse_qs(query_string, keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except ValueError:
        raise Refusal(400, "the query has more than 20 parameters") from None
    repeated = [name for name, given in values.items() if len(given) > 1]
    if repeated:
        problems = [Problem(field=name, message="is given more than once") for name in repeated]
        raise Refusal(400, "the query is not valid; give each parameter once", problems)
    return {name: given[0] for name, given in values.items() if given[0] != ""}


def make_cursor(before: int) -> str:
    """An opaque cursor: where the next page starts (below this request id)."""
    return base64.urlsafe_b64encode(json.dumps({"before": before}).encode()).decode().rstrip("=")


#: A request id in a cursor: plain digits, no sign, no leading zero, at most 10 (``MAX_REQUEST_ID``).
CURSOR_ID = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)


def read_cursor(cursor: str) -> int:
    """The request id a cursor from ``make_cursor`` names; ``Refusal`` (400) for anything else."""
    before: int | None = None
    try:  # the same reader as a body: a repeated key, NaN or a number not in plain digits is no cursor of ours
        data = read_json_document(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
        written = data.get("before") if isinstance(data, dict) and len(data) == 1 else None
        if isinstance(written, JsonNumber) and CURSOR_ID.fullmatch(written.text):
            before = int(written.text)
    except (binascii.Error, ValueError, RecursionError):
        before = None
    if before is None or not storable_request_id(before):
        message = "is not a cursor this API gave: pass next_cursor from the previous page as it came"
        raise Refusal(400, f"cursor {message}", [Problem(field="cursor", message=message)])
    return before


def _filed(submission: Submission) -> dict[str, Any]:
    filed = Filed(
        request=submission.ref,
        kind=submission.kind,
        state=submission.state,
        rule=submission.rule,
        reason=submission.reason,
        steps=_steps(submission.steps),
        due_at=submission.due_at,
        replayed=submission.replayed,
    )
    return filed.model_dump(mode="json")


def _steps(steps: Sequence[Any]) -> list[Step]:
    return [Step(group=s.group, approvals=s.approvals) for s in steps]


def _summary_fields(request: Request) -> dict[str, Any]:
    return {
        "request": format_request_id(request.require_id()),
        "kind": request.kind,
        "state": request.state,
        "requester": request.requester,
        "fields": dict(request.fields),
        "rule": request.deciding_rule,
        "reason": request.reason,
        "steps": _steps(request.steps),
        "version": request.version,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "decided_at": request.decided_at,
        "decided_by": request.decided_by,
        "due_at": request.next_escalation_at,
        "expires_at": request.expires_at,
        "lapses_at": request.lapses_at,
    }


def _summary(request: Request) -> RequestOut:
    return RequestOut(**_summary_fields(request))


def _detail(detail: RequestDetail) -> dict[str, Any]:
    out = RequestDetailOut(
        **_summary_fields(detail.request),
        note=detail.request.decision_note,
        via=detail.via,
        votes=[_vote(v) for v in detail.votes],
        receipt=detail.receipt,
    )
    return out.model_dump(mode="json")


def _vote(vote: Vote) -> VoteOut:
    ballot = vote.ballot
    return VoteOut(
        voter=ballot.voter, verdict=ballot.verdict, on_behalf_of=ballot.on_behalf_of, at=vote.at, reason=vote.reason
    )
