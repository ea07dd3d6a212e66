"""End to end: the HTTP API of a real `signoff serve` over HTTP, and a request it filed decided in Slack (emulated)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bot.slack.blocks import APPROVE
from bot.slack.emulator import SlackEmulator
from tests.api.conftest import API_GOVERNANCE, CRM_TOKEN
from tests.e2e.conftest import SignoffProcess, start_serve, stop
from tests.e2e.test_serve import WAIT, button, cards_of, dms_to, has_buttons, wait_cards
from tests.webhook_receiver import SECRET, Receiver, receiving

ROUTED = {"kind": "discount", "requester": "U0REQ1", "fields": {"account": "Globex", "amount_pct": 25}}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as listening:
        yield listening


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[SignoffProcess]:
    folder = tmp_path_factory.mktemp("api-serve")
    subscription = (
        f"\nwebhooks:\n  - id: crm\n    url: {receiver.url('/crm')}\n    secret_env: SIGNOFF_WEBHOOK_CRM_SECRET\n"
        "    events: [request.submitted, request.decided]\n"
    )
    (folder / "signoff.yaml").write_text(API_GOVERNANCE + subscription)
    with SlackEmulator() as slack:
        signoff = start_serve(folder, slack, extra_env={"SIGNOFF_WEBHOOK_CRM_SECRET": SECRET})
        try:
            yield signoff
        finally:
            stop(signoff.process)


def api(
    served: SignoffProcess,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    token: str | None = CRM_TOKEN,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One call over HTTP: status, headers (lower-case names), JSON body."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{served.url}{path}", data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, json.loads(exc.read())


def test_file_retry_refusals_read_back_and_list_over_http(served: SignoffProcess) -> None:
    status, _, filed = api(served, "POST", "/api/v1/requests", ROUTED, headers={"Idempotency-Key": "crm-order-1"})
    assert status == 201 and filed["state"] == "pending" and filed["steps"] == [{"group": "finance", "approvals": 1}]
    ref = filed["request"]
    assert {c.channel for c in wait_cards(served, ref, 2)} == {"D0FIN1", "D0FIN2"}  # cards, as for /request
    status, headers, again = api(served, "POST", "/api/v1/requests", ROUTED, headers={"Idempotency-Key": "crm-order-1"})
    assert (status, headers["idempotent-replayed"], again["request"]) == (200, "true", ref)

    assert api(served, "POST", "/api/v1/requests", ROUTED, token=None)[0] == 401
    assert api(served, "POST", "/api/v1/requests", ROUTED, token="sgf_wrong")[1]["www-authenticate"].startswith(
        "Bearer"
    )
    contract = {"kind": "contract", "requester": "U0REQ1", "fields": {"counterparty": "Initech"}}
    assert api(served, "POST", "/api/v1/requests", contract)[0] == 403
    status, _, invalid = api(served, "POST", "/api/v1/requests", {**ROUTED, "fields": {"amount_pct": "lots"}})
    assert status == 422 and [e["field"] for e in invalid["errors"]] == ["fields.account", "fields.amount_pct"]
    status, headers, _ = api(served, "DELETE", f"/api/v1/requests/{ref}")
    assert (status, headers["allow"]) == (405, "GET, HEAD, OPTIONS")

    status, _, one = api(served, "GET", f"/api/v1/requests/{ref}")
    assert (status, one["state"], one["via"], one["fields"]["account"]) == (200, "pending", "api:crm", "Globex")
    for n in range(4):
        api(served, "POST", "/api/v1/requests", {**ROUTED, "fields": {"account": f"Page{n}", "amount_pct": 30}})
    seen, path = [], "/api/v1/requests?limit=2"
    while path:
        status, _, page = api(served, "GET", path)
        assert status == 200 and len(page["requests"]) <= 2
        seen += [r["request"] for r in page["requests"]]
        path = f"/api/v1/requests?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert len(seen) == len(set(seen)) == 5 and seen[-1] == ref  # one request for the two calls with the key


def test_a_body_over_1_mib_is_413_before_it_is_sent(served: SignoffProcess) -> None:
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"POST /api/v1/requests HTTP/1.1\r\nHost: signoff\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {CRM_TOKEN}\r\nContent-Length: {1024 * 1024 + 1}\r\n\r\n".encode()
        )  # the headers only: the server must answer without waiting for the body
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"413", status_line


def raw_exchange(served: SignoffProcess, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` (request line and headers, without the blank line) and ``body`` on one socket; the answer."""
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head + b"\r\n\r\n" + body)
        answer = connection.makefile("rb")
        status = int(answer.readline().split()[1])
        headers: dict[str, str] = {}
        while (line := answer.readline().strip()) != b"":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers, answer.read(int(headers.get("content-length", "0")))


