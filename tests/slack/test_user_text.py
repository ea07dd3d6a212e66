"""What a person typed is shown as they typed it, everywhere Signoff shows it: nothing pings, no disguised link."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Signoff, build_signoff
from bot.domain.cards import Card, card_fields
from bot.domain.errors import AlreadyDecided, NotAllowed
from bot.domain.lifecycle import State
from bot.domain.routing import Verdict
from bot.services.decide import decide_request
from bot.services.submit import submit_request
from bot.slack.blocks import REASON_VIEW, card_blocks, home_view
from bot.slack.emulator import SlackEmulator
from handlers.refusals import refusal_text
from tests.conftest import AT, governance_from
from tests.slack.test_app import dispatch, settings_for
from tests.slack.test_blocks import mrkdwn_texts

TYPED = """
version: 1
groups: {ops: {members: [U0OPS]}}
kinds:
  note:
    title: Note
    owner: U0OWNER
    fields:
      account: {type: text, required: true}
      details: {type: text, multiline: true}
      link: {type: url}
      mail: {type: email}
      who: {type: user}
      room: {type: channel}
    approvers: ops
    rules:
      - {id: acme, when: {account: {eq: Acme}}, decide: approve, reason: Acme is fine.}
"""

# /request note <pairs> → the row of the card the approver reads: label, and the value's text object.
SHOWN = [
    ("account=<!channel>", ("*Account*", "plain_text", "@channel")),
    ("account=<!subteam^S0LEGAL|@legal>", ("*Account*", "plain_text", "@legal")),
    ("account=<@U0SAM|sam>", ("*Account*", "plain_text", "@sam")),
    ("account=<#C0DEALS|deals>", ("*Account*", "plain_text", "#deals")),
    (
        "account=<https://evil.example/pay|bank.example>",
        ("*Account*", "plain_text", "bank.example (https://evil.example/pay)"),
    ),
    ("account=<mailto:x@evil.example|Ana>", ("*Account*", "plain_text", "Ana (x@evil.example)")),
    ("account=&lt;!here&gt; &amp; co", ("*Account*", "plain_text", "<!here> & co")),
    (
        'account=x details="<!everyone> see <https://e.example|docs>"',
        ("*Details*", "plain_text", "@everyone see docs (https://e.example)"),
    ),
    ("account=x link=<https://evil.example/pay|bank.example>", ("*Link*", "plain_text", "https://evil.example/pay")),
    ("account=x mail=<mailto:ana@acme.io|Ana>", ("*Mail*", "plain_text", "ana@acme.io")),
    ("account=x who=<@U0SAM|sam>", ("*Who*", "mrkdwn", "<@U0SAM>")),
    ("account=x room=<#C0DEALS|deals>", ("*Room*", "mrkdwn", "<#C0DEALS>")),
]


def card_rows(blocks: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The card's field rows: (label mrkdwn, value object type, value text)."""
    cells = [cell for block in blocks if block["type"] == "section" for cell in block.get("fields", [])]
    return [(label["text"], value["type"], value["text"]) for label, value in zip(cells[::2], cells[1::2], strict=True)]


@pytest.mark.parametrize(("pairs", "row"), SHOWN)
def test_the_card_shows_what_was_typed(pairs: str, row: tuple[str, str, str]) -> None:
    governance = governance_from(TYPED)
    kind = governance.kind("note")
    values = governance.parse_slash_text(kind, pairs, at=AT)
    card = Card(
        1,
        "REQ-1",
        "note",
        "Note",
        "U0SAM",
        State.PENDING,
        card_fields(kind.contract.fields, dict(values)),
        "",
        (),
        None,
        "h",
    )
    assert row in card_rows(card_blocks(card))
    compact = str(mrkdwn_texts(home_view(waiting=[card], mine=[card], delegation=None)))
    assert "<!" not in compact and "<http" not in compact and "<mailto" not in compact


@pytest.fixture
def signoff(tmp_path: Path, slack: SlackEmulator) -> Iterator[Signoff]:
    settings = settings_for(tmp_path, slack)
    Path(settings.config).write_text(TYPED)
    built = build_signoff(settings)
    yield built
    built.engine.dispose()


def command(name: str, text: str) -> dict[str, str]:
    return {"command": name, "text": text, "user_id": "U0SAM", "channel_id": "C1", "trigger_id": "t"}


def test_explain_escapes_the_values_it_quotes(signoff: Signoff) -> None:
    reply = dispatch(signoff, command("/signoff", "explain note account=&lt;!here&gt;"))
    assert "Why: No governed default covers this: acme applies when account = Acme (got “&lt;!here&gt;”)." in reply
    assert "\n      account “&lt;!here&gt;” eq Acme → false\n" in reply
    assert "<!here>" not in reply


def test_an_unknown_kind_or_verb_is_quoted_as_typed(signoff: Signoff) -> None:
    assert dispatch(signoff, command("/request", "<!channel>")).startswith("There is no kind `@channel`.")
    assert dispatch(signoff, command("/signoff", "<!here>")).startswith("I don't know `@here`.")


def test_a_refusal_in_a_form_names_the_person_and_in_a_message_mentions_them(
    tmp_path: Path, slack: SlackEmulator
) -> None:
    built = build_signoff(settings_for(tmp_path, slack))  # the lifecycle file: finance decides discounts
    try:
        request = submit_request(
            runtime=built.runtime, kind="discount", requester="U0SAM", text="account=Acme amount_pct=25"
        )
        decide_request(runtime=built.runtime, request_id=request.request_id, voter="U0FIN1", verdict=Verdict.APPROVE)
        view = {
            "id": "V1",
            "type": "modal",
            "callback_id": REASON_VIEW,
            "private_metadata": json.dumps({"r": request.request_id, "h": None, "verdict": "reject"}),
            "state": {"values": {"reason": {"value": {"type": "plain_text_input", "value": "too late"}}}},
        }
        submission = {"type": "view_submission", "user": {"id": "U0FIN2"}, "team": {"id": "T0"}, "view": view}
        answer = json.loads(dispatch(built, {"payload": json.dumps(submission)}))
        assert answer == {
            "response_action": "errors",
            "errors": {"reason": f"{request.ref} was already approved by @u0fin1"},
        }
    finally:
        built.engine.dispose()


def test_a_refusal_message_mentions_people_and_escapes_the_rest() -> None:
    error = NotAllowed("only {requester}, who filed REQ-1 for <team & co>, can cancel it", requester="U0SAM")
    assert str(error) == "only <@U0SAM>, who filed REQ-1 for <team & co>, can cancel it"
    assert refusal_text(error) == ":no_entry: only <@U0SAM>, who filed REQ-1 for &lt;team &amp; co&gt;, can cancel it"
    assert refusal_text(AlreadyDecided(1, "rejected", "rule:over-limit")) == (
        ":no_entry: REQ-1 was already rejected by rule over-limit"
    )
