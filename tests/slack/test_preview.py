"""The live preview through the real app (DESIGN §2 "fills the request modal"): signed ``block_actions``
from the form → ack in time → ``views.update`` with the view's hash, what was typed kept; a stale
update is refused by Slack and passed over quietly; submitting files what the preview said."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Signoff, build_signoff
from bot.slack.emulator import SlackEmulator
from bot.slack.preview_blocks import PREVIEW_BLOCK
from tests.slack.test_app import settings_for
from tests.slack.test_busy_answer import SLACK_ACK_SECONDS
from tests.slack.wsgi import Answer, drain, form, interaction, post, signed

SAM = "U0SAM"


@pytest.fixture
def signoff(tmp_path: Path, slack: SlackEmulator) -> Iterator[Signoff]:
    built = build_signoff(settings_for(tmp_path, slack))
    yield built
    built.engine.dispose()


def send(signoff: Signoff, body: bytes) -> tuple[Answer, float]:
    started = time.monotonic()
    answer = post(signoff.wsgi(), body, signed(body))
    return answer, time.monotonic() - started


def open_form(signoff: Signoff, slack: SlackEmulator, text: str = "discount") -> str:
    """``/request discount``: the form opens (with its preview); returns its view id."""
    answer, _ = send(signoff, form(command="/request", text=text, user_id=SAM, channel_id="C1", trigger_id="t1"))
    assert answer.status == 200
    assert slack.wait_for(lambda s: bool(s.calls_to("views.open")), timeout=5)
    return next(iter(slack.views))


def preview_text(slack: SlackEmulator, view_id: str) -> str:
    block = next(b for b in slack.views[view_id]["blocks"] if b.get("block_id") == PREVIEW_BLOCK)
    return str(block["text"]["text"])


def enter(signoff: Signoff, slack: SlackEmulator, view_id: str, block_id: str, value: str) -> dict[str, Any]:
    """The person types ``value``; Slack's ``block_actions`` is answered in time and the form updated."""
    payload = slack.enter(view_id, block_id, value, user=SAM)
    assert payload is not None, f"typing in {block_id} dispatches nothing"
    updates = len(slack.calls_to("views.update", ok=None))
    answer, took = send(signoff, interaction(payload))
    assert answer == Answer(200, "") and took < SLACK_ACK_SECONDS, (answer, took)
    assert slack.wait_for(lambda s: len(s.calls_to("views.update", ok=None)) > updates, timeout=5)
    return payload


def stored(signoff: Signoff) -> list[tuple[str, str | None, list[str]]]:
    """Each stored request's state, deciding rule (None: routed by no rule) and step groups."""
    with sqlite3.connect(str(signoff.engine.url.database)) as connection:
        rows = list(connection.execute("SELECT state, rule_ids, steps FROM requests ORDER BY id"))
    return [
        (state, (json.loads(rules) or [None])[0], [s["group"] for s in json.loads(steps)])
        for state, rules, steps in rows
    ]


@pytest.mark.parametrize(
    ("amount", "said", "state", "rule", "steps"),
    [
        ("5", ":white_check_mark: Auto-approved by `small` — Small is fine.", "approved", "small", []),
        ("20", ":hourglass_flowing_sand: Needs *finance* (1 approval)", "pending", None, ["finance"]),
        ("45", ":x: Rejected by `over-limit` — Too much.", "rejected", "over-limit", []),
    ],
)
def test_the_form_previews_each_change_and_files_what_it_said(
    signoff: Signoff, slack: SlackEmulator, amount: str, said: str, state: str, rule: str | None, steps: list[str]
) -> None:
    view_id = open_form(signoff, slack)
    opened = slack.views[view_id]
    assert "Still needed: Account, Amount pct" in preview_text(slack, view_id)

    typed = enter(signoff, slack, view_id, "account", "Acme <b>")
    update = slack.calls_to("views.update")[-1]
    assert update.args["view_id"] == view_id and update.args["hash"] == typed["view"]["hash"]
    assert "Still needed: Amount pct" in preview_text(slack, view_id)

    enter(signoff, slack, view_id, "amount_pct", amount)
    shown = preview_text(slack, view_id)
    assert said in shown
    if amount == "5":
        assert ":bar_chart: `small`: 2 of 2 left this 30 d" in shown
    if amount == "20":
        assert ":bulb: amount_pct ≤ 10 is pre-approved by `small`" in shown
    now = slack.views[view_id]
    assert (now["callback_id"], now["private_metadata"]) == (opened["callback_id"], opened["private_metadata"])
    assert now["state"]["values"]["account"]["value"]["value"] == "Acme <b>"  # what was typed is kept
    assert stored(signoff) == []  # nothing is stored before the form is submitted

    answer, took = send(signoff, interaction(slack.modals.submission(view_id, user=SAM)))
    assert answer.json()["response_action"] == "update" and took < SLACK_ACK_SECONDS
    assert stored(signoff) == [(state, rule, steps)]


