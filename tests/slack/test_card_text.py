"""What an approver reads is what was asked: user text makes no formatting, lines, labels or pings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import build_signoff
from bot.domain.cards import Card, CardField, card_fields
from bot.domain.fields import FieldSpec, FieldType
from bot.domain.lifecycle import State
from bot.domain.notices import Notice, Notification
from bot.domain.outbox import MessageRef
from bot.services.relay import relay_outbox
from bot.services.status import StatusView
from bot.slack.blocks import card_blocks, clip, digest_blocks, home_view, inert, quoted_plain
from bot.slack.emulator import SlackEmulator
from bot.slack.gateway import SlackGateway, make_web_client
from bot.slack.messages import notification_blocks, notification_text
from bot.slack.modals import request_modal
from handlers.replies import status_reply
from tests.slack.test_app import dispatch, settings_for
from tests.slack.test_blocks import mrkdwn_texts

AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
FORGED = "Acme\n*Amount pct:* 5\npre-approved by CFO"

SPECS = {
    "account": FieldSpec(type=FieldType.TEXT, required=True),
    "details": FieldSpec(type=FieldType.TEXT, multiline=True),
    "who": FieldSpec(type=FieldType.USER),
    "room": FieldSpec(type=FieldType.CHANNEL),
}


def card(values: dict[str, object], **overrides: Any) -> Card:
    fields = card_fields(SPECS, values)
    base: dict[str, Any] = {
        "request_id": 7,
        "ref": "REQ-7",
        "kind": "deal",
        "title": "Deal",
        "requester": "U0SAM",
        "state": State.PENDING,
        "fields": fields,
        "reason": "No governed default covers this.",
        "progress": ("finance 0/1",),
        "due_at": None,
        "fields_hash": "h",
    }
    base.update(overrides)
    return Card(**base)


def rows(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The card's field rows: (label mrkdwn, value text object)."""
    cells = [cell for block in blocks if block["type"] == "section" for cell in block.get("fields", [])]
    return [(label["text"], value) for label, value in zip(cells[::2], cells[1::2], strict=True)]


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


# (field, value as stored) → the value's text object on the card: literal, whatever it holds.
CARD_VALUES = [
    ("account", "*bold*", plain("*bold*")),
    ("account", "_x_", plain("_x_")),
    ("account", "~x~", plain("~x~")),
    ("account", "`code`", plain("`code`")),
    ("account", "```block```", plain("```block```")),
    ("account", "<!channel> & <https://evil.example|bank>", plain("<!channel> & <https://evil.example|bank>")),
    ("account", ":white_check_mark: approved", plain(":white_check_mark: approved")),
    ("details", FORGED, plain("> Acme\n> *Amount pct:* 5\n> pre-approved by CFO")),
    ("details", "> quoted\nnot", plain("> > quoted\n> not")),
    ("who", "U0DANA", {"type": "mrkdwn", "text": "<@U0DANA>"}),
    ("room", "C0DEALS", {"type": "mrkdwn", "text": "<#C0DEALS>"}),
]


@pytest.mark.parametrize(("name", "value", "shown"), CARD_VALUES)
def test_a_card_shows_each_value_literally(name: str, value: str, shown: dict[str, Any]) -> None:
    values: dict[str, object] = {"account": "Acme", name: value}
    blocks = card_blocks(card(values))
    label = {"account": "*Account*", "details": "*Details*", "who": "*Who*", "room": "*Room*"}[name]
    assert (label, shown) in rows(blocks)
    # Labels are the contract's, one row per field: nothing typed adds a row or a label.
    assert [label for label, _ in rows(blocks)] == [f"*{SPECS[n].display_name(n)}*" for n in values]
    assert not any(value in text for text in mrkdwn_texts(blocks) if name in ("account", "details"))


def test_a_forged_line_cannot_pass_for_a_field_anywhere_a_card_is_shown() -> None:
    forged = card({"account": "Acme", "details": FORGED})
    compact = home_view(waiting=[forged], mine=[forged], delegation=None)["blocks"]
    digest = digest_blocks([forged], more=0, auto_resolved=0)
    for blocks in (card_blocks(forged), compact, digest):
        assert not any("Amount pct" in text for text in mrkdwn_texts(blocks))
    summary = next(b for b in digest if b["type"] == "context")["elements"]
    assert summary[:4] == [
        {"type": "mrkdwn", "text": "*Account:*"},
        plain("Acme"),
        {"type": "mrkdwn", "text": "*Details:*"},
        plain("> Acme\n> *Amount pct:* 5\n> pre-approved by CFO"),
    ]


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("*bold*", "∗bold∗"),
        ("_x_", "ˍxˍ"),
        ("~x~", "∼x∼"),
        ("`code`", "ˋcodeˋ"),
        ("x *y* z", "x ∗y∗ z"),
        ("amount_pct", "amount_pct"),  # between letters it formats nothing and stays
        ("<!here> & co", "&lt;!here&gt; &amp; co"),
        ("&lt;*b*&gt;", "&amp;lt;∗b∗&amp;gt;"),
        (FORGED, "\n>Acme\n>∗Amount pct:∗ 5\n>pre-approved by CFO"),
    ],
)
def test_user_text_inside_a_sentence_is_inert(typed: str, shown: str) -> None:
    assert inert(typed) == shown


def test_a_reason_and_a_decision_note_are_shown_literally_on_the_card() -> None:
    decided = card(
        {"account": "Acme"},
        state=State.REJECTED,
        decided_by="U0FIN1",
        decided_at=AT,
        decision_note="*No.*\nApproved by <@U0CFO>",
    )
    context = card_blocks(decided)[-1]
    assert context["elements"][1] == plain("> *No.*\n> Approved by <@U0CFO>")
    assert context["elements"][0]["text"].endswith(
        "*Rejected* by <@U0FIN1> at <!date^1772614800^{date_short_pretty} {time}|2026-03-04 09:00 UTC>:"
    )
    pending = card({"account": "Acme"}, reason="No default covers account *Acme* (got _x_)")
    assert {"type": "section", "text": plain("Why it needs a human: No default covers account *Acme* (got _x_)")} in (
        card_blocks(pending)
    )


def test_a_status_reply_and_a_notice_quote_what_was_typed() -> None:
    shown = card({"account": "*Acme*", "details": FORGED})
    reply = status_reply(StatusView(request_id=7, ref="REQ-7", state=State.PENDING, card=shown))
    assert reply.split("\n")[1:6] == [
        "• *Account:* ∗Acme∗",
        "• *Details:* ",
        ">Acme",
        ">∗Amount pct:∗ 5",
        ">pre-approved by CFO",
    ]
    notice = Notification(
        user="U0SAM",
        notice=Notice.REJECTED,
        ref="REQ-7",
        event="rejected",
        facts={"actor": "U0FIN1", "reason": "_no_\n*Approved* by CFO"},
    )
    assert notification_text(notice) == "REQ-7 was rejected by <@U0FIN1>: \n>ˍnoˍ\n>∗Approved∗ by CFO"
    assert notification_blocks(notice, None)[0]["text"]["text"] == notification_text(notice, in_blocks=True)


def test_a_modal_notice_is_inert() -> None:
    modal = request_modal(kind="deal", title="Deal", fields=SPECS, notice="account: “*x*” is not valid")
    assert modal["blocks"][0]["text"]["text"] == ":warning: account: “∗x∗” is not valid"


def test_a_user_field_pings_nobody_on_a_channel_card_and_is_a_mention_in_a_dm(slack: SlackEmulator) -> None:
    gateway = SlackGateway(make_web_client(token="xoxb-test", base_url=slack.api_url, timeout=5))
    shown = card({"account": "Acme", "who": "U0DANA"})
    in_channel = gateway.post_card(recipient="C0DEALS", card=shown)
    in_dm = gateway.post_card(recipient="U0FIN1", card=shown)
    (channel_message,) = slack.messages_in(in_channel.channel)
    (dm_message,) = slack.messages_in(in_dm.channel)
    assert ("*Who*", plain("@U0DANA")) in rows(channel_message.blocks)
    assert "<@U0DANA>" not in str(channel_message.blocks)
    assert ("*Who*", {"type": "mrkdwn", "text": "<@U0DANA>"}) in rows(dm_message.blocks)
    gateway.update_card(ref=MessageRef(in_channel.channel, in_channel.ts, "C0DEALS"), card=shown)
    assert "<@U0DANA>" not in str(slack.messages_in(in_channel.channel)[0].blocks)


DEALS = """
version: 1
groups: {finance: {members: [U0FIN1]}}
kinds:
  deal:
    title: Deal
    owner: U0OWNER
    fields:
      account: {type: text, required: true}
    approvers: finance
    rules:
      - {id: blocked, when: {account: {in: [Evil Corp]}}, decide: reject, reason: We do not sell to Evil Corp.}
      - {id: routine, when: {account: {set: true}}, decide: approve, reason: Routine.}
"""


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (
            'explain deal account="Evil\x00Corp"',
            "That deal request is not valid:\n• `account`: contains the control character U+0000, which is not allowed",
        ),
        (
            'explain deal account="Acme\n*Amount pct:* 5"',
            "That deal request is not valid:\n• `account`: is a single-line field: remove the line break",
        ),
        ("explain deal account=Evil\u00a0Corp", "\nOutcome: rejected by rule blocked (owner U0OWNER)\n"),
        ('explain deal account="evil\u200b corp"', "\nOutcome: rejected by rule blocked (owner U0OWNER)\n"),
        (
            "explain deal account=EviI Corp",
            "\nOutcome: needs people: finance (1 approval)\n"
            "Why: “EviI Corp” looks like “Evil Corp” in rule blocked: a person decides.\n",
        ),
    ],
)
def test_the_slash_command_answers_with_the_field_and_the_character(
    tmp_path: Path, slack: SlackEmulator, text: str, answer: str
) -> None:
    settings = settings_for(tmp_path, slack)
    Path(settings.config).write_text(DEALS)
    built = build_signoff(settings)
    try:
        form = {"command": "/signoff", "text": text, "user_id": "U0SAM", "channel_id": "C1", "trigger_id": "t"}
        reply = dispatch(built, form)
        assert reply.startswith(answer) or (answer.startswith("\n") and answer in reply)
    finally:
        built.engine.dispose()


