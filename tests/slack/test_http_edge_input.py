"""Signed input the edge must read exactly once and bound: "payload" in a form, lone surrogates, ids, Content-Length.

Every case posts through ``Signoff.wsgi()`` and asserts the exact status and answer. The id
cases run on SQLite and, with SIGNOFF_TEST_DATABASE_URL set, on PostgreSQL (where an id longer
than its column, or with a NUL, used to be a 500).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import MAX_BODY_BYTES, build_signoff
from bot.domain.errors import NotAllowed
from bot.slack.blocks import APPROVE, REASON_VIEW, REQUEST_VIEW
from bot.slack.emulator import SlackEmulator
from bot.slack.http_edge import _encoded
from handlers.payloads import ODD_TRIGGER, ODD_USER
from handlers.refusals import refusal_text
from storage.records import RequestRecord
from tests.conftest import BACKENDS, database_url_for
from tests.slack.test_app import settings_for
from tests.slack.test_http_edge import FORM, Edge, one_line_no_traceback
from tests.slack.wsgi import Answer, form, interaction, signed

JSON = "application/json"
FILED = ":hourglass_flowing_sand: `REQ-"
LONG_USER = "U" + "A" * 39


@pytest.fixture(scope="module", params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    tmp = tmp_path_factory.mktemp(f"input-{request.param}")
    urls = database_url_for(request.param, tmp)
    url = next(urls)
    try:
        with SlackEmulator() as slack:
            signoff = build_signoff(settings_for(tmp, slack, SIGNOFF_DATABASE_URL=url))
            yield Edge(signoff.wsgi(), slack, signoff)
            signoff.engine.dispose()
    finally:
        next(urls, None)  # drops the PostgreSQL schema


def requests_stored(app: Edge) -> int:
    with app.signoff.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(RequestRecord)).scalar_one())


def slash(command: str = "/request", text: str = "discount account=Acme amount_pct=20", **fields: str) -> bytes:
    values = {
        "command": command,
        "text": text,
        "user_id": "U0SAM",
        "user_name": "sam",
        "trigger_id": "t-1",
        "channel_id": "C1",
        "channel_name": "general",
        **fields,
    }
    return form(**values)


_trigger = iter(range(10**6))


def trigger() -> str:
    return f"t-input-{next(_trigger)}"


WITH_THE_WORD_PAYLOAD = [
    ("a value 'payload'", {"text": "discount account=payload amount_pct=20"}),
    ("a note mentioning payload=", {"text": 'discount account="payload=1" amount_pct=20'}),
    ("user_name payloadking", {"user_name": "payloadking"}),
    ("a channel named payload", {"channel_name": "payload-reviews"}),
]


@pytest.mark.parametrize(("case", "fields"), WITH_THE_WORD_PAYLOAD, ids=[c[0] for c in WITH_THE_WORD_PAYLOAD])
def test_a_slash_command_with_the_word_payload_is_filed(app: Edge, case: str, fields: dict[str, str]) -> None:
    """Bolt's own parse returned {} for any form containing "payload": the command vanished (200, nothing filed)."""
    before = requests_stored(app)
    body = slash(**{"trigger_id": trigger(), **fields})
    got = app.post(body, signed(body))
    assert got.status == 200 and got.body.startswith(FILED), got
    assert requests_stored(app) == before + 1


def _json_command(text: str, command: str = "/request") -> bytes:
    payload = {"command": command, "text": text, "user_id": "U0SAM", "trigger_id": "t-s", "channel_id": "C1"}
    return json.dumps(payload).encode()


def _click(user: str) -> bytes:
    action = {"action_id": APPROVE, "value": '{"r":1}', "type": "button", "block_id": "b"}
    return interaction({"type": "block_actions", "user": {"id": user}, "trigger_id": "t", "actions": [action]})


def _form(value: str, user: str = "U0SAM") -> bytes:
    values = {"account": {"value": {"type": "plain_text_input", "value": value}}}
    view = {"id": "V0S", "type": "modal", "callback_id": REQUEST_VIEW, "private_metadata": '{"kind":"discount"}'}
    return interaction({"type": "view_submission", "user": {"id": user}, "view": {**view, "state": {"values": values}}})


def _home(user: str) -> bytes:
    return json.dumps({"type": "event_callback", "event": {"type": "app_home_opened", "user": user}}).encode()


def _surrogate(what: str) -> str:
    return f"the {what} holds U+D800 (a lone surrogate), which is not Unicode text"


SURROGATES = [
    # (case, body, content type, answer)
    ("JSON command text", _json_command("\ud800zz a=1"), JSON, _surrogate("/request request")),
    (
        "/signoff status REQ-\\ud800",
        _json_command("status REQ-\ud800", "/signoff"),
        JSON,
        _surrogate("/signoff request"),
    ),
    ("a form value", _form("A\ud800"), FORM, _surrogate("view_submission request")),
    ("a form's user", _form("Acme", user="U0\ud800"), FORM, _surrogate("view_submission request")),
    ("a click's user", _click("U0\ud800"), FORM, _surrogate("block_actions request")),
    ("home opened by U0\\ud800", _home("U0\ud800"), JSON, _surrogate("event_callback request")),
    ("a key", json.dumps({"type": "event_callback", "\ud800": 1}).encode(), JSON, _surrogate("event_callback request")),
    ("deep in a list", json.dumps({"a": [[{"b": ["\ud800"]}]]}).encode(), JSON, _surrogate("request")),
    ("a low surrogate", json.dumps({"t": "\udc00"}).encode(), JSON, _surrogate("request").replace("D800", "DC00")),
]


