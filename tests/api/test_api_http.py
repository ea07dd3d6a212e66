"""The HTTP API through ``Signoff.wsgi()`` in-process, input by input: the exact status, one JSON error shape, never a traceback."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.app import MAX_BODY_BYTES, Signoff
from handlers.api_http import ApiEdge
from tests.api.conftest import CRM_TOKEN, LEGAL_TOKEN
from tests.api.http import Reply, call
from tests.slack.wsgi import signature

REQUESTS = "/api/v1/requests"
ROUTED = {"kind": "discount", "requester": "U0SAM", "fields": {"account": "Globex", "amount_pct": 25}}


def error_of(reply: Reply) -> str:
    assert reply.headers["content-type"] == "application/json", reply.body
    assert b"Traceback" not in reply.body
    return str(reply.json()["error"])


def fields_named(reply: Reply) -> list[str | None]:
    return [problem["field"] for problem in reply.json()["errors"]]


def test_filing_answers_201_with_the_decision_and_where_to_read_it(app: Any) -> None:
    reply = call(app, "POST", REQUESTS, body=ROUTED, token=CRM_TOKEN)
    assert reply.status == 201, reply.body
    body = reply.json()
    assert body["request"].startswith("REQ-") and reply.headers["location"] == f"{REQUESTS}/{body['request']}"
    assert (body["state"], body["rule"], body["steps"], body["replayed"]) == (
        "pending",
        None,
        [{"group": "finance", "approvals": 1}],
        False,
    )
    assert body["due_at"] is not None and body["reason"]
    auto = call(app, "POST", REQUESTS, body={**ROUTED, "fields": {"account": "A", "amount_pct": 5}}, token=CRM_TOKEN)
    assert (auto.json()["state"], auto.json()["rule"], auto.json()["steps"]) == ("approved", "small", [])


def test_a_replay_answers_200_with_the_same_request_and_another_body_is_422(app: Any) -> None:
    key = {"Idempotency-Key": f"order-{time.monotonic_ns()}"}
    first = call(app, "POST", REQUESTS, body=ROUTED, token=CRM_TOKEN, headers=key)
    again = call(app, "POST", REQUESTS, body=ROUTED, token=CRM_TOKEN, headers=key)
    assert (first.status, again.status, again.headers["idempotent-replayed"]) == (201, 200, "true")
    assert {**first.json(), "replayed": True} == again.json()
    other = {**ROUTED, "fields": {"account": "Globex", "amount_pct": 26}}
    mismatch = call(app, "POST", REQUESTS, body=other, token=CRM_TOKEN, headers=key)
    assert mismatch.status == 422
    assert f"already filed {first.json()['request']} with a different body" in error_of(mismatch)
    assert fields_named(mismatch) == ["Idempotency-Key"]


def test_read_back_and_list(app: Any) -> None:
    filed = call(app, "POST", REQUESTS, body=ROUTED, token=CRM_TOKEN).json()
    ref = filed["request"]
    for written in (ref, ref.lower(), ref.removeprefix("REQ-")):
        one = call(app, "GET", f"{REQUESTS}/{written}", token=CRM_TOKEN)
        assert one.status == 200, one.body
        got = one.json()
        assert (got["request"], got["state"], got["requester"], got["via"]) == (ref, "pending", "U0SAM", "api:crm")
        assert got["fields"] == {"account": "Globex", "amount_pct": 25} and got["votes"] == []
        assert got["receipt"]["outcome"] == "route" and got["created_at"] and got["decided_at"] is None
    page = call(app, "GET", REQUESTS, token=CRM_TOKEN, query="limit=1&kind=discount&state=pending").json()
    assert [r["request"] for r in page["requests"]] == [ref] and page["next_cursor"]


@pytest.mark.parametrize(
    ("headers", "says", "challenge"),
    [
        ({}, "send Authorization: Bearer <token>", 'Bearer realm="signoff"'),
        ({"Authorization": "Bearer sgf_not-a-client"}, "not one of this Signoff's API clients", "invalid_token"),
        ({"Authorization": f"Basic {CRM_TOKEN}"}, "Bearer <token>, not the Basic scheme", 'Bearer realm="signoff"'),
        ({"Authorization": f"Token {CRM_TOKEN}"}, "Bearer <token>, not the Token scheme", 'Bearer realm="signoff"'),
        ({"Authorization": CRM_TOKEN}, "Bearer <token>, not the", 'Bearer realm="signoff"'),
        ({"Authorization": "Bearer"}, "the token is missing", 'Bearer realm="signoff"'),
        ({"Authorization": f"Bearer {CRM_TOKEN} extra"}, "the token is missing or has characters", "realm"),
        ({"Authorization": "Bearer " + "a" * 5000}, "not one of this Signoff's API clients", "invalid_token"),
        ({"Authorization": f"Bearer {CRM_TOKEN[:-1]}"}, "not one of this Signoff's API clients", "invalid_token"),
    ],
)
def test_without_a_clients_token_it_is_401_with_a_bearer_challenge(
    app: Any, headers: dict[str, str], says: str, challenge: str
) -> None:
    for method, path in (
        ("POST", REQUESTS),
        ("GET", REQUESTS),
        ("GET", f"{REQUESTS}/REQ-1"),
        ("POST", "/api/v1/explain"),
    ):
        reply = call(app, method, path, body=ROUTED if method == "POST" else None, headers=headers)
        assert reply.status == 401 and says in error_of(reply)
        assert challenge in reply.headers["www-authenticate"] and reply.read == 0
        # RFC 6750 §3.1: an error code only when a bearer token was sent (and was not a client's).
        assert ("error=" in reply.headers["www-authenticate"]) == (challenge == "invalid_token")


def test_a_slack_signed_request_is_not_an_api_call_and_a_token_is_not_a_slack_signature(app: Any) -> None:
    body = b'{"kind": "discount"}'
    stamp = str(int(time.time()))
    slack = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature(body, stamp)}
    reply = call(app, "POST", REQUESTS, body=body, headers=slack)
    assert reply.status == 401 and "Slack signatures are not accepted here" in error_of(reply)
    to_slack = call(app, "POST", "/slack/events", body=body, token=CRM_TOKEN)
    assert (to_slack.status, to_slack.headers["content-type"]) == (401, "text/plain; charset=utf-8")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", REQUESTS, "GET, POST, HEAD, OPTIONS"),
        ("DELETE", f"{REQUESTS}/REQ-1", "GET, HEAD, OPTIONS"),
        ("POST", f"{REQUESTS}/REQ-1", "GET, HEAD, OPTIONS"),
        ("GET", "/api/v1/explain", "POST, OPTIONS"),
        ("POST", "/api/v1/openapi.json", "GET, HEAD, OPTIONS"),
    ],
)
def test_a_wrong_method_is_405_with_allow(app: Any, method: str, path: str, allow: str) -> None:
    reply = call(app, method, path, token=CRM_TOKEN)
    assert (reply.status, reply.headers["allow"]) == (405, allow)
    assert allow in error_of(reply)


@pytest.mark.parametrize("path", ["/api/v1", "/api/v2/requests", "/api/v1/requests/REQ-1/votes", "/api/v1/nope"])
def test_an_unknown_path_under_the_api_is_a_json_404(app: Any, path: str) -> None:
    reply = call(app, "GET", path, token=CRM_TOKEN)
    assert reply.status == 404 and "openapi.json" in error_of(reply)


@pytest.mark.parametrize("declared", [str(MAX_BODY_BYTES + 1), str(10**15), "0" * 30 + str(MAX_BODY_BYTES + 1)])
def test_a_body_declared_over_1_mib_is_413_unread(app: Any, declared: str) -> None:
    reply = call(app, "POST", REQUESTS, body=b"{}" * 10, token=CRM_TOKEN, content_length=declared)
    assert reply.status == 413 and f"larger than {MAX_BODY_BYTES} bytes" in error_of(reply)
    assert reply.read == 0


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "the body is empty"),
        (b"kind=discount", "the body is not JSON"),
        (b"[1, 2]", "the body is a JSON array"),
        (b'"discount"', "the body is a JSON string"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"kind": "discount", "requester": "U0SAM", "fields": {"amount_pct": NaN}}', "NaN is not a JSON number"),
        (b'{"kind": "discount", "requester": "U0SAM", "fields": {"account": "\\ud800"}}', "U+D800 (a lone surrogate)"),
        (b"[" * 100_000 + b"]" * 100_000, "the body is not JSON"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(app: Any, body: bytes, says: str) -> None:
    reply = call(app, "POST", REQUESTS, body=body, token=CRM_TOKEN)
    assert reply.status == 400 and says in error_of(reply)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["kind", "requester", "fields"]),
        ({**ROUTED, "priority": "high"}, ["priority"]),
        ({**ROUTED, "requester": "sam@example.com"}, ["requester"]),
        ({**ROUTED, "requester": "U0SAM\n"}, ["requester"]),
        ({**ROUTED, "requester": "U" + "A" * 30}, ["requester"]),
        ({**ROUTED, "kind": 7, "fields": []}, ["kind", "fields"]),
        ({**ROUTED, "kind": "nope"}, ["kind"]),
        (
            {**ROUTED, "fields": {"amount_pct": "lots", "colour": "red"}},
            ["fields.account", "fields.amount_pct", "fields.colour"],
        ),
        ({**ROUTED, "fields": {"account": "A", "amount_pct": True}}, ["fields.amount_pct"]),
        (
            b'{"kind": "discount", "requester": "U0SAM", "fields": {"account": "A", "amount_pct": 1e400}}',
            ["fields.amount_pct"],
        ),
        ({**ROUTED, "fields": {"account": "A", "amount_pct": 10**400}}, ["fields.amount_pct"]),
    ],
)
def test_a_body_that_is_not_a_valid_request_is_422_naming_every_problem_and_nothing_is_stored(
    app: Any, body: dict[str, Any] | bytes, fields: list[str]
) -> None:
    before = call(app, "GET", REQUESTS, token=CRM_TOKEN, query="limit=1").json()["requests"]
    reply = call(app, "POST", REQUESTS, body=body, token=CRM_TOKEN, headers={"Idempotency-Key": "bad-1"})
    assert reply.status == 422, reply.body
    error_of(reply)
    assert sorted(f or "" for f in fields_named(reply)) == sorted(fields)
    assert call(app, "GET", REQUESTS, token=CRM_TOKEN, query="limit=1").json()["requests"] == before


def test_the_requester_must_be_a_slack_user_id(app: Any) -> None:
    reply = call(app, "POST", REQUESTS, body={**ROUTED, "requester": "sam"}, token=CRM_TOKEN)
    assert reply.json()["errors"] == [
        {
            "field": "requester",
            "message": "must be a Slack user id: U or W, then 2 to 20 capitals or digits (such as U012AB3CD)",
        }
    ]


@pytest.mark.parametrize("key", ["", "has space", "x" * 201, "naïve"])
def test_an_idempotency_key_out_of_bounds_is_400(app: Any, key: str) -> None:
    reply = call(app, "POST", REQUESTS, body=ROUTED, token=CRM_TOKEN, headers={"Idempotency-Key": key})
    assert reply.status == 400 and "Idempotency-Key must be 1 to 200 printable ASCII" in error_of(reply)


def test_a_kind_the_client_may_not_use_is_403_and_its_requests_are_not_found(app: Any) -> None:
    contract = {"kind": "contract", "requester": "U0SAM", "fields": {"counterparty": "Initech"}}
    assert call(app, "POST", REQUESTS, body=contract, token=CRM_TOKEN).status == 403
    filed = call(app, "POST", REQUESTS, body=contract, token=LEGAL_TOKEN)
    assert filed.status == 201
    ref = filed.json()["request"]
    refused = call(app, "GET", f"{REQUESTS}/{ref}", token=CRM_TOKEN)
    # 404 as for an id that does not exist: a client cannot learn which ids exist, nor their kinds.
    assert refused.status == 404 and error_of(refused) == f"there is no request {ref}"
    assert call(app, "GET", REQUESTS, token=CRM_TOKEN, query="kind=contract").status == 403
    assert call(app, "POST", "/api/v1/explain", body=contract, token=CRM_TOKEN).status == 403


@pytest.mark.parametrize(
    ("query", "param", "says"),
    [
        ("state=done", "state", "must be 'pending', 'changes_requested'"),
        ("since=yesterday", "since", "with its UTC offset, such as 2026-12-01T09:00:00Z"),
        ("since=2026-03-01T10:00:00", "since", "with its UTC offset"),
        ("since=2026-12-01", "since", "with its UTC offset"),
        ("since=1764585540", "since", "ISO 8601 date and time"),
        ("since=1764585540.5", "since", "ISO 8601 date and time"),
        ("since=0", "since", "ISO 8601 date and time"),
        ("since=0001-01-01T00:00:00%2B14:00", "since", "from 1900-01-01 to 2999-12-31"),
        ("since=9999-12-31T23:59:59-14:00", "since", "from 1900-01-01 to 2999-12-31"),
        ("since=2026-12-01T09:00:00%2B23:59", "since", "offset from -14:00 to +14:00"),
        ("limit=0", "limit", "from 1 to 100 in digits 0-9"),
        ("limit=101", "limit", "from 1 to 100 in digits 0-9"),
        ("limit=ten", "limit", "from 1 to 100 in digits 0-9"),
        ("limit=5_0", "limit", "from 1 to 100 in digits 0-9"),
        ("limit=1.0", "limit", "from 1 to 100 in digits 0-9"),
        ("limit=%2B5", "limit", "from 1 to 100 in digits 0-9"),
        ("limit=%205", "limit", "from 1 to 100 in digits 0-9"),
        ("limit=%D9%A5", "limit", "from 1 to 100 in digits 0-9"),
        ("cursor=eyJiZWZvcmUiOiAyMTQ3NDgzNjQ4fQ", "cursor", "not a cursor this API gave"),
        # {"before": 5, "before": 7}: a key given twice
        ("cursor=eyJiZWZvcmUiOiA1LCAiYmVmb3JlIjogN30", "cursor", "not a cursor this API gave"),
        ("cursor=eyJiZWZvcmUiOiA5MjIzMzcyMDM2ODU0Nzc1ODA4fQ", "cursor", "not a cursor this API gave"),
        ("cursor=abc", "cursor", "not a cursor this API gave"),
        ("cursor=eyJiZWZvcmUiOiAtMX0", "cursor", "not a cursor this API gave"),
        ("order=asc", "order", "accepted: kind, state, since, cursor, limit"),
        ("kind=a&kind=b", "kind", "more than once"),
        ("kind=nope", "kind", "kinds: brand, discount"),
    ],
)
def test_a_bad_list_parameter_is_400_naming_it_and_what_it_accepts(app: Any, query: str, param: str, says: str) -> None:
    reply = call(app, "GET", REQUESTS, token=CRM_TOKEN, query=query)
    assert reply.status == 400, reply.body
    error_of(reply)
    problems = reply.json()["errors"]
    assert [p["field"] for p in problems] == [param] and says in problems[0]["message"], problems
    assert "nothing was stored" not in reply.json()["error"]  # a read stores nothing anyway


@pytest.mark.parametrize(("ref", "status"), [("REQ-999999", 404), ("REQ-٤٢", 400), ("x", 400)])
def test_reading_an_unknown_or_unreadable_id(app: Any, ref: str, status: int) -> None:
    reply = call(app, "GET", f"{REQUESTS}/{ref}", token=CRM_TOKEN)
    assert reply.status == status and error_of(reply)


def test_the_cursor_walks_every_page_once(app: Any) -> None:
    for n in range(5):
        call(app, "POST", REQUESTS, body={**ROUTED, "fields": {"account": f"P{n}", "amount_pct": 30}}, token=CRM_TOKEN)
    everything = [
        r["request"] for r in call(app, "GET", REQUESTS, token=CRM_TOKEN, query="limit=100").json()["requests"]
    ]
    seen: list[str] = []
    query = "limit=2"
    while True:
        page = call(app, "GET", REQUESTS, token=CRM_TOKEN, query=query).json()
        seen += [r["request"] for r in page["requests"]]
        if page["next_cursor"] is None:
            break
        query = f"limit=2&cursor={page['next_cursor']}"
    assert seen == everything and len(set(seen)) == len(seen) >= 5


def test_explain_answers_the_explain_json_shape(app: Any) -> None:
    body = {"kind": "discount", "fields": {"account": "A", "amount_pct": 50}}
    reply = call(app, "POST", "/api/v1/explain", body=body, token=CRM_TOKEN)
    assert reply.status == 200, reply.body
    got = reply.json()
    assert {"outcome", "rule", "reason", "steps", "trace", "governance"} <= set(got)
    assert (got["outcome"], got["rule"]) == ("reject", "over-limit")
    assert got["trace"][0]["conditions"][0]["field"] == "amount_pct"
    bad = call(app, "POST", "/api/v1/explain", body={"kind": "discount", "fields": {}}, token=CRM_TOKEN)
    assert bad.status == 422 and sorted(fields_named(bad)) == ["fields.account", "fields.amount_pct"]


def test_a_failure_nobody_foresaw_is_500_with_an_id_never_a_traceback(
    app: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(**_: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr("handlers.api.file_for_client", boom)
    reply = call(app, "POST", REQUESTS, body=ROUTED, token=CRM_TOKEN)
    assert reply.status == 500 and "kaboom" not in error_of(reply)
    incident = error_of(reply).split("(error ")[1][:8]
    assert f"API error {incident}" in caplog.text and "RuntimeError: kaboom" in caplog.text


def test_past_the_answer_deadline_nothing_is_stored_and_the_answer_is_503(signoff: Signoff, app: Any) -> None:
    late = ApiEdge(signoff.runtime, max_body=MAX_BODY_BYTES, answer_seconds=0.0)
    before = call(app, "GET", REQUESTS, token=CRM_TOKEN, query="limit=1").json()
    reply = call(late, "POST", REQUESTS, body=ROUTED, token=CRM_TOKEN)
    assert (reply.status, reply.headers["retry-after"]) == (503, "1") and "nothing was saved" in error_of(reply)
    assert call(app, "GET", REQUESTS, token=CRM_TOKEN, query="limit=1").json() == before


def test_openapi_is_3_1_public_and_lists_every_route(app: Any) -> None:
    reply = call(app, "GET", "/api/v1/openapi.json")
    assert reply.status == 200
    document = reply.json()
    assert document["openapi"].startswith("3.1.")
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "signoff api-token",
    }
    routes = {(path, method) for path, item in document["paths"].items() for method in item}
    assert {(path, "options") for path in document["paths"]} <= routes  # 204 with Allow everywhere
    assert {(path, "head") for path, method in routes if method == "get"} <= routes  # GET without the body
    assert {(path, method) for path, method in routes if method not in ("head", "options")} == {
        ("/api/v1/requests", "post"),
        ("/api/v1/requests", "get"),
        ("/api/v1/requests/{request}", "get"),
        ("/api/v1/explain", "post"),
        ("/api/v1/openapi.json", "get"),
    }
    schemas = document["components"]["schemas"]
    refs = _refs(document)
    assert refs and all(ref.removeprefix("#/components/schemas/") in schemas for ref in refs), refs
    assert set(schemas["FileRequest"]["required"]) == {"kind", "requester", "fields"}


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []
