"""The live preview at its edges, through the real app: a long preview keeps its last lines; a
forged or odd payload changes nothing it should not (the form is rebuilt from the kind, a far
future ``action_ts`` counts for nothing, another person's form is left alone)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.app import Signoff, build_signoff
from bot.domain.preview import PRIVATE_NOTE
from bot.slack.emulator import SlackEmulator
from tests.slack.test_app import dispatch, settings_for
from tests.slack.test_preview import SAM, enter, open_form, preview_text
from tests.slack.wsgi import drain, interaction, post, signed


def signoff_with(tmp_path: Path, slack: SlackEmulator, governance: str) -> Signoff:
    path = tmp_path / "edges.yaml"
    path.write_text(governance)
    return build_signoff(settings_for(tmp_path, slack, SIGNOFF_CONFIG=path))


def long_requires() -> str:
    """Eight require rules that all match, each with a reason of 480 characters, and a private rule."""
    rules = "\n".join(
        f"      - {{id: q{i}, when: {{n: {{gte: 0}}}}, require: g{i}, reason: '{chr(65 + i) * 480}'}}" for i in range(8)
    )
    groups = "\n".join(f"  g{i}: {{members: [U0G{i}]}}" for i in range(8))
    return f"""
version: 1
timezone: Europe/Berlin
groups:
  finance: {{members: [U0FIN1]}}
{groups}
kinds:
  k:
    title: K
    owner: U0OWN
    fields:
      n: {{type: number, required: true}}
    approvers: finance
    rules:
{rules}
      - {{id: secret, when: {{n: {{gt: 50}}}}, decide: reject, reason: s, preview: false}}
"""


def test_a_long_preview_keeps_its_outcome_and_the_private_note(tmp_path: Path, slack: SlackEmulator) -> None:
    signoff = signoff_with(tmp_path, slack, long_requires())
    try:
        view_id = open_form(signoff, slack, "k")
        enter(signoff, slack, view_id, "n", "5")
        lines = preview_text(slack, view_id).split("\n")
        assert lines[1].startswith(":hourglass_flowing_sand: Needs *finance* (1 approval) and *g0* (1 approval)")
        assert "*g7* (1 approval) — AAAA" in lines[1] and lines[1].endswith("…")
        assert lines[-1] == f"_{PRIVATE_NOTE}_"
    finally:
        signoff.engine.dispose()


SOLO = """
version: 1
timezone: Europe/Berlin
groups:
  solo: {members: [U0SAM]}
  pair: {members: [U0SAM, U0GONE]}
  esc: {members: [U0ESC]}
kinds:
  k:
    title: K
    owner: U0OWN
    fields:
      n: {type: number, required: true}
    approvers: solo
    escalate: [esc]
    sla: 8h
  p:
    title: P
    owner: U0OWN
    fields:
      n: {type: number, required: true}
    approvers: pair
