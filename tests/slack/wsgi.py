"""Posting to Signoff's real WSGI app in-process, as waitress would hand it a request, signed like Slack or not."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

SECRET = "secret"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def signature(body: bytes, stamp: str, secret: str = SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()


def signed(
    body: bytes, content_type: str = "application/x-www-form-urlencoded", *, stamp: str | None = None
) -> dict[str, str]:
    """Headers Slack would send with ``body``: its content type, a timestamp of now, the v0 signature."""
    stamp = stamp if stamp is not None else str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(body, stamp),
    }


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def interaction(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def environ_for(
    body: bytes,
    headers: dict[str, str],
    *,
    path: str = "/slack/events",
    method: str = "POST",
    content_length: str | None = None,
) -> dict[str, Any]:
    """The WSGI environ waitress would hand the app for this request (headers as a client sends them)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "3000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(body)) if content_length is None else content_length,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return environ


def post(
    app: Any,
    body: bytes,
    headers: dict[str, str],
    *,
    path: str = "/slack/events",
    method: str = "POST",
    content_length: str | None = None,
) -> Answer:
    """One request through ``app`` (a WSGI callable); headers as a client sends them."""
    environ = environ_for(body, headers, path=path, method=method, content_length=content_length)
    started: list[str] = []

    def start_response(status: str, _headers: list[tuple[str, str]], _exc_info: Any = None) -> None:
        started.append(status)

    chunks = b"".join(app(environ, start_response))
    return Answer(int(started[0].split()[0]), chunks.decode("utf-8", "replace"))


def drain(bolt: Any, *, timeout: float = 10.0) -> None:
    """Wait until every listener Bolt started has finished (work after an ack logs after the answer).

    One task per executor thread waits on a barrier: once all of them run together, every task
    queued before them (FIFO) has finished, and nothing else is running.
    """
    executor = bolt.listener_runner.listener_executor
    barrier = threading.Barrier(executor._max_workers + 1)
    for _ in range(executor._max_workers):
        executor.submit(barrier.wait, timeout)
    barrier.wait(timeout)
