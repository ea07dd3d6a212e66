"""Block Kit renderers: pure functions from Signoff's data to Slack message and view payloads.

What a person typed can never become markup, a line or a label on what an approver reads:
field values are ``plain_text`` objects (Slack shows them literally: no bold, no links, no
mentions) beside mrkdwn labels; where user text must sit inside a mrkdwn sentence (a reason,
a status reply) ``inert`` escapes ``&``, ``<``, ``>`` and replaces the formatting characters
``*``, ``_``, ``~`` and `````` by look-alikes, since mrkdwn has no escape character. Multiline
text is shown as a quote, every line of it prefixed, so it cannot end the quote and add a line
of its own. A user field is a mention only where nobody is pinged by it (a DM, Home); on a card
posted in a channel it is written as ``@U…`` in plain text. Every Block Kit limit is respected by construction:
long values are cut with an ellipsis, long lists are paginated with "and N more".
Times are written with Slack's ``<!date^…>`` token, so each reader sees their own timezone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.cards import Card, CardField
from bot.domain.errors import mention
from bot.domain.fields import USER_ID
from bot.domain.lifecycle import State
from bot.domain.requests import parse_request_id

Block = dict[str, Any]

#: A channel Slack can link as ``<#C…>``: public or private, not a DM (``fields.CHANNEL_ID`` also takes ``D…``).
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,20}", re.ASCII)

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_MODAL_TITLE = 24
MAX_FIELD_VALUE = 600  # per field on a card, so 25 fields still fit comfortably

APPROVE, REJECT, CHANGES, AMEND, PICK_KIND = (
    "signoff.approve",
    "signoff.reject",
    "signoff.changes",
    "signoff.amend",
    "signoff.pick_kind",
)
REQUEST_VIEW, REASON_VIEW = "signoff.request", "signoff.reason"

_STATE_WORDS = {
    State.APPROVED: "Approved",
    State.REJECTED: "Rejected",
    State.CANCELLED: "Cancelled",
    State.EXPIRED: "Expired",
    State.LAPSED: "Lapsed",
    State.CHANGES_REQUESTED: "Changes requested",
}
_STATE_EMOJI = {
    State.PENDING: ":hourglass_flowing_sand:",
    State.APPROVED: ":white_check_mark:",
    State.REJECTED: ":x:",
    State.CANCELLED: ":heavy_multiplication_x:",
    State.EXPIRED: ":alarm_clock:",
    State.LAPSED: ":calendar:",
    State.CHANGES_REQUESTED: ":pencil2:",
}


def escape(text: str) -> str:
    """Escape text for mrkdwn: only ``&``, ``<`` and ``>`` are special to Slack."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


#: mrkdwn's formatting characters and the look-alikes that show them without formatting.
_LOOK_ALIKES = {"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"}
#: A formatting character that could open or close formatting: not between two letters or digits.
#: Backticks are always replaced (code spans need no word boundary).
_FORMATTING = re.compile(r"`|(?<![^\W_])[*_~]|[*_~](?![^\W_])")


def inert(text: str) -> str:
    """A person's text inside mrkdwn, shown as typed and formatting nothing.

    ``&``, ``<``, ``>`` are escaped, and ``*``, ``_``, ``~``, `````` that could open or close
    formatting become ``∗``, ``ˍ``, ``∼``, ``ˋ`` (mrkdwn has no escape character; one between two
    letters, as in ``amount_pct``, formats nothing and stays). Text of several lines becomes a
    quote on lines of its own, every line prefixed with ``>``, so no line of it can pass for one
    of Signoff's. Where a whole value is shown, prefer a ``plain_text`` object (``value_element``).
    """
    shown = _FORMATTING.sub(lambda m: _LOOK_ALIKES[m.group()], escape(text))
    if "\n" not in shown:
        return shown
    return "\n" + "\n".join(f">{line}" for line in shown.split("\n"))


def inert_line(text: str) -> str:
    """Text from the governance file (a title, label, group, option, step) inside a mrkdwn sentence:
    ``inert``, on one line (a line break would end the sentence's formatting, or pass for a line of Signoff's)."""
    return inert(" ".join(text.splitlines()))


def quoted_plain(text: str) -> str:
    """Text of several lines for a ``plain_text`` object: every line prefixed with ``> ``."""
    return text if "\n" not in text else "\n".join(f"> {line}" for line in text.split("\n"))


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, ending with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_time(moment: datetime, *, style: str = "{date_short_pretty} {time}") -> str:
    """A time every reader sees in their own timezone (with a UTC fallback)."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{style}|{fallback}>"


def _plain(text: str) -> Block:
    """A ``plain_text`` object: Slack shows it exactly, formatting nothing (emoji codes too)."""
    return {"type": "plain_text", "text": text or "—", "emoji": False}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, MAX_BUTTON_TEXT), "emoji": True},
        "action_id": action_id[:MAX_ACTION_ID],
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def button_value(card: Card) -> str:
    """What a card's buttons carry: the request and the hash of the fields it shows."""
    return json.dumps({"r": card.request_id, "h": card.fields_hash}, separators=(",", ":"))


