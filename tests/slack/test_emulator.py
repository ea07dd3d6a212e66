"""The emulator answers like Slack: unknown methods, missing arguments, bad tokens, Block Kit limits, faults."""

from __future__ import annotations

import urllib.error
import urllib.request

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


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_files_upload_v2_shares_the_bytes_into_the_conversation(slack: SlackEmulator) -> None:
    web = client(slack)
    channel = web.conversations_open(users="U0OWNER")["channel"]["id"]
    answer = web.files_upload_v2(
        channel=channel, content=PNG_BYTES, filename="chart.png", title="Share by week", initial_comment="Weekly"
    )
    assert answer["file"]["title"] == "Share by week"
    (shared,) = slack.files_in("D0OWNER")
    assert (shared.filename, shared.title, shared.data) == ("chart.png", "Share by week", PNG_BYTES)
    assert [c.method for c in slack.calls if c.method.startswith(("files.", "upload"))] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    history = web.conversations_history(channel="D0OWNER")["messages"]
    assert [(m["text"], [f["name"] for f in m["files"]]) for m in history] == [("Weekly", ["chart.png"])]


def test_an_upload_is_checked_like_slack_checks_it(slack: SlackEmulator) -> None:
    web = client(slack)
    assert error_of(lambda: web.api_call("files.getUploadURLExternal", params={"filename": "a.png"})) == (
        200,
        "invalid_arguments",
    )
    assert error_of(lambda: web.files_getUploadURLExternal(filename="a.png", length=-3)) == (200, "invalid_arguments")
    ticket = web.files_getUploadURLExternal(filename="a.png", length=10)
    short = urllib.request.Request(ticket["upload_url"], data=b"123", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(short, timeout=5)
    assert refused.value.code == 400
    refused.value.close()
    files = [{"id": ticket["file_id"], "title": "a"}]
    # Never uploaded (the short upload was refused), or an id Slack never gave: nothing is shared.
    assert error_of(lambda: web.files_completeUploadExternal(files=files, channel_id="C1")) == (200, "file_not_found")
    unknown = [{"id": "F404", "title": "b"}]
    assert error_of(lambda: web.files_completeUploadExternal(files=unknown, channel_id="C1")) == (200, "file_not_found")
    assert error_of(lambda: web.api_call("files.completeUploadExternal", params={"channel_id": "C1"})) == (
        200,
        "invalid_arguments",
    )
    # A user id is no conversation: the DM has to be opened first.
    exact = urllib.request.Request(ticket["upload_url"], data=b"0123456789", method="POST")
    with urllib.request.urlopen(exact, timeout=5) as answer:
        assert answer.status == 200
    assert error_of(lambda: web.files_completeUploadExternal(files=files, channel_id="U0OWNER")) == (
        200,
        "channel_not_found",
    )
    assert web.files_completeUploadExternal(files=files, channel_id="C1")["ok"]
    assert error_of(lambda: web.files_completeUploadExternal(files=files, channel_id="C1")) == (200, "file_not_found")
    assert [f.data for f in slack.files_in("C1")] == [b"0123456789"]


def test_a_multipart_upload_is_read_and_upload_faults_are_injected(slack: SlackEmulator) -> None:
    web = client(slack)
    slack.fail("upload", status=500)
    with pytest.raises(urllib.error.HTTPError) as failed:
        web.files_upload_v2(channel="C1", content=b"abc", filename="a.txt")
    failed.value.close()
    assert slack.files_in("C1") == []
    ticket = web.files_getUploadURLExternal(filename="b.txt", length=3)
    boundary = "xyzzy"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nxyz\r\n--{boundary}--\r\n"
    ).encode()
    form = urllib.request.Request(
        ticket["upload_url"],
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(form, timeout=5) as answer:
        assert answer.read() == b"OK - 3"
    web.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "B"}], channel_id="C1")
    assert [(f.title, f.data) for f in slack.files_in("C1")] == [("B", b"xyz")]


def _form(action_id: str = "value", *, dispatch: bool = True) -> dict[str, object]:
    element = {
        "type": "plain_text_input",
        "action_id": action_id,
        "initial_value": "Acme",
        "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]},
    }
    pick = {
        "type": "static_select",
        "action_id": "value",
        "options": [{"text": {"type": "plain_text", "text": o}, "value": o} for o in ("emea", "amer")],
    }
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Form"},
        "blocks": [
            {"type": "input", "block_id": "account", "dispatch_action": dispatch, "element": element, "label": {}},
            {"type": "input", "block_id": "region", "dispatch_action": dispatch, "element": pick, "label": {}},
        ],
    }


def test_a_view_keeps_what_was_entered_across_updates_and_refuses_a_stale_hash(slack: SlackEmulator) -> None:
    web = client(slack)
    opened = web.views_open(trigger_id="t1", view=_form())["view"]
    view_id, first_hash = opened["id"], opened["hash"]
    assert opened["state"]["values"]["account"]["value"] == {"type": "plain_text_input", "value": "Acme"}
    typed = slack.enter(view_id, "account", "Globex", user="U0SAM")
    picked = slack.enter(view_id, "region", "amer", user="U0SAM")
    assert typed is not None and picked is not None
    assert typed["container"] == {"type": "view", "view_id": view_id} and typed["actions"][0]["value"] == "Globex"
    assert picked["view"]["state"]["values"]["region"]["value"]["selected_option"]["value"] == "amer"

    updated = web.views_update(view_id=view_id, hash=first_hash, view=_form())["view"]
    assert updated["hash"] != first_hash
    assert updated["state"]["values"]["account"]["value"]["value"] == "Globex"  # same block and action ids: kept
    assert error_of(lambda: web.views_update(view_id=view_id, hash=first_hash, view=_form("other"))) == (
        200,
        "hash_conflict",
    )
    assert slack.views[view_id]["hash"] == updated["hash"]  # a refused update changes nothing
    renamed = web.views_update(view_id=view_id, view=_form("other"))["view"]  # no hash: it applies
    assert renamed["state"]["values"]["account"] == {"other": {"type": "plain_text_input", "value": "Acme"}}
    assert renamed["state"]["values"]["region"]["value"]["selected_option"]["value"] == "amer"
    assert error_of(lambda: web.views_update(view_id="V0NONE", view=_form())) == (200, "not_found")
    assert slack.modals.submission(view_id, user="U0SAM")["view"]["state"] == renamed["state"]


def test_only_a_dispatching_input_sends_an_action(slack: SlackEmulator) -> None:
    view_id = client(slack).views_open(trigger_id="t1", view=_form(dispatch=False))["view"]["id"]
    assert slack.enter(view_id, "account", "Globex", user="U0SAM") is None
    assert slack.views[view_id]["state"]["values"]["account"]["value"]["value"] == "Globex"  # typed all the same
