"""Signoff's own sentences, written at delivery from an event and its facts (``bot.domain.notices``).

Ids become mentions (``<@U…>``, ``<#C…>``) only when they look like Slack ids; every name from
the governance file is escaped, so it can neither ping anyone nor become a link, and what a
person typed (a reason) is also ``inert``: it formats nothing and cannot add a line of its own.
The same sentence is the message's plain-text fallback
(``text`` of ``chat.postMessage``), where Slack shows mentions by name as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.actors import SYSTEM, rule_of
from bot.domain.cards import Card
from bot.domain.fields import USER_ID
from bot.domain.lifecycle import State
from bot.domain.links import redact_links, redact_url
from bot.domain.notices import Notice, Notification
from bot.slack.blocks import (
    AMEND,
    CHANNEL_ID,
    MAX_MESSAGE_BLOCKS,
    Block,
    button_value,
    card_blocks,
    clip,
    escape,
    inert,
    inert_line,
    slack_time,
)


def person(actor: str) -> str:
    """A person as mrkdwn: ``<@U…>`` for a Slack user id, ``rule <id>`` for a rule, Signoff for itself."""
    if USER_ID.fullmatch(actor):
        return f"<@{actor}>"
    if (rule := rule_of(actor)) is not None:
        return "rule " + inert_line(rule)
    if actor == SYSTEM:
        return "Signoff"
    return inert_line(actor)


def place(recipient: str) -> str:
    """Where a card goes: ``<#C…>`` for a channel, ``<@U…>`` for a person's DM."""
    return f"<#{recipient}>" if CHANNEL_ID.fullmatch(recipient) else person(recipient)


def delegation_note(delegated_to: tuple[str, date] | None, approving_for: Sequence[str]) -> str | None:
    """Home's line about delegations: who approves for the reader, and for whom they approve; None if neither."""
    notes = []
    if delegated_to is not None:
        notes.append(f"{person(delegated_to[0])} approves for you until the end of {delegated_to[1].isoformat()}.")
    if approving_for:
        notes.append("You approve for " + ", ".join(person(p) for p in approving_for) + ".")
    return " ".join(notes) or None


