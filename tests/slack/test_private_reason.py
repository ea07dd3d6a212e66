"""A private (``preview: false``) rule that did not decide is never named, nor its threshold shown,
in what a filed request says to the requester (DESIGN §3.4, §3.7): the `/request` reply, the modal's
receipt, `/signoff status`, the approvers' cards. Values on both sides of the threshold give the same
texts apart from the value itself; the rule still decides, and says so, inside its band."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Signoff, build_signoff
from bot.services.relay import relay_outbox
from bot.slack.emulator import SlackEmulator
from tests.slack.test_app import dispatch, settings_for
from tests.slack.wsgi import drain, form, interaction, post, signed

SAM = "U0SAM"
GOVERNANCE = """
version: 1
timezone: Europe/Berlin
groups:
  finance: {members: [U0FIN1, U0FIN2]}
kinds:
  every:
    title: Every type
    owner: U0OWN
    fields:
      t: {type: text, required: true}
      n: {type: number, required: true, min: 0, max: 100}
    approvers: finance
    rules:
      - {id: band, when: {n: {between: [17, 23]}}, decide: approve, reason: Secret band., preview: false}
      - {id: low, when: {n: {lte: 10}}, decide: approve, reason: Low is fine.}
      - {id: band-limited, when: {n: {gte: 60}}, decide: approve, reason: Secret too., preview: false,
         limit: {count: 1, per: kind, window: 30d}}
"""


@pytest.fixture
def signoff(tmp_path: Path, slack: SlackEmulator) -> Iterator[Signoff]:
    path = tmp_path / "private.yaml"
    path.write_text(GOVERNANCE)
    built = build_signoff(settings_for(tmp_path, slack, SIGNOFF_CONFIG=path))
    yield built
    built.engine.dispose()


def _send(signoff: Signoff, body: bytes) -> str:
    answer = post(signoff.wsgi(), body, signed(body))
    assert answer.status == 200, answer
    drain(signoff.bolt)
    return answer.body


def modal_receipt(signoff: Signoff, slack: SlackEmulator, n: int) -> str:
    """Open `/request every`, type t and n, submit: the text the modal's receipt shows."""
    before = set(slack.views)
    _send(
        signoff, form(command="/request", text="every", user_id=SAM, channel_id="C1", trigger_id=f"t{time.time_ns()}")
    )
    assert slack.wait_for(lambda s: bool(set(s.views) - before), timeout=5)
    view_id = next(iter(set(slack.views) - before))
    for block, value in (("t", "x"), ("n", str(n))):
        payload = slack.enter(view_id, block, value, user=SAM)
        if payload is not None:
            _send(signoff, interaction(payload))
    answer = json.loads(_send(signoff, interaction(slack.modals.submission(view_id, user=SAM))))
    return "\n".join(_texts(answer["view"]["blocks"]))


def cards(signoff: Signoff, slack: SlackEmulator) -> list[str]:
    """Every card and DM sent so far, as JSON text (delivered by the relay)."""
    while relay_outbox(runtime=signoff.runtime, gateway=signoff.gateway).handled:
        pass
    return ["\n".join(_texts(call.args.get("blocks"))) for call in slack.calls_to("chat.postMessage")]


def _texts(node: object) -> list[str]:
    """Every text a person reads in ``node`` (Block Kit), not ids or button values."""
    if isinstance(node, dict):
        text = node.get("text")
        own = [text] if isinstance(text, str) else []
        return own + [t for key, value in node.items() if key != "value" for t in _texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


def neutral(text: str, n: int, ref: str) -> str:
    """``text`` with the request's id and the value typed taken out."""
    return re.sub(rf"\b{n}\b", "_", text.replace(ref, "REQ-_"))


def test_the_private_rules_are_not_named_outside_their_band(signoff: Signoff, slack: SlackEmulator) -> None:
    first = dispatch(signoff, {"user_id": "U0OTH", "channel_id": "C1", "command": "/request", "text": "every t=x n=65"})
    assert "approved by rule `band-limited`: Secret too." in first  # its limit (1 per kind) is now used up
    seen: dict[int, list[str]] = {}
    for index, n in enumerate((16, 24, 50, 70)):  # below, above, far above the band; 70: its limit used up
        ref = f"REQ-{2 * index + 3}"
        receipt = modal_receipt(signoff, slack, n)
        reply = dispatch(
            signoff, {"user_id": SAM, "channel_id": "C1", "command": "/request", "text": f"every t=x n={n}"}
        )
        status = dispatch(signoff, {"user_id": SAM, "channel_id": "C1", "command": "/signoff", "text": f"status {ref}"})
        texts = [receipt, reply, status, *cards(signoff, slack)[-1:]]
        for text in texts:
            assert "band" not in text and "17" not in text and "23" not in text and "60" not in text, text
        assert "No governed default covers this: low applies when n ≤ 10" in reply
        seen[n] = [neutral(text, n, ref) for text in texts[1:]]
    assert seen[16] == seen[24] == seen[50] == seen[70]
    # Inside the band the private rule decides, and says so to all who see the request.
    inside = dispatch(signoff, {"user_id": SAM, "channel_id": "C1", "command": "/request", "text": "every t=x n=20"})
    assert "approved by rule `band`: Secret band." in inside
