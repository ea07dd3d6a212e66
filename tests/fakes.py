"""Fakes at the edges: a Slack gateway that records what it was asked to deliver."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.cards import Card
from bot.domain.notices import Notification
from bot.domain.outbox import DeliveryError, Lane, MessageRef
from bot.domain.surface_summary import OwnerSurface
from bot.services.relay import relay_outbox
from bot.services.runtime import Runtime
from bot.slack.messages import notification_text


@dataclass
class Delivered:
    action: str
    target: str
    card: Card | None = None
    text: str = ""
    event: str = ""
    key: str = ""
    #: For card posts and updates: whether the copy shows the buttons.
    buttons: bool = True


@dataclass
class FakeGateway:
    """Records deliveries; ``fail_next`` queues errors to raise on the next calls, in order.

    Like Slack, it remembers each post's outbox key (its message metadata), so ``find_posted``
    finds what was posted; ``lookups`` counts those checks. ``channel_errors`` (channel → Slack
    error) are channels the bot cannot post in.
    """

    delivered: list[Delivered] = field(default_factory=list)
    fail_next: list[DeliveryError] = field(default_factory=list)
    posted: dict[str, MessageRef] = field(default_factory=dict)
    channel_errors: dict[str, str] = field(default_factory=dict)
    lookups: int = 0
    #: (user, file name) of the charts shared into DMs.
    files: set[tuple[str, str]] = field(default_factory=set)
    #: Every summary sent, whole (its figures and suggestions), in order.
    surfaces: list[OwnerSurface] = field(default_factory=list)
    _ts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _maybe_fail(self, channel: str = "") -> None:
        if channel in self.channel_errors:
            code = self.channel_errors[channel]
            raise DeliveryError(f"chat.postMessage: {code}", unreachable=True, code=code)
        if self.fail_next:
            raise self.fail_next.pop(0)

    def post_card(self, *, recipient: str, card: Card, key: str = "") -> MessageRef:
        with self._lock:
            self._maybe_fail(recipient)
            self._ts += 1
            channel = recipient if recipient.startswith(("C", "G")) else "D" + recipient[1:]
            self.delivered.append(Delivered("post", recipient, card, key=key))
            ref = MessageRef(channel, f"1700000000.{self._ts:06d}", recipient)
            self.posted[key] = ref
            return ref

    def update_card(self, *, ref: MessageRef, card: Card, buttons: bool = True) -> None:
        with self._lock:
            self._maybe_fail(ref.channel)
            self.delivered.append(Delivered("update", f"{ref.channel}/{ref.ts}", card, buttons=buttons))

    def notify(self, *, notification: Notification, card: Card | None, key: str = "") -> None:
        with self._lock:
            self._maybe_fail()
            text = notification_text(notification)
            user = notification.user
            self.delivered.append(Delivered("notify", user, card, text, notification.event, key))
            self.posted[key] = MessageRef("D" + user[1:], "", user)

    def send_digest(self, *, user: str, cards: list[Card], more: int, auto_resolved: int, key: str = "") -> None:
        with self._lock:
            self._maybe_fail()
            text = f"{len(cards)}+{more} waiting; {auto_resolved} resolved by rule"
            self.delivered.append(Delivered("digest", user, None, text, ",".join(c.ref for c in cards), key))
            self.posted[key] = MessageRef("D" + user[1:], "", user)

    def send_surface_summary(self, *, user: str, surface: OwnerSurface, week: str, key: str = "") -> None:
        """Recorded as ``surface`` with text ``kind:requests 7 d/30 d`` per kind, ``;``-separated."""
        with self._lock:
            self._maybe_fail()
            text = ";".join(f"{k.kind}:{k.week.requests}/{k.month.requests}" for k in surface.kinds)
            self.delivered.append(Delivered("surface", user, None, text, week, key))
            self.surfaces.append(surface)
            self.posted[key] = MessageRef("D" + user[1:], "", user)

    def share_surface_chart(self, *, user: str, surface: OwnerSurface, filename: str) -> None:
        with self._lock:
            self._maybe_fail()
            self.delivered.append(Delivered("chart", user, None, ",".join(surface.kind_names), filename))
            self.files.add((user, filename))

    def find_posted_file(self, *, recipient: str, filename: str, since: datetime) -> bool:
        with self._lock:
            self.lookups += 1
            return (recipient, filename) in self.files

    def find_posted(self, *, recipient: str, key: str, since: datetime) -> MessageRef | None:
        with self._lock:
            self.lookups += 1
            return self.posted.get(key)

    def of(self, action: str) -> list[Delivered]:
        return [d for d in self.delivered if d.action == action]

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((d.action, d.target) for d in self.delivered)


def drain(runtime: Runtime, gateway: FakeGateway, *, lane: Lane | None = None) -> None:
    """Run the relay (of ``lane``, default both) until nothing is due (fan-outs queue cards that go out next pass)."""
    while relay_outbox(runtime=runtime, gateway=gateway, lane=lane).handled:
        pass
