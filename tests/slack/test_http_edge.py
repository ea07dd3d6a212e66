"""Slack's HTTP endpoint, input by input: the exact status and answer, and one log line, never a traceback.

Every request goes through ``Signoff.wsgi()`` (the app waitress serves) in-process. Unsigned,
badly signed or stale requests are 401 before anything reads their body; signed bodies that
are not a JSON object are 400; signed payloads of a surprising shape are answered in a
sentence or acknowledged and ignored (200), never 500 and never Bolt's 404.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import MAX_BODY_BYTES, Signoff, build_signoff
from bot.slack.blocks import APPROVE, PICK_KIND, REASON_VIEW, REQUEST_VIEW
from bot.slack.emulator import SlackEmulator
from handlers.payloads import CLICK_DAMAGED, FORM_DAMAGED
from tests.slack.test_app import settings_for
from tests.slack.wsgi import Answer, drain, form, interaction, post, signature, signed

NOT_SIGNED = "the request is not signed (X-Slack-Signature and X-Slack-Request-Timestamp)"
BAD_STAMP = "X-Slack-Request-Timestamp is not a time in seconds"
STALE = "X-Slack-Request-Timestamp is more than 5 minutes from now"
WRONG = "the signature does not match this app's signing secret"
WHO = ":warning: Slack did not say who you are, so nothing was done; please try again."
FORM = "application/x-www-form-urlencoded"


@dataclass
class Edge:
    wsgi: Any
    slack: SlackEmulator
    signoff: Signoff

    def post(self, body: bytes, headers: dict[str, str], **kw: Any) -> Answer:
        """Post, then wait for any work the listener does after its acknowledgement."""
        answer = post(self.wsgi, body, headers, **kw)
        drain(self.signoff.bolt)
        return answer


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    with SlackEmulator() as slack:
        signoff = build_signoff(settings_for(tmp_path_factory.mktemp("edge"), slack))
        yield Edge(signoff.wsgi(), slack, signoff)
        signoff.engine.dispose()


def now() -> str:
    return str(int(time.time()))


def with_stamp(body: bytes, stamp: str, *, secret: str = "secret") -> dict[str, str]:
    return {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(body, stamp, secret),
    }


def one_line_no_traceback(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings and errors logged: each one line, none with a traceback."""
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in loud), [r.getMessage() for r in loud]
    return [r.getMessage() for r in loud]


REFUSED_UNREAD = [
    # (case, body, headers (made when the test runs: timestamps are of now), status, answer)
    ("unsigned payload={nope", b"payload={nope", lambda: {"Content-Type": FORM}, 401, NOT_SIGNED),
    ("unsigned invalid UTF-8", b"\xff\xfe\xfd", lambda: {"Content-Type": FORM}, 401, NOT_SIGNED),
    ("unsigned JSON array", b"[1, 2]", lambda: {"Content-Type": "application/json"}, 401, NOT_SIGNED),
    (
        "signature without a timestamp",
        b"a=b",
        lambda: {"Content-Type": FORM, "X-Slack-Signature": "v0=00"},
        401,
        NOT_SIGNED,
    ),
    (
        "timestamp without a signature",
        b"a=b",
        lambda: {"Content-Type": FORM, "X-Slack-Request-Timestamp": "1"},
        401,
        NOT_SIGNED,
    ),
    ("timestamp not a number", b"a=b", lambda: with_stamp(b"a=b", "abc"), 401, BAD_STAMP),
    ("timestamp of 400 digits", b"a=b", lambda: with_stamp(b"a=b", "9" * 400), 401, BAD_STAMP),
    ("negative timestamp", b"a=b", lambda: with_stamp(b"a=b", "-5"), 401, BAD_STAMP),
    ("timestamp with a space", b"a=b", lambda: with_stamp(b"a=b", " 17"), 401, BAD_STAMP),
    ("timestamp with a decimal point", b"a=b", lambda: with_stamp(b"a=b", "1700000000.5"), 401, BAD_STAMP),
    ("stale: 5 min 1 s ago", b"a=b", lambda: with_stamp(b"a=b", str(int(time.time()) - 301)), 401, STALE),
    ("from 5 min 1 s ahead", b"a=b", lambda: with_stamp(b"a=b", str(int(time.time()) + 301)), 401, STALE),
    ("another app's secret", b"a=b", lambda: with_stamp(b"a=b", now(), secret="other"), 401, WRONG),
    ("body changed after signing", b"a=c", lambda: with_stamp(b"a=b", now()), 401, WRONG),
    ("signature not v0", b"a=b", lambda: {**with_stamp(b"a=b", now()), "X-Slack-Signature": "v1=abc"}, 401, WRONG),
    ("invalid UTF-8, badly signed", b"\xff", lambda: with_stamp(b"\xfe", now()), 401, WRONG),
]