@settings(max_examples=1000, deadline=None)
@given(st.text())
def test_inert_text_opens_no_markup_and_no_line_of_its_own(text: str) -> None:
    shown = inert(text)
    assert "<" not in shown and "`" not in shown
    assert re.search(r"(?<![^\W_])[*_~]|[*_~](?![^\W_])", shown) is None
    if "\n" in shown:
        assert all(line.startswith(">") for line in shown.split("\n")[1:])


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1).filter(lambda t: t.strip() != ""))
def test_every_value_is_a_plain_text_cell_of_its_own(value: str) -> None:
    shown = card({"account": "Acme", "details": value})
    for blocks in (card_blocks(shown), card_blocks(shown, mentions=False)):
        assert ("*Details*", plain(quoted_plain(clip(value, 600)) or "—")) in rows(blocks)


@pytest.mark.parametrize(
    ("account", "why"),
    [
        ("EviI Corp", "Why it needs a human: “EviI Corp” looks like “Evil Corp” in rule blocked: a person decides."),
        ("Bad lnc", "Why it needs a human: “Bad lnc” looks like “Bad Inc” in rule blocked: a person decides."),
    ],
)
def test_the_card_says_a_look_alike_is_why_it_needs_a_human(
    tmp_path: Path, slack: SlackEmulator, account: str, why: str
) -> None:
    settings = settings_for(tmp_path, slack)
    Path(settings.config).write_text(DEALS.replace("in: [Evil Corp]", "in: [Evil Corp, Bad Inc]"))
    built = build_signoff(settings)
    try:
        form = {"command": "/request", "text": f"deal account={account}", "user_id": "U0SAM", "channel_id": "C1"}
        dispatch(built, form | {"trigger_id": "t"})
        for _ in range(5):  # the card, then nothing left to send
            if not relay_outbox(runtime=built.runtime, gateway=built.gateway).handled:
                break
        (posted,) = [m for m in slack.messages_in("D0FIN1") if m.blocks]
        assert {"type": "section", "text": plain(why)} in posted.blocks
    finally:
        built.engine.dispose()


HOSTILE_TITLE = "*bold* _it_ ~s~ `c` <!channel>\nforged line"
RAW_FORMATTING = re.compile(r"(?<![^\W_])[*_~](?=\w)|(?<=\w)[*_~](?![^\W_])|`")


def _governance_text_in(text: str, inner: str) -> None:
    """``inner`` (governance text) shows in ``text`` with look-alikes, on one line, pinging nobody."""
    assert "∗bold∗ ˍitˍ ∼s∼ ˋcˋ &lt;!channel&gt; forged line" in text and "<!channel>" not in text
    assert inner not in text


def test_governance_text_in_mrkdwn_formats_nothing_anywhere() -> None:
    """Titles, labels, groups and steps come from the reviewed file, but still format nothing (every renderer)."""
    from bot.services.status import Summary
    from handlers.replies import summary_reply

    hostile = card(
        {"account": "Acme"},
        title=HOSTILE_TITLE,
        progress=(HOSTILE_TITLE,),
        fields=(CardField(HOSTILE_TITLE, "Acme"),),
    )
    decided = card({"account": "Acme"}, title=HOSTILE_TITLE, state=State.APPROVED, decided_by="U0FIN1")
    notice = Notification("U0SAM", Notice.LAPSED, "REQ-7", "lapsed", {"title": HOSTILE_TITLE})
    channel = Notification(
        "U0OWN", Notice.CHANNEL_UNREACHABLE, "REQ-7", "x", {"title": "t", "group": HOSTILE_TITLE, "channel": "C1"}
    )
    rendered = [
        *mrkdwn_texts(card_blocks(hostile)),
        *mrkdwn_texts(digest_blocks([hostile], more=0, auto_resolved=0)),
        *mrkdwn_texts(home_view(waiting=[hostile], mine=[decided], delegation=None)),
        notification_text(notice),
        notification_text(channel),
        status_reply(StatusView(request_id=7, ref="REQ-7", state=State.PENDING, card=hostile)),
        summary_reply(Summary(waiting_on_me=(hostile,), my_requests=())),
    ]
    for text in rendered:
        if "bold" in text:
            _governance_text_in(text, "*bold*")
    assert sum("bold" in text for text in rendered) >= 9
