"""Block Kit renderers with worst-case content stay inside Slack's limits and escape user text."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.cards import Card, CardField
from bot.domain.fields import FieldSpec, FieldType
from bot.domain.lifecycle import State
from bot.slack.blocks import (
    card_blocks,
    digest_blocks,
    escape,
    home_view,
    parse_button_value,
)
from bot.slack.emulator import block_problems
from bot.slack.modals import reason_modal, request_modal

AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def card(**overrides: object) -> Card:
    values: dict[str, object] = {
        "request_id": 42,
        "ref": "REQ-42",
        "kind": "discount",
        "title": "Discount approval",
        "requester": "U0SAM",
        "state": State.PENDING,
        "fields": (CardField("Account", "Acme"),),
        "reason": "No governed default covers this.",
        "progress": ("finance 0/1",),
        "due_at": AT,
        "fields_hash": "f" * 64,
    }
    values.update(overrides)
    return Card(**values)  # type: ignore[arg-type]


def texts(blocks: list[dict[str, object]]) -> str:
    return str(blocks)


def mrkdwn_texts(node: object) -> list[str]:
    """Every mrkdwn text in a payload: the only texts where Slack reads markup."""
    if isinstance(node, dict):
        own = [str(node["text"])] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for value in node for t in mrkdwn_texts(value)]
    return []


def test_worst_case_card_fits_a_message() -> None:
    huge = card(
        title="T" * 80,
        fields=tuple(CardField(f"Field number {i} " + "L" * 30, "v" * 3000) for i in range(25)),
        reason="r" * 5000,
        progress=tuple(f"group-{i} 0/25" for i in range(10)),
    )
    blocks = card_blocks(huge)
    assert block_problems(blocks, limit=50) == []
    assert any(b["type"] == "actions" for b in blocks)


def test_user_text_cannot_inject_mentions_or_links() -> None:
    evil = card(
        fields=(CardField("Account", "<!channel> <https://evil.example|bank> & co"),), reason="<@U0BOSS> said so"
    )
    blocks = card_blocks(evil)
    rendered = str(mrkdwn_texts(blocks))
    assert "<!channel>" not in rendered and "<https://evil" not in rendered and "<@U0BOSS>" not in rendered
    assert {"type": "plain_text", "text": "Why it needs a human: <@U0BOSS> said so", "emoji": False} in [
        b.get("text") for b in blocks
    ]
    # The value is a plain_text object: Slack shows it literally, so it needs no escaping.
    assert {"type": "plain_text", "text": "<!channel> <https://evil.example|bank> & co", "emoji": False} in blocks[1][
        "fields"
    ]
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_buttons_carry_the_request_and_the_fields_they_show() -> None:
    actions = next(b for b in card_blocks(card()) if b["type"] == "actions")
    approve = actions["elements"][0]
    assert approve["action_id"] == "signoff.approve"
    assert parse_button_value(approve["value"]) == (42, "f" * 64)


def test_a_decided_card_has_no_buttons_and_says_who_and_when() -> None:
    decided = card(state=State.APPROVED, decided_by="U0FIN1", decided_at=AT)
    blocks = card_blocks(decided)
    assert not any(b["type"] == "actions" for b in blocks)
    assert f"*Approved* by <@U0FIN1> at <!date^{int(AT.timestamp())}^" in texts(blocks)
    by_rule = card_blocks(card(state=State.REJECTED, decided_by="rule:over-limit", decided_at=AT))
    assert "by rule over-limit" in texts(by_rule)


def test_home_view_with_200_pending_items_paginates_inside_100_blocks() -> None:
    waiting = [
        card(request_id=n, ref=f"REQ-{n}", fields=tuple(CardField(f"F{i}", "x" * 3000) for i in range(25)))
        for n in range(200)
    ]
    view = home_view(waiting=waiting, mine=waiting, delegation=None)
    assert block_problems(view["blocks"], limit=100) == []
    assert "more waiting on you" in texts(view["blocks"])


def test_request_modal_for_25_fields_of_every_type() -> None:
    types = list(FieldType)
    fields = {}
    for i in range(25):
        kind = types[i % len(types)]
        extra = (
            {"options": tuple(f"option-{n:03d}" for n in range(100))}
            if kind in (FieldType.CHOICE, FieldType.MULTI_CHOICE)
            else {}
        )
        fields[f"field_{i}"] = FieldSpec(type=kind, required=i % 2 == 0, label="L" * 48, **extra)
    view = request_modal(kind="k", title="A very long kind title indeed", fields=fields, values={"field_0": "x" * 5000})
    assert len(view["title"]["text"]) <= 24
    assert block_problems(view["blocks"], limit=100) == []
    assert len(view["blocks"]) == 25
    assert all(len(b["element"].get("options", [])) <= 100 for b in view["blocks"])
    assert (
        reason_modal(verdict="reject", request_id=1, ref="REQ-123456789", fields_hash=None)["title"]["text"]
        == "Reject REQ-123456789"
    )


def test_a_digest_lists_items_with_age_and_due_time_and_counts_the_rest() -> None:
    cards = [card(request_id=n, ref=f"REQ-{n}", created_at=AT) for n in range(30)]
    blocks = digest_blocks(cards, more=170, auto_resolved=12)
    assert block_problems(blocks, limit=50) == []
    rendered = texts(blocks)
    assert "200 waiting on your decision" in rendered
    assert f"filed <!date^{int(AT.timestamp())}^{{ago}}|" in rendered and "due <!date^" in rendered
    assert "more — see the Signoff Home tab" in rendered
    assert "Governed defaults resolved 12 requests since the last digest" in rendered