def notification_text(message: Notification, *, in_blocks: bool = False) -> str:
    """The sentence of a notification, as mrkdwn; also its plain-text fallback (``in_blocks=False``).

    The two differ only in how a time is written: in blocks each reader sees their own
    timezone (``<!date^…>``); in the fallback it is written in the governance timezone.
    """
    ref, title = message.ref, inert_line(message.fact("title"))
    actor, reason = person(message.fact("actor")), inert(message.fact("reason"))
    match message.notice:
        case Notice.APPROVED:
            return f"{ref} was approved by {actor}."
        case Notice.REJECTED:
            return f"{ref} was rejected by {actor}: {reason}"
        case Notice.CHANGES_REQUESTED:
            return f"{actor} asked for changes to {ref}: {reason}"
        case Notice.REMINDER:
            stop = "its owner" if message.facts.get("stop_is_owner") else inert_line(message.fact("stop"))
            joined = f"; it now also goes to {stop}" if stop else ""
            return f"Reminder: {ref} ({title}) is past its SLA and waits on a decision{joined}."
        case Notice.EXPIRED:
            return f"{ref} expired: nobody decided it in time. File it again if it is still needed."
        case Notice.LAPSE_WARNING:
            return f"The exception {ref} ({title}) ends {_when(message, in_blocks=in_blocks)}."
        case Notice.LAPSED:
            return f"The exception {ref} ({title}) has ended."
        case Notice.UNDELIVERABLE:
            count = _count(message)
            what = f"{count} cards, the last of {ref} ({title})," if count > 1 else f"the card of {ref} ({title})"
            return (
                f"Signoff could not deliver {what} to {place(message.fact('recipient'))}: "
                f"{inert_line(message.fact('error'))}. "
                "Check the governance file (is the bot in that channel, is the member still here?)."
            )
        case Notice.CHANNEL_UNREACHABLE:
            return (
                f"Signoff could not post {ref} ({title}) in {place(message.fact('channel'))} for "
                f"{inert_line(message.fact('group'))} ({inert_line(message.fact('error'))}), "
                "so its members got it by DM. "
                "Invite the bot to that channel, or fix the group's `channel` in the governance file."
            )
        case Notice.WEBHOOK_DISABLED:
            return (
                f"The webhook {_code(message.fact('subscription'))} is disabled: its receiver "
                f"{_code(redact_url(message.fact('url')))} answered {_receiver_error(message)} while delivering {ref}. "
                f"Nothing more is sent to it until `signoff webhooks enable {escape(message.fact('subscription'))}`."
            )
        case Notice.WEBHOOK_DEAD:
            count, event = _count(message), escape(message.fact("type"))
            what = f"{count} deliveries, the last {event} of {ref}," if count > 1 else f"delivering {event} of {ref}"
            name = escape(message.fact("subscription"))
            return (
                f"Signoff gave up {what} to the webhook "
                f"{_code(message.fact('subscription'))} ({_code(redact_url(message.fact('url')))}): "
                f"{_receiver_error(message)}. `signoff webhooks list` shows what waits and what is dead; "
                f"`signoff webhooks redeliver {name}` sends the dead ones again. "
                "Further failures this hour are counted there, not messaged."
            )
        case Notice.WEBHOOK_REMOVED:
            return (
                f"The webhook {_code(message.fact('subscription'))} ({_code(redact_url(message.fact('url')))}) "
                f"is no longer in the governance file (version {escape(message.fact('governance')[:12])}): "
                f"its {escape(message.fact('pending'))} queued deliveries will not be sent. If it was renamed, "
                "the new id receives only events from now on."
            )
        case _:
            return escape(message.fact("text"))


def _receiver_error(message: Notification) -> str:
    """A webhook's last error, inert, with the query values of any link in it redacted (``redact_links``)."""
    return inert(redact_links(message.fact("error"), of=[message.fact("url")]))


def _count(message: Notification) -> int:
    """How many failures one owner message gathers (``bot.services.owner_notices``); 1 when it does not say."""
    try:
        return max(int(message.facts.get("count") or 1), 1)
    except (TypeError, ValueError):
        return 1


def _code(text: str) -> str:
    """Text from the governance file (an id, a URL) shown verbatim, never as a link or a mention."""
    return "`" + escape(text).replace("`", "'") + "`"


def _when(message: Notification, *, in_blocks: bool) -> str:
    try:
        moment = datetime.fromisoformat(message.fact("lapses_at"))
    except ValueError:
        return "soon"
    whole_minute = moment.second == 0  # a short exception may end on any second
    if in_blocks:
        return slack_time(moment, style="{date_short_pretty} " + ("{time}" if whole_minute else "{time_secs}"))
    try:
        tz = ZoneInfo(message.fact("tz") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return moment.astimezone(tz).strftime("%a %d %b %H:%M %Z" if whole_minute else "%a %d %b %H:%M:%S %Z")


def notification_blocks(message: Notification, card: Card | None) -> list[Block]:
    """A DM about a request: the sentence, the request's fields, and Amend when changes are asked."""
    sentence = notification_text(message, in_blocks=True)
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": clip(sentence, 3000)}}]
    if card is not None:
        blocks += card_blocks(card, buttons=False)[1:]
        if message.notice is Notice.CHANGES_REQUESTED and card.state is State.CHANGES_REQUESTED:
            amend = {
                "type": "button",
                "text": {"type": "plain_text", "text": "Amend", "emoji": True},
                "action_id": AMEND,
                "value": button_value(card),
                "style": "primary",
            }
            blocks.append({"type": "actions", "elements": [amend]})
    return blocks[:MAX_MESSAGE_BLOCKS]