@pytest.mark.parametrize(
    ("case", "body", "headers", "status", "answer"), REFUSED_UNREAD, ids=[c[0] for c in REFUSED_UNREAD]
)
def test_unauthenticated_requests_are_401_before_anything_reads_them(
    app: Edge,
    caplog: pytest.LogCaptureFixture,
    case: str,
    body: bytes,
    headers: Callable[[], dict[str, str]],
    status: int,
    answer: str,
) -> None:
    with caplog.at_level(logging.INFO):
        assert app.post(body, headers()) == Answer(status, answer)
    assert one_line_no_traceback(caplog) == [f"refused a Slack request ({status}): {answer}"]


SIGNED_UNREADABLE = [
    ("payload={nope", b"payload={nope", FORM, "the payload is not JSON"),
    ("invalid UTF-8", b"\xff\xfe\xfd", FORM, "the body is not UTF-8 text"),
    ("JSON array", b"[1, 2]", "application/json", "the JSON body is not a JSON object"),
    ("JSON string", b'"hello"', "application/json", "the JSON body is not a JSON object"),
    ("JSON cut short", b'{"type": ', "application/json", "the JSON body is not JSON"),
    ("JSON nested 100 000 deep", b"[" * 100_000, "application/json", "the JSON body is not JSON"),
    ("object-looking form body", b"{nope", FORM, "the JSON body is not JSON"),
    ("payload an array", form(payload="[1]"), FORM, "the payload is not a JSON object"),
    ("payload null", form(payload="null"), FORM, "the payload is not a JSON object"),
]


@pytest.mark.parametrize(
    ("case", "body", "content_type", "answer"), SIGNED_UNREADABLE, ids=[c[0] for c in SIGNED_UNREADABLE]
)
def test_signed_bodies_that_are_not_a_json_object_are_400(
    app: Edge, caplog: pytest.LogCaptureFixture, case: str, body: bytes, content_type: str, answer: str
) -> None:
    with caplog.at_level(logging.INFO):
        assert app.post(body, signed(body, content_type)) == Answer(400, answer)
    assert one_line_no_traceback(caplog) == [f"refused a Slack request (400): {answer}"]


LENGTHS = [
    ("one byte over 1 MiB", str(MAX_BODY_BYTES + 1), 413, f"the body is larger than {MAX_BODY_BYTES} bytes"),
    ("a terabyte", str(10**12), 413, f"the body is larger than {MAX_BODY_BYTES} bytes"),
    ("not a number", "abc", 400, "Content-Length is not a number of bytes"),
    ("negative", "-1", 400, "Content-Length is not a number of bytes"),
    ("longer than the body", "10", 400, "the body ended after 3 of 10 bytes"),
]


@pytest.mark.parametrize(("case", "length", "status", "answer"), LENGTHS, ids=[c[0] for c in LENGTHS])
def test_the_declared_length_is_checked_before_the_body_is_read(
    app: Edge, caplog: pytest.LogCaptureFixture, case: str, length: str, status: int, answer: str
) -> None:
    with caplog.at_level(logging.INFO):
        assert app.post(b"a=b", signed(b"a=b"), content_length=length) == Answer(status, answer)
    assert one_line_no_traceback(caplog) == [f"refused a Slack request ({status}): {answer}"]


def button_click(value: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U0FIN1"},
        "trigger_id": "t-click",
        "actions": [{"action_id": APPROVE, "value": value, "type": "button", "block_id": "b"}],
        "container": {"type": "message"},
        "channel": {"id": "D0X"},
        **extra,
    }


