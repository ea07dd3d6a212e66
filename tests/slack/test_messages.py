"""Signoff's own sentences: ids become mentions, whatever a person typed stays text."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.domain.cards import Card
from bot.domain.lifecycle import State
from bot.domain.notices import Notice, Notification
from bot.slack.messages import delegation_note, notification_blocks, notification_text

EVIL = "<!here> <https://evil.example|bank> & <@U0BOSS>"
SHOWN = "&lt;!here&gt; &lt;https://evil.example|bank&gt; &amp; &lt;@U0BOSS&gt;"
LAPSE = {"title": "Firewall <b>", "lapses_at": "2026-03-04T09:00:00+00:00", "tz": "Europe/Berlin"}

CASES: list[tuple[Notice, dict[str, Any], str]] = [
    (Notice.APPROVED, {"actor": "U0FIN1"}, "REQ-7 was approved by <@U0FIN1>."),
    (Notice.REJECTED, {"actor": "U0FIN1", "reason": EVIL}, f"REQ-7 was rejected by <@U0FIN1>: {SHOWN}"),
    (Notice.CHANGES_REQUESTED, {"actor": "W0EXT", "reason": EVIL}, f"<@W0EXT> asked for changes to REQ-7: {SHOWN}"),
    (Notice.APPROVED, {"actor": "<!channel>"}, "REQ-7 was approved by &lt;!channel&gt;."),
    (
        Notice.REMINDER,
        {"title": "Deal <desk>", "stop": "vp-<sales>", "stop_is_owner": False},
        "Reminder: REQ-7 (Deal &lt;desk&gt;) is past its SLA and waits on a decision; it now also goes to vp-&lt;sales&gt;.",
    ),
    (
        Notice.REMINDER,
        {"title": "Deal", "stop": None, "stop_is_owner": True},
        "Reminder: REQ-7 (Deal) is past its SLA and waits on a decision; it now also goes to its owner.",
    ),
    (
        Notice.REMINDER,
        {"title": "Deal", "stop": None, "stop_is_owner": False},
        "Reminder: REQ-7 (Deal) is past its SLA and waits on a decision.",
    ),
    (Notice.EXPIRED, {}, "REQ-7 expired: nobody decided it in time. File it again if it is still needed."),
    (Notice.LAPSE_WARNING, LAPSE, "The exception REQ-7 (Firewall &lt;b&gt;) ends Wed 04 Mar 10:00 CET."),
    (Notice.LAPSED, {"title": "Firewall"}, "The exception REQ-7 (Firewall) has ended."),
    (
        Notice.UNDELIVERABLE,
        {"title": "Contract review", "recipient": "C0LEGAL", "error": "chat.postMessage: not_in_channel"},
        "Signoff could not deliver the card of REQ-7 (Contract review) to <#C0LEGAL>: chat.postMessage: "
        "not_in_channel. Check the governance file (is the bot in that channel, is the member still here?).",
    ),
    (
        Notice.UNDELIVERABLE,
        {"title": "Contract review", "recipient": "U0GONE", "error": "chat.postMessage: user_not_found"},
        "Signoff could not deliver the card of REQ-7 (Contract review) to <@U0GONE>: chat.postMessage: "
        "user_not_found. Check the governance file (is the bot in that channel, is the member still here?).",
    ),
    (
        Notice.CHANNEL_UNREACHABLE,
        {"title": "Contract review", "channel": "C0LEGAL", "group": "legal", "error": "not_in_channel"},
        "Signoff could not post REQ-7 (Contract review) in <#C0LEGAL> for legal (not_in_channel), so its members "
        "got it by DM. Invite the bot to that channel, or fix the group's `channel` in the governance file.",
    ),
    (Notice.TEXT, {"text": "queued <@U0X> before the upgrade"}, "queued &lt;@U0X&gt; before the upgrade"),
]


@pytest.mark.parametrize(("notice", "facts", "expected"), CASES)
def test_every_notice_renders_mentions_and_escapes_user_text(
    notice: Notice, facts: dict[str, Any], expected: str
) -> None:
    message = Notification("U0SAM", notice, "REQ-7", str(notice), facts)
    assert notification_text(message) == expected
    if notice is not Notice.LAPSE_WARNING:
        assert notification_blocks(message, None)[0]["text"]["text"] == expected


def test_a_lapse_warning_shows_each_reader_their_own_time() -> None:
    message = Notification("U0SAM", Notice.LAPSE_WARNING, "REQ-7", "lapse-warning", LAPSE)
    assert notification_blocks(message, None)[0]["text"]["text"] == (
        "The exception REQ-7 (Firewall &lt;b&gt;) ends <!date^1772614800^{date_short_pretty} {time}|2026-03-04 09:00 UTC>."
    )


def test_a_notice_survives_the_outbox_payload() -> None:
    message = Notification("U0SAM", Notice.REJECTED, "REQ-7", "rejected", {"actor": "U0FIN1", "reason": EVIL})
    assert Notification.from_payload(message.payload(), ref="REQ-0") == message
    legacy = Notification.from_payload({"user": "U0SAM", "event": "approve", "text": "old <@U1>"}, ref="REQ-7")
    assert notification_text(legacy) == "old &lt;@U1&gt;"


def test_changes_requested_dm_offers_amend() -> None:
    card = Card(42, "REQ-42", "discount", "Discount", "U0SAM", State.CHANGES_REQUESTED, (), "", (), None, "f" * 64)
    message = Notification("U0SAM", Notice.CHANGES_REQUESTED, "REQ-42", "changes_requested", {"actor": "U0FIN1"})
    blocks = notification_blocks(message, card)
    assert blocks[-1]["elements"][0]["action_id"] == "signoff.amend"


def test_homes_delegation_line_mentions_the_people() -> None:
    assert delegation_note(None, ()) is None
    assert delegation_note(("U0DANA", date(2026, 12, 24)), ("U0FIN1", "U0FIN2")) == (
        "<@U0DANA> approves for you until the end of 2026-12-24. You approve for <@U0FIN1>, <@U0FIN2>."
    )
