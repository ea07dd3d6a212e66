"""Slack side effects as data: intents written with the state change, delivered later.

Every intent has an idempotency key, unique in the outbox, so that the same effect is never
queued (or sent) twice. Cards are rendered when delivered, from the request as it is then,
so a card posted late still shows the latest state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from bot.domain.notices import Notice, Notification
from bot.domain.requests import format_request_id


class IntentKind(StrEnum):
    ROUTE_CARDS = "route_cards"  # fan out: one POST_CARD per recipient, decided at delivery time
    POST_CARD = "post_card"  # the approval card, to a channel or a person's DM
    UPDATE_CARDS = "update_cards"  # every posted copy of a request's card
    NOTIFY = "notify"  # a DM to one person about one request (requester, owner, approver)
    DIGEST = "digest"  # a DM to one approver: what waits on them, overdue first
    WEBHOOK = "webhook"  # a signed POST of one event to one subscription (DESIGN §9, bot.domain.webhooks)
    SURFACE_SUMMARY = "surface_summary"  # a DM to one kind owner: their weekly decision surface, and a chart


class Lane(StrEnum):
    """Which rows a relay loop claims: a slow webhook receiver never holds up Slack (DESIGN §5)."""

    SLACK = "slack"  # cards, notifications, digests, weekly summaries
    WEBHOOKS = "webhooks"  # signed POSTs to subscribers


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    key: str
    payload: dict[str, Any]
    request_id: int | None = None
    #: Not delivered before this time (working hours); None: as soon as possible.
    not_before: datetime | None = None


def route_cards(request_id: int, *, round_: int) -> Intent:
    """Send the request's card to everyone who may decide it, as they are when this is delivered.

    The relay expands it into one ``post_card`` per recipient, so each delivery (and each
    failure, say a user who left) stands on its own, and a delegation that started in the
    meantime is honoured. ``round_`` is the request version that asked for it.
    """
    return Intent(IntentKind.ROUTE_CARDS, f"req:{request_id}:route:{round_}", {"round": round_}, request_id)


def post_card(request_id: int, recipient: str, *, round_: int, not_before: datetime | None = None) -> Intent:
    """Post the card of a request to ``recipient`` (a channel id, or a user id for a DM).

    ``round_`` distinguishes a new posting after an amend from the first one.
    """
    key = f"req:{request_id}:card:{recipient}:{round_}"
    return Intent(IntentKind.POST_CARD, key, {"recipient": recipient, "round": round_}, request_id, not_before)


def update_cards(request_id: int, *, version: int) -> Intent:
    return Intent(IntentKind.UPDATE_CARDS, f"req:{request_id}:update:{version}", {}, request_id)


def notify(
    request_id: int,
    user: str,
    *,
    notice: Notice,
    version: int,
    facts: Mapping[str, Any] | None = None,
    event: str | None = None,
    not_before: datetime | None = None,
) -> Intent:
    """A direct message to ``user`` about a request: ``notice`` and its ``facts``, never text.

    The Slack adapter writes the sentence at delivery (see ``bot.domain.notices``). ``event``
    (default: the notice) is the part of the idempotency key that tells two notices of the
    same kind on the same version apart, e.g. ``reminder-2``.
    """
    name = event or str(notice)
    message = Notification(user, notice, format_request_id(request_id), name, dict(facts or {}))
    return Intent(
        IntentKind.NOTIFY, f"req:{request_id}:{name}:{user}:{version}", message.payload(), request_id, not_before
    )


def digest(
    user: str, *, period: datetime, request_ids: list[int], more: int, auto_resolved: int, not_before: datetime
) -> Intent:
    """One approver's digest for one period of their schedule: at most one per (person, period)."""
    payload = {
        "user": user,
        "period": period.isoformat(),
        "request_ids": request_ids,
        "more": more,
        "auto_resolved": auto_resolved,
    }
    return Intent(IntentKind.DIGEST, f"digest:{user}:{period.isoformat()}", payload, None, not_before)


def surface_summary(owner: str, *, week: str, kinds: list[str], not_before: datetime) -> Intent:
    """One owner's weekly decision-surface summary (DESIGN §2, §8) for ISO ``week`` (``2026-W10``).

    The key ``surface:<owner>:<week>`` makes it one per owner per week, however many passes and
    workers queue it. ``kinds`` are those the owner had when it was queued (for the record); the
    figures, like cards, are computed at delivery, for the kinds they own then.
    """
    payload = {"user": owner, "week": week, "kinds": sorted(kinds)}
    return Intent(IntentKind.SURFACE_SUMMARY, f"surface:{owner}:{week}", payload, None, not_before)


