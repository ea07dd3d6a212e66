"""End to end: the relay killed just after Slack took a card, and a group channel the bot is not in."""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.blocks import APPROVE
from bot.slack.emulator import Call, Message, SlackEmulator
from tests.e2e.conftest import WAIT_SECONDS, has_buttons, notices_in, request_cards, start_serve, stop

#: DESIGN §10: rows a killed relay had claimed are delivered within 30 s of a restart.
RESTART_DELIVERY_SECONDS = 30.0


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def cards_in(slack: SlackEmulator, channel: str) -> list[Message]:
    return request_cards(slack, channel=channel)


def approve_value(message: Message) -> str:
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == APPROVE:
                return str(element["value"])
    raise AssertionError("no approve button on the card")


def is_open(message: Message) -> bool:
    return has_buttons(message)


def test_killed_right_after_slack_took_a_card_every_approver_has_one_card_soon_after_restart(
    tmp_path: Path, slack: SlackEmulator
) -> None:
    served = start_serve(tmp_path, slack)
    killed = threading.Event()

    def kill_the_relay(call: Call) -> None:  # Slack stored the card; the relay never hears back
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=10)
        killed.set()

    def the_card_to_fin1(call: Call) -> bool:  # not the digest a start's digest run may post there first
        return call.args.get("channel") == "D0FIN1" and call.event_type == "signoff_card"

    slack.on_call("chat.postMessage", kill_the_relay, when=the_card_to_fin1)
    with contextlib.suppress(OSError):  # the answer may be cut off by the kill; the request is committed
        served.command("/request", "discount account=Acme amount_pct=25", user="U0SAM")
    assert killed.wait(WAIT_SECONDS)
    stop(served.process)
    assert len(cards_in(slack, "D0FIN1")) == 1

    restarted_at = time.monotonic()
    restarted = start_serve(tmp_path, slack)
    try:
        assert slack.wait_for(lambda s: len(cards_in(s, "D0FIN2")) >= 1, timeout=RESTART_DELIVERY_SECONDS + 10)
        delivered_after = time.monotonic() - restarted_at
        assert delivered_after <= RESTART_DELIVERY_SECONDS, delivered_after
        assert slack.wait_for(lambda s: bool(s.calls_to("conversations.history")), timeout=WAIT_SECONDS)
        (first,), (second,) = cards_in(slack, "D0FIN1"), cards_in(slack, "D0FIN2")  # one card each, no copy

        assert restarted.click(APPROVE, approve_value(second), user="U0FIN2").status == 200
        assert slack.wait_for(lambda s: not is_open(first) and not is_open(second), timeout=WAIT_SECONDS)
        assert "Approved* by <@U0FIN2>" in json.dumps(first.blocks)  # the card posted before the crash follows
    finally:
        stop(restarted.process)
    assert [len(cards_in(slack, c)) for c in ("D0FIN1", "D0FIN2")] == [1, 1]
    print(f"restart to delivery: {delivered_after:.1f} s")


def test_a_group_channel_the_bot_is_not_in_reaches_each_member_by_dm_and_the_owner_once(
    tmp_path: Path, slack: SlackEmulator
) -> None:
    slack.channel_errors["C0LEGAL"] = "not_in_channel"
    served = start_serve(tmp_path, slack)
    try:
        served.command("/request", "contract counterparty=Initech", user="U0SAM")
        assert slack.wait_for(
            lambda s: all(len(cards_in(s, c)) == 1 for c in ("D0LAW1", "D0LAW2")), timeout=WAIT_SECONDS
        )
        assert slack.wait_for(lambda s: bool(notices_in(s, "D0LAWLEAD")), timeout=WAIT_SECONDS)
        card = cards_in(slack, "D0LAW1")[0]
        assert served.click(APPROVE, approve_value(card), user="U0LAW1").status == 200
        assert slack.wait_for(
            lambda s: all(not is_open(m) for c in ("D0LAW1", "D0LAW2") for m in cards_in(s, c)), timeout=WAIT_SECONDS
        )
    finally:
        stop(served.process)
    assert [len(cards_in(slack, c)) for c in ("D0LAW1", "D0LAW2")] == [1, 1]
    (notice,) = notices_in(slack, "D0LAWLEAD")
    assert "C0LEGAL" in notice.text and "not_in_channel" in notice.text
    assert slack.messages_in("C0LEGAL") == []
