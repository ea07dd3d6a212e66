"""What a person typed is shown as they typed it, everywhere Signoff shows it: nothing pings, no disguised link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Signoff, build_signoff
from bot.domain.cards import Card, card_fields
from bot.domain.lifecycle import State
from bot.slack.blocks import card_blocks, home_view
from bot.slack.emulator import SlackEmulator
from tests.conftest import AT, governance_from
from tests.slack.test_app import dispatch, settings_for

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

# /request note <pairs> → the line of the card the approver reads (mrkdwn, exactly).
SHOWN = [
    ("account=<!channel>", "*Account:* @channel"),
    ("account=<!subteam^S0LEGAL|@legal>", "*Account:* @legal"),
    ("account=<@U0SAM|sam>", "*Account:* @sam"),
    ("account=<#C0DEALS|deals>", "*Account:* #deals"),
    ("account=<https://evil.example/pay|bank.example>", "*Account:* bank.example (https://evil.example/pay)"),
    ("account=<mailto:x@evil.example|Ana>", "*Account:* Ana (x@evil.example)"),
    ("account=&lt;!here&gt; &amp; co", "*Account:* &lt;!here&gt; &amp; co"),
    (
        'account=x details="<!everyone> see <https://e.example|docs>"',
        "*Details:* @everyone see docs (https://e.example)",
    ),
    ("account=x link=<https://evil.example/pay|bank.example>", "*Link:* https://evil.example/pay"),
    ("account=x mail=<mailto:ana@acme.io|Ana>", "*Mail:* ana@acme.io"),
    ("account=x who=<@U0SAM|sam>", "*Who:* <@U0SAM>"),
    ("account=x room=<#C0DEALS|deals>", "*Room:* <#C0DEALS>"),
]


@pytest.mark.parametrize(("pairs", "line"), SHOWN)
def test_the_card_shows_what_was_typed(pairs: str, line: str) -> None:
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
    sections = [b["text"]["text"] for b in card_blocks(card) if b["type"] == "section"]
    assert line in sections[1].split("\n")
    compact = str(home_view(waiting=[card], mine=[card], delegation=None))
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
    assert "Why: No governed default covers this: acme applies when account = Acme (got &lt;!here&gt;)." in reply
    assert "\n      account &lt;!here&gt; eq Acme → false\n" in reply
    assert "<!here>" not in reply


def test_an_unknown_kind_or_verb_is_quoted_as_typed(signoff: Signoff) -> None:
    assert dispatch(signoff, command("/request", "<!channel>")).startswith("There is no kind `@channel`.")
    assert dispatch(signoff, command("/signoff", "<!here>")).startswith("I don't know `@here`.")
