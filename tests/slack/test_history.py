"""Message metadata and conversations.history: how the gateway finds a post whose outcome it did not hear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.notices import Notice, Notification
from bot.domain.outbox import DeliveryError, MessageRef
from bot.slack.emulator import SlackEmulator
from bot.slack.gateway import HISTORY_PAGE, SlackGateway, make_web_client
from tests.slack.test_blocks import card as a_card  # a full card, as the relay renders it

EARLIER = timedelta(minutes=5)


def gateway_for(slack: SlackEmulator) -> SlackGateway:
    return SlackGateway(make_web_client(token="xoxb-test", base_url=slack.api_url, timeout=5))


def test_history_pages_newest_first_and_shows_metadata_only_when_asked(slack: SlackEmulator) -> None:
    web = WebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    for n in range(5):
        metadata = {"event_type": "signoff_card", "event_payload": {"outbox_key": f"k{n}"}}
        web.chat_postMessage(channel="C0DEALS", text=f"m{n}", metadata=metadata)  # type: ignore[arg-type]
    first = web.conversations_history(channel="C0DEALS", limit=2, include_all_metadata=True)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"] and first["has_more"]
    assert first["messages"][0]["metadata"]["event_payload"] == {"outbox_key": "k4"}
    cursor = first["response_metadata"]["next_cursor"]
    rest = web.conversations_history(channel="C0DEALS", limit=10, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"] and not rest["has_more"]
    assert "metadata" not in rest["messages"][0]
    newer = web.conversations_history(channel="C0DEALS", oldest=first["messages"][1]["ts"])
    assert [m["text"] for m in newer["messages"]] == ["m4"]  # oldest is exclusive
    bad = {"event_type": "", "event_payload": []}
    with pytest.raises(SlackApiError) as caught:
        web.api_call("chat.postMessage", json={"channel": "C0DEALS", "text": "x", "metadata": bad})
    assert caught.value.response["error"] == "invalid_metadata_format"


def test_a_post_is_found_by_its_outbox_key_in_a_dm_and_in_a_channel(slack: SlackEmulator) -> None:
    gateway = gateway_for(slack)
    since = datetime.now(UTC) - EARLIER
    dm = gateway.post_card(recipient="U0FIN1", card=a_card(), key="req:1:card:U0FIN1:1")
    hello = Notification(user="U0FIN1", notice=Notice.TEXT, ref="REQ-1", event="nudge", facts={"text": "hello"})
    gateway.notify(notification=hello, card=None, key="req:1:nudge:U0FIN1:1")
    in_channel = gateway.post_card(recipient="C0LEGAL", card=a_card(), key="req:1:card:C0LEGAL:1")
    assert dm.channel == "D0FIN1"  # a person's copy is in the DM, and history is read there
    assert gateway.find_posted(recipient="U0FIN1", key="req:1:card:U0FIN1:1", since=since) == dm
    assert gateway.find_posted(recipient="C0LEGAL", key="req:1:card:C0LEGAL:1", since=since) == in_channel
    assert gateway.find_posted(recipient="U0FIN1", key="req:1:nudge:U0FIN1:1", since=since) is not None
    assert gateway.find_posted(recipient="U0FIN2", key="req:1:card:U0FIN1:1", since=since) is None
    assert gateway.find_posted(recipient="U0FIN1", key="req:9:card:U0FIN1:1", since=since) is None
    later = datetime.now(UTC) + EARLIER
    assert gateway.find_posted(recipient="U0FIN1", key="req:1:card:U0FIN1:1", since=later) is None
    history = slack.calls_to("conversations.history")[0].args
    assert history["channel"] == "D0FIN1" and history["include_all_metadata"] in ("true", "1")


def test_finding_reads_further_pages_and_says_when_the_channel_is_out_of_reach(slack: SlackEmulator) -> None:
    gateway = gateway_for(slack)
    since = datetime.now(UTC) - EARLIER
    for n in range(HISTORY_PAGE + 20):
        note = Notification(user="U0SAM", notice=Notice.TEXT, ref="REQ-1", event="x", facts={"text": f"n{n}"})
        gateway.notify(notification=note, card=None, key=f"k{n}")
    found = gateway.find_posted(recipient="U0SAM", key="k0", since=since)  # the oldest: on the second page
    assert found == MessageRef("D0SAM", slack.messages_in("D0SAM")[0].ts, "U0SAM")

    slack.channel_errors["C0LEGAL"] = "not_in_channel"
    with pytest.raises(DeliveryError) as caught:
        gateway.find_posted(recipient="C0LEGAL", key="k0", since=since)
    assert caught.value.unreachable and caught.value.code == "not_in_channel"
    slack.fail("conversations.history", error="missing_scope")  # an app installed before the scope was added
    assert gateway.find_posted(recipient="U0SAM", key="k0", since=since) is None
