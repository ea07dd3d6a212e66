"""Telling an owner that deliveries failed, at most once per subject per period (no floods).

A receiver that refuses everything, or a channel that refuses every card, would otherwise earn
its owner one direct message per dead row (120 in ten seconds, in QA). Instead the first death
in a period queues one message that waits ``GATHER`` before it goes out; every further death in
the same period, while that message still waits, adds itself to it (a count and the latest
error and request). Deaths after it went out are counted by ``signoff webhooks list`` and the
``signoff_outbox_dead`` / ``signoff_webhook_deliveries_dead`` metrics, not in more messages;
the next period's first death queues the next message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.notices import Notice, Notification
from bot.domain.outbox import Intent, IntentKind, OutboxItem
from bot.domain.requests import format_request_id
from bot.services.ports import UnitOfWork
from bot.services.runtime import Runtime

#: At most one message per owner and subject in each period of this length.
PERIOD = timedelta(hours=1)
#: How long the period's message waits for further deaths to join it before it is sent.
GATHER = timedelta(minutes=1)


def period_of(now: datetime) -> datetime:
    """The start of the ``PERIOD`` that ``now`` falls in (aware UTC)."""
    step = int(PERIOD.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // step * step, UTC)


def tell_owner_once(
    uow: UnitOfWork,
    *,
    now: datetime,
    owner: str,
    notice: Notice,
    subject: str,
    ref: str,
    facts: Mapping[str, Any],
    request_id: int | None = None,
) -> None:
    """Queue ``owner``'s message about ``subject`` for this period, or add one more death to it.

    ``facts`` are those of the latest death; the message carries them with ``count`` (deaths
    gathered so far) and ``ref`` (the latest request).
    """
    period = period_of(now)
    event = f"{notice}-{period:%Y%m%dT%H%M}"
    key = f"owner-notice:{notice}:{subject}:{owner}:{period.isoformat()}"
    message = Notification(owner, notice, ref, event, {**facts, "count": 1})
    intent = Intent(IntentKind.NOTIFY, key, message.payload(), request_id, not_before=now + GATHER)
    if uow.outbox.add(intent, now=now):
        return

    def one_more(payload: dict[str, Any]) -> dict[str, Any]:
        count = int(payload.get("facts", {}).get("count", 1)) + 1
        return {**payload, "ref": ref, "facts": {**facts, "count": count}}

    uow.outbox.merge_pending(key, one_more)


def tell_card_owner(runtime: Runtime, uow: UnitOfWork, item: OutboxItem, message: str) -> None:
    """Tell the kind's owner that a card could not be delivered (never about a failed DM itself):
    one message per owner and recipient per hour, however many cards died (``owner_notices``)."""
    if item.kind is not IntentKind.POST_CARD or item.request_id is None:
        return
    request = uow.requests.get(item.request_id)
    kind = runtime.governance().kinds.get(request.kind) if request is not None else None
    if request is None or kind is None:
        return
    recipient = str(item.payload.get("recipient", ""))
    tell_owner_once(
        uow,
        now=runtime.clock.now(),
        owner=kind.owner,
        notice=Notice.UNDELIVERABLE,
        subject=f"card:{recipient}",
        ref=format_request_id(item.request_id),
        facts={"title": kind.title, "recipient": recipient, "error": message},
        request_id=item.request_id,
    )