@pytest.mark.parametrize(("case", "body", "content_type", "answer"), SURROGATES, ids=[c[0] for c in SURROGATES])
def test_lone_surrogates_are_refused_at_the_edge(
    app: Edge, caplog: pytest.LogCaptureFixture, case: str, body: bytes, content_type: str, answer: str
) -> None:
    before = requests_stored(app)
    with caplog.at_level(logging.INFO):
        assert app.post(body, signed(body, content_type)) == Answer(400, answer)
    assert one_line_no_traceback(caplog) == [f"refused a Slack request (400): {answer}"]
    assert requests_stored(app) == before


def test_an_answer_holding_a_lone_surrogate_is_still_encoded() -> None:
    assert _encoded("REQ-\ud800 ok") == b"REQ-? ok"


def _refused(error: NotAllowed) -> str:
    return refusal_text(error)


ODD_IDS: list[tuple[str, bytes, str | dict[str, Any]]] = [
    # (case, body, the answer: text, or the JSON Slack gets)
    ("/request by a 40-character user id", slash(user_id=LONG_USER), f":warning: {ODD_USER}"),
    ("/request by U0\\x00SAM", slash(user_id="U0\x00SAM"), f":warning: {ODD_USER}"),
    ("/request by a lower-case id", slash(user_id="u0sam"), f":warning: {ODD_USER}"),
    ("/request by Ü0SAM", slash(user_id="Ü0SAM"), f":warning: {ODD_USER}"),
    ("/request by U0SAM and a newline", slash(user_id="U0SAM\n"), f":warning: {ODD_USER}"),
    ("/request with a 300-character trigger", slash(trigger_id="t" * 300), f":warning: {ODD_TRIGGER}"),
    ("/request with a NUL in the trigger", slash(trigger_id="t-\x00-1"), f":warning: {ODD_TRIGGER}"),
    ("/request with a space in the trigger", slash(trigger_id="t 1"), f":warning: {ODD_TRIGGER}"),
    ("/signoff by U0\\x00SAM", slash("/signoff", "", user_id="U0\x00SAM"), f":warning: {ODD_USER}"),
    (
        "/signoff delegate to a 43-character id",
        slash("/signoff", f"delegate <@U0{'A' * 41}|bob> until 2099-01-01"),
        _refused(
            NotAllowed(
                "name the person to delegate to as an @mention, one Slack turns into a user id such as U0123ABCD"
            )
        ),
    ),
    (
        "a request form by a 40-character user id",
        _form("Acme", user=LONG_USER),
        {
            "response_action": "errors",
            "errors": {"account": ODD_USER},
        },
    ),
    ("a click by a 40-character user id", _click(LONG_USER), ""),
]


@pytest.mark.parametrize(("case", "body", "answer"), ODD_IDS, ids=[c[0] for c in ODD_IDS])
def test_ids_of_another_shape_are_refused_before_storage(
    app: Edge, caplog: pytest.LogCaptureFixture, case: str, body: bytes, answer: str | dict[str, Any]
) -> None:
    before = requests_stored(app)
    with caplog.at_level(logging.INFO):
        got = app.post(body, signed(body))
    assert got.status == 200
    assert (got.json() if isinstance(answer, dict) else got.body) == answer
    assert len(one_line_no_traceback(caplog)) <= 1
    assert requests_stored(app) == before


def test_home_opened_by_an_id_of_another_shape_is_ignored_in_one_line(
    app: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    body = _home(LONG_USER)
    with caplog.at_level(logging.INFO):
        assert app.post(body, signed(body, JSON)) == Answer(200, "")
    lines = one_line_no_traceback(caplog)
    assert len(lines) == 1 and "is not U or W, then 2 to 20 capitals or digits" in lines[0], lines
    assert LONG_USER not in app.slack.home_views


def test_a_reason_longer_than_the_form_allows_is_refused(app: Edge) -> None:
    values = {"reason": {"value": {"type": "plain_text_input", "value": "x" * 500_000}}}
    view = {"id": "V0R", "type": "modal", "callback_id": REASON_VIEW, "private_metadata": '{"r":1,"verdict":"reject"}'}
    body = interaction(
        {"type": "view_submission", "user": {"id": "U0FIN1"}, "view": {**view, "state": {"values": values}}}
    )
    got = app.post(body, signed(body))
    message = "the reason is 500000 characters long; shorten it to at most 1000"
    assert got.status == 200 and got.json() == {"response_action": "errors", "errors": {"reason": message}}


ZERO_PADDED = [
    ("25 leading zeros", "0" * 25 + "3", 200, ""),
    ("100 leading zeros", "0" * 100 + "3", 200, ""),
    (
        "zeros, then more than the limit",
        "0" * 30 + str(MAX_BODY_BYTES + 1),
        413,
        f"the body is larger than {MAX_BODY_BYTES} bytes",
    ),
    ("a plus sign", "+3", 400, "Content-Length is not a number of bytes"),
    ("fullwidth digits", "３", 400, "Content-Length is not a number of bytes"),
    ("25 digits of nines", "9" * 25, 413, f"the body is larger than {MAX_BODY_BYTES} bytes"),
]


@pytest.mark.parametrize(("case", "length", "status", "answer"), ZERO_PADDED, ids=[c[0] for c in ZERO_PADDED])
def test_content_length_is_read_by_value(app: Edge, case: str, length: str, status: int, answer: str) -> None:
    """A correctly signed body with a zero-padded length was 401: ``int(declared[:20])`` read 0 bytes."""
    assert app.post(b"a=b", signed(b"a=b"), content_length=length) == Answer(status, answer)
