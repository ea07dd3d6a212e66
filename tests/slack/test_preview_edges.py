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
