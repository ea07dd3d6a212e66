"""Webhook subscriptions (DESIGN §9): the ``webhooks:`` entries of the governance file, checked and compiled.

``WebhookSpec`` (``bot.domain.governance_spec``) checks each entry's shape with the two checks
here; ``compile_webhooks`` checks what needs the whole file and makes ``Subscription``s.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.domain.events import WEBHOOK_TYPES
from bot.domain.links import ascii_url, canonical_url, redact_url

#: Hosts that may be reached over plain ``http://`` (a receiver on the same machine), DESIGN §9.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def check_webhook_url(url: str) -> str:
    """``url`` as the sender POSTs to it, or ``ValueError`` saying what was wrong and what is accepted.

    The link is made canonical and checked first (``bot.domain.links.canonical_url``: no
    whitespace, invisible or control characters, no user or password, a port 1–65535, no
    look-alike host), then, DESIGN §9: ``https://`` only, except a loopback host (127.0.0.1, ::1,
    localhost), which may use ``http://``; no ``#fragment`` (it is never sent). The result is
    ASCII (``bot.domain.links.ascii_url``): an internationalized host in IDNA, the rest
    percent-encoded. A token in the query is accepted but never shown (``redact_url``).
    """
    canonical = canonical_url(url)
    parts = urlsplit(canonical)
    if parts.fragment or canonical.endswith("#"):
        raise ValueError("must not end in a #fragment, which is never sent; remove “#” and what follows")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(
            f"must use https:// (http:// is accepted for 127.0.0.1, ::1 and localhost only), got {_shown(url)}"
        )
    return ascii_url(canonical)


def _shown(url: str) -> str:
    shown = redact_url(url)
    return f"“{shown}”" if len(shown) <= 80 else f"“{shown[:77]}…”"


def check_webhook_event(name: str) -> str:
    """A webhook ``type`` a subscription may name (DESIGN §9), or ``ValueError`` listing them."""
    if name not in WEBHOOK_TYPES:
        close = difflib.get_close_matches(name, WEBHOOK_TYPES, n=1)
        hint = f" — did you mean “{close[0]}”?" if close else ""
        raise ValueError(f"unknown event “{name}”{hint} (events: {', '.join(WEBHOOK_TYPES)})")
    return name


@dataclass(frozen=True)
class Subscription:
    """One ``webhooks:`` entry, compiled: where to POST, which secret signs, what it wants, whom to tell.

    ``kinds`` None means every kind; ``owner`` is the Slack user told when the subscription is
    disabled (a 410) or one of its deliveries is dead.
    """

    id: str
    url: str
    secret_env: str
    events: frozenset[str]
    kinds: frozenset[str] | None
    owner: str

    def __post_init__(self) -> None:
        """Only a URL the sender can POST to as written: ``check_webhook_url``'s result (``ValueError`` otherwise)."""
        if check_webhook_url(self.url) != self.url:
            raise ValueError(
                f"webhook “{self.id}”: the URL is not in its checked form; give check_webhook_url's result"
            )

    def wants(self, webhook_type: str, kind: str) -> bool:
        return webhook_type in self.events and (self.kinds is None or kind in self.kinds)


Fail = Callable[[tuple[str | int, ...], str], None]


def compile_webhooks(specs: Sequence[Any], *, kinds: Mapping[str, Any], fail: Fail) -> tuple[Subscription, ...]:
    """The subscriptions of a file whose entries have a valid shape (``WebhookSpec``).

    What needs the whole file is checked here, located by its path: ids are unique, ``kinds``
    names kinds of the file. ``owner`` defaults to the owner of the first kind it covers (its
    first listed kind, else the file's first kind): the person accountable for those decisions.
    """
    seen: dict[str, int] = {}
    compiled = []
    for index, spec in enumerate(specs):
        if spec.id in seen:
            fail(("webhooks", index, "id"), f"webhook id “{spec.id}” is already used by webhooks[{seen[spec.id]}]")
        seen.setdefault(spec.id, index)
        for position, kind in enumerate(spec.kinds or ()):
            if kind not in kinds:
                fail(("webhooks", index, "kinds", position), f"unknown kind “{kind}” (kinds: {', '.join(kinds)})")
        covered = [k for k in (spec.kinds or kinds) if k in kinds]
        owner = spec.owner or (kinds[covered[0]].owner if covered else "")
        events = frozenset(spec.events) if spec.events is not None else frozenset(WEBHOOK_TYPES)
        chosen = frozenset(spec.kinds) if spec.kinds is not None else None
        compiled.append(Subscription(spec.id, spec.url, spec.secret_env, events, chosen, owner))
    return tuple(compiled)


def removed_subscriptions(before: Sequence[Subscription], after: Sequence[Subscription]) -> tuple[Subscription, ...]:
    """The subscriptions of ``before`` whose id ``after`` no longer declares (a rename is a removal:
    a delivery belongs to its subscription id, ``bot.domain.webhooks.delivery_key``)."""
    kept = {s.id for s in after}
    return tuple(s for s in before if s.id not in kept)


@dataclass
class DeliveryCounts:
    """A subscription's deliveries in the outbox: waiting to be sent (or being sent), and dead."""

    pending: int = 0
    dead: int = 0