def parse_button_value(value: object) -> tuple[int, str | None] | None:
    """``(request id, fields hash or None)`` from what ``button_value`` wrote; None for anything else.

    The request id is read by ``parse_request_id`` (ASCII digits only); a hash that is not text is no hash.
    """
    if not isinstance(value, str) or len(value) > 2000:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    request_id = parse_request_id(data.get("r"))
    if request_id is None:
        return None
    seen = data.get("h")
    return request_id, seen if isinstance(seen, str) else None


def card_text(card: Card) -> str:
    """The plain-text fallback (notifications, screen readers)."""
    state = "" if card.state is State.PENDING else f" — {_STATE_WORDS.get(card.state, str(card.state))}"
    return clip(f"{card.ref} {card.title} from {card.requester}{state}", 3000).replace("<", "").replace(">", "")


def field_value(field: CardField, limit: int = MAX_FIELD_VALUE) -> str:
    """A field's value inside mrkdwn text: a user or channel field's id as a mention, any other value ``inert``."""
    if field.names == "user" and USER_ID.fullmatch(field.value):
        return f"<@{field.value}>"
    if field.names == "channel" and CHANNEL_ID.fullmatch(field.value):
        return f"<#{field.value}>"
    return inert(clip(field.value, limit))


def value_element(field: CardField, limit: int = MAX_FIELD_VALUE, *, mentions: bool = True) -> Block:
    """A field's value as a text object: ``plain_text`` (shown literally), or mrkdwn for a mention.

    ``mentions`` False writes a user field as ``@U…`` in plain text, which pings nobody (for a
    card in a channel, where a mention would notify that person).
    """
    if field.names == "channel" and CHANNEL_ID.fullmatch(field.value):
        return {"type": "mrkdwn", "text": f"<#{field.value}>"}
    if field.names == "user" and USER_ID.fullmatch(field.value):
        if mentions:
            return {"type": "mrkdwn", "text": f"<@{field.value}>"}
        return _plain(f"@{field.value}")
    return _plain(quoted_plain(clip(field.value, limit)))


def _label_element(field: CardField, suffix: str = "") -> Block:
    return {"type": "mrkdwn", "text": f"*{inert_line(field.label)}{suffix}*"}


def _field_sections(card: Card, *, mentions: bool) -> list[Block]:
    """The fields as label | value rows, five to a section (Slack shows at most 10 texts per section)."""
    cells = [cell for f in card.fields for cell in (_label_element(f), value_element(f, mentions=mentions))]
    return [{"type": "section", "fields": cells[i : i + 10]} for i in range(0, len(cells), 10)]


def card_blocks(card: Card, *, buttons: bool = True, mentions: bool = True) -> list[Block]:
    """The approval card: what is asked, why it needs a human, progress, due time, and the buttons.

    ``mentions`` False for a card posted in a channel: a user field then pings nobody.
    """
    emoji = _STATE_EMOJI.get(card.state, "")
    blocks: list[Block] = [
        section(f"{emoji} *{inert_line(card.title)}* · `{card.ref}`\nRequested by {mention(card.requester)}"),
    ]
    blocks += _field_sections(card, mentions=mentions)
    if card.state is State.PENDING and card.reason:
        why = f"Why it needs a human: {card.reason}"  # Signoff's sentence, quoting what was typed
        blocks.append({"type": "section", "text": _plain(clip(quoted_plain(why), MAX_SECTION_TEXT))})
    status: list[str] = []
    if card.progress:
        status.append(" · ".join(inert_line(step) for step in card.progress))
    if card.state is State.PENDING and card.due_at is not None:
        status.append(f"due {slack_time(card.due_at)}")
    if card.escalation_level:
        status.append(f"escalated ×{card.escalation_level}")
    if status:
        blocks.append(_context("  |  ".join(status)))
    if card.state is State.PENDING and buttons:
        value = button_value(card)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"decide:{card.request_id}",
                "elements": [
                    _button("Approve", APPROVE, value, "primary"),
                    _button("Reject", REJECT, value, "danger"),
                    _button("Ask for changes", CHANGES, value),
                ],
            }
        )
    elif card.state is not State.PENDING:
        elements: list[Block] = [{"type": "mrkdwn", "text": clip(decided_line(card, note=False), MAX_SECTION_TEXT)}]
        if card.decision_note:
            elements.append(_plain(clip(quoted_plain(card.decision_note), 2000)))
        blocks.append({"type": "context", "elements": elements})
    return blocks[:MAX_MESSAGE_BLOCKS]


