"""Outbound webhooks: sign a message per the Standard Webhooks specification and POST it.

An adapter like ``bot.slack``: it knows HTTP and the ``standardwebhooks`` library, never the use
cases. The signature is computed at each attempt (``webhook-timestamp`` is the attempt's time;
``webhook-id`` is the message's, the same on every retry), over the exact bytes sent
(Standard Webhooks spec, "Signature scheme": ``v1,`` base64 HMAC-SHA256 of ``id.timestamp.body``).

HTTP goes through the standard library's ``urllib``: ``standardwebhooks`` pulls in no HTTP
client, a POST of a small JSON body needs none, and one fewer dependency is one fewer to pin.
Redirects are not followed (a redirected POST would become a GET, or carry the signature to
another host); a 3xx is an answer like any other non-2xx.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.message import Message
from typing import IO, Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from bot.domain.outbox import retry_after_seconds
from bot.domain.webhook_subscriptions import Subscription
from bot.domain.webhooks import SECRET_BYTES, ReceiverAnswer, ReceiverUnreachable, SecretInvalid

#: The longest one delivery waits for its receiver, in seconds (connect and each read).
TIMEOUT_SECONDS = 10.0
#: How much of a receiver's answer is read (the rest is never downloaded).
MAX_ANSWER_BYTES = 4096
USER_AGENT = "Signoff-Webhooks/1"

SecretOf = Callable[[str], str | None]
_SECRET = re.compile(r"whsec_[A-Za-z0-9+/]{4,}={0,2}")


def signer(subscription: Subscription, secret_of: SecretOf) -> Webhook:
    """The signer for ``subscription``'s secret, or ``SecretInvalid`` naming its ``secret_env``.

    The secret is ``whsec_`` then base64 of a key of ``SECRET_BYTES`` (24–64) bytes (Standard
    Webhooks spec, "Symmetric signatures": keys between 24 and 64 bytes); a shorter key is refused.
    """
    name = subscription.secret_env
    secret = (secret_of(name) or "").strip()
    low, high = SECRET_BYTES
    accepted = f"a Standard Webhooks secret: whsec_ followed by base64 of {low} to {high} random bytes"
    if not secret:
        raise SecretInvalid(f"{name} is not set; webhook “{subscription.id}” needs {accepted}")
    if not _SECRET.fullmatch(secret):
        raise SecretInvalid(f"{name} is not a webhook secret; webhook “{subscription.id}” needs {accepted}")
    try:
        size = len(base64.b64decode(secret.removeprefix("whsec_"), validate=True))
    except (binascii.Error, ValueError):
        raise SecretInvalid(f"{name} is not a webhook secret; webhook “{subscription.id}” needs {accepted}") from None
    if not low <= size <= high:
        raise SecretInvalid(
            f"{name} holds a {size}-byte key, too {'short' if size < low else 'long'}; "
            f"webhook “{subscription.id}” needs {accepted}"
        )
    try:
        return Webhook(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError):
        raise SecretInvalid(f"{name} is not a webhook secret; webhook “{subscription.id}” needs {accepted}") from None


def check_secrets(subscriptions: Iterable[Subscription], secret_of: SecretOf) -> None:
    """``SecretInvalid`` for the first subscription whose secret is missing or malformed (at serve/worker start)."""
    for subscription in subscriptions:
        signer(subscription, secret_of)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookSender:
    """Signs and POSTs webhook messages; one per process, safe to share between threads."""

    def __init__(self, secret_of: SecretOf, *, timeout: float = TIMEOUT_SECONDS):
        self._secret_of = secret_of
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects())

    def send(
        self, *, subscription: Subscription, message_id: str, body: str, at: datetime | None = None
    ) -> ReceiverAnswer:
        """POST ``body`` (JSON text) to the subscription's URL, signed as of ``at`` (default: now, wall time).

        The timestamp is the attempt's real time, whatever clock the caller runs on: receivers
        refuse a ``webhook-timestamp`` more than 5 minutes off theirs (Standard Webhooks spec).

        Returns the receiver's answer whatever its status. Raises ``SecretInvalid`` (its secret is
        missing or malformed) or ``ReceiverUnreachable`` (no answer within the timeout).
        """
        headers = self.headers(subscription=subscription, message_id=message_id, body=body, at=at)
        # The URL was checked when the file loaded: https://, or http:// to a loopback host (never file: or ftp:).
        request = urllib.request.Request(subscription.url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return _answer(response.status, response, response.headers)
        except urllib.error.HTTPError as error:
            with error:
                return _answer(error.code, error, error.headers)
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            said = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
            raise ReceiverUnreachable(said) from None

    def headers(
        self, *, subscription: Subscription, message_id: str, body: str, at: datetime | None = None
    ) -> dict[str, str]:
        """The headers of one attempt: ``webhook-id``, ``webhook-timestamp`` (Unix seconds), ``webhook-signature``."""
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        signature = signer(subscription, self._secret_of).sign(message_id, moment, body)
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": signature,
        }


def _answer(status: int, stream: IO[bytes], headers: Message) -> ReceiverAnswer:
    try:
        raw = stream.read(MAX_ANSWER_BYTES)
    except OSError:
        raw = b""
    retry_after = headers.get("Retry-After")
    waiting = retry_after_seconds(retry_after) if status == 429 else None
    return ReceiverAnswer(status, raw.decode("utf-8", errors="replace"), waiting)
