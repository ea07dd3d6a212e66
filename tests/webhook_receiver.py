"""A real webhook receiver for tests: a threaded HTTP server on 127.0.0.1 that verifies every
delivery's signature with the ``standardwebhooks`` library, records what arrived, and answers
as scripted (a status per arrival, a ``Retry-After``, or holding the answer until released).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook

#: A secret for tests (32 bytes of base64, the Standard Webhooks shape).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA="


@dataclass(frozen=True)
class Arrival:
    """One POST that reached the receiver, its signature verified (``verified``) or not."""

    path: str
    message_id: str
    timestamp: str
    body: dict[str, Any]
    verified: bool

    @property
    def type(self) -> str:
        return str(self.body.get("type"))

    @property
    def request(self) -> str | None:
        data = self.body.get("data") or {}
        return data.get("request")


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Answers each arrival with ``answer(arrival)`` (default 200), or the next of ``script`` first.

    ``hold`` set: each arrival signals ``arrived`` and waits for ``release`` before answering.
    """

    def __init__(self, secret: str = SECRET):
        self.verifier = Webhook(secret)
        self.arrivals: list[Arrival] = []
        self.script: list[Reply] = []
        self.answer: Callable[[Arrival], Reply] = lambda arrival: Reply()
        self.hold = False
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def of(self, path: str) -> list[Arrival]:
        with self._changed:
            return [a for a in self.arrivals if a.path == path]

    def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 15.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def _record(self, arrival: Arrival) -> Reply:
        with self._changed:
            self.arrivals.append(arrival)
            reply = self.script.pop(0) if self.script else self.answer(arrival)
            self._changed.notify_all()
        return reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    receiver.verifier.verify(raw, headers)
                    verified = True
                except Exception:
                    verified = False
                body = json.loads(raw) if raw else {}
                message_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
                reply = receiver._record(Arrival(self.path, message_id, stamp, body, verified))
                if receiver.hold:
                    receiver.arrived.set()
                    receiver.release.wait(60)
                data = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the sender is gone (killed, or timed out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def receiving(secret: str = SECRET) -> Iterator[Receiver]:
    receiver = Receiver(secret).start()
    try:
        yield receiver
    finally:
        receiver.close()