def decided_line(card: Card, *, note: bool = True) -> str:
    """Who decided and when, as mrkdwn; with the decision note ``inert`` unless ``note`` is False."""
    words = _STATE_WORDS.get(card.state, str(card.state))
    line = f"{_STATE_EMOJI.get(card.state, '')} *{words}*"
    if card.decided_by:
        line += f" by {mention(card.decided_by)}"
    if card.decided_at is not None:
        line += f" at {slack_time(card.decided_at)}"
    if card.decision_note:
        line += f": {inert(card.decision_note)}" if note else ":"
    return line


def home_view(
    *,
    waiting: Sequence[Card],
    mine: Sequence[Card],
    delegation: str | None,
    more_waiting: int = 0,
    kinds: Sequence[Block] = (),
) -> Block:
    """App Home: what waits on me (with buttons), my requests, ``kinds`` (an owner's "Your kinds",
    ``bot.slack.surface_blocks``), and my delegation."""
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "Waiting on you"}}]
    budget = MAX_VIEW_BLOCKS - 8 - len(kinds)  # room for the other sections
    shown = 0
    if not waiting:
        blocks.append(section("Nothing waits on you. :sparkles:"))
    for card in waiting:
        rendered = _compact(card, buttons=True)
        if len(blocks) + len(rendered) > budget // 2:
            break
        blocks += rendered
        shown += 1
    hidden = len(waiting) - shown + more_waiting
    if hidden > 0:
        blocks.append(_context(f"…and {hidden} more waiting on you."))
    blocks.append({"type": "header", "text": {"type": "plain_text", "text": "Your requests"}})
    if not mine:
        blocks.append(section("You have no open requests. File one with `/request`."))
    listed = 0
    for card in mine:
        rendered = _compact(card, buttons=False)
        if len(blocks) + len(rendered) > budget:
            break
        blocks += rendered
        listed += 1
    if len(mine) > listed:
        blocks.append(_context(f"…and {len(mine) - listed} more."))
    blocks += kinds
    blocks.append({"type": "divider"})
    blocks.append(
        _context(delegation or "You have not delegated your approvals. `/signoff delegate @someone until YYYY-MM-DD`")
    )
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _compact(card: Card, *, buttons: bool) -> list[Block]:
    """A card in a few lines: title and progress, then the first fields as label and plain value."""
    progress = " · ".join(inert_line(step) for step in card.progress)
    state = "" if card.state is State.PENDING else f" — {_STATE_WORDS.get(card.state, '')}"
    text = f"*{inert_line(card.title)}* `{card.ref}` from {mention(card.requester)}{state}"
    if progress:
        text += f"\n{progress}"
    blocks: list[Block] = [section(text)]
    if card.fields:
        cells = [cell for f in card.fields[:4] for cell in (_label_element(f, ":"), value_element(f, 80))]
        blocks.append({"type": "context", "elements": cells})
    if buttons:
        value = button_value(card)
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    _button("Approve", APPROVE, value, "primary"),
                    _button("Reject", REJECT, value, "danger"),
                    _button("Ask for changes", CHANGES, value),
                ],
            }
        )
    return blocks


def digest_blocks(cards: Sequence[Card], *, more: int, auto_resolved: int) -> list[Block]:
    """What waits on one approver, overdue first: each item with its buttons, the rest counted."""
    total = len(cards) + more
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{total} waiting on your decision"}},
    ]
    room = MAX_MESSAGE_BLOCKS - 3
    shown = 0
    for card in cards:
        rendered = _compact(card, buttons=True)
        timing = []
        if card.created_at is not None:
            timing.append(f"filed {slack_time(card.created_at, style='{ago}')}")
        if card.due_at is not None:
            timing.append(f"due {slack_time(card.due_at)}")
        if timing:
            rendered[0]["text"]["text"] = clip(rendered[0]["text"]["text"] + "\n" + ", ".join(timing), MAX_SECTION_TEXT)
        if len(blocks) + len(rendered) > room:
            break
        blocks += rendered
        shown += 1
    hidden = total - shown
    if hidden > 0:
        blocks.append(_context(f"…and {hidden} more — see the Signoff Home tab."))
    if auto_resolved:
        noun = "request" if auto_resolved == 1 else "requests"
        blocks.append(
            _context(f":robot_face: Governed defaults resolved {auto_resolved} {noun} since the last digest.")
        )
    return blocks[:MAX_MESSAGE_BLOCKS]