def test_the_budget_shown_is_the_budget_the_submission_uses(signoff: Signoff, slack: SlackEmulator) -> None:
    reply, _ = send(signoff, form(command="/request", text="discount account=Acme amount_pct=3", user_id=SAM))
    assert "approved by rule `small`" in reply.body
    view_id = open_form(signoff, slack)
    enter(signoff, slack, view_id, "account", "Acme")
    enter(signoff, slack, view_id, "amount_pct", "4")
    assert ":bar_chart: `small`: 1 of 2 left this 30 d" in preview_text(slack, view_id)
    send(signoff, interaction(slack.modals.submission(view_id, user=SAM)))
    assert [row[:2] for row in stored(signoff)] == [("approved", "small"), ("approved", "small")]


def test_a_stale_update_is_refused_by_slack_and_passed_over_quietly(
    signoff: Signoff, slack: SlackEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    view_id = open_form(signoff, slack)
    first = slack.enter(view_id, "amount_pct", "5", user=SAM)
    second = slack.enter(view_id, "amount_pct", "45", user=SAM)
    assert first is not None and second is not None and first["view"]["hash"] == second["view"]["hash"]
    assert send(signoff, interaction(second))[0] == Answer(200, "")
    assert slack.wait_for(lambda s: len(s.calls_to("views.update")) == 1, timeout=5)
    latest = preview_text(slack, view_id)

    with caplog.at_level(logging.DEBUG, logger="signoff.slack"):
        answer, took = send(signoff, interaction(first))  # the older keystroke's answer arrives last
        drain(signoff.bolt)
    assert answer == Answer(200, "") and took < SLACK_ACK_SECONDS
    [refused] = slack.calls_to("views.update", ok=False)
    assert (refused.error, refused.args["hash"]) == ("hash_conflict", first["view"]["hash"])
    assert preview_text(slack, view_id) == latest  # the newer preview stands
    assert not slack.calls_to("chat.postMessage") and not slack.calls_to("chat.postEphemeral")
    assert "hash_conflict" in caplog.text and not [r for r in caplog.records if r.levelno >= logging.WARNING]
    enter(signoff, slack, view_id, "account", "Acme")  # the next change updates the form again
    assert slack.calls_to("views.update")[-1].ok and "Rejected by `over-limit`" in preview_text(slack, view_id)
    assert stored(signoff) == []


def test_when_the_last_keystroke_loses_the_hash_race_its_preview_is_shown_anyway(
    signoff: Signoff, slack: SlackEmulator
) -> None:
    """Two quick keystrokes carry the same hash; the older one's update lands first. The newer one
    is refused as stale, and then sent again without the hash: the form ends showing the preview of
    what it says (45 %: rejected), not of the keystroke before (5 %: approved)."""
    view_id = open_form(signoff, slack)
    enter(signoff, slack, view_id, "account", "Acme")
    older = slack.enter(view_id, "amount_pct", "5", user=SAM)
    newer = slack.enter(view_id, "amount_pct", "45", user=SAM)  # typed before Slack showed the older update
    assert older is not None and newer is not None and older["view"]["hash"] == newer["view"]["hash"]
    for payload in (older, newer):
        assert send(signoff, interaction(payload))[0] == Answer(200, "")
        drain(signoff.bolt)
    updates = slack.calls_to("views.update", ok=None)[-3:]
    assert [c.error for c in updates] == [None, "hash_conflict", None]
    assert "hash" not in updates[-1].args or updates[-1].args["hash"] is None
    assert "Rejected by `over-limit`" in preview_text(slack, view_id)
    assert not slack.calls_to("chat.postMessage") and not slack.calls_to("chat.postEphemeral")


def test_an_older_keystroke_refused_as_stale_is_not_sent_again(signoff: Signoff, slack: SlackEmulator) -> None:
    view_id = open_form(signoff, slack)
    enter(signoff, slack, view_id, "account", "Acme")
    older = slack.enter(view_id, "amount_pct", "5", user=SAM)
    newer = slack.enter(view_id, "amount_pct", "45", user=SAM)
    assert older is not None and newer is not None
    for payload in (newer, older):  # the newer lands first; the older arrives late
        assert send(signoff, interaction(payload))[0] == Answer(200, "")
        drain(signoff.bolt)
    assert [c.error for c in slack.calls_to("views.update", ok=None)[-2:]] == [None, "hash_conflict"]
    assert "Rejected by `over-limit`" in preview_text(slack, view_id)


def slack_errors(signoff: Signoff, error: str) -> float:
    """How many failed ``views.update`` calls ``signoff_slack_api_errors`` counted with ``error``."""
    labels = {"method": "views.update", "error": error}
    return signoff.metrics.registry.get_sample_value("signoff_slack_api_errors_total", labels) or 0.0


PREVIEW_FAULTS = [
    ({"status": 500}, "fatal_error"),
    ({"status": 503, "error": "service_unavailable"}, "service_unavailable"),
    ({"status": 429, "retry_after": 1}, "ratelimited"),
    ({"delay": 2.0}, "TimeoutError"),  # the client gives up after 1 s (set below)
]


@pytest.mark.parametrize(("fault", "code"), PREVIEW_FAULTS)
def test_a_slack_failure_while_previewing_is_logged_once_and_never_told(
    signoff: Signoff, slack: SlackEmulator, caplog: pytest.LogCaptureFixture, fault: dict[str, Any], code: str
) -> None:
    signoff.bolt.client.timeout = 1  # each request's client is made with the app's settings
    view_id = open_form(signoff, slack)
    enter(signoff, slack, view_id, "account", "Acme")
    slack.fail("views.update", **fault)
    with caplog.at_level(logging.DEBUG):
        enter(signoff, slack, view_id, "amount_pct", "4")  # answered at once; Slack fails the update
        drain(signoff.bolt)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and f"({code}) while handling block_actions; not told" in warnings[0], warnings
    assert not slack.calls_to("chat.postMessage") and not slack.calls_to("chat.postEphemeral") and not slack.responses
    assert slack_errors(signoff, code) == 1
    # Slack is back: the next change shows its preview (the form's hash is Slack's current one).
    enter(signoff, slack, view_id, "amount_pct", "45")
    assert "Rejected by `over-limit`" in preview_text(slack, view_id)


def test_a_preview_for_a_closed_form_is_passed_over_at_debug(
    signoff: Signoff, slack: SlackEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    view_id = open_form(signoff, slack)
    slack.fail("views.update", error="not_found")  # the person closed the form
    payload = slack.enter(view_id, "account", "Acme", user=SAM)
    assert payload is not None
    with caplog.at_level(logging.DEBUG, logger="signoff.slack"):
        assert send(signoff, interaction(payload))[0] == Answer(200, "")
        drain(signoff.bolt)
    assert "views.update (not_found)" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not slack.calls_to("chat.postMessage") and not slack.calls_to("chat.postEphemeral")


def test_every_input_of_the_form_dispatches_as_it_is_used(signoff: Signoff, slack: SlackEmulator) -> None:
    view_id = open_form(signoff, slack)
    inputs = [b for b in slack.views[view_id]["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == ["account", "amount_pct", "deal_value"]
    for block in inputs:
        assert block["dispatch_action"] is True
        assert block["element"]["dispatch_action_config"] == {"trigger_actions_on": ["on_character_entered"]}
