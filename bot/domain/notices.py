"""What Signoff tells one person about a request, as an event name and facts: never as text.

A service records *that* something happened and *who* and *what* it concerned (ids of people
and channels, a reason a person typed, a group name, an error code); the Slack adapter writes
the sentence when it delivers it, turning ids into mentions and escaping whatever a person
typed. So a reason can never ping anyone, and Signoff's own mentions are never shown escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Notice(StrEnum):
    """The kinds of direct message Signoff sends about a request, and the facts each one carries."""

    APPROVED = "approved"  # actor
    REJECTED = "rejected"  # actor, reason (typed by the actor)
    CHANGES_REQUESTED = "changes_requested"  # actor, reason (typed by the actor)
    REMINDER = "reminder"  # title, stop (group name or None), stop_is_owner
    EXPIRED = "expired"  # (ref only)
    LAPSE_WARNING = "lapse_warning"  # title, lapses_at (ISO 8601, aware), tz (IANA name)
    LAPSED = "lapsed"  # title
    UNDELIVERABLE = "undeliverable"  # title, recipient (channel or user id), error (Slack's error)
    #: title, channel (id), group, error: a group's channel refused its card, its members got DMs
    CHANNEL_UNREACHABLE = "channel_unreachable"
    #: subscription (id), url, error (the receiver's answer): a 410 Gone disabled a webhook subscription
    WEBHOOK_DISABLED = "webhook_disabled"
    #: subscription (id), url, type (the event), error (the last answer): a webhook delivery was given up on
    WEBHOOK_DEAD = "webhook_dead"
    #: subscription (id), url, pending (count), governance (version): the file no longer declares a
    #: subscription that had deliveries queued; they end dead instead of being sent
    WEBHOOK_REMOVED = "webhook_removed"
    TEXT = "text"  # a row queued before notices were facts: ``text`` is shown as plain text


@dataclass(frozen=True)
class Notification:
    """One queued direct message: to ``user``, ``notice`` about request ``ref``, with its ``facts``.

    ``facts`` holds JSON values only (str, int, bool, None); ``event`` is the part of the
    outbox key that makes the message unique (``reminder-2``, ``undeliverable-17``).
    """

    user: str
    notice: Notice
    ref: str
    event: str
    facts: dict[str, Any] = field(default_factory=dict)

    def fact(self, name: str) -> str:
        """A fact as text; the empty string when it is missing or null."""
        value = self.facts.get(name)
        return "" if value is None else str(value)

    def payload(self) -> dict[str, Any]:
        """The outbox payload of this notification (JSON)."""
        notice = str(self.notice)
        return {"user": self.user, "event": self.event, "notice": notice, "ref": self.ref, "facts": self.facts}

    @classmethod
    def from_payload(cls, payload: dict[str, Any], *, ref: str) -> Notification:
        """Read an outbox payload back; rows written before notices were facts become ``Notice.TEXT``."""
        notice = payload.get("notice")
        if notice is None:
            return cls(str(payload["user"]), Notice.TEXT, ref, str(payload.get("event", "")), {"text": payload["text"]})
        return cls(
            str(payload["user"]),
            Notice(notice),
            str(payload.get("ref") or ref),
            str(payload.get("event", notice)),
            dict(payload.get("facts") or {}),
        )