"""


def submit(signoff: Signoff, slack: SlackEmulator, view_id: str) -> str:
    answer = post(signoff.wsgi(), body := interaction(slack.modals.submission(view_id, user=SAM)), signed(body))
    drain(signoff.bolt)
    return str(json.loads(answer.body)["view"]["blocks"][0]["text"]["text"])


@pytest.mark.parametrize(
    ("kind", "where", "gone"),
    [
        ("k", "*esc* (1 approval; in place of *solo*, where no one may approve it)", ()),
        ("p", "the owner <@U0OWN> (1 approval; in place of *pair*, where no one may approve it)", ("U0GONE",)),
    ],
)
def test_preview_and_receipt_say_where_a_request_really_goes(
    tmp_path: Path, slack: SlackEmulator, kind: str, where: str, gone: tuple[str, ...]
) -> None:
    """The requester is the only member of the step's group (or the others are deactivated): the
    request goes to the next escalation stop, finally the owner, and both texts say so alike."""
    signoff = signoff_with(tmp_path, slack, SOLO)
    try:
        with signoff.runtime.uow() as uow:  # what the people directory learns from Slack's users.info
            for user in gone:
                uow.people.record(user, deleted=True, tz=None, now=signoff.runtime.clock.now())
            uow.commit()
        view_id = open_form(signoff, slack, kind)
        enter(signoff, slack, view_id, "n", "5")
        assert preview_text(slack, view_id).split("\n")[1] == f":hourglass_flowing_sand: Needs {where}"
        said = where.replace("1 approval; ", "")
        assert f"sent to {said}" in submit(signoff, slack, view_id)
        reply = dispatch(signoff, {"user_id": SAM, "channel_id": "C1", "command": "/request", "text": f"{kind} n=6"})
        assert f"sent to {said}" in reply
    finally:
        signoff.engine.dispose()


def test_the_form_is_rebuilt_from_the_kind_not_from_the_payload(tmp_path: Path, slack: SlackEmulator) -> None:
    signoff = build_signoff(settings_for(tmp_path, slack))
    try:
        view_id = open_form(signoff, slack)
        opened = [b.get("block_id") for b in slack.views[view_id]["blocks"]]
        assert json.loads(slack.views[view_id]["private_metadata"])["by"] == SAM  # opening the form says whose it is
        enter(signoff, slack, view_id, "account", "Acme")
        sections = [
            {"type": "section", "block_id": f"b{i}", "text": {"type": "mrkdwn", "text": "x"}} for i in range(150)
        ]
        for forged in ("x", sections):
            payload = slack.enter(view_id, "amount_pct", "5", user=SAM)
            assert payload is not None
            payload["view"]["blocks"] = forged
            send_signed(signoff, interaction(payload))
            assert [b.get("block_id") for b in slack.views[view_id]["blocks"]] == opened
            assert slack.views[view_id]["state"]["values"]["account"]["value"]["value"] == "Acme"  # typed text stays
            assert "Auto-approved by `small`" in preview_text(slack, view_id)
    finally:
        signoff.engine.dispose()


def test_an_action_ts_far_in_the_future_counts_for_nothing(tmp_path: Path, slack: SlackEmulator) -> None:
    signoff = build_signoff(settings_for(tmp_path, slack))
    try:
        view_id = open_form(signoff, slack)
        enter(signoff, slack, view_id, "account", "Acme")
        forged = slack.enter(view_id, "amount_pct", "45", user=SAM)
        real = slack.enter(view_id, "amount_pct", "5", user=SAM)  # the same hash: Slack's does not change as one types
        assert forged is not None and real is not None
        forged["actions"][0]["action_ts"] = "99999999999999999999.1"
        send_signed(signoff, interaction(forged))
        assert ":x: Rejected" in preview_text(slack, view_id)
        send_signed(signoff, interaction(real))  # refused (hash_conflict), then sent again: it is the newest
        assert [c.error for c in slack.calls_to("views.update", ok=False)] == ["hash_conflict"]
        assert "Auto-approved by `small`" in preview_text(slack, view_id)
    finally:
        signoff.engine.dispose()


def test_another_persons_form_is_left_alone(tmp_path: Path, slack: SlackEmulator) -> None:
    signoff = build_signoff(settings_for(tmp_path, slack))
    try:
        view_id = open_form(signoff, slack)
        updates = len(slack.calls_to("views.update", ok=None))
        payload = slack.enter(view_id, "account", "Acme", user=SAM)
        assert payload is not None
        payload["user"] = {"id": "U0EVE"}
        send_signed(signoff, interaction(payload))
        assert len(slack.calls_to("views.update", ok=None)) == updates
        assert "Still needed: Account, Amount pct" in preview_text(slack, view_id)
    finally:
        signoff.engine.dispose()


def send_signed(signoff: Signoff, body: bytes) -> None:
    answer = post(signoff.wsgi(), body, signed(body))
    assert answer.status == 200 and answer.body == ""
    drain(signoff.bolt)


PICKERS = """
version: 1
timezone: Europe/Berlin
groups:
  finance: {members: [U0FIN1]}
kinds:
  k:
    title: K
    owner: U0OWN
    fields:
      us: {type: user, required: true, label: Person}
      ch: {type: channel, required: true, label: Channel}
    approvers: finance
"""


def test_a_picker_holding_a_mention_is_told_what_it_accepts(tmp_path: Path, slack: SlackEmulator) -> None:
    """Only a forged picker sends ``<@U0SAM>`` (Slack sends the id): the message asks for the id,
    not for "an @mention" the value already is, in the preview and on submission alike."""
    signoff = signoff_with(tmp_path, slack, PICKERS)
    try:
        view_id = open_form(signoff, slack, "k")
        payload = slack.enter(view_id, "us", "U0SAM", user=SAM)
        assert payload is not None
        forged = {
            "us": ("users_select", "selected_user", "<@U0SAM>"),
            "ch": ("conversations_select", "selected_conversation", "<#C1|x>"),
        }
        for block, (kind, key, value) in forged.items():
            payload["view"]["state"]["values"][block] = {"value": {"type": kind, key: value}}
        send_signed(signoff, interaction(payload))
        person = "expected a person: their Slack user id, such as U0123ABCD (an @mention in /request, the person picker in the form), got “&lt;@U0SAM&gt;”"
        channel = "expected a channel: its Slack id, such as C0123ABCD (a #channel link in /request, the channel picker in the form)"
        shown = preview_text(slack, view_id)
        assert f":warning: Person: {person}" in shown and f":warning: Channel: {channel}" in shown
        submitted = slack.modals.submission(view_id, user=SAM)
        for block, (kind, key, value) in forged.items():
            submitted["view"]["state"]["values"][block] = {"value": {"type": kind, key: value}}
        answer = post(signoff.wsgi(), body := interaction(submitted), signed(body))
        errors = json.loads(answer.body)["errors"]
        assert errors["us"].startswith("expected a person: their Slack user id, such as U0123ABCD")
        assert "@mention" not in errors["us"].split("(")[0]
    finally:
        signoff.engine.dispose()
