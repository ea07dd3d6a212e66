"""The emulator answers like Slack: unknown methods, missing arguments, bad tokens, Block Kit limits, faults."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.emulator import SlackEmulator, web_api_methods


def client(slack: SlackEmulator, token: str = "xoxb-test") -> WebClient:
    return WebClient(token=token, base_url=slack.api_url, retry_handlers=[])


def error_of(call: object) -> tuple[int, str]:
    with pytest.raises(SlackApiError) as caught:
        call()  # type: ignore[operator]
    return caught.value.response.status_code, str(caught.value.response["error"])


def test_the_published_spec_is_loaded() -> None:
    methods = web_api_methods()
    assert methods["chat.postMessage"] == {"channel"}
    assert methods["chat.update"] == {"channel", "ts"}
    assert "views.publish" in methods and len(methods) > 150


def test_calls_are_checked_like_slack_checks_them(slack: SlackEmulator) -> None:
    web = client(slack)
    assert error_of(lambda: web.api_call("chat.shout", json={"channel": "C1"})) == (200, "unknown_method")
    assert error_of(lambda: web.api_call("chat.update", json={"channel": "C1"})) == (200, "invalid_arguments")
    assert error_of(lambda: client(slack, "nonsense").auth_test()) == (200, "invalid_auth")
    too_many = [{"type": "divider"}] * 51
    assert error_of(lambda: web.chat_postMessage(channel="C1", text="x", blocks=too_many)) == (200, "invalid_blocks")
    long_text = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    assert error_of(lambda: web.chat_postMessage(channel="C1", text="x", blocks=long_text)) == (200, "invalid_blocks")
    long_button = [
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "action_id": "a"}],
        }
    ]
    assert error_of(lambda: web.chat_postMessage(channel="C1", text="x", blocks=long_button)) == (200, "invalid_blocks")
    assert web.auth_test()["user_id"] == "U0SIGNOFF"


def test_messages_are_kept_and_updated(slack: SlackEmulator) -> None:
    web = client(slack)
    posted = web.chat_postMessage(channel="C0DEALS", text="hello", blocks=[{"type": "divider"}])
    web.chat_update(channel="C0DEALS", ts=posted["ts"], text="bye", blocks=[])
    (message,) = slack.messages_in("C0DEALS")
    assert (message.text, message.updates) == ("bye", 1)
    assert error_of(lambda: web.chat_update(channel="C0DEALS", ts="1.2", text="?")) == (200, "message_not_found")
    assert web.conversations_open(users="U0SAM")["channel"]["id"] == "D0SAM"


def test_faults_are_injected_for_a_number_of_calls(slack: SlackEmulator) -> None:
    web = client(slack)
    slack.fail("chat.postMessage", status=429, retry_after=7, times=2)
    slack.fail("chat.postMessage", status=503)
    slack.fail("chat.postMessage", error="channel_not_found")
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            web.chat_postMessage(channel="C1", text="x")
        assert caught.value.response.status_code == 429
        assert caught.value.response.headers["Retry-After"] == "7"
    assert error_of(lambda: web.chat_postMessage(channel="C1", text="x"))[0] == 503
    assert error_of(lambda: web.chat_postMessage(channel="C1", text="x")) == (200, "channel_not_found")
    assert web.chat_postMessage(channel="C1", text="x")["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage", ok=None)] == [429, 429, 503, 200, 200]


def test_a_trigger_id_opens_one_view(slack: SlackEmulator) -> None:
    web = client(slack)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    assert web.views_open(trigger_id="t1", view=view)["ok"]
    assert error_of(lambda: web.views_open(trigger_id="t1", view=view)) == (200, "invalid_trigger_id")
    long_title = {**view, "title": {"type": "plain_text", "text": "x" * 25}}
    assert error_of(lambda: web.views_open(trigger_id="t2", view=long_title)) == (200, "invalid_blocks")


def test_wait_for_is_bounded(slack: SlackEmulator) -> None:
    assert not slack.wait_for(lambda s: bool(s.calls_to("auth.test")), timeout=0.05)
    client(slack).auth_test()
    assert slack.wait_for(lambda s: bool(s.calls_to("auth.test")), timeout=5)
