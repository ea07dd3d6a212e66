"""The API's edges the QA pass attacked (findings A–F), through ``Signoff.wsgi()`` in-process: numbers as
written, keys once, strict query values, one JSON error shape, content type, auth scheme, HEAD/OPTIONS."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import MAX_BODY_BYTES, Signoff, build_signoff
from bot.settings import Settings
from bot.slack.emulator import SlackEmulator
from tests.api.conftest import API_GOVERNANCE, CRM_TOKEN
from tests.api.http import Reply, call
from tests.api.test_api_http import error_of, fields_named
from tests.slack.test_app import dispatch

REQUESTS = "/api/v1/requests"
EXPLAIN = "/api/v1/explain"


def raw(app: Any, path: str, text: str, **kwargs: Any) -> Reply:
    return call(app, "POST", path, body=text.encode(), token=CRM_TOKEN, **kwargs)


def discount(fields: str, requester: str = "U0NUM") -> str:
    return f'{{"kind": "discount", "requester": "{requester}", "fields": {{"account": "Acme", {fields}}}}}'


def count_requests(app: Any) -> int:
    return len(call(app, "GET", REQUESTS, token=CRM_TOKEN, query="limit=100").json()["requests"])


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ('"amount_pct": 20, "deal_value": 100.000', "fields.deal_value", "“100.000” is ambiguous: write 100 or 100000"),
        ('"amount_pct": 1.500', "fields.amount_pct", "“1.500” is ambiguous: write 1.5 or 1500"),
        ('"amount_pct": 1E3', "fields.amount_pct", "1E3, which has an exponent"),
        ('"amount_pct": 20, "deal_value": 1.0e-400', "fields.deal_value", "which has an exponent"),
        ('"amount_pct": 20, "deal_value": 1e400', "fields.deal_value", "which has an exponent"),
        ('"amount_pct": 10.0000000000000001', "fields.amount_pct", "more than 15 digits"),
        ('"amount_pct": 20, "deal_value": 2000.0000000000000001', "fields.deal_value", "more than 15 digits"),
        ('"amount_pct": 20, "deal_value": 20.0015', "fields.deal_value", "more than 2 decimal places"),
    ],
)
def test_a_json_number_is_read_as_written_never_rounded_or_guessed(
    app: Any, fields: str, field: str, says: str
) -> None:
    before = count_requests(app)
    for path in (REQUESTS, EXPLAIN):
        reply = raw(app, path, discount(fields))
        assert reply.status == 422, reply.body
        problems = {p["field"]: p["message"] for p in reply.json()["errors"]}
        assert says in problems[field], problems
    assert count_requests(app) == before  # nothing filed


def test_plain_numbers_still_work_and_the_string_and_number_spellings_agree(app: Any) -> None:
    for fields in ('"amount_pct": 25, "deal_value": 1500', '"amount_pct": 12.5, "deal_value": 1.5'):
        assert raw(app, EXPLAIN, discount(fields)).status == 200
    as_number = raw(app, EXPLAIN, discount('"amount_pct": 20, "deal_value": 100.000')).json()["errors"]
    as_text = raw(app, EXPLAIN, discount('"amount_pct": 20, "deal_value": "100.000"')).json()["errors"]
    assert as_number == as_text


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (
            '{"kind": "discount", "requester": "U0DUP", "fields": {"account": "A", "amount_pct": 50, "amount_pct": 5}}',
            "amount_pct",
        ),
        (
            '{"kind": "discount", "requester": "U0DUP", "requester": "U0FIN1", "fields": {"account": "A", "amount_pct": 5}}',
            "requester",
        ),
        (
            '{"kind": "brand", "kind": "discount", "requester": "U0DUP", "fields": {"account": "A", "amount_pct": 5}}',
            "kind",
        ),
    ],
)
def test_a_key_given_twice_anywhere_is_refused_naming_it(app: Any, body: str, key: str) -> None:
    before = count_requests(app)
    for path in (REQUESTS, EXPLAIN):
        reply = raw(app, path, body)
        assert reply.status == 400 and f"“{key}” is given twice" in error_of(reply)
        assert fields_named(reply) == [key]
    assert count_requests(app) == before


def test_a_number_is_not_text_and_errors_name_json_types_never_python_reprs(app: Any) -> None:
    cases = [
        (
            discount('"amount_pct": 5, "deal_value": true').replace('"Acme"', "123"),
            "fields.account",
            "got the number 123",
        ),
        (discount('"amount_pct": {"a": 1}'), "fields.amount_pct", "got an object"),
        (discount('"amount_pct": true'), "fields.amount_pct", "got true;"),
        ('{"kind": 5, "requester": "U0X1", "fields": {}}', "kind", "must be a JSON string, got a number"),
        ('{"kind": "discount", "requester": 12345, "fields": {}}', "requester", "Slack user id"),
        ('{"kind": "discount", "requester": null, "fields": {}}', "requester", "got null"),
        ('{"kind": "discount", "requester": "U0X1", "fields": []}', "fields", "must be a JSON object, got an array"),
    ]
    for body, field, says in cases:
        reply = raw(app, EXPLAIN, body)
        assert reply.status == 422, reply.body
        problems = {p["field"]: p["message"] for p in reply.json()["errors"]}
        assert says in problems[field], problems
        assert "{'" not in reply.body.decode() and "True" not in reply.body.decode()
        assert "nothing was stored" not in error_of(reply)  # explain never stores


def test_every_problem_is_listed_at_once_and_a_long_list_is_capped(app: Any) -> None:
    body = '{"kind": "discount", "requester": "U0QA3", "fields": {"account": "", "amount_pct": "lots", "bogus": 1}, "extra": 2}'
    reply = raw(app, REQUESTS, body)
    assert reply.status == 422 and "nothing was stored" in error_of(reply)
    assert set(fields_named(reply)) == {"extra", "fields.account", "fields.amount_pct", "fields.bogus"}
    many = json.dumps({"kind": "discount", "requester": "U0QA3", "fields": {f"f{n}": 1 for n in range(2000)}})
    capped = raw(app, EXPLAIN, many)
    assert capped.status == 422 and len(capped.json()["errors"]) == 51
    assert capped.json()["errors"][-1]["message"].startswith("and 1952 more problems")  # 2000 unknown, 2 missing


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("POST", REQUESTS, "dry_run=1"),
        ("POST", REQUESTS, "limit=abc"),
        ("POST", EXPLAIN, "x=1"),
        ("GET", f"{REQUESTS}/REQ-1", "foo=bar"),
        ("GET", "/api/v1/openapi.json", "v=2"),
    ],
)
def test_a_query_parameter_a_route_does_not_take_is_400_even_on_post(
    app: Any, method: str, path: str, query: str
) -> None:
    before = count_requests(app)
    body = discount('"amount_pct": 5', requester="U0DRY") if method == "POST" else None
    reply = call(app, method, path, body=body.encode() if body else None, token=CRM_TOKEN, query=query)
    assert reply.status == 400 and fields_named(reply) == [query.partition("=")[0]]
    assert count_requests(app) == before  # ?dry_run=1 filed nothing


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "",
        "application/json; charset=latin-1",
    ],
)
def test_a_body_not_sent_as_json_is_415_naming_the_type_accepted(app: Any, content_type: str) -> None:
    body = discount('"amount_pct": 5').encode()
    reply = call(app, "POST", EXPLAIN, body=body, token=CRM_TOKEN, headers={"Content-Type": content_type})
    assert reply.status == 415 and "send Content-Type: application/json" in error_of(reply) and reply.read == 0
    fine = call(
        app, "POST", EXPLAIN, body=body, token=CRM_TOKEN, headers={"Content-Type": "Application/JSON; Charset=UTF-8"}
    )
    assert fine.status == 200


def test_a_body_of_exactly_1_mib_is_read_and_one_byte_more_is_413(app: Any) -> None:
    body = discount('"amount_pct": 5').encode()
    exact = body + b" " * (MAX_BODY_BYTES - len(body))
    assert len(exact) == 1_048_576
    assert raw(app, EXPLAIN, exact.decode()).status == 200
    over = call(app, "POST", EXPLAIN, body=exact + b" ", token=CRM_TOKEN)
    assert over.status == 413 and "1048576" in error_of(over) and over.read == 0


def test_options_says_what_a_path_takes_and_head_is_get_without_its_body(app: Any) -> None:
    for path, allow in [
        (REQUESTS, "GET, POST, HEAD, OPTIONS"),
        (f"{REQUESTS}/REQ-1", "GET, HEAD, OPTIONS"),
        (EXPLAIN, "POST, OPTIONS"),
    ]:
        reply = call(app, "OPTIONS", path)
        assert (reply.status, reply.headers["allow"], reply.body) == (204, allow, b"")
    for path in ("/api/v1/openapi.json", REQUESTS):
        got = call(app, "GET", path, token=CRM_TOKEN)
        head = call(app, "HEAD", path, token=CRM_TOKEN)
        assert (head.status, head.body, head.headers["content-length"]) == (200, b"", str(len(got.body)))
    assert call(app, "HEAD", REQUESTS).status == 401  # HEAD is authenticated like GET


def test_a_miscased_api_path_is_a_json_404_that_says_paths_are_lowercase(app: Any) -> None:
    for path in ("/API/V1/requests", "/Api/v1/openapi.json", "/api/V1/explain"):
        reply = call(app, "GET", path, token=CRM_TOKEN)
        assert reply.status == 404 and "paths are lowercase" in error_of(reply)


@pytest.mark.parametrize(
    ("ref", "status", "says"),
    [
        ("REQ-2147483647", 404, "there is no request REQ-2147483647"),
        ("REQ-2147483648", 404, "there is no request REQ-2147483648"),
        ("REQ-99999999999", 404, "there is no request REQ-99999999999"),
        ("REQ-9223372036854775807", 400, "it has more than 11 digits"),
        ("REQ-\u0664\u0662", 400, "“REQ-\u0664\u0662” is not a request id"),  # echoed as written, not as mojibake
    ],
)
def test_an_id_past_storage_is_not_found_and_a_bad_one_says_why(app: Any, ref: str, status: int, says: str) -> None:
    path = f"{REQUESTS}/{ref}".encode().decode("latin-1")  # PEP 3333: PATH_INFO carries the bytes as latin-1
    reply = call(app, "GET", path, token=CRM_TOKEN)
    assert reply.status == status and says in error_of(reply)


def test_a_retry_that_spells_the_kind_otherwise_is_the_same_body(app: Any) -> None:
    key = {"Idempotency-Key": "kind-case-1"}
    first = raw(
        app, REQUESTS, discount('"amount_pct": 30', requester="U0CASE").replace('"discount"', '"Discount"'), headers=key
    )
    again = raw(app, REQUESTS, discount('"amount_pct": 30', requester="U0CASE"), headers=key)
    assert (first.status, again.status) == (201, 200)
    assert first.json()["request"] == again.json()["request"]


def test_a_retry_that_writes_a_number_otherwise_is_not_a_replay(app: Any) -> None:
    key = {"Idempotency-Key": "numbers-1"}
    first = raw(app, REQUESTS, discount('"amount_pct": 5.0', requester="U0NUMS"), headers=key)
    assert first.status == 201
    # 5.000 reads as 5.0 to a float but is refused as ambiguous: it must not be answered with the
    # request 5.0 filed, as if it had been approved.
    again = raw(app, REQUESTS, discount('"amount_pct": 5.000', requester="U0NUMS"), headers=key)
    assert again.status == 422 and "Idempotent-Replayed" not in dict(again.headers)


@pytest.mark.parametrize("ref", ["REQ-2%20", "%20REQ-2", "REQ-2%09", "REQ-2%0A"])
def test_an_id_with_spaces_around_it_is_not_an_id(app: Any, ref: str) -> None:
    path = f"{REQUESTS}/{urllib.parse.unquote(ref)}"
    reply = call(app, "GET", path, token=CRM_TOKEN)
    assert reply.status == 400 and "is not a request id" in error_of(reply)


# ---- on each database: an id past what PostgreSQL's INTEGER holds, through the API and a Slack command


@pytest.fixture
def on_each_database(database_url: str, tmp_path: Path) -> Iterator[Signoff]:
    config = tmp_path / "signoff.yaml"
    config.write_text(API_GOVERNANCE)
    with SlackEmulator() as slack:
        values: dict[str, object] = {
            "SLACK_BOT_TOKEN": SecretStr("xoxb-test"),
            "SLACK_SIGNING_SECRET": SecretStr("secret"),
            "SIGNOFF_CONFIG": config,
            "SIGNOFF_DATABASE_URL": database_url,
            "SIGNOFF_SLACK_API_URL": slack.api_url,
        }
        built = build_signoff(Settings.model_validate(values))
        yield built
        built.engine.dispose()


@pytest.mark.parametrize("ref", ["REQ-2147483648", "REQ-99999999999", "REQ-2147483647"])
def test_an_id_past_storage_is_no_such_request_on_every_surface(on_each_database: Signoff, ref: str) -> None:
    reply = call(on_each_database.wsgi(), "GET", f"{REQUESTS}/{ref}", token=CRM_TOKEN)
    assert reply.status == 404 and error_of(reply) == f"there is no request {ref}"
    form = {"command": "/signoff", "text": f"status {ref}", "user_id": "U0SAM", "channel_id": "D0SAM", "team_id": "T0"}
    assert f"there is no request {ref}" in dispatch(on_each_database, form)
    since = "since=2026-01-01T00:00:00Z&cursor=eyJiZWZvcmUiOiAyMTQ3NDgzNjQ3fQ"  # before = 2**31 - 1: the last id
    assert call(on_each_database.wsgi(), "GET", REQUESTS, token=CRM_TOKEN, query=since).status == 200