#: The longest one ``Retry-After`` holds a delivery back, in seconds; a larger value waits this long.
MAX_RETRY_AFTER_S = 600.0
#: The shortest wait a ``Retry-After`` yields (``0`` or a date already past still waits this long).
MIN_RETRY_AFTER_S = 1.0
#: How long a row may be rate limited without its 429s counting as attempts; after that each 429 counts,
#: so a receiver (or Slack) that never stops answering 429 ends the row dead with its last error.
RATE_LIMIT_GRACE = timedelta(hours=1)
_DELAY_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def retry_after_seconds(header: object, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a 429's ``Retry-After`` header, or None when it says nothing usable.

    One rule for Slack and webhook receivers alike. RFC 9110 §10.2.3 allows two forms:
    delay-seconds (``120``; a decimal ``0.5`` is read too) and an HTTP-date
    (``Wed, 21 Oct 2015 07:28:00 GMT``, measured from ``now``, default the wall clock). The wait
    is at least ``MIN_RETRY_AFTER_S`` and at most ``MAX_RETRY_AFTER_S``, so a hostile or broken
    header can neither make the relay hammer a receiver nor park a message for days. Missing,
    empty or unreadable (``soon``, ``-5``, ``nan``) → None: the caller backs off as after any failure.
    """
    text = str(header).strip() if header is not None else ""
    if not text:
        return None
    if _DELAY_SECONDS.fullmatch(text):
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a date without a zone is read as UTC
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, MIN_RETRY_AFTER_S), MAX_RETRY_AFTER_S)


def rate_limit_counts_attempt(*, first_claimed: datetime | None, now: datetime) -> bool:
    """Whether a 429 counts as an attempt: only once the row has waited ``RATE_LIMIT_GRACE`` since its first claim."""
    return first_claimed is not None and now - first_claimed >= RATE_LIMIT_GRACE


class DeliveryError(Exception):
    """Slack (or a webhook receiver) did not take a delivery. ``permanent`` errors are not retried;
    ``retry_after`` is the receiver's ask.

    ``unreachable``: the destination itself cannot be posted to (the bot is not in the channel,
    it is archived or gone, …); always permanent. ``code`` is Slack's error string, when it gave one.
    ``max_attempts``: fewer tries than the relay's default before the row is dead (a webhook
    receiver refusing with a 4xx, DESIGN §9).
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        unreachable: bool = False,
        code: str | None = None,
        max_attempts: int | None = None,
    ):
        self.permanent = permanent or unreachable
        self.retry_after = retry_after
        self.unreachable = unreachable
        self.code = code
        self.max_attempts = max_attempts
        super().__init__(message)


#: Delivery errors that suggest the person has left Slack: the people directory checks them again.
PERSON_GONE_ERRORS = frozenset({"user_not_found", "user_disabled", "account_inactive", "cannot_dm_bot"})


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a relay until its lease runs out
    SENT = "sent"
    DEAD = "dead"


#: Rows still to be delivered: queued, or claimed by a relay (whose lease may run out).
WAITING: frozenset[OutboxStatus] = frozenset({OutboxStatus.PENDING, OutboxStatus.SENDING})
#: The intents that post or edit a request's card (what the card reconciliation looks at).
CARD_INTENTS: frozenset[IntentKind] = frozenset({IntentKind.POST_CARD, IntentKind.UPDATE_CARDS, IntentKind.ROUTE_CARDS})


@dataclass(frozen=True)
class OutboxItem:
    """A claimed outbox row, as the relay sees it."""

    id: int
    kind: IntentKind
    key: str
    payload: dict[str, Any]
    request_id: int | None
    attempts: int
    #: An earlier delivery may have reached Slack without being recorded (its relay died while
    #: sending, or the call failed in a way that does not say whether Slack took it): look first.
    in_doubt: bool = False
    #: When a relay first claimed the row (the earliest a copy of it can be in Slack); None: never.
    claimed_at: datetime | None = None
    #: When the row was queued (aware UTC); the relay reports how long it waited to be sent.
    created_at: datetime | None = None


@dataclass
class CardWork:
    """What the outbox holds about one request's cards."""

    #: Recipients a card was ever queued for (in any status, sent or dead included).
    recipients: set[str]
    #: An update of its copies still waits to be delivered.
    updating: bool = False
    #: Its fan-out (``route_cards``) still waits: who gets cards is not decided yet.
    routing: bool = False


@dataclass(frozen=True)
class PersonInfo:
    """What Slack's ``users.info`` says of a person: deactivated (or not a person at all), timezone."""

    user: str
    deleted: bool
    tz: str | None = None


@dataclass(frozen=True)
class MessageRef:
    """Where a card was posted, so later updates edit the same message."""

    channel: str
    ts: str
    recipient: str = ""
    #: Whether the copy shows the buttons, as last rendered (its recipient could decide then).
    live: bool = True
