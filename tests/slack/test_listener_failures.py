"""A Slack call that fails inside a listener: Slack still gets its 200 at once, the person a sentence."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from slack_bolt import Ack
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.app import Signoff, build_signoff
from bot.domain.errors import StorageBusy
from bot.domain.governance import UnknownKind
from bot.services.submit import submit_request
from bot.slack.blocks import REJECT
from bot.slack.emulator import SlackEmulator
from handlers.guard import GuardedApp
from tests.slack.test_app import settings_for
from tests.slack.wsgi import drain


@pytest.fixture
def signoff(tmp_path: Path, slack: SlackEmulator) -> Iterator[Signoff]:
    built = build_signoff(settings_for(tmp_path, slack))
    yield built
    built.engine.dispose()


def dispatch(signoff: Signoff, form: dict[str, str]) -> tuple[int, str, float]:
    """A signed request, as Slack sends it: the HTTP status, body and seconds to the answer."""
    body = urlencode(form)
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(b"secret", f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": signature,
    }
    started = time.monotonic()
    response = signoff.bolt.dispatch(BoltRequest(body=body, headers=headers))  # type: ignore[arg-type]
    return response.status, str(response.body), time.monotonic() - started


def slash(slack: SlackEmulator, text: str) -> dict[str, str]:
    return {
        "command": "/request",
        "text": text,
        "user_id": "U0SAM",
        "channel_id": "C0SALES",
        "trigger_id": "t-cmd",
        "response_url": slack.response_url("cmd"),
    }


def click(slack: SlackEmulator, request_id: int, *, user: str = "U0FIN1") -> dict[str, str]:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T0"},
        "channel": {"id": "D0FIN1"},
        "trigger_id": "t-click",
        "response_url": slack.response_url("click"),
        "actions": [
            {"type": "button", "action_id": REJECT, "block_id": "b", "value": json.dumps({"r": request_id, "h": None})}
        ],
    }
    return {"payload": json.dumps(payload)}


def ephemeral_answers(slack: SlackEmulator, key: str) -> list[str]:
    return [str(args.get("text")) for k, args in slack.responses if k == key]


FAULTS = [
    ({"error": "expired_trigger_id"}, "The form could not open because Slack's trigger expired — {again}."),
    (
        {"error": "invalid_arguments"},
        "The form could not open: Slack answered `invalid_arguments`. Nothing was changed; {again}.",
    ),
    ({"status": 500}, "The form could not open: Slack answered `fatal_error`. Nothing was changed; {again}."),
]


@pytest.mark.parametrize(("fault", "sentence"), FAULTS)
def test_a_slash_command_whose_form_cannot_open_is_answered_at_once_and_told_why(
    signoff: Signoff, slack: SlackEmulator, fault: dict[str, object], sentence: str
) -> None:
    slack.fail("views.open", **fault)  # type: ignore[arg-type]
    status, _, seconds = dispatch(signoff, slash(slack, "discount"))
    assert status == 200 and seconds < 2.5
    assert slack.wait_for(lambda s: bool(ephemeral_answers(s, "cmd")), timeout=5)
    assert ephemeral_answers(slack, "cmd") == [":warning: " + sentence.format(again="run /request again")]


@pytest.mark.parametrize(("fault", "sentence"), FAULTS)
def test_a_button_whose_form_cannot_open_is_answered_at_once_and_told_why(
    signoff: Signoff, slack: SlackEmulator, fault: dict[str, object], sentence: str
) -> None:
    request = submit_request(
        runtime=signoff.runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=25"
    )
    slack.fail("views.open", **fault)  # type: ignore[arg-type]
    status, _, seconds = dispatch(signoff, click(slack, request.request_id))
    assert status == 200 and seconds < 2.5
    assert slack.wait_for(lambda s: bool(ephemeral_answers(s, "click")), timeout=5)
    assert ephemeral_answers(slack, "click") == [":warning: " + sentence.format(again="click the button again")]


def test_a_failure_before_the_ack_is_answered_in_the_ack(signoff: Signoff, slack: SlackEmulator) -> None:
    def lookup(ack: Ack, client: WebClient, command: dict[str, str]) -> None:  # calls Slack, then acknowledges
        client.users_info(user=command["user_id"])
        ack("found you")

    GuardedApp(signoff.bolt).command("/lookup")(lookup)
    slack.fail("users.info", error="user_not_found")
    status, body, seconds = dispatch(signoff, {**slash(slack, ""), "command": "/lookup"})
    assert status == 200 and seconds < 2.5
    assert body == ":warning: Signoff could not look the person up in Slack (`user_not_found`); run /lookup again."


def test_a_bug_after_the_ack_still_answers_slack_and_names_an_error_id(
    signoff: Signoff, slack: SlackEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(ack: Ack) -> None:
        ack()
        raise RuntimeError("kaboom")

    GuardedApp(signoff.bolt).command("/broken")(broken)
    with caplog.at_level(logging.ERROR, logger="signoff.slack"):
        status, _, seconds = dispatch(signoff, {**slash(slack, ""), "command": "/broken"})
        assert status == 200 and seconds < 2.5
        assert slack.wait_for(lambda s: bool(ephemeral_answers(s, "cmd")), timeout=5)
    (answer,) = ephemeral_answers(slack, "cmd")
    match = re.fullmatch(
        r":warning: Something went wrong on our side \(error `([0-9a-f]{8})`\)\. Please try again\.", answer
    )
    assert match is not None, answer
    assert f"error {match.group(1)} while handling /broken" in caplog.text and "RuntimeError: kaboom" in caplog.text


@pytest.mark.parametrize(
    ("raised", "level", "logged"),
    [
        (StorageBusy(2.0), logging.WARNING, "StorageBusy while handling block_actions; not told"),
        (UnknownKind("refund", ["discount"]), logging.WARNING, "UnknownKind while handling block_actions; not told"),
        (RuntimeError("kaboom"), logging.ERROR, "error while handling block_actions; not told"),
    ],
)
def test_a_quiet_listener_tells_the_person_nothing_whatever_fails(
    signoff: Signoff, slack: SlackEmulator, caplog: pytest.LogCaptureFixture, raised: Exception, level: int, logged: str
) -> None:
    """The form's preview runs on every keystroke: a message per keystroke would be noise."""

    def keystroke(ack: Ack) -> None:
        ack()
        raise raised

    GuardedApp(signoff.bolt).action("probe", quiet=True)(keystroke)
    payload = json.loads(click(slack, 1)["payload"])
    payload["actions"][0]["action_id"] = "probe"
    with caplog.at_level(logging.DEBUG, logger="signoff.slack"):
        status, _, seconds = dispatch(signoff, {"payload": json.dumps(payload)})
        drain(signoff.bolt)
    assert status == 200 and seconds < 2.5
    [record] = [r for r in caplog.records if r.name == "signoff.slack"]
    assert record.levelno == level and logged in record.getMessage()
    assert not ephemeral_answers(slack, "click") and not slack.calls_to("chat.postMessage")
    assert not slack.calls_to("chat.postEphemeral")