@pytest.mark.parametrize(
    ("head", "status", "says"),
    [
        (f"POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: {1024 * 1024 + 1}", 413, "1048576 bytes"),
        ("POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: abc", 400, "could not be read as HTTP"),
        ("POST /api/v1/explain HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked", 501, "Transfer-Encoding"),
        ("GET /API/V1/requests HTTP/1.1\r\nHost: x", 404, "paths are lowercase"),
    ],
)
def test_what_the_http_server_refuses_itself_is_in_the_apis_json_shape(
    served: SignoffProcess, head: str, status: int, says: str
) -> None:
    got, headers, body = raw_exchange(served, head.encode())
    assert (got, headers["content-type"]) == (status, "application/json"), body
    assert says in json.loads(body)["error"]


def test_a_body_of_exactly_1_mib_is_served_over_http(served: SignoffProcess) -> None:
    start = json.dumps({**ROUTED, "requester": "U0MIB1"}).encode()
    body = start + b" " * (1024 * 1024 - len(start))
    head = (
        "POST /api/v1/explain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {CRM_TOKEN}\r\nContent-Length: {len(body)}"
    )
    status, _, answer = raw_exchange(served, head.encode(), body)
    assert status == 200 and json.loads(answer)["outcome"] == "route"


def test_a_request_filed_by_the_api_is_approved_in_slack_never_by_its_requester(
    served: SignoffProcess, receiver: Receiver
) -> None:
    asked = {**ROUTED, "requester": "U0FIN1", "fields": {"account": "Hooli", "amount_pct": 22}}
    status, _, filed = api(served, "POST", "/api/v1/requests", asked)
    assert status == 201
    ref = filed["request"]
    card = wait_cards(served, ref, 1)[0]
    assert card.channel == "D0FIN2"  # the requester, a finance member, gets no card to approve
    value = button(card, APPROVE)
    served.click(APPROVE, value, user="U0FIN1")
    assert served.slack.wait_for(
        lambda s: any("someone else has to decide it" in str(r[1]) for r in s.responses), timeout=WAIT
    )
    assert api(served, "GET", f"/api/v1/requests/{ref}")[2]["state"] == "pending"
    assert served.click(APPROVE, value, user="U0FIN2").status == 200
    assert served.slack.wait_for(lambda s: all(not has_buttons(c) for c in cards_of(s, ref)), timeout=WAIT)
    assert served.slack.wait_for(lambda s: f"{ref} was approved by <@U0FIN2>." in dms_to(s, "U0FIN1"), timeout=WAIT)
    detail = api(served, "GET", f"/api/v1/requests/{ref}")[2]
    assert (detail["state"], detail["decided_by"]) == ("approved", "U0FIN2")
    assert [(v["voter"], v["verdict"]) for v in detail["votes"]] == [("U0FIN2", "approve")]
    # The system that filed it hears the decision through its signed webhook, once per event.
    assert receiver.wait_for(
        lambda r: (
            [a.type for a in r.of("/crm") if a.request == ref]
            == [
                "request.submitted",
                "request.decided",
            ]
        ),
        timeout=WAIT,
    ), [a.body for a in receiver.of("/crm")]
    decided = next(a for a in receiver.of("/crm") if a.request == ref and a.type == "request.decided")
    assert decided.verified
    assert (decided.body["data"]["state"], decided.body["data"]["decided_by"]) == ("approved", "U0FIN2")
    assert decided.body["data"]["fields"] == {"account": "Hooli", "amount_pct": 22}


def test_slacks_path_and_the_apis_never_cross(served: SignoffProcess) -> None:
    request = urllib.request.Request(
        f"{served.url}/slack/events",
        data=b'{"type": "url_verification", "challenge": "x"}',
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {CRM_TOKEN}"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    refused.value.close()
    assert refused.value.code == 401  # a token is no Slack signature
    before = api(served, "GET", "/api/v1/requests?limit=100")[2]
    reply = served.post(json.dumps(ROUTED).encode(), "application/json")  # Slack-signed, to /slack/events
    assert reply.status == 200  # Bolt's answer to an event it does not know
    assert api(served, "GET", "/api/v1/requests?limit=100")[2] == before  # nothing was filed
    status, _, document = api(served, "GET", "/api/v1/openapi.json", token=None)
    assert status == 200 and document["openapi"] == "3.1.0"
