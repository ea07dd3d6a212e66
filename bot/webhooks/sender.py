"""Outbound webhooks: sign a message per the Standard Webhooks specification and POST it.

An adapter like ``bot.slack``: it knows HTTP and the ``standardwebhooks`` library, never the use
cases. The signature is computed at each attempt (``webhook-timestamp`` is the attempt's time;
``webhook-id`` is the message's, the same on every retry), over the exact bytes sent
(Standard Webhooks spec, "Signature scheme": ``v1,`` base64 HMAC-SHA256 of ``id.timestamp.body``).

HTTP goes through the standard library's ``http.client``: ``standardwebhooks`` pulls in no HTTP
client, a POST of a small JSON body needs none, and one fewer dependency is one fewer to pin.
Redirects are not followed (a redirected POST would become a GET, or carry the signature to
another host); a 3xx is an answer like any other non-2xx. Proxy variables (``HTTPS_PROXY``) are
not used: receivers are reached directly.

Each POST has one deadline for all of it (``TIMEOUT_SECONDS``: connect, send, the status line,
the headers and the part of the answer that is read): every socket wait gets only the time left,
and a watchdog shuts the socket when the deadline passes, so a receiver that trickles its
answer a byte at a time is cut off like one that never answers.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import heapq
import http.client
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from bot.domain.outbox import retry_after_seconds
from bot.domain.webhook_subscriptions import Subscription
from bot.domain.webhooks import SECRET_BYTES, ReceiverAnswer, ReceiverUnreachable, SecretInvalid

#: The longest one delivery takes, in seconds, all of it (connect, send, the answer as far as it is read).
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


class _Watchdog:
    """One daemon thread that shuts the sockets of POSTs past their deadline (a blocked read then returns)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._due: list[tuple[float, int, socket.socket]] = []
        self._count = 0
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket, deadline: float) -> None:
        with self._lock:
            self._count += 1
            heapq.heappush(self._due, (deadline, self._count, sock))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="signoff-webhook-deadline", daemon=True)
                self._thread.start()
            if self._due[0][1] == self._count:  # the earliest deadline now: the thread waits less
                self._lock.notify()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._due:
                    self._lock.wait()
                deadline, _, sock = self._due[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._lock.wait(left)
                    continue
                heapq.heappop(self._due)
            if sock.fileno() != -1:  # still open: its POST is past its deadline
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()


class WebhookSender:
    """Signs and POSTs webhook messages; one per process, safe to share between threads."""

    def __init__(self, secret_of: SecretOf, *, timeout: float = TIMEOUT_SECONDS):
        self._secret_of = secret_of
        self._timeout = timeout
        self._tls = ssl.create_default_context()

    def send(
        self, *, subscription: Subscription, message_id: str, body: str, at: datetime | None = None
    ) -> ReceiverAnswer:
        """POST ``body`` (JSON text) to the subscription's URL, signed as of ``at`` (default: now, wall time).

        The timestamp is the attempt's real time, whatever clock the caller runs on: receivers
        refuse a ``webhook-timestamp`` more than 5 minutes off theirs (Standard Webhooks spec).

        Returns the receiver's answer whatever its status. Raises ``SecretInvalid`` (its secret is
        missing or malformed) or ``ReceiverUnreachable`` (no whole answer within ``timeout`` seconds,
        no connection, or a URL or answer that is not HTTP: any failure of this one POST).
        """
        headers = self.headers(subscription=subscription, message_id=message_id, body=body, at=at)
        deadline = time.monotonic() + self._timeout
        try:
            return self._post(subscription.url, body.encode(), headers, deadline)
        except (OSError, ValueError, http.client.HTTPException) as error:
            if time.monotonic() >= deadline:
                raise ReceiverUnreachable(f"no whole answer within {self._timeout:g} s") from None
            said = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            raise ReceiverUnreachable(said) from None

    def _post(self, url: str, data: bytes, headers: dict[str, str], deadline: float) -> ReceiverAnswer:
        # The URL was checked when the file loaded: https://, or http:// to a loopback host.
        parts = urllib.parse.urlsplit(url)
        left = max(deadline - time.monotonic(), 0.001)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=left, context=self._tls)
        elif parts.scheme == "http":
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=left)
        else:
            raise ValueError(f"not an http(s) URL: {parts.scheme}")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        response: http.client.HTTPResponse | None = None
        try:
            connection.connect()
            assert connection.sock is not None
            _WATCHDOG.watch(connection.sock, deadline)
            connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            connection.request("POST", path, body=data, headers=headers)
            response = connection.getresponse()
            if time.monotonic() >= deadline:  # the watchdog cut the headers short: that is no answer
                raise TimeoutError("headers cut off at the deadline")
            raw = _read_prefix(response, connection, deadline)
            waiting = None
            if response.status == 429:
                waiting = retry_after_seconds(response.headers.get("Retry-After"), now=datetime.now(UTC))
            return ReceiverAnswer(response.status, raw.decode("utf-8", errors="replace"), waiting)
        finally:
            if response is not None:
                response.close()  # it holds the socket's file once the connection handed it over
            connection.close()

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


def _read_prefix(response: http.client.HTTPResponse, connection: http.client.HTTPConnection, deadline: float) -> bytes:
    """At most ``MAX_ANSWER_BYTES`` of the answer, read before ``deadline``; what came in time when it passes."""
    raw = b""
    while len(raw) < MAX_ANSWER_BYTES:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if connection.sock is not None:
            connection.sock.settimeout(left)
        try:
            chunk = response.read1(MAX_ANSWER_BYTES - len(raw))
        except (OSError, http.client.HTTPException):
            break  # the status is in: a body cut short does not change what the answer means
        if not chunk:
            break
        raw += chunk
    return raw