def submission(callback_id: str, metadata: str, *, user: Any = None, blocks: bool = True) -> dict[str, Any]:
    values = {"reason": {"value": {"type": "plain_text_input", "value": "ok"}}} if blocks else {}
    view = {"id": "V0FORM", "type": "modal", "callback_id": callback_id, "private_metadata": metadata}
    payload: dict[str, Any] = {"type": "view_submission", "view": {**view, "state": {"values": values}}}
    if user is not None:
        payload["user"] = user
    return payload


def command(text: str, **fields: str) -> bytes:
    values = {"command": "/signoff", "text": text, "user_id": "U0SAM", "trigger_id": "t-cmd", "channel_id": "C1"}
    return form(**{**values, **fields})


DAMAGED_FORM = {"response_action": "errors", "errors": {"reason": FORM_DAMAGED}}

SIGNED_SURPRISES: list[tuple[str, bytes, str, str | dict[str, Any]]] = [
    # (case, body, content type, the answer: text, or the JSON Slack gets)
    ("block_actions with actions: []", interaction({**button_click("{}"), "actions": []}), FORM, ""),
    ("button value names no request", interaction(button_click('{"h":"x"}')), FORM, ""),
    ("button value with Arabic-Indic digits", interaction(button_click('{"r":"٤٢"}')), FORM, ""),
    ("button value not JSON", interaction(button_click("REQ-1")), FORM, ""),
    ("click without a user", interaction({**button_click('{"r":1}'), "user": None}), FORM, ""),
    (
        "picked kind missing",
        interaction(
            {
                **button_click("{}"),
                "actions": [{"action_id": PICK_KIND, "type": "static_select"}],
                "view": {"id": "V1", "private_metadata": "{}"},
            }
        ),
        FORM,
        "",
    ),
    (
        "/signoff status REQ-٤٢",
        command("status REQ-٤٢"),
        FORM,
        "`REQ-٤٢` is not a request id: it takes REQ- and a number in digits 0-9. Try `/signoff status REQ-42`.",
    ),
    (
        "/signoff cancel with fullwidth digits",
        command("cancel REQ-１２"),
        FORM,
        "`REQ-１２` is not a request id: it takes REQ- and a number in digits 0-9. Try `/signoff cancel REQ-42`.",
    ),
    (
        "/signoff status with a 12-digit id",
        command("status REQ-123456789012"),
        FORM,
        "`REQ-123456789012` is not a request id: it has more than 11 digits. Try `/signoff status REQ-42`.",
    ),
    ("/signoff status without an id", command("status"), FORM, "Which request? Try `/signoff status REQ-42`."),
    ("/signoff without a user", command("", user_id=""), FORM, WHO),
    (
        "/request without a user",
        form(command="/request", text="discount account=A amount_pct=5", trigger_id="t"),
        FORM,
        WHO,
    ),
    ("an unknown command", form(command="/nope", text="", user_id="U0SAM"), FORM, ""),
    ("form for an unknown callback", interaction(submission("someone.else", "{}")), FORM, ""),
    (
        "request form, metadata not JSON",
        interaction(submission(REQUEST_VIEW, "{nope", user={"id": "U0SAM"})),
        FORM,
        DAMAGED_FORM,
    ),
    (
        "request form, metadata a list",
        interaction(submission(REQUEST_VIEW, "[]", user={"id": "U0SAM"})),
        FORM,
        DAMAGED_FORM,
    ),
    (
        "request form, an unknown category",
        interaction(submission(REQUEST_VIEW, '{"kind":"discount","category":"bogus"}', user={"id": "U0SAM"})),
        FORM,
        DAMAGED_FORM,
    ),
    (
        "request form without a kind",
        interaction(submission(REQUEST_VIEW, "{}", user={"id": "U0SAM"})),
        FORM,
        DAMAGED_FORM,
    ),
    (
        "reason form without the request",
        interaction(submission(REASON_VIEW, '{"verdict":"reject"}', user={"id": "U0FIN1"})),
        FORM,
        DAMAGED_FORM,
    ),
    (
        "reason form with Arabic-Indic digits",
        interaction(submission(REASON_VIEW, '{"r":"٤٢","verdict":"reject"}', user={"id": "U0FIN1"})),
        FORM,
        DAMAGED_FORM,
    ),
    (
        "reason form without a user",
        interaction(submission(REASON_VIEW, '{"r":1,"verdict":"reject"}')),
        FORM,
        {"response_action": "errors", "errors": {"reason": WHO.removeprefix(":warning: ")}},
    ),
    (
        "form without inputs and damaged metadata",
        interaction(submission(REASON_VIEW, "{", user={"id": "U0FIN1"}, blocks=False)),
        FORM,
        {
            "response_action": "update",
            "view": {
                "type": "modal",
                "title": {"type": "plain_text", "text": "Signoff"},
                "close": {"type": "plain_text", "text": "Done"},
                "blocks": [{"type": "section", "text": {"type": "plain_text", "text": FORM_DAMAGED}}],
            },
        },
    ),
    ("view_submission without a view", interaction({"type": "view_submission", "user": {"id": "U0SAM"}}), FORM, ""),
    (
        "home opened without a user",
        json.dumps({"type": "event_callback", "event": {"type": "app_home_opened"}}).encode(),
        "application/json",
        "",
    ),
    ("event that is a list", json.dumps({"type": "event_callback", "event": [1]}).encode(), "application/json", ""),
    (
        "an event nobody listens to",
        json.dumps({"type": "event_callback", "event": {"type": "reaction_added"}}).encode(),
        "application/json",
        "",
    ),
    ("team that is a list", interaction({**button_click('{"r":1}'), "team": [1]}), FORM, ""),
    ("an empty body", b"", FORM, ""),
]


