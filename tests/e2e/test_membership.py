"""End to end: after a SIGHUP reload, pending requests' cards follow the new membership, and
people Slack reports as deactivated lose their buttons and may not decide."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.blocks import APPROVE
from bot.slack.emulator import Message, SlackEmulator
from tests.e2e.conftest import WAIT_SECONDS, has_buttons, request_cards, start_serve, stop


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def copies_of(slack: SlackEmulator, ref: str, user: str) -> list[Message]:
    return request_cards(slack, channel="D" + user[1:], ref=ref)


def approve_value(message: Message) -> str:
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == APPROVE:
                return str(element["value"])
    raise AssertionError("no Approve button on the card")


def answered(slack: SlackEmulator, user: str, text: str) -> bool:
    return any(key == f"click-{user}" and text in json.dumps(body) for key, body in slack.responses)


def test_a_reload_brings_new_members_the_card_once_and_takes_the_buttons_from_the_removed(
    tmp_path: Path, slack: SlackEmulator
) -> None:
    served = start_serve(tmp_path, slack)
    config = tmp_path / "signoff.yaml"
    try:
        reply = served.command("/request", "discount account=Acme amount_pct=25", user="U0MEM")
        ref = reply.body[reply.body.index("`REQ-") + 1 :].split("`")[0]
        assert slack.wait_for(lambda s: all(copies_of(s, ref, u) for u in ("U0FIN1", "U0FIN2")), timeout=WAIT_SECONDS)
        removed_value = approve_value(copies_of(slack, ref, "U0FIN2")[0])

        # finance loses U0FIN2 and gains U0FIN3; Slack now reports U0FIN1 as deactivated.
        slack.deactivated_users.add("U0FIN1")
        config.write_text(config.read_text().replace("members: [U0FIN1, U0FIN2]", "members: [U0FIN1, U0FIN3]"))
        served.process.send_signal(signal.SIGHUP)

        assert slack.wait_for(lambda s: len(copies_of(s, ref, "U0FIN3")) == 1, timeout=WAIT_SECONDS)
        assert slack.wait_for(
            lambda s: not any(has_buttons(m) for u in ("U0FIN1", "U0FIN2") for m in copies_of(s, ref, u)),
            timeout=WAIT_SECONDS,
        )
        for user in ("U0FIN1", "U0FIN2"):  # their old buttons no longer work
            assert served.click(APPROVE, removed_value, user=user).status == 200
            assert slack.wait_for(lambda s, u=user: answered(s, u, "not an approver"), timeout=WAIT_SECONDS)

        assert served.click(APPROVE, approve_value(copies_of(slack, ref, "U0FIN3")[0]), user="U0FIN3").status == 200
        assert slack.wait_for(
            lambda s: any(f"{ref} was approved" in m.text for m in s.messages_in("D0MEM")), timeout=WAIT_SECONDS
        )
        assert slack.wait_for(
            lambda s: all(not has_buttons(m) for m in copies_of(s, ref, "U0FIN3")), timeout=WAIT_SECONDS
        )
        assert len(copies_of(slack, ref, "U0FIN3")) == 1
    finally:
        stop(served.process)
    assert served.process.returncode is not None
