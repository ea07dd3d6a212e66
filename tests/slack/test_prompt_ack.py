"""Answers leave the moment a listener acknowledges, not at Bolt's next 10 ms poll."""

from __future__ import annotations

import threading
import time
import types

import pytest
from slack_bolt import Ack
from slack_bolt.listener import thread_runner

from bot.app import Signoff
from bot.slack.emulator import SlackEmulator
from tests.slack.test_app import dispatch, signoff  # noqa: F401  (fixture)


@pytest.fixture
def polls(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every sleep of Bolt's acknowledgement polling loop while the test runs."""
    seen: list[float] = []

    def sleep(seconds: float) -> None:
        seen.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(thread_runner, "time", types.SimpleNamespace(time=time.time, sleep=sleep))
    return seen


def command(name: str, text: str, trigger: str = "t-1") -> dict[str, str]:
    return {"command": name, "text": text, "user_id": "U0SAM", "trigger_id": trigger, "channel_id": "C1"}


def test_a_submission_is_answered_when_it_commits_not_at_a_poll(signoff: Signoff, polls: list[float]) -> None:  # noqa: F811
    reply = dispatch(signoff, command("/request", "discount account=Acme amount_pct=5"))
    assert "approved by rule `small`" in reply
    assert polls == []


def test_a_form_opens_after_the_command_is_answered(
    signoff: Signoff,  # noqa: F811
    slack: SlackEmulator,
    polls: list[float],
) -> None:
    reply = dispatch(signoff, command("/request", "discount", trigger="t-form"))
    assert reply == ""
    assert slack.wait_for(lambda s: any(c.args.get("trigger_id") == "t-form" for c in s.calls_to("views.open")))
    assert polls == []


def test_an_acknowledgement_stands_when_the_listener_fails_afterwards(signoff: Signoff) -> None:  # noqa: F811
    answered = threading.Event()

    @signoff.bolt.command("/late-boom")
    def late_boom(ack: Ack) -> None:
        ack("on it")
        answered.wait(timeout=10)  # fail only once the answer has left
        raise RuntimeError("kaboom after the answer")

    try:
        assert dispatch(signoff, command("/late-boom", "")) == "on it"
    finally:
        answered.set()