@pytest.mark.parametrize(
    ("case", "body", "content_type", "answer"), SIGNED_SURPRISES, ids=[c[0] for c in SIGNED_SURPRISES]
)
def test_signed_payloads_of_a_surprising_shape_are_answered_or_ignored(
    app: Edge,
    caplog: pytest.LogCaptureFixture,
    case: str,
    body: bytes,
    content_type: str,
    answer: str | dict[str, Any],
) -> None:
    with caplog.at_level(logging.INFO):
        got = app.post(body, signed(body, content_type))
    assert got.status == 200
    assert (got.json() if isinstance(answer, dict) else got.body) == answer
    assert len(one_line_no_traceback(caplog)) <= 1


@pytest.mark.parametrize(
    ("value", "told"),
    [
        ('{"h":"x"}', f":warning: {CLICK_DAMAGED}"),
        ('{"r":"٤٢"}', f":warning: {CLICK_DAMAGED}"),
        ('{"r":999999}', ":no_entry: there is no request REQ-999999"),
    ],
)
def test_a_click_that_names_no_readable_request_is_told_by_its_response_url(app: Edge, value: str, told: str) -> None:
    slack = app.slack
    key = f"click-{len(slack.responses)}"
    body = interaction(button_click(value, response_url=slack.response_url(key)))
    assert app.post(body, signed(body)) == Answer(200, "")
    assert slack.wait_for(lambda s: any(k == key for k, _ in s.responses), timeout=5)
    assert [r["text"] for k, r in slack.responses if k == key] == [told]


def test_url_verification_is_answered_with_its_challenge(app: Edge) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}).encode()
    assert app.post(body, signed(body, "application/json")).json() == {"challenge": "c-123"}


@pytest.mark.parametrize(
    ("method", "path", "status", "answer"),
    [("GET", "/slack/events", 405, "Slack posts to this address"), ("POST", "/elsewhere", 404, "not found")],
)
def test_other_methods_and_paths_are_refused(app: Edge, method: str, path: str, status: int, answer: str) -> None:
    assert app.post(b"", {}, method=method, path=path) == Answer(status, answer)


def test_a_blank_signing_secret_cannot_build_the_http_edge(tmp_path: Path) -> None:
    """Settings treat a blank secret as unset; the edge itself refuses one too (never an HMAC keyed by '')."""
    from bot.slack.http_edge import SlackEdge

    with pytest.raises(ValueError, match="signing secret"):
        SlackEdge(None, signing_secret="  ", max_body=1)  # type: ignore[arg-type]
